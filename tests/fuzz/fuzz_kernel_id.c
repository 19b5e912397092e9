/* Kernel ids (KTSTR_KERNEL, --kernel, ktstr-fetch arguments) through
 * kernel_id_parse, and bare release numbers through kernel_ver_parse.  A
 * parsed version printed with kernel_ver_format must parse back to the
 * same version, and the comparisons must be consistent with it (abort
 * otherwise: the fuzzer reports it as a crash).  The input is also tried
 * as a cache key (kcache_key_valid), the other name a kernel goes by. */
#include "fuzz.h"
#include "kcache.h"
#include "kernel_id.h"

static void roundtrip(const struct kernel_ver *v)
{
	struct kernel_ver w;
	char buf[64];

	kernel_ver_format(v, buf, sizeof(buf));
	if (kernel_ver_parse(buf, strlen(buf), &w) || kernel_ver_cmp(v, &w) ||
	    !kernel_ver_has_prefix(v, &w) || !kernel_ver_in_range(v, &w, &w))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct kernel_id id;
	struct kernel_ver v;
	char *s = fuzz_str(data, size);

	if (kernel_ver_parse((const char *)data, size, &v) == 0)
		roundtrip(&v);
	memset(&id, 0, sizeof(id));
	if (kernel_id_parse(s, &id, &err) == 0) {
		(void)kernel_id_kind_name(id.kind);
		if (id.kind == KID_VERSION || id.kind == KID_PREFIX)
			roundtrip(&id.ver);
		if (id.kind == KID_RANGE) {
			roundtrip(&id.lo);
			roundtrip(&id.hi);
			(void)kernel_ver_in_range(&id.lo, &id.lo, &id.hi);
		}
	}
	kernel_id_release(&id);
	(void)kcache_key_valid(s);
	strbuf_release(&err);
	free(s);
	return 0;
}
