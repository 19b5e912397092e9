/* Several runs roots as one history: the shards of a CI fleet each write
 * their own root (their artifact directory) under one shared run id, and
 * ktstr-stats reads them all as one run (sidecar.h). */
#include "sidecar.h"
#include "diag.h"
#include "fsutil.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

/* Add the '+'-joined schedulers of add to have, keeping them sorted. */
static void join_schedulers(char **have, const char *add)
{
	struct strvec v = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *all = xasprintf("%s+%s", *have, add), *p, *tok, *save = NULL;
	size_t i;

	for (p = all; (tok = strtok_r(p, "+", &save)); p = NULL)
		strvec_push_unique(&v, tok);
	strvec_sort(&v);
	for (i = 0; i < v.n; i++)
		strbuf_addf(&sb, "%s%s", i ? "+" : "", v.v[i]);
	free(*have);
	*have = strbuf_detach(&sb, NULL);
	strvec_clear(&v);
	free(all);
}

static void swap_str(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

/* Fold run b (another root's shard of a's run) into a; b is freed after. */
static void merge_run(struct sidecar_run *a, struct sidecar_run *b)
{
	size_t i;

	a->tests += b->tests;
	a->live = a->live || b->live;
	for (i = 0; i < b->dirs.n; i++)
		strvec_push(&a->dirs, b->dirs.v[i]);
	join_schedulers(&a->schedulers, b->schedulers);
	/* The newest shard speaks for the run, as the newest sidecar does
	 * for one directory. */
	if (strcmp(b->date, a->date) > 0) {
		swap_str(&a->date, &b->date);
		swap_str(&a->id, &b->id);
		swap_str(&a->label, &b->label);
		swap_str(&a->kernel, &b->kernel);
		swap_str(&a->commit, &b->commit);
		swap_str(&a->arch, &b->arch);
	}
}

/* The sidecar files of a merged run, a name found in several of its
 * directories counted once: the same shard's artifact in two roots, or a
 * root given twice, is read once (sidecar_load_dirs), so listed once. */
static size_t count_distinct(const struct strvec *dirs)
{
	struct strvec names = STRVEC_INIT;
	size_t i, n = 0;

	for (i = 0; i < dirs->n; i++) {
		DIR *d = opendir(dirs->v[i]);
		struct dirent *e;

		while (d && (e = readdir(d)))
			if (sidecar_is_name(e->d_name))
				strvec_push(&names, e->d_name);
		if (d)
			closedir(d);
	}
	strvec_sort(&names);
	for (i = 0; i < names.n; i++)
		n += !i || strcmp(names.v[i - 1], names.v[i]);
	strvec_clear(&names);
	return n;
}

size_t sidecar_list_roots(const char *const *roots, size_t nroots, struct sidecar_run **out)
{
	struct sidecar_run *v = NULL, *one;
	size_t n = 0, i, j, k, m;

	/* One root: its own listing (a run directory named as the root is
	 * called by its path there). */
	if (nroots == 1)
		return sidecar_list_runs(roots[0], out);
	for (i = 0; i < nroots; i++) {
		m = sidecar_list_runs(roots[i], &one);
		for (j = 0; j < m; j++) {
			for (k = 0; k < n && strcmp(v[k].name, one[j].name); k++)
				;
			if (k < n) {
				merge_run(&v[k], &one[j]);
				sidecar_run_release(&one[j]);
				continue;
			}
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n++] = one[j];
		}
		free(one);	/* its entries moved to v or freed */
	}
	/* Refs again, over the merged list. */
	for (i = 0; i < n; i++) {
		free(v[i].ref);
		v[i].ref = NULL;
		if (v[i].dirs.n > 1)
			v[i].tests = count_distinct(&v[i].dirs);
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), sidecar_run_newest_first);
	sidecar_name_runs(v, n);
	*out = v;
	return n;
}

static int by_file_name(const void *a, const void *b)
{
	const struct sidecar *x = a, *y = b;
	int c = strcmp(path_basename(x->path), path_basename(y->path));

	return c ? c : strcmp(x->path, y->path);
}

int sidecar_load_dirs(const struct strvec *dirs, struct sidecar_set *set,
		      struct strvec *dups, struct strbuf *err)
{
	size_t i, kept = 0;

	for (i = 0; i < dirs->n; i++)
		if (sidecar_load_dir(dirs->v[i], set, err) < 0)
			return -1;
	if (dirs->n < 2)
		return 0;
	qsort(set->v, set->n, sizeof(*set->v), by_file_name);
	for (i = 0; i < set->n; i++) {
		if (kept && !strcmp(path_basename(set->v[kept - 1].path),
				    path_basename(set->v[i].path))) {
			if (dups)
				strvec_push(dups, set->v[i].path);
			sidecar_release_one(&set->v[i]);
			continue;
		}
		set->v[kept++] = set->v[i];
	}
	set->n = kept;
	return 0;
}
