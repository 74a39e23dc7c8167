# ---- the CUPTI collector and the GPU report (tests/cupti) -- included by Makefile.am
# CUPTI records through the converter, for the golden GPU report.
if HAVE_CUPTI
CUPTI_TEST_PROGS = tests/cupti/mkgpu tests/cupti/t_inject
check_PROGRAMS += $(CUPTI_TEST_PROGS)
tests_cupti_t_inject_SOURCES = tests/cupti/t_inject.c src/common/trace.h
tests_cupti_t_inject_LDADD = -ldl
# A fake libcupti.so.13 (tests/cupti/fakecupti.c): one subscriber slot, buffered copy
# records, a slot held by another tool (FAKECUPTI_HELD).
EXTRA_tests_cupti_t_inject_DEPENDENCIES = tests/cupti/fake/libcupti.so.13
tests/cupti/fake/libcupti.so.13: $(srcdir)/tests/cupti/fakecupti.c
	@$(MKDIR_P) tests/cupti/fake
	$(AM_V_CCLD)$(CC) $(FAKE_CF) $(CUPTI_CPPFLAGS) -Wl,-soname,libcupti.so.13 -o $@ $(srcdir)/tests/cupti/fakecupti.c -lpthread
tests_cupti_mkgpu_SOURCES = tests/cupti/mkgpu.c src/cupti/convert.c src/cupti/convert.h
tests_cupti_mkgpu_CPPFLAGS = $(AM_CPPFLAGS) $(CUPTI_CPPFLAGS)
endif
CLEANFILES += tests/cupti/fake/libcupti.so.13

CUPTI_TESTS = tests/cupti/gpu.sh tests/cupti/collector.sh
EXTRA_DIST += $(CUPTI_TESTS) tests/cupti/gpu.txt tests/cupti/gpu.json \
	tests/cupti/mkgpu.c tests/cupti/fakecupti.c
FAST_TESTS += $(CUPTI_TESTS)
