/* No-malloc formatting used by libhmo's warnings and summary. */
#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"

#define FMT(call, want)                                   \
	do {                                              \
		char m_[64];                              \
		struct fmt_buf b_;                        \
		fmt_init(&b_, m_, sizeof m_);             \
		call;                                     \
		ck_assert_str_eq(m_, want);               \
	} while (0)

START_TEST(integers)
{
	FMT(fmt_u64(&b_, 0), "0");
	FMT(fmt_u64(&b_, 18446744073709551615ull), "18446744073709551615");
	FMT(fmt_u64_grouped(&b_, 0), "0");
	FMT(fmt_u64_grouped(&b_, 999), "999");
	FMT(fmt_u64_grouped(&b_, 1000), "1,000");
	FMT(fmt_u64_grouped(&b_, 1234567), "1,234,567");
	FMT(fmt_u64_grouped(&b_, 18446744073709551615ull), "18,446,744,073,709,551,615");
	FMT(fmt_hex(&b_, 0), "0x0");
	FMT(fmt_hex(&b_, 0x7f3a00200000ull), "0x7f3a00200000");
	FMT(fmt_hex(&b_, 18446744073709551615ull), "0xffffffffffffffff");
	FMT(fmt_errno(&b_, ENOSPC), "No space left on device");
	FMT(fmt_errno(&b_, 100000), "error");
}
END_TEST

START_TEST(bytes)
{
	FMT(fmt_bytes(&b_, 0), "0 B");
	FMT(fmt_bytes(&b_, 1023), "1023 B");
	FMT(fmt_bytes(&b_, 1024), "1.00 KiB");
	FMT(fmt_bytes(&b_, 1536), "1.50 KiB");
	FMT(fmt_bytes(&b_, 15 * 1024 + 512), "15.5 KiB");
	FMT(fmt_bytes(&b_, 150 * 1024), "150 KiB");
	FMT(fmt_bytes(&b_, 1024 * 1024 - 1), "1.00 MiB");
	FMT(fmt_bytes(&b_, 7680ull * 4320 * 3 / 2), "47.5 MiB");
	FMT(fmt_bytes(&b_, 3ull << 40), "3.00 TiB");
	FMT(fmt_bytes(&b_, 18446744073709551615ull), "16.0 EiB");
}
END_TEST

START_TEST(fixed_and_size_option)
{
	FMT(fmt_fixed(&b_, 1234, 1000, 2), "1.23");
	FMT(fmt_fixed(&b_, 1235, 1000, 2), "1.24");
	FMT(fmt_fixed(&b_, 999, 1000, 0), "1");
	FMT(fmt_fixed(&b_, 5, 1000, 3), "0.005");
	FMT(fmt_size_option(&b_, 0), "0");
	FMT(fmt_size_option(&b_, 1536), "1536");
	FMT(fmt_size_option(&b_, 1 << 20), "1M");
	FMT(fmt_size_option(&b_, 3ull << 30), "3G");
	FMT(fmt_size_option(&b_, 4096), "4K");
}
END_TEST

START_TEST(padding)
{
	FMT((fmt_str(&b_, "ab"), fmt_pad(&b_, 0, 5, false), fmt_char(&b_, '|')), "ab   |");
	FMT((fmt_str(&b_, "x:"), fmt_str(&b_, "ab"), fmt_pad(&b_, 2, 5, true)), "x:   ab");
	FMT((fmt_str(&b_, "abcdef"), fmt_pad(&b_, 0, 3, true)), "abcdef");
}
END_TEST

START_TEST(truncation_is_safe)
{
	char m[8];
	struct fmt_buf b;

	memset(m, 'Z', sizeof m);
	fmt_init(&b, m, sizeof m);
	fmt_str(&b, "0123456789");
	ck_assert(b.truncated);
	ck_assert_uint_eq(b.len, 7);
	ck_assert_str_eq(m, "0123456");
	fmt_u64_grouped(&b, 1234567);
	fmt_pad(&b, 0, 20, true);
	ck_assert_str_eq(m, "0123456");
	fmt_strn(&b, "abc", 2);
	ck_assert_uint_eq(b.len, 7);
}
END_TEST

START_TEST(shown)
{
	char m[64];
	struct fmt_buf b;

	/* control characters as C escapes; UTF-8 and the rest as they are */
	FMT(fmt_shown(&b_, "a\nb\tc\rd\033[2J\x7f\x01 caf\xc3\xa9", SIZE_MAX, 200),
	    "a\\nb\\tc\\rd\\x1b[2J\\x7f\\x01 caf\xc3\xa9");
	/* at most N bytes of the source, and MAX of output, then an ellipsis */
	FMT(fmt_shown(&b_, "abcdef", 3, 200), "abc");
	FMT(fmt_shown(&b_, "abcdef", SIZE_MAX, 4), "abcd\xe2\x80\xa6");
	FMT(fmt_shown(&b_, "abcdef", SIZE_MAX, 6), "abcdef");
	/* an escape is not split, nor is a UTF-8 character */
	FMT(fmt_shown(&b_, "ab\033", SIZE_MAX, 4), "ab\xe2\x80\xa6");
	FMT(fmt_shown(&b_, "ab\xc3\xa9z", SIZE_MAX, 3), "ab\xe2\x80\xa6");
	FMT(fmt_shown(&b_, "ab\xc3\xa9z", SIZE_MAX, 4), "ab\xc3\xa9\xe2\x80\xa6");
	/* into a full buffer: cut, never overflowed */
	fmt_init(&b, m, 6);
	fmt_shown(&b, "\n\n\n\n", SIZE_MAX, 200);
	ck_assert(b.truncated);
	ck_assert_str_eq(m, "\\n\\n\\");
}
END_TEST

START_TEST(add)
{
	FMT(fmt_add(&b_, "plain"), "plain");
	FMT(fmt_add(&b_, "%s and %s", "this", "that"), "this and that");
	FMT(fmt_add(&b_, "[%s]", (const char *)NULL), "[]");
	FMT(fmt_add(&b_, "%c%c", 'o', 'k'), "ok");
	FMT(fmt_add(&b_, "%d %d %d", 0, -42, -2147483647 - 1), "0 -42 -2147483648");
	FMT(fmt_add(&b_, "%u", 4294967295u), "4294967295");
	FMT(fmt_add(&b_, "%U", (uint64_t)18446744073709551615ull), "18446744073709551615");
	FMT(fmt_add(&b_, "%X", (uint64_t)0x7f3a00200000ull), "0x7f3a00200000");
	FMT(fmt_add(&b_, "%G calls", (uint64_t)1234567), "1,234,567 calls");
	FMT(fmt_add(&b_, "%B", (uint64_t)1536), "1.50 KiB");
	FMT(fmt_add(&b_, "%.2F s", (uint64_t)1234, (uint64_t)1000), "1.23 s");
	FMT(fmt_add(&b_, "%F", (uint64_t)2500, (uint64_t)1000), "3");
	FMT(fmt_add(&b_, "100%%"), "100%");
	/* padding: right-aligned by default, left with '-', never cut */
	FMT(fmt_add(&b_, "|%6s|%-6s|", "ab", "cd"), "|    ab|cd    |");
	FMT(fmt_add(&b_, "|%8G|", (uint64_t)1234567), "|1,234,567|");
	FMT(fmt_add(&b_, "|%10B|%-10U|", (uint64_t)512, (uint64_t)7), "|     512 B|7         |");
	FMT(fmt_add(&b_, "|%6.1F|", (uint64_t)15, (uint64_t)10), "|   1.5|");
	/* an unknown conversion stands as written, and a lone % at the end too */
	FMT(fmt_add(&b_, "%q %"), "%q %");
	/* pieces add to what is there */
	FMT((fmt_str(&b_, "hmo: "), fmt_add(&b_, "%s=%u", "n", 3u)), "hmo: n=3");
}
END_TEST

START_TEST(add_truncates)
{
	char m[12];
	struct fmt_buf b;

	fmt_init(&b, m, sizeof m);
	fmt_add(&b, "%-20s|%G", "name", (uint64_t)1234567);
	ck_assert(b.truncated);
	ck_assert_uint_eq(b.len, sizeof m - 1);
	ck_assert_str_eq(m, "name       ");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fmt");
	TCase *t = tcase_create("fmt");

	tcase_add_test(t, integers);
	tcase_add_test(t, bytes);
	tcase_add_test(t, fixed_and_size_option);
	tcase_add_test(t, padding);
	tcase_add_test(t, truncation_is_safe);
	tcase_add_test(t, shown);
	tcase_add_test(t, add);
	tcase_add_test(t, add_truncates);
	suite_add_tcase(s, t);
	return unit_run(s, CK_FORK);
}
