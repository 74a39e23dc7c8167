#include <string.h>

#include "fmt.h"

void fmt_init(struct fmt_buf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->truncated = false;
	if (cap)
		mem[0] = '\0';
}

void fmt_char(struct fmt_buf *b, char c)
{
	if (b->len + 1 >= b->cap) {
		b->truncated = true;
		return;
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void fmt_strn(struct fmt_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
		fmt_char(b, s[i]);
}

void fmt_str(struct fmt_buf *b, const char *s)
{
	while (*s)
		fmt_char(b, *s++);
}

void fmt_shown(struct fmt_buf *b, const char *s, size_t n, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t out = 0, start = b->len;

	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		char e = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : 'x';
		size_t k = c >= 0x20 && c != 0x7f ? 1 : e == 'x' ? 4 : 2;
		if (out + k > max) {
			/* not in the middle of a UTF-8 character: back to its first byte */
			if ((c & 0xc0) == 0x80 && !b->truncated) {
				while (b->len > start && ((unsigned char)b->p[b->len - 1] & 0xc0) == 0x80)
					b->len--;
				if (b->len > start && (unsigned char)b->p[b->len - 1] >= 0xc0)
					b->len--;
				b->p[b->len] = '\0';
			}
			fmt_str(b, "\xe2\x80\xa6");
			return;
		}
		out += k;
		if (k == 1) {
			fmt_char(b, (char)c);
			continue;
		}
		fmt_char(b, '\\');
		fmt_char(b, e);
		if (k == 4) {
			fmt_char(b, hex[c >> 4]);
			fmt_char(b, hex[c & 15]);
		}
	}
}

static void put_digits(struct fmt_buf *b, uint64_t v, bool grouped)
{
	char tmp[32];
	int n = 0, digits = 0;

	do {
		if (grouped && digits && digits % 3 == 0)
			tmp[n++] = ',';
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
		digits++;
	} while (v);
	while (n)
		fmt_char(b, tmp[--n]);
}

void fmt_u64(struct fmt_buf *b, uint64_t v)
{
	put_digits(b, v, false);
}

void fmt_errno(struct fmt_buf *b, int err)
{
	const char *d = strerrordesc_np(err);

	fmt_str(b, d ? d : "error");
}

void fmt_hex(struct fmt_buf *b, uint64_t v)
{
	char d[16];
	int n = 0;

	fmt_str(b, "0x");
	do
		d[n++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4) != 0);
	while (n)
		fmt_char(b, d[--n]);
}

void fmt_u64_grouped(struct fmt_buf *b, uint64_t v)
{
	put_digits(b, v, true);
}

void fmt_fixed(struct fmt_buf *b, uint64_t v, uint64_t scale, unsigned decimals)
{
	uint64_t mul = 1;

	for (unsigned i = 0; i < decimals; i++)
		mul *= 10;
	/* v * mul / scale, rounded, without overflowing for the values we print; no
	 * scale prints v as it is. */
	unsigned __int128 s2 = scale ? (unsigned __int128)scale * 2 : 2;
	unsigned __int128 x = ((unsigned __int128)v * mul * 2 + s2 / 2) / s2;
	uint64_t whole = (uint64_t)(x / mul), frac = (uint64_t)(x % mul);

	put_digits(b, whole, false);
	if (decimals) {
		char tmp[20];
		fmt_char(b, '.');
		for (unsigned i = 0; i < decimals; i++) {
			tmp[decimals - 1 - i] = (char)('0' + frac % 10);
			frac /= 10;
		}
		fmt_strn(b, tmp, decimals);
	}
}

void fmt_bytes(struct fmt_buf *b, uint64_t v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	uint64_t scale = 1024;
	int u = 0;

	if (v < 1024) {
		fmt_u64(b, v);
		fmt_str(b, " B");
		return;
	}
	while (u < 5 && v / scale >= 1024) {
		scale *= 1024;
		u++;
	}
	/* Three significant digits: 1.50, 15.0, 150 (and 1024 rounds up a unit). */
	uint64_t whole = v / scale;
	unsigned dec = whole >= 100 ? 0 : whole >= 10 ? 1 : 2;
	uint64_t mul = dec == 2 ? 100 : dec == 1 ? 10 : 1;
	unsigned __int128 r = ((unsigned __int128)v * mul * 2 + scale) / (scale * 2);
	if (r >= (unsigned __int128)1024 * mul && u < 5) {
		scale *= 1024;
		u++;
		dec = 2;
	}
	fmt_fixed(b, v, scale, dec);
	fmt_char(b, ' ');
	fmt_str(b, units[u]);
}

void fmt_size_option(struct fmt_buf *b, uint64_t v)
{
	static const char suffix[] = "KMGTPE";
	int s = -1;

	while (v && v % 1024 == 0 && s < 5) {
		v /= 1024;
		s++;
	}
	fmt_u64(b, v);
	if (s >= 0)
		fmt_char(b, suffix[s]);
}

void fmt_pad(struct fmt_buf *b, size_t start, size_t width, bool right)
{
	size_t have = b->len - start;

	if (have >= width)
		return;
	size_t pad = width - have;
	if (!right) {
		while (pad--)
			fmt_char(b, ' ');
		return;
	}
	if (b->len + pad + 1 > b->cap) {
		b->truncated = true;
		return;
	}
	for (size_t i = b->len; i-- > start;)
		b->p[i + pad] = b->p[i];
	for (size_t i = 0; i < pad; i++)
		b->p[start + i] = ' ';
	b->len += pad;
	b->p[b->len] = '\0';
}

/* One conversion of fmt_add: CONV, with PREC for %F. */
static void add_one(struct fmt_buf *b, char conv, unsigned prec, va_list *ap)
{
	switch (conv) {
	case 's': {
		const char *s = va_arg(*ap, const char *);
		fmt_str(b, s ? s : "");
		break;
	}
	case 'c':
		fmt_char(b, (char)va_arg(*ap, int));
		break;
	case 'd': {
		int v = va_arg(*ap, int);
		if (v < 0)
			fmt_char(b, '-');
		fmt_u64(b, v < 0 ? -(uint64_t)(int64_t)v : (uint64_t)v);
		break;
	}
	case 'u':
		fmt_u64(b, va_arg(*ap, unsigned));
		break;
	case 'U':
		fmt_u64(b, va_arg(*ap, uint64_t));
		break;
	case 'X':
		fmt_hex(b, va_arg(*ap, uint64_t));
		break;
	case 'G':
		fmt_u64_grouped(b, va_arg(*ap, uint64_t));
		break;
	case 'B':
		fmt_bytes(b, va_arg(*ap, uint64_t));
		break;
	case 'F': {
		uint64_t v = va_arg(*ap, uint64_t), scale = va_arg(*ap, uint64_t);
		fmt_fixed(b, v, scale, prec);
		break;
	}
	case '%':
		fmt_char(b, '%');
		break;
	default:
		fmt_char(b, '%');
		if (conv)
			fmt_char(b, conv);
		break;
	}
}

static unsigned read_number(const char **s)
{
	unsigned n = 0;

	while (**s >= '0' && **s <= '9')
		n = n * 10 + (unsigned)(*(*s)++ - '0');
	return n;
}

void fmt_vadd(struct fmt_buf *b, const char *spec, va_list ap)
{
	va_list aq;

	/* a copy, so that add_one can take it by pointer whatever va_list is */
	va_copy(aq, ap);
	while (*spec) {
		if (*spec != '%') {
			fmt_char(b, *spec++);
			continue;
		}
		spec++;
		bool left = *spec == '-';
		spec += left;
		unsigned width = read_number(&spec), prec = 0;
		if (*spec == '.') {
			spec++;
			prec = read_number(&spec);
			if (prec > 19)
				prec = 19;	/* the most decimals a uint64_t scale holds */
		}
		size_t start = b->len;
		char conv = *spec;
		spec += conv != '\0';
		add_one(b, conv, prec, &aq);
		fmt_pad(b, start, width, !left);
	}
	va_end(aq);
}

void fmt_add(struct fmt_buf *b, const char *spec, ...)
{
	va_list ap;

	va_start(ap, spec);
	fmt_vadd(b, spec, ap);
	va_end(ap);
}
