/* hmo-report's JSON strings: whatever bytes a trace holds (a program's arguments,
 * file and function names), the output is JSON that a strict parser accepts. */
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

/* report_json_str(S) as a string, checked against WANT. */
static void json_is(const char *s, const char *want)
{
	char *out = NULL;
	size_t n = 0;
	FILE *o = open_memstream(&out, &n);

	ck_assert_ptr_nonnull(o);
	report_json_str(o, s);
	ck_assert_int_eq(fclose(o), 0);
	ck_assert_str_eq(out, want);
	free(out);
}

START_TEST(plain_and_escapes)
{
	json_is("", "\"\"");
	json_is(NULL, "\"\"");
	json_is("ffmpeg -i in.y4m", "\"ffmpeg -i in.y4m\"");
	json_is("a\"b\\c", "\"a\\\"b\\\\c\"");
	json_is("tab\there\nnl\x1b[2J", "\"tab\\u0009here\\u000anl\\u001b[2J\"");
	json_is("del\x7f", "\"del\x7f\"");	/* allowed in JSON as it is */
}
END_TEST

START_TEST(utf8_kept)
{
	json_is("caf\xc3\xa9", "\"caf\xc3\xa9\"");			/* U+00E9 */
	json_is("\xe2\x82\xac", "\"\xe2\x82\xac\"");			/* U+20AC */
	json_is("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");			/* U+FFFF */
	json_is("\xf0\x9f\x8e\xac", "\"\xf0\x9f\x8e\xac\"");		/* U+1F3AC */
	json_is("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");		/* U+10FFFF, the last */
}
END_TEST

START_TEST(not_utf8_replaced)
{
	json_is("caf\xe9.mp4", "\"caf\\ufffd.mp4\"");		/* Latin-1 */
	json_is("\xc0\xaf", "\"\\ufffd\\ufffd\"");		/* overlong '/' */
	json_is("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");	/* overlong, 3 bytes */
	json_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");	/* a surrogate */
	json_is("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");	/* past U+10FFFF */
	json_is("\xf5\x80", "\"\\ufffd\\ufffd\"");
	json_is("\x80z", "\"\\ufffdz\"");			/* a lone continuation */
	json_is("end\xe2\x82", "\"end\\ufffd\\ufffd\"");	/* cut short at the end */
	json_is("\xe2\x82\"", "\"\\ufffd\\ufffd\\\"\"");		/* cut short by a quote */
	json_is("\xf0\x9f\x8e", "\"\\ufffd\\ufffd\\ufffd\"");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *t = tcase_create("json");

	tcase_add_test(t, plain_and_escapes);
	tcase_add_test(t, utf8_kept);
	tcase_add_test(t, not_utf8_replaced);
	suite_add_tcase(s, t);
	return unit_run(s, CK_FORK);
}
