/* The Prometheus text of src/common/metrics.c: escaping, the labels a user may set,
 * and the exact text of a family. */
#include "unit.h"
#include <string.h>

#include "common/metrics.h"

#define TEXT(call, want)                                  \
	do {                                              \
		char m_[1024];                            \
		struct fmt_buf b_;                        \
		fmt_init(&b_, m_, sizeof m_);             \
		call;                                     \
		ck_assert_str_eq(m_, want);               \
	} while (0)

START_TEST(escaping)
{
	TEXT(hmo_metric_escape(&b_, "plain text, with ünïcode"), "plain text, with ünïcode");
	TEXT(hmo_metric_escape(&b_, "a\\b"), "a\\\\b");
	TEXT(hmo_metric_escape(&b_, "say \"hi\""), "say \\\"hi\\\"");
	TEXT(hmo_metric_escape(&b_, "two\nlines\n"), "two\\nlines\\n");
	TEXT(hmo_metric_escape(&b_, "\\\"\n"), "\\\\\\\"\\n");
	TEXT(hmo_metric_escape(&b_, ""), "");
	/* help text: backslash and newline only */
	TEXT(hmo_metric_header(&b_, HMO_M_RUNNING, false),
	     "# HELP hmo_running 1 while the process runs; 0 in the figures written at its exit\n"
	     "# TYPE hmo_running gauge\n");
}
END_TEST

static bool name_ok(const char *s)
{
	return hmo_metric_label_name_ok(s, strlen(s));
}

START_TEST(label_names)
{
	ck_assert(name_ok("job"));
	ck_assert(name_ok("_x"));
	ck_assert(name_ok("Host_2"));
	ck_assert(name_ok("_"));
	ck_assert(!name_ok(""));
	ck_assert(!name_ok("2x"));
	ck_assert(!name_ok("a-b"));
	ck_assert(!name_ok("a.b"));
	ck_assert(!name_ok("a b"));
	ck_assert(!name_ok("__name__"));
	ck_assert(!name_ok("__x"));
	/* hmo's own */
	ck_assert(!name_ok("exe"));
	ck_assert(!name_ok("pid"));
	ck_assert(!name_ok("function"));
	ck_assert(!name_ok("op"));
	ck_assert(!name_ok("outcome"));
	ck_assert(!name_ok("backing"));
	ck_assert(!name_ok("node"));
	ck_assert(!name_ok("kind"));
	ck_assert(!name_ok("direction"));
	ck_assert(name_ok("exec"));	/* a prefix of none */
	ck_assert(name_ok("pi"));
	/* the length given, not the NUL */
	ck_assert(hmo_metric_label_name_ok("job=x", 3));
}
END_TEST

#define LABELS_OK(in, want)                                                       \
	do {                                                                      \
		char o_[HMO_METRIC_LABELS_MAX];                                   \
		ck_assert_ptr_null(hmo_metric_parse_labels(in, o_, sizeof o_));  \
		ck_assert_str_eq(o_, want);                                       \
	} while (0)
#define LABELS_BAD(in, why)                                                       \
	do {                                                                      \
		char o_[HMO_METRIC_LABELS_MAX] = "kept";                          \
		const char *w_ = hmo_metric_parse_labels(in, o_, sizeof o_);      \
		ck_assert_ptr_nonnull(w_);                                        \
		ck_assert_msg(strstr(w_, why), "%s: %s, not %s", in, w_, why);    \
		ck_assert_str_eq(o_, "kept");                                     \
	} while (0)

START_TEST(user_labels)
{
	LABELS_OK("", "");
	LABELS_OK("job=encode", "job=\"encode\"");
	LABELS_OK("job=encode,host=a1", "job=\"encode\",host=\"a1\"");
	LABELS_OK("empty=", "empty=\"\"");
	LABELS_OK("v=a=b", "v=\"a=b\"");	/* a value runs to the next comma */
	LABELS_OK("q=say \"x\",b=c:\\d", "q=\"say \\\"x\\\"\",b=\"c:\\\\d\"");
	LABELS_OK("n=two\nlines", "n=\"two\\nlines\"");
	LABELS_OK("jobs=1,job=2", "jobs=\"1\",job=\"2\"");	/* a prefix is another name */
	LABELS_OK("x=job=1,job=2", "x=\"job=1\",job=\"2\"");	/* a name inside a value is not one */
	LABELS_BAD("job", "NAME=VALUE");
	LABELS_BAD("job=a,", "comma at the end");
	LABELS_BAD(",job=a", "NAME=VALUE");
	LABELS_BAD("=a", "not [a-zA-Z_]");
	LABELS_BAD("a-b=1", "not [a-zA-Z_]");
	LABELS_BAD("1a=1", "not [a-zA-Z_]");
	LABELS_BAD(" a=1", "not [a-zA-Z_]");
	LABELS_BAD("__name__=x", "__");
	LABELS_BAD("exe=x", "hmo sets itself");
	LABELS_BAD("a=1,pid=2", "hmo sets itself");
	LABELS_BAD("function=f", "hmo sets itself");
	LABELS_BAD("a=1,a=2", "twice");
	LABELS_BAD("a=\"x\",b=1,a=3", "twice");

	/* at most HMO_METRIC_LABELS_MAX bytes once escaped */
	char big[400], out[HMO_METRIC_LABELS_MAX];
	memset(big, '"', sizeof big);
	memcpy(big, "a=", 2);
	big[sizeof big - 1] = '\0';
	ck_assert_ptr_nonnull(strstr(hmo_metric_parse_labels(big, out, sizeof out), "too long"));
	ck_assert_ptr_nonnull(strstr(hmo_metric_parse_labels("a=b", out, 5), "too long"));
	ck_assert_ptr_null(hmo_metric_parse_labels("a=b", out, 6));	/* a="b" and its NUL */
}
END_TEST

START_TEST(family_text)
{
	char common[256];
	struct fmt_buf c;

	fmt_init(&c, common, sizeof common);
	hmo_metric_common(&c, "x264 \"hq\"", 4242, "job=\"enc\"");
	ck_assert_str_eq(common, "exe=\"x264 \\\"hq\\\"\",pid=\"4242\",job=\"enc\"");
	fmt_init(&c, common, sizeof common);
	hmo_metric_common(&c, "ffmpeg", 7, "");
	ck_assert_str_eq(common, "exe=\"ffmpeg\",pid=\"7\"");

	TEXT((hmo_metric_header(&b_, HMO_M_FRAMES, false),
	      hmo_metric_sample(&b_, HMO_M_FRAMES, common, "hit", 7),
	      hmo_metric_sample(&b_, HMO_M_FRAMES, common, "new", 1),
	      hmo_metric_sample(&b_, HMO_M_FRAMES, common, "fallback", 0)),
	     "# HELP hmo_pool_frames_total Frames (allocations of at least HMO_THRESHOLD) by how they were "
	     "served: hit (reused memory), new (fresh memory), fallback (the program's allocator)\n"
	     "# TYPE hmo_pool_frames_total counter\n"
	     "hmo_pool_frames_total{exe=\"ffmpeg\",pid=\"7\",outcome=\"hit\"} 7\n"
	     "hmo_pool_frames_total{exe=\"ffmpeg\",pid=\"7\",outcome=\"new\"} 1\n"
	     "hmo_pool_frames_total{exe=\"ffmpeg\",pid=\"7\",outcome=\"fallback\"} 0\n");
	/* without common labels, without a label of its own: no braces */
	TEXT(hmo_metric_sample(&b_, HMO_M_PEAK_RSS, "", NULL, 18446744073709551615ull),
	     "hmo_peak_rss_bytes 18446744073709551615\n");
	TEXT(hmo_metric_sample(&b_, HMO_M_CALLS, "", "memcpy", 3),
	     "hmo_calls_total{function=\"memcpy\"} 3\n");
	TEXT(hmo_metric_sample(&b_, HMO_M_POOL_LIVE, common, NULL, 0),
	     "hmo_pool_live_bytes{exe=\"ffmpeg\",pid=\"7\"} 0\n");
	/* seconds from ns, nine decimals */
	TEXT(hmo_metric_sample_seconds(&b_, HMO_M_LARGE_COPY_SECONDS, "", NULL, 0),
	     "hmo_large_copy_seconds_total 0.000000000\n");
	TEXT(hmo_metric_sample_seconds(&b_, HMO_M_LARGE_COPY_SECONDS, "", NULL, 1500000001),
	     "hmo_large_copy_seconds_total 1.500000001\n");
	TEXT(hmo_metric_sample_seconds(&b_, HMO_M_CUDA_SECONDS, "", "cuMemAlloc_v2", 12345678901234ull),
	     "hmo_cuda_seconds_total{op=\"cuMemAlloc_v2\"} 12345.678901234\n");
	/* OpenMetrics names a counter's family without _total */
	TEXT(hmo_metric_header(&b_, HMO_M_FRAMES_FREED, true),
	     "# HELP hmo_pool_frames_freed Frames given back to the frame pool\n"
	     "# TYPE hmo_pool_frames_freed counter\n");
	TEXT(hmo_metric_header(&b_, HMO_M_POOL_LIVE, true),
	     "# HELP hmo_pool_live_bytes Bytes of the frames in use now\n"
	     "# TYPE hmo_pool_live_bytes gauge\n");
}
END_TEST

/* The table keeps Prometheus's naming: hmo_ prefix, counters ending in _total and
 * only they, each name once, help on one line, units at the end of the name. */
START_TEST(table_naming)
{
	for (int i = 0; i < HMO_M_COUNT; i++) {
		const struct hmo_metric_family *f = &hmo_metric_families[i];
		size_t n;
		ck_assert_msg(f->name && f->help, "family %d has no entry", i);
		n = strlen(f->name);
		ck_assert_msg(strncmp(f->name, "hmo_", 4) == 0, "%s", f->name);
		bool total = n > 6 && strcmp(f->name + n - 6, "_total") == 0;
		ck_assert_msg(total == (f->type == HMO_METRIC_COUNTER), "%s", f->name);
		ck_assert_msg(!strchr(f->help, '\n') && f->help[0], "%s", f->name);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(f->name, hmo_metric_families[j].name);
		for (size_t k = 0; k < n; k++)
			ck_assert_msg(strchr("abcdefghijklmnopqrstuvwxyz_0123456789", f->name[k]), "%s", f->name);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *t = tcase_create("text");

	tcase_add_test(t, escaping);
	tcase_add_test(t, label_names);
	tcase_add_test(t, user_labels);
	tcase_add_test(t, family_text);
	tcase_add_test(t, table_naming);
	suite_add_tcase(s, t);
	return unit_run(s, CK_FORK);
}
