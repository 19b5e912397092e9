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

/* How many times the search runs over its own output: a loop nested in
 * a loop folds in the second pass, one nested deeper in the third. */
#define VERIFIER_MAX_PASSES 4

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

/* Whether s is a marker line VERIFIER_COLLAPSED_FMT made. */
static bool is_marker(const char *s)
{
	size_t k = 4;

	if (strncmp(s, "... ", 4) || !is_digit(s[k]))
		return false;
	while (is_digit(s[k]))
		k++;
	return !strcmp(s + k, " iterations collapsed ...");
}

/* The end of an instruction's own text in s: before the " ;" that starts
 * the state printed after it, and before a branch target's state some
 * kernels print straight after the jump ("goto pc+2 15: R0=1"). */
static size_t insn_end(const char *s)
{
	const char *semi = strstr(s, " ;"), *go = strstr(s, "goto pc");
	size_t len = semi ? (size_t)(semi - s) : strlen(s), k;

	if (go && (size_t)(go - s) < len) {
		k = (size_t)(go - s) + strlen("goto pc");
		while (s[k] == '+' || s[k] == '-' || is_digit(s[k]))
			k++;
		if (k < len && s[k] == ' ' && is_digit(s[k + 1]))
			len = k;
	}
	return len;
}

/* The part of line s that counts when comparing it, at *from, with its
 * length (the header's rules). */
static size_t norm_span(const char *s, size_t *from)
{
	size_t k = index_colon(s), len;
	const char *semi;

	*from = 0;
	if (k && s[k] == ' ' && s[k + 1] == '(') {
		/* An instruction, without its index: the copies of an
		 * unrolled loop differ in nothing else. */
		*from = k + 1;
		len = insn_end(s);
	} else if (k) {
		*from = k - 1;	/* any state line: ":" */
		return 1;
	} else if ((k = from_to(s))) {
		return k;
	} else if (is_marker(s)) {
		/* An inner loop folded in an earlier pass: its count differs
		 * from one outer iteration to the next. */
		*from = (size_t)(strchr(s + 4, ' ') - s);
		return strlen(s) - *from;
	} else if (!strncmp(s, "mark_precise: ", 14) && (semi = strstr(s, "stack=:"))) {
		/* "... parent state regs=r2 stack=:  R0=... R2=P24" */
		return (size_t)(semi - s) + strlen("stack=:");
	} else {
		len = strlen(s);
	}
	while (len > *from && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return len - *from;
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
	size_t n = in->n, cap = 16, i, slot, *ids, *tab, *lens, *offs;
	uint64_t *hashes;

	while (cap < 2 * n)
		cap *= 2;
	ids = xmalloc((n ? n : 1) * sizeof(*ids));
	lens = xmalloc((n ? n : 1) * sizeof(*lens));
	offs = xmalloc((n ? n : 1) * sizeof(*offs));
	hashes = xmalloc((n ? n : 1) * sizeof(*hashes));
	tab = xcalloc(cap, sizeof(*tab));
	for (i = 0; i < n; i++) {
		lens[i] = norm_span(in->v[i], &offs[i]);
		hashes[i] = hash_bytes(in->v[i] + offs[i], lens[i]);
		for (slot = hashes[i] & (cap - 1);; slot = (slot + 1) & (cap - 1)) {
			size_t j = tab[slot];

			if (!j) {
				tab[slot] = i + 1;
				ids[i] = i;
				break;
			}
			j--;
			if (hashes[j] == hashes[i] && lens[j] == lens[i] &&
			    !memcmp(in->v[j] + offs[j], in->v[i] + offs[i], lens[i])) {
				ids[i] = j;
				break;
			}
		}
	}
	free(tab);
	free(hashes);
	free(lens);
	free(offs);
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

/* One pass over in, appending to out; the lines removed. */
static size_t collapse_pass(const struct strvec *in, struct strvec *out,
			    unsigned min_period, unsigned min_repeats)
{
	struct search s = { .n = in->n };
	size_t i = 0, p, r, removed = 0;

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

static size_t count_markers(const struct strvec *sv, size_t from)
{
	size_t n = 0;

	for (; from < sv->n; from++)
		n += is_marker(sv->v[from]);
	return n;
}

size_t verifier_log_collapse(const struct strvec *in, struct strvec *out,
			     unsigned min_period, unsigned min_repeats)
{
	struct strvec cur = STRVEC_INIT, next = STRVEC_INIT;
	size_t pass, i, start = out->n;

	if (min_period == 0)
		min_period = 1;
	if (min_repeats < 3)
		min_repeats = 3;
	/* Each pass after the first folds the loops around the ones the
	 * pass before folded (their markers compare equal). */
	if (collapse_pass(in, &cur, min_period, min_repeats)) {
		for (pass = 1; pass < VERIFIER_MAX_PASSES; pass++) {
			if (!collapse_pass(&cur, &next, min_period, min_repeats)) {
				strvec_clear(&next);
				break;
			}
			strvec_clear(&cur);
			cur = next;
			memset(&next, 0, sizeof(next));
		}
	}
	for (i = 0; i < cur.n; i++)
		strvec_push(out, cur.v[i]);
	strvec_clear(&cur);
	/* The lines of in that are not in out, markers on either side
	 * aside. */
	return (in->n - count_markers(in, 0)) - (out->n - start - count_markers(out, start));
}
