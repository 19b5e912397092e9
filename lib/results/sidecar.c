/* Sidecars: what goes into one case's document (run identity, host
 * context, metrics) and reading documents back.  The runs root on disk
 * is sidecar_runs.c's.  See sidecar.h for the layout and the document. */
#include "sidecar.h"
#include "clock.h"
#include "diag.h"
#include "jsonl.h"
#include "dirs.h"
#include "env.h"
#include "fsutil.h"
#include "gauntlet.h"
#include "run.h"
#include "sysctl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* ---- identity of a run -------------------------------------------------- */

char *sidecar_runs_root(void)
{
	const char *over = env_get("KTSTR_RUNS_ROOT");

	if (over)
		return path_expand_tilde(over);
	return ktstr_state_dir("runs");
}

char *sidecar_project_commit(const char *dir)
{
	const char *over = env_get("KTSTR_PROJECT_COMMIT");
	const char *rev[] = { "git", "-C", dir ? dir : ".", "rev-parse", "--short=12",
			      "HEAD", NULL };
	const char *st[] = { "git", "-C", dir ? dir : ".", "status", "--porcelain", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *ret;

	if (over)
		return xstrdup(over);
	/* git's complaints ("not a git repository") are captured and dropped:
	 * "nogit" says it. */
	if (run_capture(rev, &out, &err) != 0) {
		ret = xstrdup("nogit");
		goto out;
	}
	strbuf_trim(&out);
	if (!out.len) {
		ret = xstrdup("nogit");
		goto out;
	}
	ret = strbuf_detach(&out, NULL);
	strbuf_reset(&err);
	if (run_capture(st, &out, &err) == 0) {
		strbuf_trim(&out);
		if (out.len) {
			char *dirty = xasprintf("%s-dirty", ret);

			free(ret);
			ret = dirty;
		}
	}
out:
	strbuf_release(&out);
	strbuf_release(&err);
	return ret;
}

char *sidecar_new_run_id(void)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	unsigned int r;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	/* Two runners started in the same second still get different ids;
	 * the fallback only matters without getrandom(2). */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (unsigned int)getpid() * 2654435761u ^ (unsigned int)ts.tv_nsec;
	}
	return xasprintf("%s-%08x", stamp, r);
}

const char *sidecar_run_source(void)
{
	return env_get("KTSTR_CI") ? "ci" : "local";
}

/* ---- host context ------------------------------------------------------- */

/* Value of the first "key<blanks>:" line of a /proc file, trimmed. */
static char *proc_field(const char *path, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	size_t klen = strlen(key);
	char *line, *next, *ret = NULL;

	if (strbuf_read_file(&sb, path) < 0)
		goto out;
	for (line = sb.buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, key, klen))
			continue;
		line += klen;
		line += strspn(line, " \t");
		if (*line != ':')
			continue;
		line++;
		line += strspn(line, " \t");
		ret = xstrdup(line);
		break;
	}
out:
	strbuf_release(&sb);
	return ret;
}

static long usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN);
}

json_t *sidecar_host_context(void)
{
	json_t *o = json_object();
	struct utsname u;
	char *model = proc_field("/proc/cpuinfo", "model name");
	char *mem = proc_field("/proc/meminfo", "MemTotal");
	long cpus = usable_cpus();

	json_object_set_new(o, "cpu_model", model ? json_string(model) : json_null());
	json_object_set_new(o, "cpus", cpus > 0 ? json_integer(cpus) : json_null());
	json_object_set_new(o, "mem_total_kib",
			    mem ? json_integer(strtoll(mem, NULL, 10)) : json_null());
	if (uname(&u) == 0) {
		json_object_set_new(o, "kernel_release", json_string(u.release));
		json_object_set_new(o, "arch", json_string(u.machine));
	} else {
		json_object_set_new(o, "kernel_release", json_null());
		json_object_set_new(o, "arch", json_null());
	}
	json_object_set_new(o, "sched_tunables", sysctl_json("/proc/sys/kernel", "sched_"));
	free(model);
	free(mem);
	return o;
}

/* ---- metrics of a verdict ---------------------------------------------- */

struct agg {
	double max, min, sum;
	bool any;
};

static void agg_add(struct agg *a, double x)
{
	if (isnan(x))
		return;
	if (!a->any || x > a->max)
		a->max = x;
	if (!a->any || x < a->min)
		a->min = x;
	a->sum = a->any ? a->sum + x : x;
	a->any = true;
}

static void put(json_t *o, const char *name, bool any, double x)
{
	if (!any || !isfinite(x))
		return;
	if (x == floor(x) && fabs(x) < 9e15)
		json_object_set_new(o, name, json_integer((json_int_t)x));
	else
		json_object_set_new(o, name, json_real(x));
}

/* "payload.NAME.METRIC": the mean over the copies that reported it, with
 * its unit and direction in info (when not NULL). */
static void payload_metrics(const struct verdict *v, json_t *o, json_t *info)
{
	json_t *sums = json_object(), *e;
	const char *key;

	for (size_t i = 0; i < v->n_payloads; i++) {
		const struct verdict_payload *p = &v->payloads[i];
		json_t *m;

		json_object_foreach(p->metrics, key, m) {
			char *name = xasprintf("payload.%s.%s", p->name, key);
			json_t *s = json_object_get(sums, name);
			double x = json_number_value(json_object_get(m, "value"));

			if (!s) {
				s = json_pack("{s:f, s:i}", "sum", 0.0, "n", 0);
				json_object_set_new(sums, name, s);
				if (info)
					json_object_set_new(info, name, json_pack(
						"{s:s, s:s}",
						"unit", json_get_str(m, "unit") ?
							json_get_str(m, "unit") : "",
						"better", json_get_str(m, "better") ?
							json_get_str(m, "better") : "none"));
			}
			json_object_set_new(s, "sum", json_real(
				json_real_value(json_object_get(s, "sum")) + x));
			json_object_set_new(s, "n", json_integer(
				json_integer_value(json_object_get(s, "n")) + 1));
			free(name);
		}
	}
	json_object_foreach(sums, key, e)
		put(o, key, true, json_real_value(json_object_get(e, "sum")) /
			(double)json_integer_value(json_object_get(e, "n")));
	json_decref(sums);
}

/* Add x to the sum key of o (made at 0). */
static void add_to(json_t *o, const char *key, double x)
{
	json_object_set_new(o, key, json_real(json_number_value(json_object_get(o, key)) + x));
}

/* "bpf.PROG.FIELD" = x in o, with its unit and direction in info (when
 * not NULL). */
static void put_bpf(json_t *o, json_t *info, const char *prog, const char *field,
		    double x, const char *unit, const char *better)
{
	char *k = xasprintf("bpf.%s.%s", prog, field);

	put(o, k, true, x);
	if (info)
		json_object_set_new(info, k, json_pack("{s:s, s:s}", "unit", unit,
						       "better", better));
	free(k);
}

/* A BPF program's figures: "bpf.NAME.ns_per_run" (the window's run time
 * over its run count), "bpf.NAME.run_cnt" and "bpf.NAME.verified_insns".
 * Programs of one name (should a scheduler load two) are summed: their
 * cost is then the combined time over the combined count, and
 * verified_insns the larger. */
static void bpf_metrics(const struct verdict *v, json_t *o, json_t *info)
{
	json_t *sums = json_object(), *e;
	const char *name;

	for (size_t i = 0; i < v->n_bpf_progs; i++) {
		const struct verdict_bpf_prog *p = &v->bpf_progs[i];
		json_t *s;

		if (!p->name)
			continue;
		if (!(s = json_object_get(sums, p->name)))
			json_object_set_new(sums, p->name, s = json_object());
		if (!isnan(p->verified_insns))
			json_object_set_new(s, "insns", json_real(fmax(
				p->verified_insns,
				json_number_value(json_object_get(s, "insns")))));
		if (isnan(p->run_cnt))
			continue;
		add_to(s, "cnt", p->run_cnt);
		/* without run_time_ns, the agent's rounded cost stands in */
		add_to(s, "time", !isnan(p->run_time_ns) ? p->run_time_ns
			  : isnan(p->ns_per_run) ? 0 : p->ns_per_run * p->run_cnt);
	}
	json_object_foreach(sums, name, e) {
		json_t *cnt = json_object_get(e, "cnt"), *insns = json_object_get(e, "insns");

		if (insns)
			put_bpf(o, info, name, "verified_insns", json_number_value(insns), "",
				"none");
		if (!cnt)
			continue;
		put_bpf(o, info, name, "run_cnt", json_number_value(cnt), "", "none");
		if (json_number_value(cnt) > 0)
			put_bpf(o, info, name, "ns_per_run",
				json_number_value(json_object_get(e, "time")) /
				json_number_value(cnt), "ns", "lower");
	}
	json_decref(sums);
}

json_t *sidecar_metrics(const struct verdict *v)
{
	struct agg spread = { 0 }, gap = { 0 }, migr = { 0 }, ratio = { 0 }, p99 = { 0 },
		   p50 = { 0 }, iter = { 0 }, rate = { 0 }, starved = { 0 }, iso = { 0 };
	json_t *o = json_object(), *val;
	const char *key;
	size_t i;

	for (i = 0; i < v->n_cgroups; i++) {
		const struct verdict_cgroup *g = &v->cgroups[i];

		/* Background load is there to disturb, not to be measured. */
		if (g->background)
			continue;
		agg_add(&spread, g->spread_pct);
		agg_add(&gap, g->worst_gap_ms);
		agg_add(&migr, g->migrations);
		if (!isnan(g->migrations) && !isnan(g->iterations) && g->iterations > 0)
			agg_add(&ratio, g->migrations / g->iterations);
		agg_add(&p99, g->p99_wake_latency_us);
		agg_add(&p50, g->p50_wake_latency_us);
		agg_add(&iter, g->iterations);
		agg_add(&rate, g->iterations_per_sec);
		agg_add(&starved, g->starved_workers);
		agg_add(&iso, g->isolation_violations);
	}
	/* Without cgroup_stats, scenario_end's run-wide worst values stand in. */
	if (!spread.any)
		agg_add(&spread, v->end_worst_spread_pct);
	if (!gap.any)
		agg_add(&gap, v->end_worst_gap_ms);
	if (!migr.any)
		agg_add(&migr, v->end_migrations);

	put(o, "worst_spread_pct", spread.any, spread.max);
	put(o, "worst_gap_ms", gap.any, gap.max);
	put(o, "total_migrations", migr.any, migr.sum);
	put(o, "worst_migration_ratio", ratio.any, ratio.max);
	put(o, "worst_p99_wake_latency_us", p99.any, p99.max);
	put(o, "worst_median_wake_latency_us", p50.any, p50.max);
	put(o, "total_iterations", iter.any, iter.sum);
	put(o, "min_iterations_per_sec", rate.any, rate.min);
	put(o, "starved_workers", starved.any, starved.sum);
	put(o, "isolation_violations", iso.any, iso.sum);
	/* The harness's own share, not the scheduler's: kept so a history
	 * shows which runs the agent may have disturbed; compare does not
	 * gate it. */
	put(o, "agent_cpu_pct", !isnan(v->end_agent_cpu_pct), v->end_agent_cpu_pct);

	if (v->scx_events)
		json_object_foreach(v->scx_events, key, val) {
			const char *ev = key;
			char *name, *p;

			if (!json_is_number(val))
				continue;
			if (!strncasecmp(ev, "SCX_EV_", 7))
				ev += 7;
			name = xasprintf("scx_%s", ev);
			for (p = name; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			put(o, name, true, json_number_value(val));
			free(name);
		}
	/* The machine checks' values and the per-phase metrics, from the
	 * monitor's samples ("phase<N>.<metric>"); none without a monitor. */
	machine_metrics(&v->machine_result, o);
	payload_metrics(v, o, NULL);
	bpf_metrics(v, o, NULL);
	return o;
}

json_t *sidecar_metric_info(const struct verdict *v)
{
	json_t *info = json_object(), *o = json_object();

	payload_metrics(v, o, info);
	bpf_metrics(v, o, info);
	json_decref(o);
	return info;
}

json_t *sidecar_bpf_programs(const struct verdict *v)
{
	return verdict_bpf_programs_json(v);
}

json_t *sidecar_payloads(const struct verdict *v)
{
	return verdict_payloads_json(v);
}

bool sidecar_is_name(const char *name)
{
	size_t n = strlen(name), s = strlen(SIDECAR_SUFFIX);

	return name[0] != '.' && n > s && !strcmp(name + n - s, SIDECAR_SUFFIX);
}

/* ---- reading ------------------------------------------------------------ */

static const char *str_at(const json_t *o, const char *key, const char *sub)
{
	const json_t *v = json_object_get(o, key);

	if (sub)
		v = json_is_object(v) ? json_object_get(v, sub) : NULL;
	return json_is_string(v) ? json_string_value(v) : "";
}

/* Check the document and fill the views; NULL, or why it is not a sidecar. */
static char *sidecar_view(struct sidecar *s)
{
	json_t *doc = s->doc, *type, *schema, *m, *sc, *wt;

	if (!json_is_object(doc))
		return xasprintf("not a sidecar: the document is %s, not an object",
				 json_kind_name(doc));
	type = json_object_get(doc, "type");
	if (!json_is_string(type) || strcmp(json_string_value(type), "sidecar"))
		return xstrdup("not a sidecar: \"type\" is not \"sidecar\"");
	schema = json_object_get(doc, "schema");
	if (!json_is_integer(schema))
		return xstrdup("not a sidecar: no integer \"schema\"");
	if (json_integer_value(schema) != SIDECAR_SCHEMA)
		return xasprintf("schema %lld, this ktstr reads schema %d",
				 (long long)json_integer_value(schema), SIDECAR_SCHEMA);
	m = json_object_get(doc, "metrics");
	if (m && !json_is_null(m) && !json_is_object(m))
		return xasprintf("\"metrics\" is %s, not an object", json_kind_name(m));
	sc = json_object_get(doc, "scenario");
	wt = json_is_object(sc) ? json_object_get(sc, "work_types") : NULL;
	if (wt && !json_is_null(wt) && !json_is_array(wt))
		return xasprintf("\"scenario.work_types\" is %s, not an array",
				 json_kind_name(wt));

	s->spare = json_pack("{s:{},s:[]}", "metrics", "work_types");
	s->metrics = json_is_object(m) ? m : json_object_get(s->spare, "metrics");
	s->work_types = json_is_array(wt) ? wt : json_object_get(s->spare, "work_types");
	s->run_id = str_at(doc, "run_id", NULL);
	s->run_source = str_at(doc, "run_source", NULL);
	s->timestamp = str_at(doc, "timestamp", NULL);
	s->suite = str_at(doc, "suite", NULL);
	s->test = str_at(doc, "test", NULL);
	s->preset = str_at(doc, "preset", NULL);
	s->case_name = str_at(doc, "case", NULL);
	s->scheduler = str_at(doc, "scheduler", "name");
	s->kernel = str_at(doc, "kernel", "label");
	s->commit = str_at(doc, "project_commit", NULL);
	s->result = str_at(doc, "result", NULL);
	s->topology = str_at(doc, "topology", "spec");
	s->arch = str_at(doc, "host", "arch");
	if (!*s->arch)
		s->arch = "x86_64";
	/* Older runners wrote no label: their run was named by the commit. */
	s->label = str_at(doc, "label", NULL);
	if (!*s->label)
		s->label = s->commit;
	s->accel = str_at(doc, "accel", NULL);
	return NULL;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct sidecar *)a)->path, ((const struct sidecar *)b)->path);
}

/* Add a parsed document (or, when doc is NULL, jerr's problem) to set. */
static void add_doc(const char *path, json_t *doc, const json_error_t *jerr,
		    struct sidecar_set *set)
{
	struct sidecar s = { .doc = doc };
	char *why;

	if (!s.doc) {
		if (jerr->line > 0)
			strvec_pushf(&set->bad, "%s: invalid JSON at line %d column %d: %s",
				     path, jerr->line, jerr->column, jerr->text);
		else
			strvec_pushf(&set->bad, "%s: %s", path, jerr->text);
		return;
	}
	if ((why = sidecar_view(&s))) {
		strvec_pushf(&set->bad, "%s: %s", path, why);
		free(why);
		json_decref(s.doc);
		return;
	}
	s.path = xstrdup(path);
	if (set->n == set->alloc) {
		set->alloc = set->alloc ? 2 * set->alloc : 16;
		set->v = xrealloc(set->v, set->alloc * sizeof(*set->v));
	}
	set->v[set->n++] = s;
}

/* Load one file into set (or its problem into set->bad). */
static void load_one(const char *path, struct sidecar_set *set)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	add_doc(path, doc, &jerr, set);
}

void sidecar_load_buf(const char *path, const char *buf, size_t len,
		      struct sidecar_set *set)
{
	json_error_t jerr;
	json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	add_doc(path, doc, &jerr, set);
}

int sidecar_load_dir(const char *dir, struct sidecar_set *set, struct strbuf *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct strvec names = STRVEC_INIT;
	size_t i;

	if (!d) {
		strbuf_addf(err, "'%s': cannot read the directory: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)))
		if (sidecar_is_name(e->d_name))
			strvec_push(&names, e->d_name);
	closedir(d);
	strvec_sort(&names);
	for (i = 0; i < names.n; i++) {
		char *path = path_join(dir, names.v[i]);

		if (is_regular_file(path))
			load_one(path, set);
		else
			strvec_pushf(&set->bad, "%s: not a regular file", path);
		free(path);
	}
	strvec_clear(&names);
	if (set->n > 1)
		qsort(set->v, set->n, sizeof(*set->v), by_path);
	return 0;
}

void sidecar_release_one(struct sidecar *s)
{
	free(s->path);
	json_decref(s->doc);
	json_decref(s->spare);
}

void sidecar_set_release(struct sidecar_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		sidecar_release_one(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = set->alloc = 0;
	strvec_clear(&set->bad);
}
