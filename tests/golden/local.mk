# ---- golden traces and reports (tests/golden) -- included by Makefile.am -------
# mkgolden writes the trace fixtures; golden.sh compares hmo-report's output on
# each with the checked-in text, JSON and messages.
check_PROGRAMS += tests/golden/mkgolden
tests_golden_mkgolden_SOURCES = tests/golden/mkgolden.c src/common/trace.h
GOLDEN = tests/golden/encoder tests/golden/killed
GOLDEN_TESTS = tests/golden/golden.sh
EXTRA_DIST += $(GOLDEN_TESTS) $(GOLDEN:=.trace) $(GOLDEN:=.txt) $(GOLDEN:=.json) $(GOLDEN:=.err) \
	tests/golden/diff-before.trace tests/golden/diff-after.trace \
	tests/golden/diff.txt tests/golden/diff.json tests/golden/diff.err \
	tests/golden/encoder.prom

# Rewrites the golden fixtures and the report's expected output of each; the diff
# is then read and committed by hand.
update-golden: tests/golden/mkgolden hmo-report
	tests/golden/mkgolden $(srcdir)/tests/golden
	cd $(srcdir)/tests/golden && for t in encoder killed; do \
	  $(abs_builddir)/hmo-report $$t.trace >$$t.txt 2>$$t.err; \
	  $(abs_builddir)/hmo-report --json $$t.trace >$$t.json 2>>$$t.err; \
	done
	cd $(srcdir)/tests/golden && \
	  $(abs_builddir)/hmo-report --diff diff-before.trace diff-after.trace >diff.txt 2>diff.err && \
	  $(abs_builddir)/hmo-report --diff --json diff-before.trace diff-after.trace >diff.json 2>>diff.err
	cd $(srcdir)/tests/golden && \
	  $(abs_builddir)/hmo-report --openmetrics --labels 'job=golden,host=h1' encoder.trace >encoder.prom
	if test -x tests/cupti/mkgpu; then \
	  tests/cupti/mkgpu gpu.trace && \
	  ./hmo-report gpu.trace >$(srcdir)/tests/cupti/gpu.txt && \
	  ./hmo-report --json gpu.trace >$(srcdir)/tests/cupti/gpu.json && rm -f gpu.trace; \
	fi
.PHONY: update-golden
FAST_TESTS += $(GOLDEN_TESTS)
