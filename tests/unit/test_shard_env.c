/* Unit tests for lib/runner/shard_env.c: --shard auto from each CI
 * engine's variables, the refusals, and the shared run id. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "shard_env.h"

/* The environment a test sets: NAME=VALUE pairs, NULL-terminated. */
static const char *const *fake_env;

static const char *get(const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; fake_env && fake_env[i]; i++)
		if (!strncmp(fake_env[i], name, n) && fake_env[i][n] == '=')
			return fake_env[i] + n + 1;
	return NULL;
}

/* Detect under env; the shard as "K/N from SOURCE", or "error: MESSAGE". */
static char *detect(const char *const *env)
{
	struct strbuf err = STRBUF_INIT;
	struct shard_choice c;
	char *s;

	fake_env = env;
	if (shard_resolve("auto", "--shard", get, &c, &err) < 0)
		s = xasprintf("error: %s", err.buf);
	else
		s = xasprintf("%u/%u from %s", c.k, c.n, c.source);
	strbuf_release(&err);
	return s;
}

#define EXPECT(want, ...) do { \
		const char *env_[] = { __VA_ARGS__, NULL }; \
		char *got_ = detect(env_); \
		assert_string_equal(got_, want); \
		free(got_); \
	} while (0)
#define EXPECT_ERR(part, ...) do { \
		const char *env_[] = { __VA_ARGS__, NULL }; \
		char *got_ = detect(env_); \
		if (strncmp(got_, "error: ", 7) || !strstr(got_, part)) \
			fail_msg("want an error with '%s', got '%s'", part, got_); \
		free(got_); \
	} while (0)

static void test_engines(void **state)
{
	(void)state;
	EXPECT("2/3 from KTSTR_SHARD_INDEX/KTSTR_SHARD_TOTAL",
	       "KTSTR_SHARD_INDEX=2", "KTSTR_SHARD_TOTAL=3");
	EXPECT("1/4 from GitLab CI_NODE_INDEX/CI_NODE_TOTAL",
	       "CI_NODE_INDEX=1", "CI_NODE_TOTAL=4");
	EXPECT("1/3 from Kubernetes JOB_COMPLETION_INDEX/KTSTR_SHARD_TOTAL",
	       "JOB_COMPLETION_INDEX=0", "KTSTR_SHARD_TOTAL=3");
	EXPECT("3/3 from Kubernetes JOB_COMPLETION_INDEX/KTSTR_SHARD_TOTAL",
	       "JOB_COMPLETION_INDEX=2", "KTSTR_SHARD_TOTAL=3");
	EXPECT("1/2 from Slurm SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT",
	       "SLURM_ARRAY_TASK_ID=0", "SLURM_ARRAY_TASK_COUNT=2");
	/* an array from 5: --array=5-7 */
	EXPECT("3/3 from Slurm SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT",
	       "SLURM_ARRAY_TASK_ID=7", "SLURM_ARRAY_TASK_COUNT=3",
	       "SLURM_ARRAY_TASK_MIN=5");
	/* --array=1-9:4 is 1, 5, 9 */
	EXPECT("2/3 from Slurm SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT",
	       "SLURM_ARRAY_TASK_ID=5", "SLURM_ARRAY_TASK_COUNT=3",
	       "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_STEP=4");
	/* the explicit inputs win over an engine's */
	EXPECT("1/2 from KTSTR_SHARD_INDEX/KTSTR_SHARD_TOTAL", "CI_NODE_INDEX=3",
	       "CI_NODE_TOTAL=3", "KTSTR_SHARD_INDEX=1", "KTSTR_SHARD_TOTAL=2");
	/* a total beside GitLab's that agrees */
	EXPECT("2/2 from GitLab CI_NODE_INDEX/CI_NODE_TOTAL", "CI_NODE_INDEX=2",
	       "CI_NODE_TOTAL=2", "KTSTR_SHARD_TOTAL=2");
}

static void test_refusals(void **state)
{
	(void)state;
	EXPECT_ERR("no shard index found (looked for KTSTR_SHARD_INDEX, GitLab",
		   "KTSTR_SHARD_TOTAL=3");
	EXPECT_ERR("no shard index found", "HOME=/root");
	EXPECT_ERR("KTSTR_SHARD_INDEX is set but KTSTR_SHARD_TOTAL is not",
		   "KTSTR_SHARD_INDEX=1");
	EXPECT_ERR("KTSTR_SHARD_INDEX=0 is outside 1 of 3 shards",
		   "KTSTR_SHARD_INDEX=0", "KTSTR_SHARD_TOTAL=3");
	EXPECT_ERR("KTSTR_SHARD_INDEX=4 is outside", "KTSTR_SHARD_INDEX=4",
		   "KTSTR_SHARD_TOTAL=3");
	EXPECT_ERR("KTSTR_SHARD_INDEX='x' is not a whole number", "KTSTR_SHARD_INDEX=x",
		   "KTSTR_SHARD_TOTAL=3");
	EXPECT_ERR("KTSTR_SHARD_TOTAL='0' is not a number of shards",
		   "KTSTR_SHARD_INDEX=1", "KTSTR_SHARD_TOTAL=0");
	EXPECT_ERR("CI_NODE_TOTAL is set but CI_NODE_INDEX is not", "CI_NODE_TOTAL=3");
	EXPECT_ERR("CI_NODE_INDEX is set but CI_NODE_TOTAL is not", "CI_NODE_INDEX=1");
	EXPECT_ERR("JOB_COMPLETION_INDEX is set but KTSTR_SHARD_TOTAL is not; set"
		   " KTSTR_SHARD_TOTAL", "JOB_COMPLETION_INDEX=0");
	EXPECT_ERR("JOB_COMPLETION_INDEX=3 is outside 1 of 3 shards counted from 0",
		   "JOB_COMPLETION_INDEX=3", "KTSTR_SHARD_TOTAL=3");
	EXPECT_ERR("SLURM_ARRAY_TASK_ID=6 is outside", "SLURM_ARRAY_TASK_ID=6",
		   "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=1",
		   "SLURM_ARRAY_TASK_STEP=4");
	EXPECT_ERR("SLURM_ARRAY_TASK_ID=0 is outside", "SLURM_ARRAY_TASK_ID=0",
		   "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=1");
	EXPECT_ERR("SLURM_ARRAY_TASK_STEP='0' is not a positive number",
		   "SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=3",
		   "SLURM_ARRAY_TASK_STEP=0");
	EXPECT_ERR("KTSTR_SHARD_TOTAL=4 disagrees with 3 shards from GitLab",
		   "CI_NODE_INDEX=1", "CI_NODE_TOTAL=3", "KTSTR_SHARD_TOTAL=4");
	EXPECT_ERR("KTSTR_SHARD_TOTAL=2 disagrees with 3 shards from Slurm",
		   "SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=3",
		   "KTSTR_SHARD_TOTAL=2");
}

/* K/N as given, and the errors named after the spelling used. */
static void test_resolve_spellings(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct shard_choice c;
	const char *none[] = { NULL };

	(void)state;
	fake_env = none;
	assert_int_equal(shard_resolve("2/5", "KTSTR_SHARD", get, &c, &err), 0);
	assert_int_equal(c.k, 2);
	assert_int_equal(c.n, 5);
	assert_string_equal(c.source, "KTSTR_SHARD");
	assert_int_equal(shard_resolve("6/5", "KTSTR_SHARD", get, &c, &err), -1);
	assert_string_equal(err.buf, "KTSTR_SHARD=6/5: K must be between 1 and N, e.g. 1/3");
	strbuf_reset(&err);
	assert_int_equal(shard_resolve("auto", "KTSTR_SHARD", get, &c, &err), -1);
	assert_non_null(strstr(err.buf, "KTSTR_SHARD=auto: no shard index found"));
	strbuf_reset(&err);
	assert_int_equal(shard_resolve("x", "--shard", get, &c, &err), -1);
	assert_string_equal(err.buf, "--shard x: expected K/N with whole numbers K and N,"
			    " e.g. 1/3");
	strbuf_release(&err);
}

static char *run_id(const char *const *env, bool engine, const char **src, int *rc)
{
	struct strbuf err = STRBUF_INIT;
	char *id;

	fake_env = env;
	*rc = shard_run_id(get, engine, &id, src, &err);
	if (*rc < 0) {
		id = strbuf_detach(&err, NULL);
		return id;
	}
	strbuf_release(&err);
	return id;
}

static void test_run_id(void **state)
{
	const char *explicit[] = { "KTSTR_RUN_ID=nightly-42", "CI_PIPELINE_ID=7", NULL };
	const char *gh[] = { "GITHUB_RUN_ID=123", "GITHUB_RUN_ATTEMPT=2", NULL };
	const char *gl[] = { "CI_PIPELINE_ID=777", NULL };
	const char *sl[] = { "SLURM_ARRAY_JOB_ID=55", NULL };
	const char *bad[] = { "KTSTR_RUN_ID=../x", NULL };
	const char *none[] = { NULL };
	const char *src;
	char *id;
	int rc;

	(void)state;
	id = run_id(explicit, false, &src, &rc);
	assert_string_equal(id, "nightly-42");
	assert_string_equal(src, "KTSTR_RUN_ID");
	free(id);
	id = run_id(gh, true, &src, &rc);
	assert_string_equal(id, "github-123-2");
	free(id);
	id = run_id(gl, true, &src, &rc);
	assert_string_equal(id, "gitlab-777");
	assert_string_equal(src, "CI_PIPELINE_ID");
	free(id);
	id = run_id(sl, true, &src, &rc);
	assert_string_equal(id, "slurm-55");
	free(id);
	/* not a shard: a pipeline's id is not taken (two runs in one
	 * pipeline stay apart) */
	assert_null(run_id(gl, false, &src, &rc));
	assert_int_equal(rc, 0);
	assert_null(run_id(none, true, &src, &rc));
	id = run_id(bad, false, &src, &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(id, "KTSTR_RUN_ID='../x': expected 1 to 64 letters"));
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engines),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_resolve_spellings),
		cmocka_unit_test(test_run_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
