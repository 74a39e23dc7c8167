# ---- benchmarks (bench) -- included by Makefile.am -----------------------------
# Built on demand by scripts/bench (make bench-programs). bench/mktrace is also a
# check program (tests/interpose/report-scale.sh).
EXTRA_PROGRAMS += bench/churn bench/memcpy bench/frames bench/copy bench/threads bench/touch
check_PROGRAMS += bench/mktrace
bench_churn_SOURCES = bench/churn.c
bench_churn_CFLAGS = $(AM_CFLAGS) -O2 -fno-builtin
bench_churn_LDADD = -lpthread
bench_memcpy_SOURCES = bench/memcpy.c
bench_memcpy_CFLAGS = $(AM_CFLAGS) -O2 -fno-builtin
bench_frames_SOURCES = bench/frames.c
bench_frames_CFLAGS = $(AM_CFLAGS) -O2 -fno-builtin
bench_touch_SOURCES = bench/touch.c
bench_touch_CFLAGS = $(AM_CFLAGS) -O2
bench_threads_SOURCES = bench/threads.c
bench_threads_CFLAGS = $(AM_CFLAGS) -O2 -fno-builtin
bench_threads_LDADD = -lpthread
bench_mktrace_SOURCES = bench/mktrace.c src/common/trace.h
bench_mktrace_CFLAGS = $(AM_CFLAGS) -O2
bench_copy_SOURCES = bench/copy.c include/hmo.h
bench_copy_CFLAGS = $(AM_CFLAGS) -O2
bench_copy_LDADD = libhmo.la
bench-programs: bench/churn$(EXEEXT) bench/memcpy$(EXEEXT) bench/frames$(EXEEXT) bench/mktrace$(EXEEXT) \
		bench/copy$(EXEEXT) bench/threads$(EXEEXT) bench/touch$(EXEEXT)
.PHONY: bench-programs
CLEANFILES += $(EXTRA_PROGRAMS)
EXTRA_DIST += bench/fwd.c bench/cuda.c bench/encoders.sh bench/tracing.sh bench/report.sh bench/fleet.sh
