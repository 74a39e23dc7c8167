#!/bin/sh
# Foreign mappings pass through; every call is counted.
. "$SRCDIR/tests/lib.sh"
"$T/t_mmap" || fail "t_mmap without hmo"
HMO_STATS="$WORK/s" run_hmo "$T/t_mmap" || fail "t_mmap under libhmo"
[ "$(field "$WORK/s" mremap 1)" -ge 3 ] || fail "mremap calls not counted"
[ "$(field "$WORK/s" mmap64 4)" -ge 1 ] || fail "the 64 MiB mmap64 not counted as large"
