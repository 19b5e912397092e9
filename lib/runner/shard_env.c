/* --shard auto: the shard index and total from the CI engine's variables,
 * and the run id the shards of one fleet share (shard_env.h). */
#include "shard_env.h"
#include "diag.h"
#include "gauntlet.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* A whole number in 0..UINT_MAX, digits only. */
static bool whole(const char *s, unsigned long *v)
{
	unsigned long n = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > (UINT_MAX - 9) / 10)
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	*v = n;
	return true;
}

/* One engine's pair: index variable, total variable (or the value of
 * KTSTR_SHARD_TOTAL), where the index counts from. */
struct pair {
	const char *name;		/* "GitLab CI_NODE_INDEX/CI_NODE_TOTAL" */
	const char *ivar, *tvar;
	const char *ival, *tval;
	unsigned long base, step;
};

/* Check a pair's values and set out.  0 or -1 (err). */
static int take(const struct pair *p, struct shard_choice *out, struct strbuf *err)
{
	unsigned long i, t;

	if (!whole(p->ival, &i)) {
		strbuf_addf(err, "--shard auto: %s='%s' is not a whole number (from %s)",
			    p->ivar, p->ival, p->name);
		return -1;
	}
	if (!p->tval) {
		strbuf_addf(err, "--shard auto: %s is set but %s is not; set %s to the"
			    " number of shards", p->ivar, p->tvar, p->tvar);
		return -1;
	}
	if (!whole(p->tval, &t) || t < 1) {
		strbuf_addf(err, "--shard auto: %s='%s' is not a number of shards (1 or"
			    " more; from %s)", p->tvar, p->tval, p->name);
		return -1;
	}
	if (i < p->base || (i - p->base) % p->step || (i - p->base) / p->step >= t) {
		strbuf_addf(err, "--shard auto: %s=%s is outside 1 of %lu shards counted"
			    " from %lu in steps of %lu (from %s); check the job's"
			    " index and total", p->ivar, p->ival, t, p->base, p->step, p->name);
		return -1;
	}
	out->k = (unsigned)((i - p->base) / p->step + 1);
	out->n = (unsigned)t;
	out->source = p->name;
	return 0;
}

/* Slurm's array may start anywhere and step: its MIN and STEP. */
static int slurm_pair(shard_getenv_fn get, struct pair *p, struct strbuf *err)
{
	const char *min = get("SLURM_ARRAY_TASK_MIN"), *step = get("SLURM_ARRAY_TASK_STEP");

	*p = (struct pair){ "Slurm SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT",
			    "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT",
			    get("SLURM_ARRAY_TASK_ID"), get("SLURM_ARRAY_TASK_COUNT"), 0, 1 };
	if (min && !whole(min, &p->base)) {
		strbuf_addf(err, "--shard auto: SLURM_ARRAY_TASK_MIN='%s' is not a whole"
			    " number", min);
		return -1;
	}
	if (step && (!whole(step, &p->step) || !p->step)) {
		strbuf_addf(err, "--shard auto: SLURM_ARRAY_TASK_STEP='%s' is not a"
			    " positive number", step);
		return -1;
	}
	return 0;
}

/* A KTSTR_SHARD_TOTAL beside an engine's own total must say the same. */
static int agree(shard_getenv_fn get, const struct shard_choice *c, struct strbuf *err)
{
	const char *t = get("KTSTR_SHARD_TOTAL");
	unsigned long v;

	if (!t || !strcmp(c->source, "KTSTR_SHARD_INDEX/KTSTR_SHARD_TOTAL") ||
	    !strncmp(c->source, "Kubernetes", 10))
		return 0;
	if (whole(t, &v) && v == c->n)
		return 0;
	strbuf_addf(err, "--shard auto: KTSTR_SHARD_TOTAL=%s disagrees with %u shards"
		    " from %s; unset one of them", t, c->n, c->source);
	return -1;
}

static int detect(shard_getenv_fn get, struct shard_choice *out, struct strbuf *err)
{
	struct pair p;

	if (get("KTSTR_SHARD_INDEX")) {
		p = (struct pair){ "KTSTR_SHARD_INDEX/KTSTR_SHARD_TOTAL", "KTSTR_SHARD_INDEX",
				   "KTSTR_SHARD_TOTAL", get("KTSTR_SHARD_INDEX"),
				   get("KTSTR_SHARD_TOTAL"), 1, 1 };
		return take(&p, out, err);
	}
	if (get("CI_NODE_INDEX") || get("CI_NODE_TOTAL")) {
		p = (struct pair){ "GitLab CI_NODE_INDEX/CI_NODE_TOTAL", "CI_NODE_INDEX",
				   "CI_NODE_TOTAL", get("CI_NODE_INDEX"), get("CI_NODE_TOTAL"),
				   1, 1 };
		if (!p.ival) {
			strbuf_addstr(err, "--shard auto: CI_NODE_TOTAL is set but"
				      " CI_NODE_INDEX is not; use GitLab's parallel: N");
			return -1;
		}
		return take(&p, out, err);
	}
	if (get("JOB_COMPLETION_INDEX")) {
		p = (struct pair){ "Kubernetes JOB_COMPLETION_INDEX/KTSTR_SHARD_TOTAL",
				   "JOB_COMPLETION_INDEX", "KTSTR_SHARD_TOTAL",
				   get("JOB_COMPLETION_INDEX"), get("KTSTR_SHARD_TOTAL"), 0, 1 };
		return take(&p, out, err);
	}
	if (get("SLURM_ARRAY_TASK_ID")) {
		if (slurm_pair(get, &p, err) < 0)
			return -1;
		return take(&p, out, err);
	}
	strbuf_addstr(err, "--shard auto: no shard index found (looked for"
		      " KTSTR_SHARD_INDEX, GitLab CI_NODE_INDEX, Kubernetes"
		      " JOB_COMPLETION_INDEX, Slurm SLURM_ARRAY_TASK_ID); set"
		      " KTSTR_SHARD_INDEX and KTSTR_SHARD_TOTAL, or pass --shard K/N");
	return -1;
}

int shard_env_detect(shard_getenv_fn get, struct shard_choice *out, struct strbuf *err)
{
	if (detect(get, out, err) < 0)
		return -1;
	return agree(get, out, err);
}

/* err gets sub, its "--shard SPEC: " prefix respelled for KTSTR_SHARD. */
static void say(const char *from, const char *spec, const struct strbuf *sub,
		struct strbuf *err)
{
	const char *rest = strstr(sub->buf, ": ");

	if (!strcmp(from, "--shard") || !rest)
		strbuf_add(err, sub->buf, sub->len);
	else
		strbuf_addf(err, "%s=%s%s", from, spec, rest);
}

int shard_resolve(const char *spec, const char *from, shard_getenv_fn get,
		  struct shard_choice *out, struct strbuf *err)
{
	struct strbuf sub = STRBUF_INIT;
	int rc;

	if (!strcmp(spec, "auto")) {
		rc = shard_env_detect(get, out, &sub);
	} else {
		rc = shard_parse(spec, &out->k, &out->n, &sub);
		out->source = from;
	}
	if (rc < 0)
		say(from, spec, &sub, err);
	strbuf_release(&sub);
	return rc;
}

static bool id_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 64 || *s == '.' || *s == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-", s[i]))
			return false;
	return true;
}

int shard_run_id(shard_getenv_fn get, bool engine, char **id, const char **source,
		 struct strbuf *err)
{
	const char *v = get("KTSTR_RUN_ID"), *a;

	*id = NULL;
	*source = NULL;
	if (v) {
		if (!id_ok(v)) {
			strbuf_addf(err, "KTSTR_RUN_ID='%s': expected 1 to 64 letters, digits,"
				    " '.', '_' or '-', not starting with '.' or '-'", v);
			return -1;
		}
		*id = xstrdup(v);
		*source = "KTSTR_RUN_ID";
	} else if (!engine) {
		return 0;
	} else if ((v = get("GITHUB_RUN_ID"))) {
		a = get("GITHUB_RUN_ATTEMPT");
		*id = xasprintf("github-%s-%s", v, a ? a : "1");
		*source = "GITHUB_RUN_ID";
	} else if ((v = get("CI_PIPELINE_ID"))) {
		*id = xasprintf("gitlab-%s", v);
		*source = "CI_PIPELINE_ID";
	} else if ((v = get("SLURM_ARRAY_JOB_ID"))) {
		*id = xasprintf("slurm-%s", v);
		*source = "SLURM_ARRAY_JOB_ID";
	}
	/* An engine's id is checked as KTSTR_RUN_ID is: it names files. */
	if (*id && !id_ok(*id)) {
		strbuf_addf(err, "run id '%s' (from %s) holds characters a file name"
			    " cannot; set KTSTR_RUN_ID", *id, *source);
		free(*id);
		*id = NULL;
		return -1;
	}
	return 0;
}
