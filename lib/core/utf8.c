/* UTF-8 check and repair (utf8.h). */
#include "utf8.h"

size_t utf8_decode(const char *s, size_t left, uint32_t *cp)
{
	/* The smallest code point each length may encode: below it the
	 * sequence is overlong. */
	static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	const unsigned char *p = (const unsigned char *)s;
	size_t need, i;
	uint32_t c;

	if (p[0] < 0x80) {
		need = 1;
		c = p[0];
	} else if ((p[0] & 0xe0) == 0xc0) {
		need = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		need = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		need = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (need > left)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min_cp[need] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	if (cp)
		*cp = c;
	return need;
}

void utf8_repair(struct strbuf *out, const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_decode(buf + i, len - i, NULL);

		if (n && buf[i] != '\0') {
			strbuf_add(out, buf + i, n);
			i += n;
		} else {
			strbuf_addstr(out, UTF8_REPLACEMENT);
			i++;
		}
	}
}
