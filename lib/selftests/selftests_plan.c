/* Which selftests run, in which VM, with which guest script (selftests.h). */
#include "selftests.h"
#include "diag.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* Names go into a shell script unquoted-safe: the runner's are C
 * identifiers, so anything else is not a test name. */
static bool name_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    s[i]))
			return false;
	return len > 0;
}

int st_list_parse(const char *text, struct strvec *names)
{
	const char *p = text, *nl;

	while (p && *p) {
		size_t len;

		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\r'))
			len--;
		if (name_ok(p, len)) {
			char *s = xstrndup(p, len);

			strvec_push_unique(names, s);
			free(s);
		}
		p = nl ? nl + 1 : NULL;
	}
	return names->n ? 0 : -1;
}

int st_select(const struct strvec *all, const struct strvec *pats, struct strvec *out,
	      struct strbuf *err)
{
	size_t i, j;

	for (j = 0; j < pats->n; j++) {
		bool hit = false;

		for (i = 0; i < all->n && !hit; i++)
			hit = !fnmatch(pats->v[j], all->v[i], 0);
		if (!hit) {
			strbuf_addf(err, "-t '%s': no selftest of this runner matches it; "
				    "'ktstr selftests --list' names them", pats->v[j]);
			return -1;
		}
	}
	for (i = 0; i < all->n; i++) {
		bool want = !pats->n;

		for (j = 0; j < pats->n && !want; j++)
			want = !fnmatch(pats->v[j], all->v[i], 0);
		if (want)
			strvec_push(out, all->v[i]);
	}
	return 0;
}

char *st_test_append(const char *name, unsigned cpus)
{
	/* nohz_tick checks that a sched_ext scheduler lets the tick stop on
	 * a nohz_full CPU; CPU 0 stays the housekeeper. */
	if (!strcmp(name, "nohz_tick") && cpus >= 2)
		return cpus == 2 ? xstrdup("nohz_full=1") : xasprintf("nohz_full=1-%u", cpus - 1);
	return NULL;
}

/* ---- families and groups ------------------------------------------------ */

static size_t find_root(size_t *up, size_t i)
{
	while (up[i] != i)
		i = up[i] = up[up[i]];
	return i;
}

/* fam[i]: the family (root index) of sel->v[i]. */
static void families(const struct strvec *sel, size_t *fam)
{
	size_t i, j;

	for (i = 0; i < sel->n; i++)
		fam[i] = i;
	for (i = 0; i < sel->n; i++)
		for (j = 0; j < sel->n; j++)
			if (i != j && strstr(sel->v[j], sel->v[i]))
				fam[find_root(fam, j)] = find_root(fam, i);
	for (i = 0; i < sel->n; i++)
		fam[i] = find_root(fam, i);
}

static size_t index_of(const struct strvec *all, const char *name)
{
	size_t i;

	for (i = 0; i < all->n; i++)
		if (!strcmp(all->v[i], name))
			return i;
	return all->n;
}

static int by_runner_order(const void *a, const void *b, void *all)
{
	size_t x = index_of(all, *(char *const *)a), y = index_of(all, *(char *const *)b);

	return x < y ? -1 : x > y;
}

/* Families (by root) onto ngroups groups, the biggest first, each to the
 * group with the fewest tests so far. */
static void spread(const struct strvec *sel, const size_t *fam, const bool *own,
		   struct st_group *g, size_t ngroups)
{
	size_t *size = xcalloc(sel->n, sizeof(*size));
	bool *placed = xcalloc(sel->n, sizeof(*placed));
	size_t i, k;

	for (i = 0; i < sel->n; i++)
		if (!own[i])
			size[fam[i]]++;
	for (;;) {
		size_t best = sel->n, to = 0;

		for (i = 0; i < sel->n; i++)
			if (size[i] && !placed[i] && (best == sel->n || size[i] > size[best]))
				best = i;
		if (best == sel->n)
			break;
		placed[best] = true;
		for (k = 1; k < ngroups; k++)
			if (g[k].tests.n < g[to].tests.n)
				to = k;
		for (i = 0; i < sel->n; i++)
			if (!own[i] && fam[i] == best)
				strvec_push(&g[to].tests, sel->v[i]);
	}
	free(size);
	free(placed);
}

size_t st_plan(const struct strvec *all, const struct strvec *sel, unsigned jobs,
	       unsigned cpus, struct st_group **out)
{
	size_t *fam = xcalloc(sel->n + 1, sizeof(*fam));
	bool *own = xcalloc(sel->n + 1, sizeof(*own));
	size_t i, nfam = 0, nown = 0, ngroups, n = 0;
	struct st_group *g;
	char *a;

	families(sel, fam);
	for (i = 0; i < sel->n; i++) {
		if ((a = st_test_append(sel->v[i], cpus))) {
			own[i] = true;
			nown++;
			free(a);
		}
	}
	for (i = 0; i < sel->n; i++)
		nfam += !own[i] && fam[i] == i;
	ngroups = jobs < nfam ? jobs : nfam;
	g = xcalloc(ngroups + nown + 1, sizeof(*g));
	if (ngroups)
		spread(sel, fam, own, g, ngroups);
	for (i = 0; i < sel->n; i++) {
		if (!own[i])
			continue;
		strvec_push(&g[ngroups + n].tests, sel->v[i]);
		g[ngroups + n++].append = st_test_append(sel->v[i], cpus);
	}
	for (i = 0; i < ngroups + n; i++)
		qsort_r(g[i].tests.v, g[i].tests.n, sizeof(*g[i].tests.v), by_runner_order,
			(void *)all);
	free(fam);
	free(own);
	*out = g;
	return ngroups + n;
}

void st_groups_free(struct st_group *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		strvec_clear(&g[i].tests);
		free(g[i].append);
	}
	free(g);
}

/* ---- the guest script --------------------------------------------------- */

void st_script(const struct st_group *g, const char *runner, struct strbuf *out)
{
	bool *covered = xcalloc(g->tests.n + 1, sizeof(*covered));
	size_t i, j;

	strbuf_addf(out, "r='%s'\nup() { read u _ </proc/uptime; }\nfor f in", runner);
	for (i = 0; i < g->tests.n; i++) {
		if (covered[i])
			continue;
		/* One invocation runs every name that contains this one. */
		for (j = 0; j < g->tests.n; j++)
			if (strstr(g->tests.v[j], g->tests.v[i]))
				covered[j] = true;
		strbuf_addf(out, " %s", g->tests.v[i]);
	}
	strbuf_addf(out, "; do\n"
		    "\tup; echo \"" ST_MARK " begin $f $u\"\n"
		    "\t\"$r\" -q -t \"$f\" 2>&1\n"
		    "\trc=$?; up; echo \"" ST_MARK " end $f $rc $u\"\n"
		    "done\n");
	free(covered);
}
