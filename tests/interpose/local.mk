# ---- interposition tests (tests/interpose) -- included by Makefile.am ----------
# Programs run under LD_PRELOAD=libhmo.so by the scripts beside them. They are
# built without sanitizers: ASan would replace the very functions hmo interposes.
IPOSE_PROGS = tests/interpose/t_entry tests/interpose/t_early tests/interpose/t_reenter tests/interpose/t_foreign \
	tests/interpose/t_fork tests/interpose/t_chdir tests/interpose/t_late tests/interpose/t_mmap tests/interpose/t_copy tests/interpose/t_deepbind \
	tests/interpose/t_dlopen_hmo tests/interpose/t_threads tests/interpose/t_counts \
	tests/interpose/t_pool tests/interpose/t_trace tests/interpose/t_api tests/interpose/t_limits \
	tests/interpose/t_metrics
check_PROGRAMS += $(IPOSE_PROGS)
tests_interpose_t_entry_CFLAGS = $(IP_CF)
tests_interpose_t_early_CFLAGS = $(IP_CF)
tests_interpose_t_reenter_CFLAGS = $(IP_CF)
tests_interpose_t_reenter_LDADD = -lpthread
tests_interpose_t_foreign_CFLAGS = $(IP_CF)
tests_interpose_t_fork_CFLAGS = $(IP_CF)
tests_interpose_t_fork_LDADD = -lpthread
tests_interpose_t_chdir_CFLAGS = $(IP_CF)
tests_interpose_t_late_CFLAGS = $(IP_CF)
tests_interpose_t_late_LDADD = -lpthread
tests_interpose_t_mmap_CFLAGS = $(IP_CF)
tests_interpose_t_copy_CFLAGS = $(IP_CF)
tests_interpose_t_deepbind_CFLAGS = $(IP_CF)
tests_interpose_t_deepbind_LDADD = -ldl
tests_interpose_t_dlopen_hmo_CFLAGS = $(IP_CF)
tests_interpose_t_dlopen_hmo_LDADD = -ldl -lpthread
tests_interpose_t_threads_CFLAGS = $(IP_CF)
tests_interpose_t_threads_LDADD = -lpthread
tests_interpose_t_counts_CFLAGS = $(IP_CF)
tests_interpose_t_metrics_CFLAGS = $(IP_CF)
tests_interpose_t_metrics_LDADD = -ldl
tests_interpose_t_pool_CFLAGS = $(IP_CF)
tests_interpose_t_pool_LDADD = -lpthread
tests_interpose_t_limits_CFLAGS = $(IP_CF)
tests_interpose_t_limits_LDADD = -lpthread
# With line tables and frame pointers: trace.sh checks the names in its call stacks.
tests_interpose_t_trace_CFLAGS = $(IP_CF) -g -O1 -fno-omit-frame-pointer
tests_interpose_t_trace_LDADD = -lpthread
# Linked with -lhmo: the API, and libhmo's hooks, come with the library.
tests_interpose_t_api_CFLAGS = $(IP_CF)
tests_interpose_t_api_LDADD = libhmo.la -ldl

# Helper libraries: loaded before hmo's constructor, after its destructor, as the
# next allocator, and with RTLD_DEEPBIND.
TESTLIB_LINK = -module -avoid-version -rpath /nowhere -shared
check_LTLIBRARIES += tests/interpose/libearly.la tests/interpose/libreenter.la tests/interpose/liblate.la tests/interpose/libdeep.la \
	tests/interpose/libotherhmo.la
tests_interpose_libotherhmo_la_CFLAGS = $(IP_CF)
tests_interpose_libotherhmo_la_LDFLAGS = $(TESTLIB_LINK)
tests_interpose_libearly_la_CFLAGS = $(IP_CF)
tests_interpose_libearly_la_LDFLAGS = $(TESTLIB_LINK)
tests_interpose_libreenter_la_CFLAGS = $(IP_CF)
tests_interpose_libreenter_la_LDFLAGS = $(TESTLIB_LINK)
tests_interpose_liblate_la_CFLAGS = $(IP_CF)
tests_interpose_liblate_la_LDFLAGS = $(TESTLIB_LINK)
tests_interpose_libdeep_la_CFLAGS = $(IP_CF)
tests_interpose_libdeep_la_LDFLAGS = $(TESTLIB_LINK)

# The slowest first, so that make -j starts them early.
INTERPOSE_TESTS = \
	tests/interpose/api.sh tests/interpose/pool.sh tests/interpose/limits.sh tests/interpose/pages.sh \
	tests/interpose/trace.sh tests/interpose/metrics.sh tests/interpose/metrics-exporter.sh tests/interpose/hmo-run.sh tests/interpose/html.sh tests/interpose/compare.sh \
	tests/interpose/entry.sh tests/interpose/early.sh tests/interpose/reenter.sh tests/interpose/foreign.sh tests/interpose/fork.sh \
	tests/interpose/chdir.sh tests/interpose/late.sh tests/interpose/mmap.sh tests/interpose/copy.sh tests/interpose/deepbind.sh \
	tests/interpose/threads.sh tests/interpose/counts.sh tests/interpose/exit.sh tests/interpose/options.sh tests/interpose/readme.sh \
	tests/interpose/hugetlb.sh tests/interpose/numa.sh \
	tests/interpose/formats.sh tests/interpose/examples.sh tests/interpose/report-files.sh \
	tests/interpose/report-scale.sh tests/interpose/report-fold.sh tests/interpose/trace-full.sh tests/interpose/exports.sh tests/interpose/diff.sh \
	tests/interpose/openmetrics.sh
# Long (make check-long): many forks (fork-stress.sh), and programs run to their end
# under a real memory cgroup's limit (cgroup.sh, as root).
INTERPOSE_LONG_TESTS = tests/interpose/cgroup.sh tests/interpose/fork-stress.sh
FAST_TESTS += $(INTERPOSE_TESTS)
LONG_TESTS += $(INTERPOSE_LONG_TESTS)
EXTRA_DIST += $(INTERPOSE_TESTS) $(INTERPOSE_LONG_TESTS) tests/interpose/check.h
