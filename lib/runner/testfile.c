/* Test files (testfile.h): parsing, scenario resolution, suites. */
#include "testfile.h"
#include "agent_proto.h"
#include "checktab.h"
#include "diag.h"
#include "duration.h"
#include "env.h"
#include "jsonl.h"
#include "fsutil.h"
#include "gauntlet.h"
#include "verdict.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_TEST_NAME 64

struct tctx {
	const char *file;	/* as the user named it */
	char *dir;		/* its directory, for relative references */
	struct strbuf *err;
	char shown[80];
};

/* "FILE: JPATH: message" (JPATH may be NULL for file-level problems). */
static int __attribute__((format(printf, 3, 4)))
terr(struct tctx *c, const char *jpath, const char *fmt, ...)
{
	va_list ap;

	strbuf_addf(c->err, "%s: ", c->file);
	if (jpath)
		strbuf_addf(c->err, "%s: ", jpath);
	va_start(ap, fmt);
	strbuf_vaddf(c->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* Compact JSON of v, shortened, for "got ..." in messages. */
static const char *show(struct tctx *c, const json_t *v)
{
	return json_brief(v, c->shown, sizeof(c->shown));
}

/* The value at key; JSON null counts as absent (except where noted). */
static json_t *get(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return v && !json_is_null(v) ? v : NULL;
}

static int check_keys(struct tctx *c, const json_t *obj, const char *jpath,
		      const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		struct strbuf l = STRBUF_INIT;
		char *p;
		size_t i;

		for (i = 0; keys[i] && strcmp(keys[i], k); i++)
			;
		if (keys[i])
			continue;
		for (i = 0; keys[i]; i++)
			strbuf_addf(&l, "%s%s", i ? ", " : "", keys[i]);
		p = xasprintf("%s.%s", jpath, k);
		terr(c, p, "unknown key; expected one of %s", l.buf);
		free(p);
		strbuf_release(&l);
		return -1;
	}
	return 0;
}

static int get_str(struct tctx *c, const json_t *obj, const char *key, const char *jpath,
		   const char **out)
{
	json_t *v = get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return terr(c, jpath, "expected a string, got %s", show(c, v));
	*out = json_string_value(v);
	return 0;
}

static int get_bool(struct tctx *c, const json_t *obj, const char *key, const char *jpath,
		    int *out)
{
	json_t *v = get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return terr(c, jpath, "expected true or false, got %s", show(c, v));
	*out = json_is_true(v);
	return 0;
}

static int get_duration(struct tctx *c, const json_t *obj, const char *key,
			const char *jpath, unsigned long long *ms, bool *have)
{
	json_t *v = get(obj, key);

	*have = false;
	if (!v)
		return 0;
	if (!json_is_string(v) || duration_parse_ms(json_string_value(v), ms))
		return terr(c, jpath, "expected a duration such as \"3s\", \"500ms\" or "
			    "\"2m\", got %s", show(c, v));
	if (!*ms)
		return terr(c, jpath, "must be more than 0, got %s", show(c, v));
	*have = true;
	return 0;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	return n && n <= MAX_TEST_NAME &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* ---- topology constraints --------------------------------------------- */

static const char *const k_topology[] = {
	"min_llcs", "max_llcs", "min_cpus", "max_cpus", "min_numa_nodes", "max_numa_nodes",
	"smt", NULL
};

static int get_positive(struct tctx *c, const json_t *obj, const char *key, unsigned *out)
{
	json_t *v = get(obj, key);
	char jpath[64];

	if (!v)
		return 0;
	snprintf(jpath, sizeof(jpath), "$.topology.%s", key);
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > KTSTR_TOPO_MAX_CPUS)
		return terr(c, jpath, "expected a positive integer, got %s", show(c, v));
	*out = (unsigned)json_integer_value(v);
	return 0;
}

static int parse_topology(struct tctx *c, const json_t *v, struct topo_constraints *tc)
{
	static const struct { const char *min, *max; size_t omin, omax; } pairs[] = {
		{ "min_llcs", "max_llcs", offsetof(struct topo_constraints, min_llcs),
		  offsetof(struct topo_constraints, max_llcs) },
		{ "min_cpus", "max_cpus", offsetof(struct topo_constraints, min_cpus),
		  offsetof(struct topo_constraints, max_cpus) },
		{ "min_numa_nodes", "max_numa_nodes", offsetof(struct topo_constraints, min_nodes),
		  offsetof(struct topo_constraints, max_nodes) },
	};
	size_t i;

	if (!json_is_object(v))
		return terr(c, "$.topology", "expected an object such as {\"min_llcs\": 2}, "
			    "got %s", show(c, v));
	if (check_keys(c, v, "$.topology", k_topology))
		return -1;
	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		unsigned *lo = (unsigned *)((char *)tc + pairs[i].omin);
		unsigned *hi = (unsigned *)((char *)tc + pairs[i].omax);

		if (get_positive(c, v, pairs[i].min, lo) || get_positive(c, v, pairs[i].max, hi))
			return -1;
		if (*lo && *hi && *lo > *hi)
			return terr(c, "$.topology", "%s (%u) is more than %s (%u)",
				    pairs[i].min, *lo, pairs[i].max, *hi);
	}
	return get_bool(c, v, "smt", "$.topology.smt", &tc->smt);
}

/* ---- thresholds ------------------------------------------------------- */

/* The keys, their aliases and their limits are the check table's
 * (checktab.h): a test file may spell a threshold as a scenario does
 * (max_p99_wake_latency_us) or by its older test-file name
 * (max_p99_wake_us), but not both. */
static int parse_threshold(struct tctx *c, const json_t *v, const char *key,
			   const struct check_def *d, struct checks *k)
{
	struct strbuf want = STRBUF_INIT;
	char jpath[96];
	json_t *x = get(v, key);
	double val;
	int rc = 0;

	if (!x)
		return 0;
	snprintf(jpath, sizeof(jpath), "$.thresholds.%s", key);
	if (d->kind == CHECK_SWITCH)
		return get_bool(c, v, key, jpath, check_switch(k, d));
	if (json_is_string(x) && !strcmp(json_string_value(x), "off")) {
		*check_limit(k, d) = INFINITY;
		return 0;
	}
	if (!json_is_number(x))
		return terr(c, jpath, "expected a number or \"off\", got %s", show(c, x));
	val = json_number_value(x);
	if (!check_limit_valid(d, val)) {
		check_limit_expect(d, &want);
		rc = terr(c, jpath, "expected %s, or \"off\", got %s", want.buf, show(c, x));
	} else {
		*check_limit(k, d) = val;
	}
	strbuf_release(&want);
	return rc;
}

static int parse_thresholds(struct tctx *c, const json_t *v, struct checks *k)
{
	const char *key;
	json_t *x;

	if (!json_is_object(v))
		return terr(c, "$.thresholds", "expected an object such as "
			    "{\"max_spread_pct\": 20}, got %s", show(c, v));
	json_object_foreach((json_t *)v, key, x) {
		const struct check_def *d = checktab_find(key);
		const char *other;
		json_t *y;
		char *p;

		if (!d) {
			struct strbuf l = STRBUF_INIT;

			checktab_keys_join(&l);
			p = xasprintf("$.thresholds.%s", key);
			terr(c, p, "unknown key; expected one of %s", l.buf);
			free(p);
			strbuf_release(&l);
			return -1;
		}
		json_object_foreach((json_t *)v, other, y) {
			if (other == key)
				break;
			if (checktab_find(other) != d)
				continue;
			p = xasprintf("$.thresholds.%s", key);
			terr(c, p, "the same threshold as %s, given before it; give one of them",
			     other);
			free(p);
			return -1;
		}
		if (parse_threshold(c, v, key, d, k))
			return -1;
	}
	return 0;
}

/* ---- scenario --------------------------------------------------------- */

/* Rebase a scenario_parse error ("$.cgroups[0]...: msg") under prefix. */
static int scenario_err(struct tctx *c, const char *prefix, const char *ref, const char *msg)
{
	if (!ref && msg[0] == '$')
		return terr(c, NULL, "%s%s", prefix, msg + 1);
	if (ref)
		return terr(c, prefix, "%s: %s", ref, msg);
	return terr(c, prefix, "%s", msg);
}

static void add_features(struct ktest *t, const struct scenario *s)
{
	size_t i, j;

	strvec_pushf(&t->features, "scenario:%s", s->name);
	strvec_pushf(&t->features, "cgroups:%zu", s->n_cgroups);
	for (i = 0; i < s->n_cgroups; i++) {
		char *f = xasprintf("work:%s", work_type_name(s->cgroups[i].work.type));

		strvec_push_unique(&t->features, f);
		free(f);
	}
	for (i = 0; i < s->n_steps; i++) {
		for (j = 0; j < s->steps[i].n_ops; j++) {
			const struct op *op = &s->steps[i].ops[j];
			char *f = xasprintf("op:%s", op_kind_name(op->kind));

			strvec_push_unique(&t->features, f);
			free(f);
			if (op->kind == OP_ADD) {
				f = xasprintf("work:%s", work_type_name(op->def.work.type));
				strvec_push_unique(&t->features, f);
				free(f);
			}
		}
	}
	strvec_sort(&t->features);
}

static int load_scenario(struct tctx *c, const json_t *root, struct ktest *t)
{
	json_t *v = get(root, "scenario");
	struct strbuf why = STRBUF_INIT;
	unsigned long long dur;
	bool have_dur;
	int rc = -1;

	if (get_duration(c, root, "duration", "$.duration", &dur, &have_dur))
		return -1;
	if (have_dur && dur > KTSTR_MAX_DURATION_MS)
		return terr(c, "$.duration", "must be at most 1h, got %s",
			    show(c, get(root, "duration")));
	if (have_dur && dur < KTSTR_MIN_DURATION_MS)
		return terr(c, "$.duration", "must be at least 1s, got %s (a shorter run is too "
			    "few scheduler slices for the checks to mean anything)",
			    show(c, get(root, "duration")));
	if (!v)
		return terr(c, "$.scenario", "missing; name a canned scenario (\"steady\"), a "
			    "scenario file (\"scenarios/mine.json\") or give one inline");
	if (json_is_object(v)) {
		t->scenario_doc = json_deep_copy(v);
	} else if (json_is_string(v)) {
		const char *ref = json_string_value(v);

		if (strchr(ref, '/') || (strlen(ref) > 5 && !strcmp(ref + strlen(ref) - 5, ".json"))) {
			char *p = ref[0] == '/' ? xstrdup(ref) : path_join(c->dir, ref);
			char *abs = realpath(p, NULL);

			if (!abs) {
				terr(c, "$.scenario", "%s: %s", p, strerror(errno));
				free(p);
				return -1;
			}
			free(p);
			t->scenario_ref = abs;
		} else {
			t->scenario_ref = xstrdup(ref);
		}
		t->scenario_doc = scenario_load(t->scenario_ref, &why);
		if (!t->scenario_doc) {
			terr(c, "$.scenario", "%s", why.buf);
			goto out;
		}
	} else {
		return terr(c, "$.scenario", "expected a canned scenario name, a path or an "
			    "object, got %s", show(c, v));
	}
	if (!json_is_object(t->scenario_doc)) {
		terr(c, "$.scenario", "%s: a scenario must be a JSON object, got %s",
		     t->scenario_ref, show(c, t->scenario_doc));
		goto out;
	}
	if (have_dur)
		scenario_doc_set_duration_ms(t->scenario_doc, dur);
	if (scenario_parse(t->scenario_doc, &t->scenario, &why)) {
		scenario_err(c, "$.scenario", t->scenario_ref, why.buf);
		goto out;
	}
	t->scenario_name = xstrdup(t->scenario.name);
	t->duration_ms = t->scenario.duration_ms;
	add_features(t, &t->scenario);
	rc = 0;
out:
	strbuf_release(&why);
	return rc;
}

/* ---- scheduler -------------------------------------------------------- */

static int load_scheduler(struct tctx *c, const json_t *root, struct ktest *t)
{
	json_t *v = json_object_get(root, "scheduler");
	json_t *args = get(root, "scheduler_args");
	const char *s;
	size_t i;

	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || !*json_string_value(v))
			return terr(c, "$.scheduler", "expected a scheduler name, a path or "
				    "null (EEVDF), got %s", show(c, v));
		s = json_string_value(v);
		if (!strcmp(s, KTEST_SCHED_PLACEHOLDER)) {
			t->sched_param = true;
		} else if (strchr(s, '{') || strchr(s, '}')) {
			return terr(c, "$.scheduler", "'%s' is not a scheduler; the only "
				    "placeholder is \"%s\" (filled in by ktstr-test "
				    "--scheduler)", s, KTEST_SCHED_PLACEHOLDER);
		} else if (strchr(s, '/')) {
			char *p = s[0] == '/' ? xstrdup(s) : path_join(c->dir, s);
			char *abs = realpath(p, NULL);

			if (!abs || is_directory(abs)) {
				terr(c, "$.scheduler", "%s: %s; relative paths are against the "
				     "test file's directory", p, abs ? "is a directory" :
				     strerror(errno));
				free(abs);
				free(p);
				return -1;
			}
			free(p);
			t->scheduler = abs;
		} else if (strcmp(s, "eevdf")) {
			if (strpbrk(s, " \t\n"))
				return terr(c, "$.scheduler", "'%s' is not a scheduler name; names "
					    "have no spaces (put arguments in scheduler_args)", s);
			t->scheduler = xstrdup(s);
		}
	}
	if (!args)
		return 0;
	if (!json_is_array(args))
		return terr(c, "$.scheduler_args", "expected an array of strings, got %s",
			    show(c, args));
	for (i = 0; i < json_array_size(args); i++) {
		json_t *a = json_array_get(args, i);

		if (!json_is_string(a)) {
			char jpath[48];

			snprintf(jpath, sizeof(jpath), "$.scheduler_args[%zu]", i);
			return terr(c, jpath, "expected a string, got %s", show(c, a));
		}
		strvec_push(&t->sched_args, json_string_value(a));
	}
	if (t->sched_args.n && !t->scheduler && !t->sched_param)
		return terr(c, "$.scheduler_args", "given without a scheduler; EEVDF takes "
			    "no arguments");
	return 0;
}

/* ---- the rest --------------------------------------------------------- */

static int load_presets(struct tctx *c, const json_t *v, struct ktest *t)
{
	size_t i;

	if (!json_is_array(v) || !json_array_size(v))
		return terr(c, "$.presets", "expected a non-empty array of preset names such "
			    "as [\"tiny-2llc\"] (leave it out for every preset), got %s",
			    show(c, v));
	for (i = 0; i < json_array_size(v); i++) {
		json_t *p = json_array_get(v, i);
		char jpath[48];

		snprintf(jpath, sizeof(jpath), "$.presets[%zu]", i);
		if (!json_is_string(p))
			return terr(c, jpath, "expected a preset name, got %s", show(c, p));
		if (!preset_find(json_string_value(p))) {
			struct strbuf l = STRBUF_INIT;
			const struct preset *tab;
			size_t j, n;

			tab = preset_table(&n);
			for (j = 0; j < n; j++)
				strbuf_addf(&l, "%s%s", j ? ", " : "", tab[j].name);
			terr(c, jpath, "unknown preset '%s'; presets: %s",
			     json_string_value(p), l.buf);
			strbuf_release(&l);
			return -1;
		}
		if (!strvec_push_unique(&t->presets, json_string_value(p)))
			return terr(c, jpath, "preset '%s' is listed twice",
				    json_string_value(p));
	}
	return 0;
}

static int load_env(struct tctx *c, const json_t *v, struct ktest *t)
{
	const char *k;
	json_t *x;

	if (!json_is_object(v))
		return terr(c, "$.env", "expected an object of strings such as "
			    "{\"RUST_LOG\": \"debug\"}, got %s", show(c, v));
	json_object_foreach((json_t *)v, k, x) {
		char *jpath = xasprintf("$.env.%s", k);
		int bad = 0;

		if (!env_name_valid(k))
			bad = terr(c, jpath, "'%s' is not a variable name; use letters, digits "
				   "and '_', not starting with a digit", k);
		else if (!strcmp(k, KTSTR_TOPO_ENV))
			bad = terr(c, jpath, "the guest sets " KTSTR_TOPO_ENV " to the VM's topology; "
				   "choose it with \"topology\" or \"presets\"");
		else if (!json_is_string(x))
			bad = terr(c, jpath, "expected a string, got %s", show(c, x));
		else
			strvec_pushf(&t->env, "%s=%s", k, json_string_value(x));
		free(jpath);
		if (bad)
			return -1;
	}
	strvec_sort(&t->env);
	return 0;
}

static const char *const k_top[] = {
	"name", "description", "scenario", "scheduler", "scheduler_args", "duration",
	"topology", "presets", "thresholds", "payload_checks", "timeout", "performance_mode",
	"bpf_stats", "append", "env", NULL
};

/* "payload_checks": {"NAME": {"max": {...}, "min": {...}, "exit_code": N}},
 * checked here with the verdict's own reader of that shape. */
static int load_payload_checks(struct tctx *c, const json_t *v, struct ktest *t)
{
	struct strbuf err = STRBUF_INIT;
	int rc = 0;

	if (verdict_payload_overlay(NULL, v, &err) < 0)
		rc = terr(c, NULL, "$.payload_checks%s", err.buf + 1);
	else
		t->payload_checks = json_deep_copy(v);
	strbuf_release(&err);
	return rc;
}

/* "thresholds" and "payload_checks". */
static int load_checks(struct tctx *c, const json_t *root, struct ktest *t)
{
	json_t *v;

	if ((v = get(root, "thresholds")) && parse_thresholds(c, v, &t->thresholds))
		return -1;
	if ((v = get(root, "payload_checks")) && load_payload_checks(c, v, t))
		return -1;
	return 0;
}

/* The default test name: the file name without ".ktstr.json"/".json". */
static char *default_name(const char *path)
{
	const char *b = path_basename(path);
	size_t n = strlen(b);

	if (n > 11 && !strcmp(b + n - 11, ".ktstr.json"))
		n -= 11;
	else if (n > 5 && !strcmp(b + n - 5, ".json"))
		n -= 5;
	return xstrndup(b, n);
}

/* The base name of dir, resolving "." and trailing slashes. */
static char *dir_name(const char *dir)
{
	char *abs = realpath(dir, NULL);
	char *name = xstrdup(path_basename(abs ? abs : dir));

	free(abs);
	if (!*name) {
		free(name);
		name = xstrdup("/");
	}
	return name;
}

static int parse_test(struct tctx *c, const json_t *root, struct ktest *t)
{
	const char *s;
	json_t *v;
	bool have;
	int b;

	if (!json_is_object(root))
		return terr(c, "$", "a test must be a JSON object, got %s", show(c, root));
	if (check_keys(c, root, "$", k_top))
		return -1;
	if (get_str(c, root, "name", "$.name", &s))
		return -1;
	if (s && !valid_name(s))
		return terr(c, "$.name", "'%s' is not a valid test name; use 1 to %d letters, "
			    "digits, '_', '.' and '-'", s, MAX_TEST_NAME);
	t->name = s ? xstrdup(s) : default_name(c->file);
	if (!s && !valid_name(t->name))
		return terr(c, NULL, "'%s' (from the file name) is not a valid test name; "
			    "rename the file or set \"name\" (1 to %d letters, digits, '_', "
			    "'.' and '-')", t->name, MAX_TEST_NAME);
	if (get_str(c, root, "description", "$.description", &s))
		return -1;
	t->description = s ? xstrdup(s) : NULL;
	if (load_scenario(c, root, t) || load_scheduler(c, root, t))
		return -1;
	if ((v = get(root, "topology")) && parse_topology(c, v, &t->topo))
		return -1;
	if ((v = get(root, "presets")) && load_presets(c, v, t))
		return -1;
	if (load_checks(c, root, t))
		return -1;
	if (get_duration(c, root, "timeout", "$.timeout", &t->timeout_ms, &have))
		return -1;
	b = 0;
	if (get_bool(c, root, "performance_mode", "$.performance_mode", &b))
		return -1;
	t->performance_mode = b;
	b = 0;
	if (get_bool(c, root, "bpf_stats", "$.bpf_stats", &b))
		return -1;
	t->bpf_stats = b;
	if (get_str(c, root, "append", "$.append", &s))
		return -1;
	t->append = s ? xstrdup(s) : NULL;
	if ((v = get(root, "env")) && load_env(c, v, t))
		return -1;
	return 0;
}

static void ktest_init(struct ktest *t)
{
	memset(t, 0, sizeof(*t));
	t->topo.smt = -1;
	checks_init(&t->thresholds);
}

int ktest_load(const char *path, const char *suite, struct ktest *t, struct strbuf *err)
{
	struct tctx c = { .file = path, .err = err };
	struct strbuf text = STRBUF_INIT;
	json_error_t jerr;
	json_t *root;
	int rc = -1;

	ktest_init(t);
	t->path = xstrdup(path);
	c.dir = path_dirname(path);
	t->suite = suite ? xstrdup(suite) : dir_name(c.dir);
	if (strbuf_read_file(&text, path)) {
		terr(&c, NULL, "%s", strerror(errno));
		goto out;
	}
	root = json_loadb(text.buf, text.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		terr(&c, NULL, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
		     jerr.text);
		goto out;
	}
	rc = parse_test(&c, root, t);
	json_decref(root);
out:
	if (rc) {
		ktest_release(t);
		ktest_init(t);
	}
	strbuf_release(&text);
	free(c.dir);
	return rc;
}

int ktest_from_json(const json_t *root, const char *path, const char *suite, struct ktest *t,
		    struct strbuf *err)
{
	struct tctx c = { .file = path, .err = err };
	int rc;

	ktest_init(t);
	t->path = xstrdup(path);
	c.dir = path_dirname(path);
	t->suite = xstrdup(suite);
	rc = parse_test(&c, root, t);
	if (rc) {
		ktest_release(t);
		ktest_init(t);
	}
	free(c.dir);
	return rc;
}

void ktest_release(struct ktest *t)
{
	free(t->name);
	free(t->suite);
	free(t->path);
	free(t->description);
	free(t->scenario_ref);
	json_decref(t->scenario_doc);
	json_decref(t->payload_checks);
	scenario_release(&t->scenario);
	free(t->scenario_name);
	free(t->scheduler);
	strvec_clear(&t->sched_args);
	strvec_clear(&t->presets);
	free(t->append);
	strvec_clear(&t->env);
	strvec_clear(&t->features);
	memset(t, 0, sizeof(*t));
}

/* ---- suites ----------------------------------------------------------- */

static int list_tests(const char *dir, struct strvec *files, struct strbuf *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		strbuf_addf(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *p;

		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		p = path_join(dir, de->d_name);
		if (is_regular_file(p))
			strvec_push(files, p);
		free(p);
	}
	closedir(d);
	strvec_sort(files);
	if (!files->n) {
		strbuf_addf(err, "%s: no test files (*.json) in this directory", dir);
		return -1;
	}
	return 0;
}

static int add_test(const char *file, const char *suite, struct ktest **out, size_t *n,
		    size_t *alloc, struct strbuf *err)
{
	struct ktest t;
	struct stat st = { 0 };
	size_t i;

	/* The same file again, by any path: already loaded. */
	if (stat(file, &st) == 0)
		for (i = 0; i < *n; i++)
			if ((*out)[i].dev == st.st_dev && (*out)[i].ino == st.st_ino)
				return 0;
	if (ktest_load(file, suite, &t, err))
		return -1;
	t.dev = st.st_dev;
	t.ino = st.st_ino;
	for (i = 0; i < *n; i++) {
		if (!strcmp((*out)[i].suite, t.suite) && !strcmp((*out)[i].name, t.name)) {
			strbuf_addf(err, "%s: test name '%s' is already used by %s in suite "
				    "'%s'; set a different \"name\" in one of them", file, t.name,
				    (*out)[i].path, t.suite);
			ktest_release(&t);
			return -1;
		}
	}
	if (*n == *alloc) {
		*alloc = *alloc ? 2 * *alloc : 8;
		*out = xrealloc(*out, *alloc * sizeof(**out));
	}
	(*out)[(*n)++] = t;
	return 0;
}

int ktest_load_paths(const char *const *paths, size_t npaths,
		     struct ktest **out, size_t *n, struct strbuf *err)
{
	size_t i, j, alloc = 0;

	*out = NULL;
	*n = 0;
	for (i = 0; i < npaths; i++) {
		if (is_directory(paths[i])) {
			struct strvec files = STRVEC_INIT;
			char *suite = dir_name(paths[i]);
			int rc = list_tests(paths[i], &files, err);

			for (j = 0; !rc && j < files.n; j++)
				rc = add_test(files.v[j], suite, out, n, &alloc, err);
			strvec_clear(&files);
			free(suite);
			if (rc)
				return -1;
		} else if (path_exists(paths[i])) {
			if (add_test(paths[i], NULL, out, n, &alloc, err))
				return -1;
		} else {
			strbuf_addf(err, "%s: no such test file or directory", paths[i]);
			return -1;
		}
	}
	return 0;
}

void ktest_free_all(struct ktest *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ktest_release(&v[i]);
	free(v);
}
