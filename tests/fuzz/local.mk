# ---- fuzzing hmo-report's reader (tests/fuzz) -- included by Makefile.am -------
# The reader's libFuzzer harness, built with clang (configure finds it); fuzz.sh
# skips without it.
FUZZ_SRC = $(srcdir)/tests/fuzz/fuzz_reader.c $(srcdir)/src/report/read.c \
	$(srcdir)/src/report/model.c $(srcdir)/src/report/report.c $(srcdir)/src/report/text.c \
	$(srcdir)/src/report/json.c $(srcdir)/src/report/symbols.c $(srcdir)/src/common/fmt.c \
	$(srcdir)/src/common/names.c $(srcdir)/src/common/pages.c
if HAVE_FUZZER
check_SCRIPTS += tests/fuzz/fuzz_reader
tests/fuzz/fuzz_reader: $(FUZZ_SRC) $(srcdir)/src/report/model.h $(srcdir)/src/report/read.h \
		$(srcdir)/src/report/report.h $(srcdir)/src/common/trace.h $(srcdir)/src/common/fmt.h \
		$(srcdir)/src/common/pages.h $(srcdir)/src/common/names.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  -I$(top_srcdir)/src -include $(top_builddir)/config.h $(DW_CFLAGS) -o $@ $(FUZZ_SRC) \
	  $(DW_LIBS) -lm
endif
CLEANFILES += tests/fuzz/fuzz_reader
FUZZ_TESTS = tests/fuzz/fuzz.sh
EXTRA_DIST += $(FUZZ_TESTS) tests/fuzz/fuzz_reader.c tests/fuzz/crashes
LONG_TESTS += $(FUZZ_TESTS)
