#!/bin/sh
# The CUPTI collector's graceful path: loaded where there is no GPU driver, with the
# toolkit's stub libcuda, and by libhmo (HMO_CUPTI=1) over the fake libcuda, it says
# "hmo: CUPTI unavailable: ..." once, stays off, and the program is unaffected.
# Over the fake CUPTI (tests/cupti/fakecupti.c): with CUPTI's subscriber slot already
# held, by the program or by a tool, the same, with the reason named and nothing of
# CUPTI touched; and a forked child writes no GPU record, neither into the parent's
# own .gpu.trace nor into its own libhmo trace, while the parent's has each record once.
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

# ---- over the fake CUPTI ----
fake="$BUILDDIR/tests/cupti/fake"
[ -f "$fake/libcupti.so.13" ] || { echo "ERROR: $fake/libcupti.so.13 was not built"; exit 99; }
inject() { LD_LIBRARY_PATH="$fake" "$T/../cupti/t_inject" "$cupti" "$@"; }
# n FILE TYPE: how many records of TYPE (t_inject count's names) the trace FILE holds.
n() { "$T/../cupti/t_inject" count "$1" | awk -v t="$2" '$1 == t { print $2; f = 1 } END { if (!f) print 0 }'; }
held_line='^hmo: CUPTI unavailable: another CUPTI client.* holds CUPTI.s one subscriber slot (CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED); the GPU is not traced, the program goes on$'

# The program holds the slot, as torch.profiler's Kineto does: hmo stays off, with
# one line, enables nothing, leaves the program's subscription alone, creates no file.
mkdir held && cd held || exit 99
inject held >out 2>err || { cat out err; fail "t_inject held"; }
grep -qx 'not started' out && grep -qx 'done' out || { cat out err; fail "held: the collector started, or the program stopped"; }
grep -qx 'activity kinds enabled: 0' out || { cat out; fail "held: hmo enabled CUPTI activity under another client"; }
grep -qx 'own subscription intact' out || { cat out; fail "held: the program lost its subscription"; }
[ "$(grep -c '^hmo:' err)" -eq 1 ] && grep -q "$held_line" err || { cat err; fail "held: expected one hmo: line naming the held slot"; }
[ -z "$(ls | grep -v -x -e out -e err)" ] || { ls; fail "held: hmo created a file"; }
cd .. || exit 99

# A tool injected before the program (nsys) holds it: CUPTI's name for it is in the line.
mkdir tool && cd tool || exit 99
FAKECUPTI_HELD="Nsight Systems" inject >out 2>err || { cat out err; fail "t_inject, slot held by a tool"; }
grep -qx 'not started' out && grep -qx 'done' out || { cat out err; fail "tool: the collector started?"; }
[ "$(grep -c '^hmo:' err)" -eq 1 ] && grep "$held_line" err | grep -q 'client, Nsight Systems, holds' ||
	{ cat err; fail "tool: expected one hmo: line naming Nsight Systems"; }
[ "$(ls | grep -c gpu.trace)" -eq 0 ] || { ls; fail "tool: hmo created a GPU trace"; }
cd .. || exit 99

# The same by libhmo's route, the program's output unchanged.
LD_LIBRARY_PATH="$BUILDDIR/tests/fakecuda" run_hmo "$BUILDDIR/tests/cuda/t_cudart" pool >base 2>/dev/null ||
	fail "t_cudart pool under libhmo"
LD_LIBRARY_PATH="$BUILDDIR/tests/fakecuda:$fake" FAKECUPTI_HELD="Nsight Systems" HMO_CUPTI=1 \
	run_hmo "$BUILDDIR/tests/cuda/t_cudart" pool >out 2>err || { cat out err; fail "t_cudart, HMO_CUPTI=1, slot held"; }
cmp -s base out || { diff base out; fail "t_cudart's output changed with HMO_CUPTI=1 and the slot held"; }
[ "$(grep -c '^hmo:' err)" -eq 1 ] && grep -q "$held_line" err ||
	{ cat err; fail "HMO_CUPTI=1, slot held: expected one line naming the held slot"; }

# fork with 5 copies still in CUPTI's buffers; the child leaves through exit(3).
# The collector's own file: the parent's, each record once; none for the child.
mkdir own && cd own || exit 99
inject fork 5 >out 2>err || { cat out err; fail "t_inject fork"; }
grep -qx 'started' out && grep -q '^child [0-9]* exited 0$' out && grep -qx 'done' out ||
	{ cat out err; fail "fork: t_inject's run"; }
parent=$(sed -n 's/^parent //p' out)
[ ! -s err ] || { cat err; fail "fork: hmo said something"; }
[ "$(ls | grep -v -x -e out -e err)" = "hmo-t_inject-$parent.gpu.trace" ] || { ls; fail "fork: expected the parent's GPU trace only"; }
t="hmo-t_inject-$parent.gpu.trace"
for k in process:1 gpu_copy:5 gpu_info:1 end:1; do
	[ "$(n "$t" "${k%:*}")" -eq "${k#*:}" ] ||
		{ "$T/../cupti/t_inject" count "$t"; fail "fork: the parent's GPU trace should hold ${k#*:} ${k%:*}"; }
done
cd .. || exit 99

# libhmo's trace: the child's own trace (libhmo starts one at fork) holds no GPU
# record, the parent's each once.
mkdir lt
HMO_TRACE="$WORK/lt" LD_LIBRARY_PATH="$fake" run_hmo "$T/../cupti/t_inject" "$cupti" fork 5 >out 2>err ||
	{ cat out err; fail "t_inject fork under libhmo"; }
grep -qx 'started' out && grep -q '^child [0-9]* exited 0$' out && grep -qx 'done' out ||
	{ cat out err; fail "fork under libhmo: t_inject's run"; }
parent=$(sed -n 's/^parent //p' out)
child=$(sed -n 's/^child \([0-9]*\) .*/\1/p' out)
[ -f "lt/hmo-t_inject-$parent.trace" ] && [ -f "lt/hmo-t_inject-$child.trace" ] || { ls lt; fail "fork under libhmo: two traces expected"; }
[ "$(ls lt | wc -l)" -eq 2 ] && [ -z "$(ls | grep gpu.trace)" ] || { ls . lt; fail "fork under libhmo: stray files"; }
t="lt/hmo-t_inject-$parent.trace"
for k in gpu_copy:5 gpu_info:1 end:1; do
	[ "$(n "$t" "${k%:*}")" -eq "${k#*:}" ] ||
		{ "$T/../cupti/t_inject" count "$t"; fail "fork under libhmo: the parent's trace should hold ${k#*:} ${k%:*}"; }
done
t="lt/hmo-t_inject-$child.trace"
"$T/../cupti/t_inject" count "$t" >counts
grep -q '^gpu_' counts && { cat counts; fail "fork under libhmo: the child's trace holds GPU records (the parent's)"; }
[ "$(n "$t" end)" -eq 1 ] || { cat counts; fail "fork under libhmo: the child's trace is not whole"; }
exit 0
