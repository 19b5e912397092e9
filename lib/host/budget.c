/* Budget selection (budget.h): estimates, run history, greedy coverage. */
#include "budget.h"
#include "diag.h"
#include "fsutil.h"
#include "strvec.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

unsigned budget_vcpu_cap(bool kvm, unsigned host_cpus)
{
	if (!host_cpus)
		host_cpus = 1;
	return kvm ? host_cpus : host_cpus * KTSTR_TCG_VCPUS_PER_HOST_CPU;
}

const char *budget_vcpu_rule(bool kvm)
{
	return kvm ? "KVM: one vCPU per usable host CPU" : "TCG: 8 vCPUs per usable host CPU";
}

int budget_vcpu_check(const struct ktstr_topo *topo, bool kvm, unsigned host_cpus,
		      struct strbuf *err)
{
	unsigned cap = budget_vcpu_cap(kvm, host_cpus), n = topo_cpus(topo);

	if (n <= cap)
		return 0;
	strbuf_addf(err, "%u vCPUs is more than this host can run in reasonable time "
		    "(%u usable CPUs, %s: at most %u)", n, host_cpus ? host_cpus : 1,
		    budget_vcpu_rule(kvm), cap);
	return -1;
}

double budget_estimate_secs(const struct gcase *c)
{
	double run = c && c->test ? (double)c->test->duration_ms / 1000.0 : 0;

	return (KTSTR_BUDGET_BOOT_SECS + run + KTSTR_BUDGET_SLACK_SECS) * KTSTR_BUDGET_FACTOR;
}

int budget_parse(const char *s, double *secs, struct strbuf *err)
{
	char *end;
	double v;

	if (!s || !*s) {
		strbuf_addstr(err, "empty; expected a positive number of seconds such as 300");
		return -1;
	}
	/* Plain decimals only: strtod would also take "inf", hex and exponents. */
	if (strspn(s, "0123456789.") != strlen(s) || strcspn(s, "0123456789") == strlen(s)) {
		strbuf_addf(err, "'%s' is not a number of seconds; expected a positive number "
			    "such as 300 or 12.5", s);
		return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v)) {
		strbuf_addf(err, "'%s' is not a number of seconds; expected a positive number "
			    "such as 300 or 12.5", s);
		return -1;
	}
	if (!(v > 0)) {
		strbuf_addf(err, "'%s' must be more than 0 seconds", s);
		return -1;
	}
	*secs = v;
	return 0;
}

/* ---- history ---------------------------------------------------------- */

struct measured {
	const char *name;	/* the case's full_name (borrowed) */
	char *timestamp;	/* newest seen, or NULL */
	double wall_ms;
};

static void read_sidecar(const char *path, struct measured *m, size_t nm)
{
	json_t *doc = json_load_file(path, 0, NULL);
	const char *name, *ts;
	json_t *wall;
	size_t i;

	if (!doc)
		return;
	name = json_string_value(json_object_get(doc, "case"));
	ts = json_string_value(json_object_get(doc, "timestamp"));
	wall = json_object_get(doc, "wall_ms");
	if (!name || !json_is_number(wall) || !(json_number_value(wall) > 0))
		goto out;
	if (!ts)
		ts = "";
	for (i = 0; i < nm; i++) {
		if (strcmp(m[i].name, name))
			continue;
		if (m[i].timestamp && strcmp(ts, m[i].timestamp) <= 0)
			continue;
		free(m[i].timestamp);
		m[i].timestamp = xstrdup(ts);
		m[i].wall_ms = json_number_value(wall);
	}
out:
	json_decref(doc);
}

static void scan_run(const char *dir, struct measured *m, size_t nm)
{
	static const char suffix[] = ".ktstr.json";
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *p;

		if (de->d_name[0] == '.' || len <= sizeof(suffix) - 1 ||
		    strcmp(de->d_name + len - (sizeof(suffix) - 1), suffix))
			continue;
		p = path_join(dir, de->d_name);
		if (is_regular_file(p))
			read_sidecar(p, m, nm);
		free(p);
	}
	closedir(d);
}

void budget_apply_history(struct gcase *v, size_t n, const char *runs_root)
{
	struct measured *m;
	struct dirent *de;
	size_t i, nm = 0;
	DIR *d;

	if (!runs_root || !n || !(d = opendir(runs_root)))
		return;
	m = xcalloc(n, sizeof(*m));
	/* The sidecar's "case" is the full name (caserun.c base_doc): the
	 * suite first, which tells apart same-named tests of two suites. */
	for (i = 0; i < n; i++)
		if (!v[i].skip_reason)
			m[nm++].name = v[i].full_name;
	while ((de = readdir(d))) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = path_join(runs_root, de->d_name);
		if (is_directory(p))
			scan_run(p, m, nm);
		free(p);
	}
	closedir(d);
	for (i = nm = 0; i < n; i++) {
		if (v[i].skip_reason)
			continue;
		if (m[nm].timestamp)
			v[i].est_secs = m[nm].wall_ms / 1000.0;
		free(m[nm].timestamp);
		nm++;
	}
	free(m);
}

/* ---- selection -------------------------------------------------------- */

static size_t feature_id(struct strvec *all, const char *f)
{
	size_t i;

	for (i = 0; i < all->n; i++)
		if (!strcmp(all->v[i], f))
			return i;
	strvec_push(all, f);
	return all->n - 1;
}

struct cand {
	size_t *feat;
	size_t nfeat;
	bool chosen;
};

static void case_features(const struct gcase *c, struct strvec *all, struct cand *out)
{
	struct strvec fs = STRVEC_INIT;
	const char *sched = "eevdf";
	size_t i;

	if (c->test) {
		for (i = 0; i < c->test->features.n; i++)
			strvec_push(&fs, c->test->features.v[i]);
		if (gcase_scheduler(c))	/* an A/B case's, not the placeholder */
			sched = path_basename(gcase_scheduler(c));
	}
	if (c->preset) {
		strvec_pushf(&fs, "llcs:%u", c->preset->topo.llcs);
		strvec_pushf(&fs, "smt:%d", c->preset->topo.threads > 1);
		strvec_pushf(&fs, "nodes:%u", c->preset->topo.nodes);
		strvec_pushf(&fs, "preset:%s", c->preset->name);
	}
	strvec_pushf(&fs, "sched:%s", sched);
	out->feat = xcalloc(fs.n, sizeof(*out->feat));
	for (i = 0; i < fs.n; i++) {
		size_t id = feature_id(all, fs.v[i]), j;

		for (j = 0; j < out->nfeat && out->feat[j] != id; j++)
			;
		if (j == out->nfeat)
			out->feat[out->nfeat++] = id;
	}
	strvec_clear(&fs);
}

size_t budget_select(struct gcase *v, size_t n, double budget_secs,
		     struct budget_report *rep)
{
	struct strvec all = STRVEC_INIT;
	struct cand *cand = xcalloc(n ? n : 1, sizeof(*cand));
	double left = budget_secs, spent = 0;
	size_t i, j, kept = 0, covered = 0;
	bool *seen;

	for (i = 0; i < n; i++) {
		if (v[i].skip_reason)
			cand[i].chosen = true;
		else
			case_features(&v[i], &all, &cand[i]);
	}
	seen = xcalloc(all.n ? all.n : 1, sizeof(*seen));
	for (;;) {
		double best_score = -1, best_secs = 0;
		size_t best = n;

		for (i = 0; i < n; i++) {
			double secs = v[i].est_secs > 0 ? v[i].est_secs : 0, score;
			size_t fresh = 0;

			if (cand[i].chosen || secs > left)
				continue;
			for (j = 0; j < cand[i].nfeat; j++)
				fresh += !seen[cand[i].feat[j]];
			score = (double)fresh / (secs > 1e-3 ? secs : 1e-3);
			if (score > best_score || (score == best_score && secs < best_secs)) {
				best = i;
				best_score = score;
				best_secs = secs;
			}
		}
		if (best == n)
			break;
		cand[best].chosen = true;
		left -= best_secs;
		spent += best_secs;
		for (j = 0; j < cand[best].nfeat; j++) {
			covered += !seen[cand[best].feat[j]];
			seen[cand[best].feat[j]] = true;
		}
	}
	for (i = 0; i < n; i++) {
		if (cand[i].chosen)
			v[kept++] = v[i];
		else
			gcase_release(&v[i]);
		free(cand[i].feat);
	}
	if (rep) {
		rep->selected = kept;
		rep->total = n;
		rep->selected_secs = spent;
		rep->budget_secs = budget_secs;
		rep->features_covered = covered;
		rep->features_total = all.n;
	}
	free(seen);
	free(cand);
	strvec_clear(&all);
	return kept;
}
