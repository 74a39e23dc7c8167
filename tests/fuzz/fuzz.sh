#!/bin/sh
# Fuzzes hmo-report's trace reader (tests/fuzz/fuzz_reader, libFuzzer) for a bounded
# time, from seeds that are real traces (the golden fixtures, and a fresh trace of
# t_trace). Every input that once crashed is kept in tests/fuzz/crashes and is run
# first, every time. FUZZ_SECONDS sets how long it runs (default 30).
. "$SRCDIR/tests/lib.sh"
fuzzer="$BUILDDIR/tests/fuzz/fuzz_reader"
[ -x "$fuzzer" ] || skip "no libFuzzer (clang -fsanitize=fuzzer) when configure ran: install clang and libclang-rt-14-dev"
cd "$WORK" || exit 99
mkdir corpus seeds
cp "$SRCDIR"/tests/golden/*.trace seeds/
[ -x "$BUILDDIR/tests/cupti/mkgpu" ] && "$BUILDDIR/tests/cupti/mkgpu" seeds/gpu.trace
mkdir tr
HMO_TRACE=tr HMO_BACKTRACE=4 run_hmo "$T/t_trace" >/dev/null && cp tr/*.trace seeds/t_trace.trace
# The crashes found so far, as regression inputs.
set -- "$SRCDIR"/tests/fuzz/crashes/*
if [ -e "$1" ]; then
	"$fuzzer" "$@" >regress.log 2>&1 || { tail -30 regress.log; fail "a kept crash input fails again"; }
fi
"$fuzzer" -max_total_time="${FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
	-artifact_prefix="$WORK/" corpus seeds >fuzz.log 2>&1 || {
	tail -40 fuzz.log
	for a in "$WORK"/crash-* "$WORK"/leak-* "$WORK"/timeout-* "$WORK"/oom-*; do
		[ -e "$a" ] && cp "$a" "$BUILDDIR/tests/fuzz/" && echo "kept $(basename "$a") in $BUILDDIR/tests/fuzz: add it to tests/fuzz/crashes"
	done
	fail "the fuzzer found an input that breaks the reader"
}
grep -E '^Done|#[0-9]+.*DONE' fuzz.log | tail -1
exit 0
