# ---- Check unit tests (tests/unit) -- included by Makefile.am ------------------
# Check is needed for `make check` only: without it configure warns, and unit.h
# stops the unit tests' build with a line saying what to install.
UNIT_TESTS = tests/unit/check_options tests/unit/check_hist tests/unit/check_fmt tests/unit/check_metrics \
	tests/unit/check_bootstrap tests/unit/check_numa tests/unit/check_json tests/unit/check_memlimit tests/unit/check_fresh \
	$(CORE_TESTS)
check_PROGRAMS += $(UNIT_TESTS)
FAST_TESTS += $(UNIT_TESTS)
EXTRA_DIST += tests/unit/unit.h tests/unit/core.h
UNIT_CF = $(AM_CFLAGS) $(SAN_TOOL_CFLAGS) $(CHECK_CFLAGS)
UNIT_LIBS = $(CHECK_LIBS)
UNIT_LINK = $(SAN_TOOL_CFLAGS)

tests_unit_check_options_SOURCES = tests/unit/check_options.c $(COMMON_SOURCES)
tests_unit_check_options_CFLAGS = $(UNIT_CF)
tests_unit_check_options_LDADD = $(UNIT_LIBS)
tests_unit_check_options_LDFLAGS = $(UNIT_LINK)
tests_unit_check_hist_SOURCES = tests/unit/check_hist.c src/common/hist.c
tests_unit_check_hist_CFLAGS = $(UNIT_CF)
tests_unit_check_hist_LDADD = $(UNIT_LIBS)
tests_unit_check_hist_LDFLAGS = $(UNIT_LINK)
tests_unit_check_metrics_SOURCES = tests/unit/check_metrics.c src/common/metrics.c src/common/fmt.c
tests_unit_check_metrics_CFLAGS = $(UNIT_CF)
tests_unit_check_metrics_LDADD = $(UNIT_LIBS)
tests_unit_check_metrics_LDFLAGS = $(UNIT_LINK)
tests_unit_check_fmt_SOURCES = tests/unit/check_fmt.c src/common/fmt.c
tests_unit_check_fmt_CFLAGS = $(UNIT_CF)
tests_unit_check_fmt_LDADD = $(UNIT_LIBS)
tests_unit_check_fmt_LDFLAGS = $(UNIT_LINK)
# report.c, and what it needs of the reader (its symbols and the model's tables)
tests_unit_check_json_SOURCES = tests/unit/check_json.c src/report/report.c src/report/model.c \
	src/report/read.c src/report/symbols.c src/common/fmt.c src/common/names.c src/common/pages.c
tests_unit_check_json_CFLAGS = $(UNIT_CF) $(DW_CFLAGS)
tests_unit_check_json_LDADD = $(UNIT_LIBS) $(DW_LIBS) -lm
tests_unit_check_json_LDFLAGS = $(UNIT_LINK)
tests_unit_check_bootstrap_SOURCES = tests/unit/check_bootstrap.c src/preload/bootstrap.c
tests_unit_check_bootstrap_CFLAGS = $(UNIT_CF)
tests_unit_check_bootstrap_LDADD = $(UNIT_LIBS)
tests_unit_check_bootstrap_LDFLAGS = $(UNIT_LINK)
tests_unit_check_fresh_SOURCES = tests/unit/check_fresh.c src/preload/fresh.c src/preload/memlimit.c src/preload/os.c $(COMMON_SOURCES)
tests_unit_check_fresh_CFLAGS = $(UNIT_CF)
tests_unit_check_fresh_LDADD = $(UNIT_LIBS)
tests_unit_check_fresh_LDFLAGS = $(UNIT_LINK)
tests_unit_check_memlimit_SOURCES = tests/unit/check_memlimit.c src/preload/memlimit.c src/preload/os.c $(COMMON_SOURCES)
tests_unit_check_memlimit_CFLAGS = $(UNIT_CF)
tests_unit_check_memlimit_LDADD = $(UNIT_LIBS)
tests_unit_check_memlimit_LDFLAGS = $(UNIT_LINK)
# libnuma, here only: a second opinion on hmo's own topology and mbind (libhmo
# itself never links it; doc/design.md says why).
tests_unit_check_numa_SOURCES = tests/unit/check_numa.c src/preload/numa.c $(COMMON_SOURCES)
tests_unit_check_numa_CFLAGS = $(UNIT_CF) $(HWLOC_CFLAGS)
tests_unit_check_numa_LDADD = $(UNIT_LIBS) $(HWLOC_LIBS) $(NUMA_LIBS)
tests_unit_check_numa_LDFLAGS = $(UNIT_LINK)

# libhmo's internals, without LD_PRELOAD: linked to libhmo-core.la (the layers below
# the hooks, built with libhmo's flags) and what libhmo links besides; core.h sets up
# what hmo_init would.
CORE_TESTS = tests/unit/check_counters tests/unit/check_pool tests/unit/check_tracer tests/unit/check_cudacache
CORE_LIBS = libhmo-core.la jemalloc-hmo.a $(HWLOC_LIBS) $(UNWIND_LIBS) $(UNIT_LIBS) -ldl -lpthread -lm
tests_unit_check_counters_SOURCES = tests/unit/check_counters.c
tests_unit_check_counters_CFLAGS = $(UNIT_CF)
tests_unit_check_counters_LDADD = $(CORE_LIBS)
tests_unit_check_counters_LDFLAGS = $(UNIT_LINK)
tests_unit_check_pool_SOURCES = tests/unit/check_pool.c
tests_unit_check_pool_CFLAGS = $(UNIT_CF)
tests_unit_check_pool_LDADD = $(CORE_LIBS)
tests_unit_check_pool_LDFLAGS = $(UNIT_LINK)
tests_unit_check_tracer_SOURCES = tests/unit/check_tracer.c
tests_unit_check_tracer_CFLAGS = $(UNIT_CF)
tests_unit_check_tracer_LDADD = $(CORE_LIBS)
tests_unit_check_tracer_LDFLAGS = $(UNIT_LINK)
# The fake driver (tests/cuda/local.mk builds it), opened in the test's process.
tests_unit_check_cudacache_SOURCES = tests/unit/check_cudacache.c
tests_unit_check_cudacache_CFLAGS = $(UNIT_CF) -DFAKECUDA_LIB='"$(abs_top_builddir)/tests/fakecuda/libcuda.so.1"'
tests_unit_check_cudacache_LDADD = $(CORE_LIBS)
tests_unit_check_cudacache_LDFLAGS = $(UNIT_LINK)
EXTRA_tests_unit_check_cudacache_DEPENDENCIES = tests/fakecuda/libcuda.so.1
