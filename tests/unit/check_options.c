/* The option parsers and the table loader: every type, every malformed form. */
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/options.h"

START_TEST(size_plain_and_suffixes)
{
	static const struct { const char *in; uint64_t want; } ok[] = {
		{ "0", 0 }, { "4096", 4096 }, { "1k", 1024 }, { "1K", 1024 }, { "2M", 2u << 20 },
		{ "2m", 2u << 20 }, { "3G", 3ull << 30 }, { "1T", 1ull << 40 }, { "2MB", 2u << 20 },
		{ "2MiB", 2u << 20 }, { "4096B", 4096 }, { "16kib", 16384 },
		{ "18446744073709551615", UINT64_MAX }, { "007", 7 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint64_t v = 12345;
		ck_assert_msg(hmo_parse_size(ok[i].in, &v) == NULL, "refused %s", ok[i].in);
		ck_assert_msg(v == ok[i].want, "%s -> %llu", ok[i].in, (unsigned long long)v);
	}
}
END_TEST

START_TEST(size_malformed)
{
	static const char *const bad[] = {
		"", " 1M", "1M ", "-1", "+1", "1.5M", "M", "1X", "1MM", "0x10", "1 M", "1Mi",
		"1iB", "1MBB", "18446744073709551616", "17179869184G", "99999999999999999999T",
		"1e6", "one",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = 777;
		ck_assert_msg(hmo_parse_size(bad[i], &v) != NULL, "accepted \"%s\"", bad[i]);
		ck_assert_msg(v == 777, "\"%s\" wrote the output", bad[i]);
	}
}
END_TEST

START_TEST(bool_forms)
{
	static const char *const on[] = { "1", "on", "ON", "yes", "Yes", "true", "TRUE" };
	static const char *const off[] = { "0", "off", "Off", "no", "NO", "false" };
	static const char *const bad[] = { "", "2", "y", "n", "onn", "yes ", " on", "-1", "enable" };
	bool b;

	for (size_t i = 0; i < sizeof on / sizeof on[0]; i++) {
		b = false;
		ck_assert_ptr_null(hmo_parse_bool(on[i], &b));
		ck_assert(b);
	}
	for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
		b = true;
		ck_assert_ptr_null(hmo_parse_bool(off[i], &b));
		ck_assert(!b);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		b = true;
		ck_assert_msg(hmo_parse_bool(bad[i], &b) != NULL, "accepted \"%s\"", bad[i]);
		ck_assert(b);
	}
}
END_TEST

START_TEST(output_forms)
{
	struct hmo_output o;

	ck_assert_ptr_null(hmo_parse_output("1", &o));
	ck_assert_int_eq(o.kind, HMO_DEST_STDERR);
	ck_assert_ptr_null(hmo_parse_output("stderr", &o));
	ck_assert_int_eq(o.kind, HMO_DEST_STDERR);
	ck_assert_ptr_null(hmo_parse_output("yes", &o));
	ck_assert_int_eq(o.kind, HMO_DEST_STDERR);
	ck_assert_ptr_null(hmo_parse_output("0", &o));
	ck_assert_int_eq(o.kind, HMO_DEST_OFF);
	ck_assert_ptr_null(hmo_parse_output("off", &o));
	ck_assert_int_eq(o.kind, HMO_DEST_OFF);
	ck_assert_ptr_null(hmo_parse_output("", &o));
	ck_assert_int_eq(o.kind, HMO_DEST_OFF);
	ck_assert_ptr_null(hmo_parse_output("/tmp/hmo.%e.%p.%t.100%%", &o));
	ck_assert_int_eq(o.kind, HMO_DEST_FILE);
	ck_assert_str_eq(o.path, "/tmp/hmo.%e.%p.%t.100%%");
	ck_assert_ptr_null(hmo_parse_output("stats.txt", &o));
	ck_assert_int_eq(o.kind, HMO_DEST_FILE);
	ck_assert_str_eq(o.path, "stats.txt");
}
END_TEST

START_TEST(output_malformed)
{
	struct hmo_output o = { .kind = HMO_DEST_STDERR, .path = "keep" };
	char longpath[HMO_PATH_MAX + 10];

	ck_assert_ptr_nonnull(hmo_parse_output("/tmp/x.%q", &o));
	ck_assert_ptr_nonnull(hmo_parse_output("/tmp/x.%", &o));
	ck_assert_ptr_nonnull(hmo_parse_output("%d", &o));
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = '\0';
	ck_assert_ptr_nonnull(hmo_parse_output(longpath, &o));
	/* A refused value leaves the previous one whole. */
	ck_assert_int_eq(o.kind, HMO_DEST_STDERR);
	ck_assert_str_eq(o.path, "keep");
}
END_TEST

START_TEST(enum_forms)
{
	static const char *const ch[] = { "auto", "thp", "off", NULL };	/* any list */
	unsigned v = 9;

	ck_assert_ptr_null(hmo_parse_enum("thp", ch, &v));
	ck_assert_uint_eq(v, 1);
	ck_assert_ptr_null(hmo_parse_enum("AUTO", ch, &v));
	ck_assert_uint_eq(v, 0);
	v = 9;
	ck_assert_ptr_nonnull(hmo_parse_enum("", ch, &v));
	ck_assert_ptr_nonnull(hmo_parse_enum("th", ch, &v));
	ck_assert_ptr_nonnull(hmo_parse_enum("thp ", ch, &v));
	ck_assert_ptr_nonnull(hmo_parse_enum("hugetlb", ch, &v));
	ck_assert_uint_eq(v, 9);
}
END_TEST

START_TEST(ms_forms)
{
	static const struct { const char *in; int64_t want; } ok[] = {
		{ "0", 0 }, { "250", 250 }, { "250ms", 250 }, { "10s", 10000 }, { "2m", 120000 },
		{ "2M", 120000 }, { "never", -1 }, { "NEVER", -1 },
	};
	static const char *const bad[] = { "", "-1", "1.5s", "s", "10h", "10 s", "10sec", "ms",
					   "99999999999999m" };
	int64_t v;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		ck_assert_msg(hmo_parse_ms(ok[i].in, &v) == NULL, "refused %s", ok[i].in);
		ck_assert_msg(v == ok[i].want, "%s -> %lld", ok[i].in, (long long)v);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 7;
		ck_assert_msg(hmo_parse_ms(bad[i], &v) != NULL, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(v, 7);
	}
}
END_TEST

START_TEST(size_ram_forms)
{
	uint64_t v;

	ck_assert_ptr_null(hmo_parse_size_ram("25%", 1000, &v));
	ck_assert_uint_eq(v, 250);
	ck_assert_ptr_null(hmo_parse_size_ram("100%", 24ull << 30, &v));
	ck_assert_uint_eq(v, 24ull << 30);
	ck_assert_ptr_null(hmo_parse_size_ram("2G", 1000, &v));
	ck_assert_uint_eq(v, 2ull << 30);
	v = 5;
	ck_assert_ptr_nonnull(hmo_parse_size_ram("0%", 1000, &v));
	ck_assert_ptr_nonnull(hmo_parse_size_ram("101%", 1000, &v));
	ck_assert_ptr_nonnull(hmo_parse_size_ram("%", 1000, &v));
	ck_assert_ptr_nonnull(hmo_parse_size_ram("25%%", 1000, &v));
	ck_assert_ptr_nonnull(hmo_parse_size_ram("1000000000000000000000%", 1000, &v));
	ck_assert_ptr_nonnull(hmo_parse_size_ram("x%", 1000, &v));
	ck_assert_uint_eq(v, 5);
}
END_TEST


/* ---- the loader ---------------------------------------------------------- */

static const char *const *fake_env;
static char warned[8][512];
static size_t warned_len[8];
static int nwarned;

static const char *fake_get(const char *name)
{
	size_t n = strlen(name);
	for (const char *const *e = fake_env; *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static void fake_warn(const char *line)
{
	if (nwarned < 8) {
		strncpy(warned[nwarned], line, sizeof warned[0] - 1);
		warned_len[nwarned] = strlen(line);
	}
	nwarned++;
}

static void load(const char *const *env, struct hmo_options *o)
{
	fake_env = env;
	nwarned = 0;
	memset(warned, 0, sizeof warned);
	hmo_options_load(o, fake_get, fake_warn);
}

START_TEST(defaults_when_unset)
{
	static const char *const env[] = { "PATH=/bin", NULL };
	struct hmo_options o;

	load(env, &o);
	ck_assert_int_eq(nwarned, 0);
	ck_assert_int_eq(o.stats.kind, HMO_DEST_OFF);
	ck_assert(!o.stats_hist);
	ck_assert_uint_eq(o.threshold, 1u << 20);
}
END_TEST

START_TEST(values_are_read)
{
	static const char *const env[] = { "HMO_STATS=/tmp/s.%p", "HMO_STATS_HIST=yes",
					   "HMO_THRESHOLD=8M", NULL };
	struct hmo_options o;

	load(env, &o);
	ck_assert_int_eq(nwarned, 0);
	ck_assert_int_eq(o.stats.kind, HMO_DEST_FILE);
	ck_assert_str_eq(o.stats.path, "/tmp/s.%p");
	ck_assert(o.stats_hist);
	ck_assert_uint_eq(o.threshold, 8u << 20);
}
END_TEST

START_TEST(bad_value_warns_once_and_keeps_default)
{
	static const char *const env[] = { "HMO_THRESHOLD=12Q", "HMO_STATS_HIST=maybe", NULL };
	struct hmo_options o;

	load(env, &o);
	ck_assert_int_eq(nwarned, 2);
	ck_assert_uint_eq(o.threshold, 1u << 20);
	ck_assert(!o.stats_hist);
	/* One line: the variable, the value, why, and the default used. */
	ck_assert_ptr_null(strchr(warned[0], '\n'));
	ck_assert_str_eq(warned[0],
		"hmo: HMO_STATS_HIST=\"maybe\" is not a boolean (1/0, on/off, yes/no); using the default off");
	ck_assert_str_eq(warned[1],
		"hmo: HMO_THRESHOLD=\"12Q\" is not a size (a whole number with an optional K, M, G or T "
		"suffix) (accepted: 4K to 1T); using the default 1M");
}
END_TEST

START_TEST(out_of_range_size)
{
	static const char *const env[] = { "HMO_THRESHOLD=1K", NULL };
	struct hmo_options o;

	load(env, &o);
	ck_assert_int_eq(nwarned, 1);
	ck_assert_uint_eq(o.threshold, 1u << 20);
	ck_assert_str_eq(warned[0], "hmo: HMO_THRESHOLD=\"1K\" is out of range (accepted: 4K to 1T); "
				    "using the default 1M");
}
END_TEST

START_TEST(bad_output_keeps_default)
{
	static const char *const env[] = { "HMO_STATS=/tmp/%z", NULL };
	struct hmo_options o;

	load(env, &o);
	ck_assert_int_eq(nwarned, 1);
	ck_assert_int_eq(o.stats.kind, HMO_DEST_OFF);
	ck_assert_ptr_nonnull(strstr(warned[0], "HMO_STATS=\"/tmp/%z\" is a path with an unknown %-escape"));
}
END_TEST

/* HMO_METRICS is off or a path, never stderr; HMO_METRICS_LABELS is kept as its
 * samples have it, and a bad list gives one line naming the problem. */
START_TEST(metrics_rows)
{
	static const char *const ok[] = { "HMO_METRICS=/var/lib/prom/%e.prom", "HMO_METRICS_LABELS=job=a \"b\",host=h1",
					  NULL };
	static const char *const bad[] = { "HMO_METRICS=1", "HMO_METRICS_LABELS=__x=1", NULL };
	static const char *const none[] = { "HMO_METRICS=off", "HMO_METRICS_LABELS=none", NULL };
	struct hmo_options o;

	load(ok, &o);
	ck_assert_int_eq(nwarned, 0);
	ck_assert_int_eq(o.metrics.kind, HMO_DEST_FILE);
	ck_assert_str_eq(o.metrics.path, "/var/lib/prom/%e.prom");
	ck_assert_str_eq(o.metrics_labels, "job=\"a \\\"b\\\"\",host=\"h1\"");
	load(bad, &o);
	ck_assert_int_eq(nwarned, 2);
	ck_assert_int_eq(o.metrics.kind, HMO_DEST_OFF);
	ck_assert_str_eq(o.metrics_labels, "");
	ck_assert_str_eq(warned[0], "hmo: HMO_METRICS=\"1\" is not off or a path (the file is replaced as a whole, "
				    "which stderr cannot be); using the default off");
	ck_assert_str_eq(warned[1], "hmo: HMO_METRICS_LABELS=\"__x=1\" is a label name starting with __, which "
				    "Prometheus keeps for itself; using the default none");
	load(none, &o);
	ck_assert_int_eq(nwarned, 0);
	ck_assert_int_eq(o.metrics.kind, HMO_DEST_OFF);
	ck_assert_str_eq(o.metrics_labels, "");
}
END_TEST

START_TEST(long_value_is_cut_in_the_warning)
{
	static char big[2000];
	static const char *env[] = { big, NULL };
	struct hmo_options o;

	strcpy(big, "HMO_THRESHOLD=");
	memset(big + strlen(big), '9', 1500);
	load(env, &o);
	ck_assert_int_eq(nwarned, 1);
	ck_assert_uint_le(strlen(warned[0]), 511);
	ck_assert_ptr_nonnull(strstr(warned[0], "using the default 1M"));
}
END_TEST

START_TEST(unknown_variables)
{
	char *env[] = { "HMO_TRESHOLD=2M", "HMO_STATS=1", "HMOX=1", "PATH=/bin", "HMO_=1", NULL };

	nwarned = 0;
	memset(warned, 0, sizeof warned);
	ck_assert_int_eq(hmo_options_check_unknown(env, false, fake_warn), 2);
	ck_assert_ptr_nonnull(strstr(warned[0], "unknown variable HMO_TRESHOLD"));
	ck_assert_ptr_nonnull(strstr(warned[1], "unknown variable HMO_"));
}
END_TEST

/* A line of ours holds no control character: what a user wrote (a value, a name)
 * is echoed with C escapes, and cut. */
static void assert_one_line(const char *line)
{
	for (const char *p = line; *p; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f, "control character 0x%02x in \"%s\"",
			      (unsigned char)*p, line);
}

START_TEST(values_shown_on_one_line)
{
	/* Every row, given a value with a newline, an escape and 128 KiB of text: one
	 * warning, on one line, with the value's start escaped and its rest cut. */
	static char big[(128 << 10) + 64];
	static const char *env[] = { big, NULL };
	struct hmo_options o;

	for (size_t i = 0; i < hmo_option_count; i++) {
		const char *name = hmo_option_table[i].name;
		int n = snprintf(big, sizeof big, "%s=x\n\033[2Jy", name);
		memset(big + n, 'a', sizeof big - 1 - (size_t)n);
		big[sizeof big - 1] = '\0';
		load(env, &o);
		ck_assert_msg(nwarned == 1, "%s: %d warnings", name, nwarned);
		assert_one_line(warned[0]);
		ck_assert_msg(strstr(warned[0], "=\"x\\n\\x1b[2Jyaaa"), "%s: %s", name, warned[0]);
		/* at most 200 bytes of the value, then "..." */
		const char *v = strchr(warned[0], '"') + 1, *end = strstr(v, "\xe2\x80\xa6\"");
		ck_assert_msg(end && end - v <= 200, "%s: %s", name, warned[0]);
		ck_assert_uint_lt(warned_len[0], 511);
	}
}
END_TEST

START_TEST(unknown_names_shown_on_one_line)
{
	static char big[(128 << 10) + 64];
	char *env[] = { "HMO_A\nB\033[2J=1", big, NULL };

	strcpy(big, "HMO_");
	memset(big + 4, 'Z', sizeof big - 8);
	strcpy(big + sizeof big - 4, "=1");
	nwarned = 0;
	ck_assert_int_eq(hmo_options_check_unknown(env, false, fake_warn), 2);
	assert_one_line(warned[0]);
	assert_one_line(warned[1]);
	ck_assert_str_eq(warned[0], "hmo: unknown variable HMO_A\\nB\\x1b[2J ignored (see the HMO_* list in hmo's README)");
	ck_assert_ptr_nonnull(strstr(warned[1], "ZZZ\xe2\x80\xa6 ignored"));
	ck_assert_uint_lt(warned_len[1], 300);
}
END_TEST

START_TEST(unknown_names_not_echoed_when_secure)
{
	/* A set-user-ID program reads no HMO_* variable: one line says how many there
	 * were, and none is named. */
	char *env[] = { "HMO_TRESHOLD=2M", "HMO_STATS=1", "PATH=/bin", "HMO_A\n\033[2J=1", NULL };
	char *none[] = { "PATH=/bin", NULL };

	nwarned = 0;
	ck_assert_int_eq(hmo_options_check_unknown(env, true, fake_warn), 1);
	ck_assert_str_eq(warned[0], "hmo: 3 HMO_* variables ignored: a set-user-ID, set-group-ID or "
				    "capability-raising program reads none");
	nwarned = 0;
	ck_assert_int_eq(hmo_options_check_unknown(none, true, fake_warn), 0);
}
END_TEST

START_TEST(table_defaults_parse)
{
	/* Every row's default must be accepted by its own parser and be in range. */
	for (size_t i = 0; i < hmo_option_count; i++) {
		const struct hmo_option_desc *d = &hmo_option_table[i];
		ck_assert_msg(strncmp(d->name, "HMO_", 4) == 0, "%s", d->name);
		ck_assert_msg(d->help && d->help[0], "%s has no help", d->name);
		if (d->type == HMO_OPT_SIZE) {
			uint64_t v;
			ck_assert_ptr_null(hmo_parse_size(d->def, &v));
			ck_assert(v >= d->min && v <= d->max);
		}
	}
}
END_TEST

START_TEST(pool_rows)
{
	static const char *const env[] = { "HMO_HUGEPAGES=thp", "HMO_POOL=off", "HMO_POOL_MAX=50%",
					   "HMO_POOL_DECAY=never", "HMO_PREFAULT=1", "HMO_MMAP=OFF", NULL };
	static const char *const bad[] = { "HMO_HUGEPAGES=2M", NULL };
	struct hmo_options o;

	hmo_options_ram = 8ull << 30;
	load(env, &o);
	ck_assert_int_eq(nwarned, 0);
	ck_assert_uint_eq(o.hugepages, HMO_HP_THP);
	ck_assert(!o.pool);
	ck_assert_uint_eq(o.pool_max, 4ull << 30);
	ck_assert_int_eq(o.pool_decay_ms, -1);
	ck_assert(o.prefault);
	ck_assert_uint_eq(o.mmap_mode, HMO_MMAP_OFF);
	load(bad, &o);
	ck_assert_int_eq(nwarned, 1);
	ck_assert_uint_eq(o.hugepages, HMO_HP_AUTO);
	ck_assert_str_eq(warned[0], "hmo: HMO_HUGEPAGES=\"2M\" is not one of the choices (auto, hugetlb, 1G, thp, off); "
				    "using the default auto");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("options");
	TCase *p = tcase_create("parsers");
	TCase *l = tcase_create("loader");

	tcase_add_test(p, size_plain_and_suffixes);
	tcase_add_test(p, size_malformed);
	tcase_add_test(p, bool_forms);
	tcase_add_test(p, output_forms);
	tcase_add_test(p, output_malformed);
	tcase_add_test(l, defaults_when_unset);
	tcase_add_test(l, values_are_read);
	tcase_add_test(l, bad_value_warns_once_and_keeps_default);
	tcase_add_test(l, out_of_range_size);
	tcase_add_test(l, bad_output_keeps_default);
	tcase_add_test(l, long_value_is_cut_in_the_warning);
	tcase_add_test(l, unknown_variables);
	tcase_add_test(l, values_shown_on_one_line);
	tcase_add_test(l, unknown_names_shown_on_one_line);
	tcase_add_test(l, unknown_names_not_echoed_when_secure);
	tcase_add_test(l, table_defaults_parse);
	tcase_add_test(p, enum_forms);
	tcase_add_test(p, ms_forms);
	tcase_add_test(p, size_ram_forms);
	tcase_add_test(l, pool_rows);
	tcase_add_test(l, metrics_rows);
	suite_add_tcase(s, p);
	suite_add_tcase(s, l);
	return unit_run(s, CK_FORK);
}
