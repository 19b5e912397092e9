/* Kernel struct layouts from BTF (libbpf), looked up by member name.
 *
 * The BTF comes from a vmlinux ELF (its .BTF section) or from a raw blob as
 * in the guest's /sys/kernel/btf/vmlinux; kbtf_open tells them apart by the
 * ELF magic.  Paths are dotted member names, "scx.local_dsq.nr", descending
 * through nested structs and unions; members of anonymous structs/unions
 * are found as if they belonged to the enclosing type ("ops.name" when
 * ops sits in an unnamed union).  Bitfields are refused. */
#ifndef KTSTR_KBTF_H
#define KTSTR_KBTF_H

#include <stdint.h>
#include "strbuf.h"

struct btf;

struct kbtf {
	struct btf *btf;
	char *path;
};

struct kbtf_member {
	long offset;		/* bytes from the start of the outer struct */
	long size;		/* bytes */
	uint32_t type_id;	/* with typedefs and qualifiers stripped */
};

/* 0, or -1 with err saying why (not found, not ELF/BTF, no .BTF section). */
int kbtf_open(struct kbtf *kb, const char *path, struct strbuf *err);
void kbtf_close(struct kbtf *kb);

/* Byte size of struct (or union) name; -1 when absent. */
long kbtf_struct_size(const struct kbtf *kb, const char *name);
/* Resolve path in struct (or union) struct_name.  0, or -1 when the type
 * or a member is absent, or the member is a bitfield. */
int kbtf_member(const struct kbtf *kb, const char *struct_name, const char *path,
		struct kbtf_member *out);
long kbtf_member_offset(const struct kbtf *kb, const char *struct_name, const char *path);
long kbtf_member_size(const struct kbtf *kb, const char *struct_name, const char *path);

/* Value of enumerator `name` of enum enum_name (ENUM or ENUM64); 0 or -1. */
int kbtf_enum_value(const struct kbtf *kb, const char *enum_name, const char *name,
		    long long *val);
/* Name of the enumerator of enum_name whose value is val, or NULL.  The
 * string belongs to kb. */
const char *kbtf_enum_name(const struct kbtf *kb, const char *enum_name, long long val);

/* Call fn for each enumerator of enum_name in order.  Stops at and returns
 * fn's first non-zero return; 0 when done; -1 when the enum is absent. */
typedef int (*kbtf_enum_fn)(const char *name, long long val, void *arg);
int kbtf_enum_foreach(const struct kbtf *kb, const char *enum_name, kbtf_enum_fn fn, void *arg);

/* Call fn for each member of struct_name in order, with anonymous members
 * flattened and bitfields skipped.  Stops at and returns fn's first
 * non-zero return; 0 when done; -1 when the struct is absent. */
typedef int (*kbtf_member_fn)(const char *name, long offset, long size, void *arg);
int kbtf_struct_members(const struct kbtf *kb, const char *struct_name, kbtf_member_fn fn,
			void *arg);

#endif
