#include "kbtf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libbpf's warnings while parsing, kept for the error message instead of
 * going to stderr. */
static __thread struct strbuf *libbpf_capture;

__attribute__((format(printf, 2, 0)))
static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && libbpf_capture) {
		strbuf_reset(libbpf_capture);
		strbuf_vaddf(libbpf_capture, fmt, ap);
		strbuf_trim(libbpf_capture);
	}
	return 0;
}

static void add_libbpf_detail(struct strbuf *err, const struct strbuf *said)
{
	if (said->len)
		strbuf_addf(err, " (%s)", said->buf);
}

int kbtf_open(struct kbtf *kb, const char *path, struct strbuf *err)
{
	static const unsigned char elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
	struct strbuf said = STRBUF_INIT;
	libbpf_print_fn_t old;
	unsigned char magic[4];
	struct btf *btf;
	ssize_t got;
	int fd, is_elf, e;

	memset(kb, 0, sizeof(*kb));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		strbuf_addf(err, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	got = read(fd, magic, sizeof(magic));
	close(fd);
	if (got != (ssize_t)sizeof(magic)) {
		strbuf_addf(err, "%s is neither a vmlinux ELF nor raw BTF (too short)", path);
		return -1;
	}
	is_elf = !memcmp(magic, elf_magic, sizeof(magic));
	/* Raw BTF starts with the 16-bit magic 0xeb9f in the file's byte order. */
	if (!is_elf && !(magic[0] == 0x9f && magic[1] == 0xeb) &&
	    !(magic[0] == 0xeb && magic[1] == 0x9f)) {
		strbuf_addf(err, "%s is neither a vmlinux ELF nor raw BTF", path);
		return -1;
	}
	libbpf_capture = &said;
	old = libbpf_set_print(capture_print);
	errno = 0;
	btf = is_elf ? btf__parse_elf(path, NULL) : btf__parse_raw(path);
	e = errno;
	libbpf_set_print(old);
	libbpf_capture = NULL;
	if (!btf) {
		if (is_elf && (e == ENODATA || e == ENOENT))
			strbuf_addf(err, "%s has no .BTF section (a kernel built without "
				    "CONFIG_DEBUG_INFO_BTF)", path);
		else
			strbuf_addf(err, "cannot read %s BTF from %s: %s", is_elf ? "ELF" : "raw",
				    path, strerror(e ? e : EINVAL));
		add_libbpf_detail(err, &said);
		strbuf_release(&said);
		return -1;
	}
	strbuf_release(&said);
	kb->btf = btf;
	kb->path = strdup(path);
	if (!kb->path) {
		kbtf_close(kb);
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	return 0;
}

void kbtf_close(struct kbtf *kb)
{
	if (kb->btf)
		btf__free(kb->btf);
	free(kb->path);
	memset(kb, 0, sizeof(*kb));
}

/* Follow typedefs and qualifiers to the underlying type. */
static uint32_t strip(const struct btf *btf, uint32_t id, const struct btf_type **tp)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	int hops = 0;

	while (t && hops++ < 32 && (btf_is_typedef(t) || btf_is_mod(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	*tp = t;
	return id;
}

static int find_composite(const struct kbtf *kb, const char *name, const struct btf_type **tp)
{
	int id;

	if (!kb->btf)
		return -1;
	id = btf__find_by_name_kind(kb->btf, name, BTF_KIND_STRUCT);
	if (id < 0)
		id = btf__find_by_name_kind(kb->btf, name, BTF_KIND_UNION);
	if (id < 0)
		return -1;
	*tp = btf__type_by_id(kb->btf, id);
	return *tp ? id : -1;
}

/* Find member name (len bytes of it) in composite t, looking into
 * anonymous members; its offset in bits from t's start goes to *bits. */
static int find_in(const struct btf *btf, const struct btf_type *t, const char *name,
		   size_t len, int depth, uint64_t *bits, uint32_t *type_id)
{
	const struct btf_member *m = btf_members(t);
	int i, n = btf_vlen(t);

	if (depth > 16)
		return -1;
	for (i = 0; i < n; i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		uint64_t off = btf_member_bit_offset(t, i);

		if (mn && *mn) {
			if (strlen(mn) != len || memcmp(mn, name, len))
				continue;
			if (btf_member_bitfield_size(t, i) || off % 8)
				return -1;
			*bits = off;
			*type_id = m->type;
			return 0;
		} else {
			const struct btf_type *mt;
			uint64_t sub;

			strip(btf, m->type, &mt);
			if (mt && btf_is_composite(mt) &&
			    find_in(btf, mt, name, len, depth + 1, &sub, type_id) == 0) {
				*bits = off + sub;
				return 0;
			}
		}
	}
	return -1;
}

int kbtf_member(const struct kbtf *kb, const char *struct_name, const char *path,
		struct kbtf_member *out)
{
	const struct btf_type *t;
	uint64_t total_bits = 0;
	uint32_t id;
	int sid;
	long long size;

	sid = find_composite(kb, struct_name, &t);
	if (sid < 0)
		return -1;
	id = (uint32_t)sid;
	for (;;) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		uint64_t bits;

		if (!t || !btf_is_composite(t) || len == 0)
			return -1;
		if (find_in(kb->btf, t, path, len, 0, &bits, &id) < 0)
			return -1;
		total_bits += bits;
		id = strip(kb->btf, id, &t);
		if (!dot)
			break;
		path = dot + 1;
	}
	size = btf__resolve_size(kb->btf, id);
	if (size < 0)
		return -1;
	out->offset = (long)(total_bits / 8);
	out->size = (long)size;
	out->type_id = id;
	return 0;
}

long kbtf_member_offset(const struct kbtf *kb, const char *struct_name, const char *path)
{
	struct kbtf_member m;

	return kbtf_member(kb, struct_name, path, &m) < 0 ? -1 : m.offset;
}

long kbtf_member_size(const struct kbtf *kb, const char *struct_name, const char *path)
{
	struct kbtf_member m;

	return kbtf_member(kb, struct_name, path, &m) < 0 ? -1 : m.size;
}

long kbtf_struct_size(const struct kbtf *kb, const char *name)
{
	const struct btf_type *t;

	return find_composite(kb, name, &t) < 0 ? -1 : (long)t->size;
}

static const struct btf_type *find_enum(const struct kbtf *kb, const char *name)
{
	int id;

	if (!kb->btf)
		return NULL;
	id = btf__find_by_name_kind(kb->btf, name, BTF_KIND_ENUM);
	if (id < 0)
		id = btf__find_by_name_kind(kb->btf, name, BTF_KIND_ENUM64);
	return id < 0 ? NULL : btf__type_by_id(kb->btf, id);
}

/* Enumerator i of t: its name and value. */
static const char *enumerator(const struct kbtf *kb, const struct btf_type *t, int i,
			      long long *val)
{
	if (btf_is_enum(t)) {
		const struct btf_enum *e = btf_enum(t) + i;

		/* Signedness from the kflag; an unsigned 32-bit value stays positive. */
		*val = btf_kflag(t) ? (long long)(int32_t)e->val : (long long)(uint32_t)e->val;
		return btf__name_by_offset(kb->btf, e->name_off);
	} else {
		const struct btf_enum64 *e = btf_enum64(t) + i;

		*val = (long long)btf_enum64_value(e);
		return btf__name_by_offset(kb->btf, e->name_off);
	}
}

int kbtf_enum_foreach(const struct kbtf *kb, const char *enum_name, kbtf_enum_fn fn, void *arg)
{
	const struct btf_type *t = find_enum(kb, enum_name);
	int i, n, rc;

	if (!t)
		return -1;
	n = btf_vlen(t);
	for (i = 0; i < n; i++) {
		long long v;
		const char *en = enumerator(kb, t, i, &v);

		if (en && (rc = fn(en, v, arg)))
			return rc;
	}
	return 0;
}

/* One enumerator looked up by name or by value, through the walk above. */
struct enum_find {
	const char *name;	/* by name when set, else by value */
	long long val;
	const char *found;
};

static int enum_match(const char *name, long long val, void *arg)
{
	struct enum_find *f = arg;

	if (f->name ? strcmp(name, f->name) : val != f->val)
		return 0;
	f->found = name;
	f->val = val;
	return 1;
}

int kbtf_enum_value(const struct kbtf *kb, const char *enum_name, const char *name,
		    long long *val)
{
	struct enum_find f = { .name = name };

	if (kbtf_enum_foreach(kb, enum_name, enum_match, &f) != 1)
		return -1;
	*val = f.val;
	return 0;
}

const char *kbtf_enum_name(const struct kbtf *kb, const char *enum_name, long long val)
{
	struct enum_find f = { .val = val };

	return kbtf_enum_foreach(kb, enum_name, enum_match, &f) == 1 ? f.found : NULL;
}

static int walk_members(const struct btf *btf, const struct btf_type *t, uint64_t base_bits,
			int depth, kbtf_member_fn fn, void *arg)
{
	const struct btf_member *m = btf_members(t);
	int i, n = btf_vlen(t), rc;

	if (depth > 16)
		return 0;
	for (i = 0; i < n; i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		uint64_t off = base_bits + btf_member_bit_offset(t, i);
		const struct btf_type *mt;
		uint32_t id = strip(btf, m->type, &mt);

		if (btf_member_bitfield_size(t, i) || off % 8)
			continue;
		if (!mn || !*mn) {
			if (mt && btf_is_composite(mt)) {
				rc = walk_members(btf, mt, off, depth + 1, fn, arg);
				if (rc)
					return rc;
			}
			continue;
		}
		rc = fn(mn, (long)(off / 8), (long)btf__resolve_size(btf, id), arg);
		if (rc)
			return rc;
	}
	return 0;
}

int kbtf_struct_members(const struct kbtf *kb, const char *struct_name, kbtf_member_fn fn,
			void *arg)
{
	const struct btf_type *t;

	if (find_composite(kb, struct_name, &t) < 0)
		return -1;
	return walk_members(kb->btf, t, 0, 0, fn, arg);
}
