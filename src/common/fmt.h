/* fmt: text formatting into a caller's buffer, with no malloc and no stdio.
 *
 * libhmo formats its warnings and its exit summary with these, because it may be
 * running inside malloc, after fork, or on the way out through _exit. Output that
 * does not fit is cut, never overflowed: `len` stops growing at `cap - 1` and
 * `truncated` is set. The buffer is always NUL-terminated. */
#ifndef HMO_FMT_H
#define HMO_FMT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fmt_buf {
	char *p;
	size_t len;
	size_t cap;
	bool truncated;
};

void fmt_init(struct fmt_buf *b, char *mem, size_t cap);
void fmt_str(struct fmt_buf *b, const char *s);
void fmt_strn(struct fmt_buf *b, const char *s, size_t n);
void fmt_char(struct fmt_buf *b, char c);
/* Text from outside (a variable's name or value, a path), for a one-line message: at
 * most the first N bytes of S (up to a NUL), with each control character as a C
 * escape (\n, \t, \r, \x1b for ESC, \x7f) so that the line stays one line and a
 * terminal sees no escape sequence; past MAX bytes of output the rest is left out
 * and "\u2026" (an ellipsis, 3 bytes) put in its place. Other bytes, UTF-8 included,
 * are copied as they are. */
#define FMT_SHOWN_MAX 200
void fmt_shown(struct fmt_buf *b, const char *s, size_t n, size_t max);
/* Decimal, no grouping: 1234567 */
void fmt_u64(struct fmt_buf *b, uint64_t v);
/* An errno value's description ("No space left on device"), or "error". */
void fmt_errno(struct fmt_buf *b, int err);
/* Hexadecimal with 0x, no padding: 0x7f3a00000000 */
void fmt_hex(struct fmt_buf *b, uint64_t v);
/* Decimal grouped by thousands: 1,234,567 */
void fmt_u64_grouped(struct fmt_buf *b, uint64_t v);
/* A byte count with a binary unit and three significant digits: 512 B, 1.50 KiB,
 * 48.0 MiB. Exact for values below 1024. */
void fmt_bytes(struct fmt_buf *b, uint64_t v);
/* A size as the option parser reads it back: 1048576 -> "1M", 1536 -> "1536". */
void fmt_size_option(struct fmt_buf *b, uint64_t v);
/* Fixed-point value/scale with `decimals` digits after the point (v=1234, scale=1000,
 * 2 decimals -> "1.23"). Rounds half up. */
void fmt_fixed(struct fmt_buf *b, uint64_t v, uint64_t scale, unsigned decimals);
/* Pad what was written since `start` with spaces to `width` columns; `right` aligns
 * it to the right. Only ASCII is assumed. */
void fmt_pad(struct fmt_buf *b, size_t start, size_t width, bool right);

/* Pieces in printf's shape, so that a line of many reads the way it prints:
 *   %s  a string (NULL: nothing)       %c  a char
 *   %d  an int                         %u  an unsigned
 *   %U  a uint64_t                     %X  a uint64_t in hex with 0x (fmt_hex)
 *   %G  a uint64_t grouped (fmt_u64_grouped): 1,234,567
 *   %B  a uint64_t byte count (fmt_bytes): 1.50 KiB
 *   %F  two uint64_t, value and scale, with the precision's decimals (fmt_fixed):
 *       %.2F of (1234, 1000) is 1.23
 *   %%  a percent sign
 * A width pads with spaces on the left, or after a '-' on the right: %-20s, %14G.
 * Any other conversion is written as it stands. No floating point, no malloc, no
 * stdio: libhmo may use it. */
void fmt_add(struct fmt_buf *b, const char *spec, ...);
void fmt_vadd(struct fmt_buf *b, const char *spec, va_list ap);

#endif
