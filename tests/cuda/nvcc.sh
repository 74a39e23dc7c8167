#!/bin/sh
# A program built by nvcc with -cudart shared runs on the fake runtime, alone and
# under hmo, with the same bytes, and its memory pooled under hmo. SKIP (77) where
# configure found no nvcc.
. "$SRCDIR/tests/lib.sh"
prog="$BUILDDIR/tests/cuda/t_nvcc"
[ -x "$prog" ] || skip "no nvcc when configure ran (the CUDA toolkit is not installed)"
fake="$BUILDDIR/tests/fakecuda"
LD_LIBRARY_PATH="$fake${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
cd "$WORK" || exit 99
"$prog" >plain 2>&1 || { cat plain; fail "t_nvcc on the fake runtime"; }
grep -q '^nvcc ok' plain || fail "t_nvcc did not finish"
HMO_STATS="$WORK/stats" run_hmo "$prog" >hmo 2>&1 || { cat hmo; fail "t_nvcc under hmo"; }
grep -q '^nvcc ok' hmo || fail "t_nvcc under hmo did not finish"
grep -q '^hmo-pooled' hmo || { cat hmo stats; fail "t_nvcc's cudaMalloc was not pooled"; }
grep -q '^hmo: cuda staging: [1-9]' stats || { cat stats; fail "t_nvcc's large copies were not staged"; }
exit 0
