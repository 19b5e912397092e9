/* verifier_log_collapse: a verifier log with its loop iterations folded
 * (lib/results/verifier_log.h).
 *
 * Each line is normalised (its register state dropped) and interned, so
 * equal lines get equal ids and a comparison is one integer compare.  The
 * search is then greedy from the top: at line i, for every period p, the
 * lines i.. repeat with period p for as long as id[j] == id[j + p]; that
 * run's end only moves forward as i does, so it is kept per period and
 * each is advanced at most once over the log, O(lines * max period) in
 * all.  The best period at i (most lines removed) is folded, and the
 * search resumes after it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "verifier_log.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The length of s past "N:" where s starts with a decimal number and a
 * colon, else 0. */
static size_t index_colon(const char *s)
{
	size_t k = 0;

	while (is_digit(s[k]))
		k++;
	return k && s[k] == ':' ? k + 1 : 0;
}

/* The length of "from A to B:" at the start of s, else 0. */
static size_t from_to(const char *s)
{
	size_t k = strlen("from ");

	if (strncmp(s, "from ", k) || !is_digit(s[k]))
		return 0;
	while (is_digit(s[k]))
		k++;
	if (strncmp(s + k, " to ", 4))
		return 0;
	k += 4;
	return index_colon(s + k) ? k + index_colon(s + k) : 0;
}

/* How much of line counts when comparing it (the header's rules). */
static size_t norm_len(const char *s)
{
	size_t k = index_colon(s), len;
	const char *semi;

	if (k && s[k] == ' ' && s[k + 1] == '(') {
		/* An instruction: its state follows the padding and ';'. */
		semi = strstr(s + k, " ;");
		len = semi ? (size_t)(semi - s) : strlen(s);
	} else if (k) {
		return k;		/* a state line: "12: R0=..." */
	} else if ((k = from_to(s))) {
		return k;
	} else {
		len = strlen(s);
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return len;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	while (len--) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

/* ids[i] = the index of the first line whose normalised text equals line
 * i's; an open-addressed table of line indexes (+1, 0 = empty) finds it. */
static size_t *intern_lines(const struct strvec *in)
{
	size_t n = in->n, cap = 16, i, slot, *ids, *tab, *lens;
	uint64_t *hashes;

	while (cap < 2 * n)
		cap *= 2;
	ids = xmalloc((n ? n : 1) * sizeof(*ids));
	lens = xmalloc((n ? n : 1) * sizeof(*lens));
	hashes = xmalloc((n ? n : 1) * sizeof(*hashes));
	tab = xcalloc(cap, sizeof(*tab));
	for (i = 0; i < n; i++) {
		lens[i] = norm_len(in->v[i]);
		hashes[i] = hash_bytes(in->v[i], lens[i]);
		for (slot = hashes[i] & (cap - 1);; slot = (slot + 1) & (cap - 1)) {
			size_t j = tab[slot];

			if (!j) {
				tab[slot] = i + 1;
				ids[i] = i;
				break;
			}
			j--;
			if (hashes[j] == hashes[i] && lens[j] == lens[i] &&
			    !memcmp(in->v[j], in->v[i], lens[i])) {
				ids[i] = j;
				break;
			}
		}
	}
	free(tab);
	free(hashes);
	free(lens);
	return ids;
}

struct search {
	const size_t *ids;
	size_t n;
	size_t *run_end;	/* per period: first j >= its start with
				 * ids[j] != ids[j + p]; SIZE_MAX = not yet */
};

/* The first j >= i where the lines stop repeating with period p. */
static size_t run_end(struct search *s, size_t p, size_t i)
{
	size_t j = s->run_end[p];

	if (j != SIZE_MAX && j >= i)
		return j;
	for (j = i; j + p < s->n && s->ids[j] == s->ids[j + p]; j++)
		;
	s->run_end[p] = j;
	return j;
}

/* The best fold starting at line i: its period and repeats; false when
 * nothing repeats min_repeats times. */
static bool best_fold(struct search *s, size_t i, unsigned min_period, unsigned min_repeats,
		      size_t *period, size_t *repeats)
{
	size_t p, r, gain, best = 0;

	for (p = min_period; p <= VERIFIER_MAX_PERIOD && i + p * min_repeats <= s->n; p++) {
		/* Cheap refusal first: the next line must already repeat. */
		if (s->ids[i] != s->ids[i + p])
			continue;
		r = 1 + (run_end(s, p, i) - i) / p;
		if (r < min_repeats)
			continue;
		gain = (r - 2) * p;
		if (gain > best) {
			best = gain;
			*period = p;
			*repeats = r;
		}
	}
	return best > 0;
}

static void push_range(struct strvec *out, const struct strvec *in, size_t from, size_t n)
{
	while (n--)
		strvec_push(out, in->v[from++]);
}

size_t verifier_log_collapse(const struct strvec *in, struct strvec *out,
			     unsigned min_period, unsigned min_repeats)
{
	struct search s = { .n = in->n };
	size_t i = 0, p, r, removed = 0;

	if (min_period == 0)
		min_period = 1;
	if (min_repeats < 3)
		min_repeats = 3;
	s.ids = intern_lines(in);
	s.run_end = xmalloc((VERIFIER_MAX_PERIOD + 1) * sizeof(*s.run_end));
	for (p = 0; p <= VERIFIER_MAX_PERIOD; p++)
		s.run_end[p] = SIZE_MAX;
	while (i < in->n) {
		if (!best_fold(&s, i, min_period, min_repeats, &p, &r)) {
			strvec_push(out, in->v[i++]);
			continue;
		}
		push_range(out, in, i, p);
		strvec_pushf(out, VERIFIER_COLLAPSED_FMT, r - 2);
		push_range(out, in, i + (r - 1) * p, p);
		removed += (r - 2) * p;
		i += r * p;
	}
	free(s.run_end);
	free((void *)s.ids);
	return removed;
}
