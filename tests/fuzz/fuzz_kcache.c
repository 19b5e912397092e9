/* Kernel cache metadata (<cache>/<key>/metadata.json) through the entry
 * points ktstr-build and ktstr-fetch use: kcache_list (every entry, each
 * via kcache_load, then sorted) and kcache_newest.  They only read
 * directories, so the input is written into a scratch cache of two
 * entries with an image each: the input holds up to two metadata
 * documents separated by a NUL byte (raw NULs cannot occur in JSON
 * text). */
#include "fuzz.h"
#include "kcache.h"

static const char *const keys[] = {
	"6.14.2-tarball-x86_64-kc0123abcd", "local-abc1234-x86_64-kc0123abcd",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *meta[2];
	const char *root = fuzz_scratch();
	struct kcache_entry *v, e;
	size_t i, n;

	if (!meta[0]) {
		for (i = 0; i < 2; i++) {
			char *dir = path_join(root, keys[i]), *img;

			if (mkdir(dir, 0755) < 0)
				die_errno(2, "mkdir %s", dir);
			img = path_join(dir, "bzImage");
			fuzz_write_file(img, "", 0);
			meta[i] = path_join(dir, "metadata.json");
			free(img);
			free(dir);
		}
	}
	for (i = 0; i < 2; i++) {
		const uint8_t *nul = memchr(data, '\0', size);
		size_t len = nul ? (size_t)(nul - data) : size;

		fuzz_write_file(meta[i], data, len);
		data += nul ? len + 1 : len;
		size -= nul ? len + 1 : len;
	}
	n = kcache_list(root, "0123abcd", &v);
	kcache_list_free(v, n);
	if (kcache_newest(root, "0123abcd", &e) == 0)
		kcache_entry_release(&e);
	return 0;
}
