/* The scheduler's BPF programs, read through the bpf(2) syscall (libbpf,
 * linked statically into the agent).
 *
 *   before spawn  with bpf_stats: kernel.bpf_stats_enabled=1, so run_cnt
 *                 and run_time_ns count from the scheduler's first
 *                 callback; then the IDs of every program already loaded
 *   attached      the IDs again: those not there before are the
 *                 scheduler's (libbpf's feature probes are loaded and
 *                 freed before the attach, so they are gone by then);
 *                 one bpf_prog record each, sorted by name
 *   window start  (bpf_stats) the counters of those programs, as the
 *                 workers are released
 *   window end    (bpf_stats) the counters again once the workers have
 *                 stopped: one bpf_prog_stats record per program still
 *                 loaded, the deltas over the window
 * That is three scans of a handful of programs, none while the workload
 * runs.  Every fd opened here is closed before the function returns.
 *
 * A program's name in bpf_prog_info is cut to BPF_OBJ_NAME_LEN - 1 (15)
 * characters; when it is that long, the name of its BTF function (the C
 * function's whole name) replaces it, as bpftool does, so that
 * "simple_dispatch_long_name" is not reported as "simple_dispatch". */
#include "engine.h"
#include "diag.h"
#include "fsutil.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BPF_STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"

/* ---- pure logic (unit-tested) ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

size_t bpf_ids_new(uint32_t *before, size_t nb, uint32_t *after, size_t na, uint32_t *out)
{
	size_t i = 0, j, n = 0;

	/* qsort wants a pointer even for nothing; an empty list has none. */
	if (nb)
		qsort(before, nb, sizeof(*before), cmp_u32);
	if (na)
		qsort(after, na, sizeof(*after), cmp_u32);
	for (j = 0; j < na; j++) {
		while (i < nb && before[i] < after[j])
			i++;
		if (i < nb && before[i] == after[j])
			continue;
		/* A duplicate in after (cannot come from the kernel) once. */
		if (n && out[n - 1] == after[j])
			continue;
		out[n++] = after[j];
	}
	return n;
}

static int cmp_fig(const void *a, const void *b)
{
	const struct bpf_prog_fig *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->id < y->id ? -1 : x->id > y->id;
}

void bpf_figs_sort(struct bpf_prog_fig *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_fig);
}

json_t *bpf_prog_record(const char *sched, const struct bpf_prog_fig *f, long long t_ms)
{
	json_t *rec = jsonl_record("bpf_prog");

	json_set_str(rec, "scheduler", sched);
	json_set_int(rec, "id", f->id);
	json_set_str(rec, "name", f->name);
	json_set_str(rec, "prog_type", f->prog_type);
	json_set_int(rec, "verified_insns", f->verified_insns);
	json_set_int(rec, "xlated_bytes", f->xlated_bytes);
	json_set_int(rec, "jited_bytes", f->jited_bytes);
	json_set_int(rec, "nr_maps", f->nr_maps);
	json_set_int(rec, "t_ms", t_ms);
	return rec;
}

json_t *bpf_stats_record(const struct bpf_prog_fig *f, uint64_t run_cnt, uint64_t run_time_ns,
			 long long window_ms)
{
	json_t *rec = jsonl_record("bpf_prog_stats");
	/* The counters only grow while the program lives; a smaller value
	 * would be another program under a reused ID: no run counted. */
	uint64_t cnt = run_cnt >= f->base_cnt ? run_cnt - f->base_cnt : 0;
	uint64_t ns = run_time_ns >= f->base_ns && cnt ? run_time_ns - f->base_ns : 0;

	json_set_int(rec, "id", f->id);
	json_set_str(rec, "name", f->name);
	json_set_str(rec, "prog_type", f->prog_type);
	json_set_int(rec, "run_cnt", (long long)cnt);
	json_set_int(rec, "run_time_ns", (long long)ns);
	/* Tenths of a ns: finer is noise, even under KVM. */
	if (cnt)
		json_set_real(rec, "ns_per_run", round((double)ns / (double)cnt * 10) / 10);
	else
		json_object_set_new(rec, "ns_per_run", json_null());
	json_set_int(rec, "window_ms", window_ms);
	return rec;
}

/* ---- the syscalls ---- */

/* Every loaded program's ID into *ids (caller frees); -1 with err. */
static int list_ids(uint32_t **ids, size_t *n, struct strbuf *err)
{
	size_t alloc = 0;
	uint32_t id = 0;

	*ids = NULL;
	*n = 0;
	for (;;) {
		if (bpf_prog_get_next_id(id, &id)) {
			if (errno == ENOENT)
				return 0;
			strbuf_addf(err, "listing BPF programs: %s", strerror(errno));
			free(*ids);
			*ids = NULL;
			*n = 0;
			return -1;
		}
		if (*n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			*ids = xrealloc(*ids, alloc * sizeof(**ids));
		}
		(*ids)[(*n)++] = id;
	}
}

/* The BTF object of the last program named from it: a scheduler's
 * programs share one, and loading it is most of a scan's time. */
struct btf_cache {
	uint32_t id;
	struct btf *btf;
};

static struct btf *btf_get(struct btf_cache *c, uint32_t id)
{
	if (c->btf && c->id == id)
		return c->btf;
	btf__free(c->btf);
	c->btf = btf__load_from_kernel_by_id(id);
	c->id = id;
	return c->btf;
}

/* The name of the program's first BTF function (its C name), or NULL. */
static char *btf_name(int fd, const struct bpf_prog_info *info, struct btf_cache *c)
{
	struct bpf_func_info fi = { 0 };
	struct bpf_prog_info fin = { 0 };
	uint32_t len = sizeof(fin);
	const struct btf_type *t;
	const char *s;
	struct btf *btf;
	char *name = NULL;

	if (!info->btf_id || !info->nr_func_info)
		return NULL;
	fin.nr_func_info = 1;
	fin.func_info_rec_size = sizeof(fi);
	fin.func_info = (uint64_t)(uintptr_t)&fi;
	if (bpf_prog_get_info_by_fd(fd, &fin, &len))
		return NULL;
	btf = btf_get(c, info->btf_id);
	if (!btf)
		return NULL;
	t = btf__type_by_id(btf, fi.type_id);
	s = t ? btf__name_by_offset(btf, t->name_off) : NULL;
	/* Only a longer form of the name the kernel gave. */
	if (s && !strncmp(s, info->name, strlen(info->name)))
		name = xstrdup(s);
	return name;
}

/* The program's figures and, with a BTF cache for the names, its name and
 * type.  -1 when it is gone (or unreadable). */
static int read_prog(uint32_t id, struct bpf_prog_fig *f, struct btf_cache *names)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	const char *type;

	if (fd < 0)
		return -1;
	if (bpf_prog_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return -1;
	}
	f->id = id;
	f->verified_insns = info.verified_insns;
	f->xlated_bytes = info.xlated_prog_len;
	f->jited_bytes = info.jited_prog_len;
	f->nr_maps = info.nr_map_ids;
	f->run_cnt = info.run_cnt;
	f->run_time_ns = info.run_time_ns;
	if (names) {
		if (strlen(info.name) == BPF_OBJ_NAME_LEN - 1)
			f->name = btf_name(fd, &info, names);
		if (!f->name)
			f->name = xstrdup(info.name);
		type = libbpf_bpf_prog_type_str(info.type);
		f->prog_type = type ? type : "unknown";
	}
	close(fd);
	return 0;
}

static void probe_error(struct engine *e, const char *what, const char *msg)
{
	json_t *rec = jsonl_record("bpf_probe_error");

	vlog("bpf probe: %s: %s", what, msg);
	json_set_str(rec, "stage", what);
	json_set_str(rec, "message", msg);
	engine_emit(e, rec);
}

/* ---- the engine's hooks ---- */

void bpfprobe_before_spawn(struct engine *e)
{
	struct bpfprobe *b = &e->bpf;
	struct strbuf err = STRBUF_INIT;

	if (b->stats && write_control(BPF_STATS_SYSCTL, "1") < 0) {
		probe_error(e, "bpf_stats_enabled", strerror(errno));
		b->stats = false;
	}
	if (list_ids(&b->before, &b->nbefore, &err) < 0)
		probe_error(e, "before", err.buf);
	else
		b->listed = true;
	strbuf_release(&err);
}

void bpfprobe_attached(struct engine *e, const char *sched)
{
	struct bpfprobe *b = &e->bpf;
	struct strbuf err = STRBUF_INIT;
	uint32_t *after, *fresh;
	size_t na, nf, i;
	long long t = monotonic_ms();
	uint64_t t0 = now_ns();
	struct btf_cache names = { 0 };

	if (!b->listed)
		return;
	if (list_ids(&after, &na, &err) < 0) {
		probe_error(e, "attached", err.buf);
		strbuf_release(&err);
		return;
	}
	fresh = xcalloc(na ? na : 1, sizeof(*fresh));
	nf = bpf_ids_new(b->before, b->nbefore, after, na, fresh);
	b->progs = xcalloc(nf ? nf : 1, sizeof(*b->progs));
	for (i = 0; i < nf; i++)
		if (!read_prog(fresh[i], &b->progs[b->n], &names))
			b->n++;
	btf__free(names.btf);
	bpf_figs_sort(b->progs, b->n);
	vlog("bpf probe: %zu programs of %zu loaded read in %llu us", b->n, na,
	     (unsigned long long)((now_ns() - t0) / 1000));
	for (i = 0; i < b->n; i++)
		engine_emit(e, bpf_prog_record(sched, &b->progs[i], t));
	engine_flush(e);
	free(fresh);
	free(after);
	strbuf_release(&err);
}

void bpfprobe_window_start(struct engine *e)
{
	struct bpfprobe *b = &e->bpf;
	size_t i;

	if (!b->stats || !b->n)
		return;
	for (i = 0; i < b->n; i++) {
		struct bpf_prog_fig *f = &b->progs[i];

		f->base_ok = !read_prog(f->id, f, NULL);
		f->base_cnt = f->run_cnt;
		f->base_ns = f->run_time_ns;
	}
	b->base_ms = monotonic_ms();
	b->windowed = true;
}

void bpfprobe_window_end(struct engine *e)
{
	struct bpfprobe *b = &e->bpf;
	long long window;
	size_t i;

	if (!b->windowed)
		return;
	b->windowed = false;
	window = monotonic_ms() - b->base_ms;
	for (i = 0; i < b->n; i++) {
		struct bpf_prog_fig *f = &b->progs[i];

		if (!f->base_ok || read_prog(f->id, f, NULL) < 0)
			continue;	/* gone: the scheduler went with it */
		engine_emit(e, bpf_stats_record(f, f->run_cnt, f->run_time_ns, window));
	}
	engine_flush(e);
}

void bpfprobe_release(struct engine *e)
{
	struct bpfprobe *b = &e->bpf;
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->progs[i].name);
	free(b->progs);
	free(b->before);
	memset(b, 0, sizeof(*b));
}
