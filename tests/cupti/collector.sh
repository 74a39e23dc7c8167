#!/bin/sh
# The CUPTI collector's graceful path: loaded where there is no GPU driver, with the
# toolkit's stub libcuda, and by libhmo (HMO_CUPTI=1) over the fake libcuda, it says
# "hmo: CUPTI unavailable: ..." once, stays off, and the program is unaffected.
# SKIP where libhmo-cupti.so was not built (no CUPTI in the toolkit).
. "$SRCDIR/tests/lib.sh"
cupti="$BUILDDIR/.libs/libhmo-cupti.so"
[ -f "$cupti" ] || skip "libhmo-cupti.so was not built (no CUPTI when configure ran)"
cd "$WORK" || exit 99

# The driver's route, without a driver.
"$T/../cupti/t_inject" "$cupti" >out 2>err || { cat out err; fail "t_inject without a driver"; }
grep -q '^not started' out && grep -q '^done' out || { cat out err; fail "the collector started without a driver?"; }
[ "$(grep -c '^hmo: CUPTI unavailable: ' err)" -eq 1 ] || { cat err; fail "expected one 'CUPTI unavailable' line"; }

# The same with the toolkit's stub libcuda (error 34 from every call).
stub=$(ls /usr/local/cuda/lib64/stubs/libcuda.so 2>/dev/null || true)
if [ -n "$stub" ]; then
	mkdir stub
	ln -s "$stub" stub/libcuda.so.1
	LD_LIBRARY_PATH="$WORK/stub" "$T/../cupti/t_inject" "$cupti" >out 2>err || { cat out err; fail "t_inject with the stub"; }
	grep -q '^not started' out && grep -q '^done' out || { cat out err; fail "with the stub libcuda"; }
	[ "$(grep -c '^hmo: CUPTI unavailable: ' err)" -eq 1 ] || { cat err; fail "stub: expected one line"; }
fi

# libhmo's route: HMO_CUPTI=1 starts the collector after cuInit; over the fake
# libcuda CUPTI cannot subscribe: one line, and the program's results are the same.
LD_LIBRARY_PATH="$BUILDDIR/tests/fakecuda" HMO_CUPTI=1 run_hmo "$BUILDDIR/tests/cuda/t_cudart" pool >out 2>err ||
	{ cat out err; fail "t_cudart with HMO_CUPTI=1"; }
grep -q '^pool ok' out || { cat out err; fail "t_cudart's results changed with HMO_CUPTI=1"; }
[ "$(grep -c '^hmo: CUPTI unavailable: ' err)" -eq 1 ] || { cat err; fail "HMO_CUPTI=1: expected one line"; }
exit 0
