/* A/B comparisons at the end of a ktstr-test run (abcompare.h). */
#include "abcompare.h"
#include "compare.h"
#include "compare_report.h"
#include "diag.h"
#include "fsutil.h"
#include "sidecar.h"
#include "stats_report.h"

#include <string.h>

#define AB_ALPHA 0.05
/* Every scheduler: one kernels' comparison when schedulers do not vary. */
#define ABCMP_ANY ((size_t)-2)

static bool of_variant(const struct abcmp_written *w, size_t kernel, size_t sched)
{
	return w->kernel == kernel && (sched == ABCMP_ANY || w->sched == sched);
}

void abcmp_add(struct abcmp *ab, size_t kernel, size_t sched, const char *path)
{
	ab->v = xrealloc(ab->v, (ab->n + 1) * sizeof(*ab->v));
	ab->v[ab->n].kernel = kernel;
	ab->v[ab->n].sched = sched;
	ab->v[ab->n].path = xstrdup(path);
	ab->n++;
}

bool abcmp_wanted(const struct abcmp *ab)
{
	return ab->n_kernels > 1 || ab->n_scheds > 1;
}

void abcmp_release(struct abcmp *ab)
{
	size_t i;

	for (i = 0; i < ab->n; i++)
		free(ab->v[i].path);
	free(ab->v);
	ab->v = NULL;
	ab->n = 0;
}

/* The sidecars variant (kernel, sched) wrote, loaded through the library
 * that ktstr-stats uses: each directory once, then the files of this
 * variant moved out of it. */
static void load_variant(const struct abcmp *ab, size_t kernel, size_t sched,
			 struct sidecar_set *out)
{
	struct strvec dirs = STRVEC_INIT;
	size_t i, j, d;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < ab->n; i++) {
		if (of_variant(&ab->v[i], kernel, sched)) {
			char *dir = path_dirname(ab->v[i].path);

			strvec_push_unique(&dirs, dir);
			free(dir);
		}
	}
	for (d = 0; d < dirs.n; d++) {
		struct sidecar_set all = { 0 };
		struct strbuf err = STRBUF_INIT;

		if (sidecar_load_dir(dirs.v[d], &all, &err) < 0)
			diag("A/B: %s", err.buf);
		for (i = 0; i < all.n; i++) {
			for (j = 0; j < ab->n; j++)
				if (of_variant(&ab->v[j], kernel, sched) &&
				    !strcmp(ab->v[j].path, all.v[i].path))
					break;
			if (j == ab->n)
				continue;
			if (out->n == out->alloc) {
				out->alloc = out->alloc ? 2 * out->alloc : 8;
				out->v = xrealloc(out->v, out->alloc * sizeof(*out->v));
			}
			out->v[out->n++] = all.v[i];
			memset(&all.v[i], 0, sizeof(all.v[i]));	/* moved */
		}
		sidecar_set_release(&all);
		strbuf_release(&err);
	}
	strvec_clear(&dirs);
}

static char *label(const struct abcmp *ab, size_t kernel, size_t sched, bool by_sched)
{
	const char *s = sched == ABCMP_OWN ? "own scheduler" :
			sched == ABCMP_ANY ? "" : ab->scheds[sched];

	if (by_sched)
		return ab->n_kernels > 1 ? xasprintf("%s (kernel %s)", s, ab->kernels[kernel])
					 : xstrdup(s);
	return *s ? xasprintf("%s (%s)", ab->kernels[kernel], s) : xstrdup(ab->kernels[kernel]);
}

static size_t one(const struct abcmp *ab, size_t ka, size_t sa, size_t kb, size_t sb,
		  bool by_sched, bool json, struct strbuf *out)
{
	struct sidecar_set a, b;
	struct compare_result r;
	struct strbuf err = STRBUF_INIT;
	char *la = label(ab, ka, sa, by_sched), *lb = label(ab, kb, sb, by_sched);
	size_t regressions = 0;

	load_variant(ab, ka, sa, &a);
	load_variant(ab, kb, sb, &b);
	if (!a.n && !b.n && sa == ABCMP_OWN) {
		/* no test with a scheduler of its own: nothing to say */
	} else if (compare_runs(&a, &b, NULL, AB_ALPHA, &r, &err) < 0) {
		diag("A/B: %s vs %s: nothing to compare: %s", la, lb, err.buf);
	} else {
		if (!json)
			strbuf_addf(out, "A/B: %s vs %s\n", la, lb);
		compare_report(&r, la, lb, json ? COMPARE_FMT_JSON : COMPARE_FMT_TEXT, false, out);
		regressions = r.regressions;
		compare_result_release(&r);
	}
	sidecar_set_release(&a);
	sidecar_set_release(&b);
	strbuf_release(&err);
	free(la);
	free(lb);
	return regressions;
}

size_t abcmp_run(const struct abcmp *ab, bool json, struct strbuf *out)
{
	size_t k, s, i, n = 0;

	if (ab->n_scheds > 1)
		for (k = 0; k < ab->n_kernels; k++)
			for (i = 1; i < ab->n_scheds; i++)
				n += one(ab, k, 0, k, i, true, json, out);
	if (ab->n_kernels > 1 && ab->n_scheds <= 1)
		for (i = 1; i < ab->n_kernels; i++)
			n += one(ab, 0, ABCMP_ANY, i, ABCMP_ANY, false, json, out);
	else if (ab->n_kernels > 1)
		for (s = 0; s <= ab->n_scheds; s++) {
			size_t sc = s == ab->n_scheds ? ABCMP_OWN : s;

			for (i = 1; i < ab->n_kernels; i++)
				n += one(ab, 0, sc, i, sc, false, json, out);
		}
	return n;
}
