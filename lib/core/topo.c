#include "topo.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_names[4] = {
	"NUMA nodes", "LLCs", "cores per LLC", "threads per core"
};

#define TOPO_HINT "expected N,L,C,T (NUMA nodes, LLCs in total, cores per LLC, " \
	"threads per core), e.g. 1,2,4,1 or 1n2l4c1t"

static int parse_field(const char *s, size_t len, unsigned idx, unsigned *out,
		       struct strbuf *err)
{
	unsigned long v = 0;
	size_t i;

	if (!len) {
		strbuf_addf(err, "%s is empty; %s", field_names[idx], TOPO_HINT);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i])) {
			strbuf_addf(err, "%s '%.*s' is not a whole number; %s",
				    field_names[idx], (int)len, s, TOPO_HINT);
			return -1;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > KTSTR_TOPO_MAX_FIELD) {
			strbuf_addf(err, "%s '%.*s' is too large (at most %u)",
				    field_names[idx], (int)len, s, KTSTR_TOPO_MAX_FIELD);
			return -1;
		}
	}
	if (v == 0) {
		strbuf_addf(err, "%s must be at least 1, got 0; %s",
			    field_names[idx], TOPO_HINT);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int parse_comma(const char *s, unsigned v[4], struct strbuf *err)
{
	const char *p = s;
	unsigned n = 0;

	for (;;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);

		if (n == 4) {
			strbuf_addf(err, "'%s' has more than 4 fields; %s", s, TOPO_HINT);
			return -1;
		}
		if (parse_field(p, len, n, &v[n], err))
			return -1;
		n++;
		if (!c)
			break;
		p = c + 1;
	}
	if (n != 4) {
		strbuf_addf(err, "'%s' has %u field%s, need 4; %s", s, n,
			    n == 1 ? "" : "s", TOPO_HINT);
		return -1;
	}
	return 0;
}

static int parse_short(const char *s, unsigned v[4], struct strbuf *err)
{
	static const char units[4] = { 'n', 'l', 'c', 't' };
	const char *p = s;
	unsigned i;

	for (i = 0; i < 4; i++) {
		const char *start = p;

		while (isdigit((unsigned char)*p))
			p++;
		if (tolower((unsigned char)*p) != units[i]) {
			strbuf_addf(err, "'%s' is not a topology: expected '%c' after "
				    "the %s count; %s", s, units[i], field_names[i], TOPO_HINT);
			return -1;
		}
		if (parse_field(start, (size_t)(p - start), i, &v[i], err))
			return -1;
		p++;
	}
	if (*p) {
		strbuf_addf(err, "'%s' has trailing text '%s'; %s", s, p, TOPO_HINT);
		return -1;
	}
	return 0;
}

int topo_parse(const char *s, struct ktstr_topo *t, struct strbuf *err)
{
	unsigned v[4];
	int rc;

	if (!s || !*s) {
		strbuf_addf(err, "topology is empty; %s", TOPO_HINT);
		return -1;
	}
	if (strchr(s, ',') || !strpbrk(s, "nlctNLCT"))
		rc = parse_comma(s, v, err);
	else
		rc = parse_short(s, v, err);
	if (rc)
		return -1;
	if (v[1] % v[0]) {
		strbuf_addf(err, "%u LLCs cannot be split evenly over %u NUMA nodes; "
			    "make LLCs a multiple of nodes", v[1], v[0]);
		return -1;
	}
	if ((unsigned long)v[1] * v[2] * v[3] > KTSTR_TOPO_MAX_CPUS) {
		strbuf_addf(err, "'%s' asks for %lu CPUs, more than ktstr supports (%u)",
			    s, (unsigned long)v[1] * v[2] * v[3], KTSTR_TOPO_MAX_CPUS);
		return -1;
	}
	t->nodes = v[0];
	t->llcs = v[1];
	t->cores = v[2];
	t->threads = v[3];
	return 0;
}

unsigned topo_cpus(const struct ktstr_topo *t)
{
	return t->llcs * t->cores * t->threads;
}

unsigned topo_llcs_per_node(const struct ktstr_topo *t)
{
	return t->llcs / t->nodes;
}

void topo_format(const struct ktstr_topo *t, struct strbuf *sb)
{
	strbuf_addf(sb, "%u,%u,%u,%u", t->nodes, t->llcs, t->cores, t->threads);
}

void topo_format_short(const struct ktstr_topo *t, struct strbuf *sb)
{
	strbuf_addf(sb, "%un%ul%uc%ut", t->nodes, t->llcs, t->cores, t->threads);
}

unsigned topo_cpu_llc(const struct ktstr_topo *t, unsigned cpu)
{
	return cpu / (t->cores * t->threads);
}

unsigned topo_cpu_node(const struct ktstr_topo *t, unsigned cpu)
{
	return topo_cpu_llc(t, cpu) / topo_llcs_per_node(t);
}
