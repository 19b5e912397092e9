/* struct ktstr_topo from a guest_topology record.  The record lists the
 * kernel's own cpulists; a list's size is what matters here, so each is
 * counted with the one cpulist parser. */
#include "topo_record.h"
#include "cpulist.h"
#include "jsonl.h"

#include <string.h>

struct count {
	unsigned n;
};

static void add_range(unsigned lo, unsigned hi, void *arg)
{
	((struct count *)arg)->n += hi - lo + 1;
}

/* CPUs in a cpulist string; -1 when it is not one. */
static int list_size(const json_t *v)
{
	struct count c = { 0 };
	const char *s = json_string_value(v);

	if (!s || cpulist_scan(s, KTSTR_TOPO_MAX_CPUS, CPULIST_KERNEL, add_range, &c, NULL) < 0)
		return -1;
	return (int)c.n;
}

/* Every list in arr has the same size, returned; 0 for an empty or
 * missing array; -1 with err otherwise. */
static int uniform_size(const json_t *rec, const char *key, struct strbuf *err)
{
	const json_t *arr = json_object_get(rec, key);
	int first = 0;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr)) {
		strbuf_addf(err, "\"%s\" is not an array of cpulists", key);
		return -1;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		int n = list_size(json_array_get(arr, i));

		if (n <= 0) {
			strbuf_addf(err, "\"%s\"[%zu] is not a cpulist", key, i);
			return -1;
		}
		if (i && n != first) {
			strbuf_addf(err, "its %s are not all the same size (%d and %d CPUs), "
				    "which N,L,C,T cannot describe", key, first, n);
			return -1;
		}
		if (!i)
			first = n;
	}
	return first;
}

int topo_from_record(const json_t *rec, struct ktstr_topo *t, struct strbuf *err)
{
	long long cpus = json_get_int(rec, "cpus", -1);
	size_t nodes = json_array_size(json_object_get(rec, "nodes"));
	size_t llcs = json_array_size(json_object_get(rec, "llcs"));
	int llc_size, threads;

	if (cpus < 1 || cpus > KTSTR_TOPO_MAX_CPUS) {
		strbuf_addstr(err, "no CPU count in the topology record");
		return -1;
	}
	if (uniform_size(rec, "nodes", err) < 0)
		return -1;
	llc_size = uniform_size(rec, "llcs", err);
	if (llc_size < 0)
		return -1;
	threads = uniform_size(rec, "smt", err);
	if (threads < 0)
		return -1;
	t->nodes = nodes ? (unsigned)nodes : 1;
	t->llcs = llcs ? (unsigned)llcs : 1;
	t->threads = threads ? (unsigned)threads : 1;
	if (!llc_size)
		llc_size = (int)(cpus / t->llcs);
	if (t->llcs % t->nodes || (unsigned long long)llc_size * t->llcs != (unsigned long long)cpus ||
	    llc_size % (int)t->threads) {
		strbuf_addf(err, "%lld CPUs do not split evenly into %u nodes, %u LLCs and "
			    "%u threads per core", cpus, t->nodes, t->llcs, t->threads);
		return -1;
	}
	t->cores = (unsigned)llc_size / t->threads;
	return 0;
}

size_t topo_diff(const struct ktstr_topo *want, const struct ktstr_topo *got, struct strvec *out)
{
	const struct {
		const char *name;
		unsigned w, g;
	} f[] = {
		{ "numa nodes", want->nodes, got->nodes },
		{ "llcs", want->llcs, got->llcs },
		{ "cores per llc", want->cores, got->cores },
		{ "threads per core", want->threads, got->threads },
		{ "cpus", topo_cpus(want), topo_cpus(got) },
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(f) / sizeof(*f); i++) {
		struct strbuf sb = STRBUF_INIT;

		if (f[i].w == f[i].g)
			continue;
		strbuf_addf(&sb, "%s: expected %u, found %u", f[i].name, f[i].w, f[i].g);
		strvec_push(out, sb.buf);
		strbuf_release(&sb);
		n++;
	}
	return n;
}
