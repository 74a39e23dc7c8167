#!/bin/sh
# A program must not be able to tell, from its results or its error codes, that hmo is
# there: on any context, stream, capture or teardown (t_ctx, on the strict fake
# libcuda of tests/fakecuda). Each case runs without hmo, then under hmo, and the
# outputs must be the same, byte for byte: here under hmo's defaults (make check);
# with CTX_MATRIX=1 (ctx-matrix.sh, make check-long) under every HMO_PIN and
# HMO_CUDA_POOL value.
# Every run has a time limit: a deadlock fails, it does not hang the suite.
. "$SRCDIR/tests/lib.sh"
if [ "${CTX_MATRIX:-0}" = 1 ]; then
	pins='auto staging off' pools='on off'
else
	pins=auto pools=on
fi
fake="$BUILDDIR/tests/fakecuda"
t="$BUILDDIR/tests/cuda"
[ -f "$fake/libcuda.so.1" ] || fail "the fake CUDA libraries are not built"
cd "$WORK" || exit 99
LD_LIBRARY_PATH="$fake${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH

same() {	# same CASE [ENV=VALUE...]: t_ctx CASE plain and under hmo, outputs equal
	c=$1
	shift
	env "$@" timeout 60 "$t/t_ctx" "$c" >plain 2>plain.err || { cat plain plain.err; fail "t_ctx $c, without hmo"; }
	for pin in $pins; do
		for pool in $pools; do
			env "$@" HMO_PIN=$pin HMO_CUDA_POOL=$pool HMO_STATS="$WORK/stats" timeout 60 \
				env LD_PRELOAD="$LIBHMO" "$t/t_ctx" "$c" >hmo 2>hmo.err 9>&- ||
				{ cat hmo hmo.err stats 2>/dev/null; fail "t_ctx $c under hmo (HMO_PIN=$pin HMO_CUDA_POOL=$pool): status $?"; }
			cmp -s plain hmo || { diff plain hmo; cat hmo.err; fail "t_ctx $c: hmo changed what the program saw (HMO_PIN=$pin HMO_CUDA_POOL=$pool)"; }
			rm -f stats
		done
	done
}

same twoctx
# ... and hmo did its work there: blocks came from the pool, and copies were staged.
pooled() {	# pooled CASE: under hmo's defaults, t_ctx CASE used the pool and staging
	HMO_STATS="$WORK/stats" timeout 60 env LD_PRELOAD="$LIBHMO" "$t/t_ctx" "$1" >/dev/null 2>&1 9>&- ||
		fail "t_ctx $1 under hmo"
	grep -q '^hmo: cuda pool: device .* [1-9][0-9,]* from the pool' stats ||
		{ cat stats; fail "t_ctx $1: no device block came from the pool"; }
	grep -q '^hmo: cuda staging: [1-9]' stats || { cat stats; fail "t_ctx $1: nothing was staged"; }
	rm -f stats
}
pooled twoctx
pooled destroy
same twoctx FAKECUDA_DEVICES=2
same release
same destroy
same freeother
same double
same capture
# ... and every capture begun was seen to end: pooling and staging are back on after.
HMO_STATS="$WORK/stats" timeout 60 env LD_PRELOAD="$LIBHMO" "$t/t_ctx" capture >/dev/null 2>&1 9>&- || fail "t_ctx capture under hmo"
! grep -q 'captures were never ended' stats || { cat stats; fail "hmo lost count of the captures"; }
rm -f stats
same hostfn
grep -q 'host function finished' plain || fail "the fake's host function did not finish without hmo"
same meminfo
same oom FAKECUDA_MEM=$((64 << 20))
same ipc
same sizes
same fork
# ... and the child's summary counts the child's calls only (one device and one
# pinned allocation), not its parent's again.
HMO_STATS="$WORK/fork.%p" timeout 60 env LD_PRELOAD="$LIBHMO" "$t/t_ctx" fork >/dev/null 2>&1 9>&- || fail "t_ctx fork under hmo"
[ "$(ls "$WORK"/fork.* | wc -l)" = 2 ] || { ls "$WORK"; fail "t_ctx fork: not one summary per process"; }
# Only the parent created a stream.
child=$(grep -L '^hmo: cuStreamCreate' "$WORK"/fork.* | head -n 1)
[ -n "$child" ] || { cat "$WORK"/fork.*; fail "the forked child's summary repeats its parent's CUDA calls"; }
awk '$1 == "hmo:" && $2 == "cuMemAlloc_v2" { d = $3 } $1 == "hmo:" && $2 == "cuMemAllocHost_v2" { h = $3 }
	END { exit !(d == 1 && h == 1) }' "$child" ||
	{ cat "$child"; fail "the forked child's summary repeats its parent's CUDA calls"; }
same capalloc
same capthread
same freeasync
same threads HMO_CUDA_POOL_MAX=0
same threads
same sticky
same hostwrite
same register
same reload
# ... and hmo followed the library to its new address: the last load's staging ring
# was pinned in it (hmo neither called the old one nor was bypassed).
timeout 60 env LD_PRELOAD="$LIBHMO" "$t/t_ctx" reload >out 2>err 9>&- || { cat out err; fail "t_ctx reload under hmo"; }
grep -q 'pinned by the last load: [1-9]' err || { cat err; fail "after libcuda was loaded again elsewhere, hmo no longer staged"; }
# A driver whose cuGetProcAddress resolves names with dlsym: hmo must never call
# itself as the next definition (it deadlocked in staging).
same twoctx FAKECUDA_GPA_DLSYM=1
FAKECUDA_GPA_DLSYM=1 HMO_STATS="$WORK/stats" timeout 60 env LD_PRELOAD="$LIBHMO" "$t/t_cudart" copies >out 2>&1 9>&- ||
	{ cat out; fail "t_cudart copies, cuGetProcAddress through dlsym: status $?"; }
grep -q '^hmo: cuda staging: [1-9]' stats || { cat stats; fail "cuGetProcAddress through dlsym: nothing staged"; }
exit 0
