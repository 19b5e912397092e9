/* Parsers of the kernel text the host-mode monitor reads (hostmon_parse.h).
 * Every number is checked digit by digit on its own span: the buffers are
 * not NUL-terminated and may hold anything. */
#include "hostmon_parse.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/* Longer event names than this are not the kernel's. */
#define EVENT_NAME_MAX 64
#define EV_PREFIX "SCX_EV_"

struct lines {
	const char *p, *end;
};

/* The next line of l without its newline (or a CR before it). */
static bool next_line(struct lines *l, const char **s, size_t *n)
{
	const char *nl;

	if (l->p >= l->end)
		return false;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	*s = l->p;
	*n = nl ? (size_t)(nl - l->p) : (size_t)(l->end - l->p);
	l->p = nl ? nl + 1 : l->end;
	if (*n && (*s)[*n - 1] == '\r')
		(*n)--;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The whole span as an unsigned decimal: digits only, no overflow. */
static bool span_ull(const char *p, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(p[i] - '0');

		if (p[i] < '0' || p[i] > '9' || v > (ULLONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Split the span at its first run of blanks: *tok is the part before it,
 * p/n what follows the blanks.  false when the span is empty. */
static bool take_token(const char **p, size_t *n, const char **tok, size_t *tn)
{
	size_t i = 0, j;

	while (i < *n && is_blank((*p)[i]))
		i++;
	if (i == *n)
		return false;
	for (j = i; j < *n && !is_blank((*p)[j]); j++)
		;
	*tok = *p + i;
	*tn = j - i;
	*p += j;
	*n -= j;
	return true;
}

/* ---- /sys/kernel/debug/sched/debug -------------------------------------- */

/* "6685.152689": ms with six digits of ns, as the kernel's SPLIT_NS
 * prints a u64 of ns. */
static bool span_ms6(const char *p, size_t n, unsigned long long *ns)
{
	const char *dot = memchr(p, '.', n);
	unsigned long long hi, lo;

	if (!dot || n - (size_t)(dot - p) != 7 || !span_ull(p, (size_t)(dot - p), &hi) ||
	    !span_ull(dot + 1, 6, &lo) || hi > (ULLONG_MAX - lo) / 1000000)
		return false;
	*ns = hi * 1000000 + lo;
	return true;
}

/* "  .key   : value" in a CPU's top block (s and n start after the ".").
 * Unknown keys and values that do not parse leave c as it was. */
static void cpu_field(const char *s, size_t n, struct hostmon_cpu *c)
{
	const char *colon = memchr(s, ':', n), *v;
	unsigned long long x;
	size_t klen, vn;

	if (!colon)
		return;
	for (klen = (size_t)(colon - s); klen && is_blank(s[klen - 1]); klen--)
		;
	v = colon + 1;
	vn = n - (size_t)(v - s);
	while (vn && is_blank(*v))
		v++, vn--;
	while (vn && is_blank(v[vn - 1]))
		vn--;
	if (klen == 10 && !memcmp(s, "nr_running", 10)) {
		if (span_ull(v, vn, &x) && x <= UINT_MAX) {
			c->nr_running = (unsigned)x;
			c->have |= HC_NR;
		}
	} else if (klen == 9 && !memcmp(s, "curr->pid", 9)) {
		if (span_ull(v, vn, &x) && x <= INT_MAX) {
			c->curr_pid = (long long)x;
			c->have |= HC_PID;
		}
	} else if (klen == 5 && !memcmp(s, "clock", 5)) {
		if (span_ms6(v, vn, &x)) {
			c->clock_ns = x;
			c->have |= HC_CLOCK;
		}
	}
}

/* "cpu#12, 2694.853 MHz" or "cpu#12": the CPU number, or -1. */
static long section_cpu(const char *s, size_t n)
{
	unsigned long long x;
	size_t i = 4;

	if (n < 5 || memcmp(s, "cpu#", 4))
		return -1;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i < n && s[i] != ',' && !is_blank(s[i]))
		return -1;
	if (i - 4 > 9 || !span_ull(s + 4, i - 4, &x))
		return -1;
	return (long)x;
}

int hostmon_parse_sched_debug(const char *text, size_t len, struct hostmon_cpu *cpu,
			      unsigned ncpu, struct strbuf *why)
{
	struct lines l = { text, text + len };
	struct hostmon_cpu *cur = NULL;
	bool in_block = false;
	const char *s;
	size_t n;
	int seen = 0;

	memset(cpu, 0, ncpu * sizeof(*cpu));
	while (next_line(&l, &s, &n)) {
		long id = section_cpu(s, n);

		if (id >= 0) {
			cur = (unsigned long)id < ncpu ? &cpu[id] : NULL;
			in_block = true;
			if (cur && (cur->have & HC_SEEN)) {
				strbuf_addf(why, "cpu#%ld appears twice", id);
				return -1;
			}
			if (cur) {
				cur->have = HC_SEEN;
				seen++;
			}
			continue;
		}
		/* The top block ends at the first line that is not "  .key". */
		if (!in_block || n < 3 || memcmp(s, "  .", 3)) {
			in_block = false;
			continue;
		}
		if (cur)
			cpu_field(s + 3, n - 3, cur);
	}
	if (!seen) {
		strbuf_addstr(why, "no \"cpu#N\" section");
		return -1;
	}
	return seen;
}

/* ---- /proc/stat --------------------------------------------------------- */

/* "cpu3 77 0 160 401 0 0 8 0 0 0": 0 with st filled, -1 when the line is
 * not a usable per-CPU line.  The guest columns are already inside user
 * and nice, so only the first eight count. */
static int stat_line(const char *s, size_t n, unsigned long long *id, struct hostmon_stat *st)
{
	unsigned long long v[8] = { 0 };
	const char *tok;
	size_t tn, k;

	if (!take_token(&s, &n, &tok, &tn) || tn < 4 || memcmp(tok, "cpu", 3) ||
	    !span_ull(tok + 3, tn - 3, id))
		return -1;
	for (k = 0; k < 8 && take_token(&s, &n, &tok, &tn); k++)
		if (!span_ull(tok, tn, &v[k]))
			return -1;
	if (k < 4)
		return -1;
	st->idle = v[3] + v[4];
	st->total = 0;
	for (k = 0; k < 8; k++) {
		if (v[k] > ULLONG_MAX / 16)	/* no sum of these can wrap */
			return -1;
		st->total += v[k];
	}
	return 0;
}

int hostmon_parse_proc_stat(const char *text, size_t len, struct hostmon_stat *st,
			    unsigned ncpu, struct strbuf *why)
{
	struct lines l = { text, text + len };
	struct hostmon_stat one;
	unsigned long long id;
	const char *s;
	size_t n;
	int seen = 0;

	memset(st, 0, ncpu * sizeof(*st));
	while (next_line(&l, &s, &n)) {
		if (stat_line(s, n, &id, &one) < 0 || id >= ncpu)
			continue;
		if (st[id].seen) {
			strbuf_addf(why, "cpu%llu appears twice", id);
			return -1;
		}
		st[id] = one;
		st[id].seen = true;
		seen++;
	}
	if (!seen) {
		strbuf_addstr(why, "no \"cpuN\" line");
		return -1;
	}
	return seen;
}

/* ---- /sys/kernel/sched_ext/root/events ---------------------------------- */

static bool event_name_ok(const char *s, size_t n)
{
	if (!n || n > EVENT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

json_t *hostmon_parse_events(const char *text, size_t len, struct strbuf *why)
{
	struct lines l = { text, text + len };
	json_t *o = json_object();
	const char *s, *name, *val, *extra;
	size_t n, nn, vn, en;

	while (next_line(&l, &s, &n)) {
		unsigned long long x;
		char key[EVENT_NAME_MAX + 1];
		size_t plen = strlen(EV_PREFIX), i;

		if (!take_token(&s, &n, &name, &nn) || !take_token(&s, &n, &val, &vn) ||
		    take_token(&s, &n, &extra, &en) || !event_name_ok(name, nn) ||
		    !span_ull(val, vn, &x) || x > INT64_MAX)
			continue;
		if (nn > plen && !memcmp(name, EV_PREFIX, plen)) {
			name += plen;
			nn -= plen;
		}
		for (i = 0; i < nn; i++)
			key[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a')
								    : name[i];
		key[nn] = '\0';
		json_object_set_new(o, key, json_integer((json_int_t)x));
	}
	if (!json_object_size(o)) {
		json_decref(o);
		strbuf_addstr(why, "no \"NAME COUNT\" line");
		return NULL;
	}
	return o;
}

bool hostmon_parse_word(const char *text, size_t len, char *out, size_t size)
{
	struct lines l = { text, text + len };
	const char *s;
	size_t n, i;

	if (!size || !next_line(&l, &s, &n))
		return false;
	while (n && is_blank(*s))
		s++, n--;
	while (n && is_blank(s[n - 1]))
		n--;
	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[n] = '\0';
	return n > 0;
}
