#!/bin/sh
# RTLD_DEEPBIND libraries, and libhmo opened with dlopen instead of preloaded.
. "$SRCDIR/tests/lib.sh"
run_hmo "$T/t_deepbind" "$LIBS/libdeep.so" || fail "t_deepbind under libhmo"
"$T/t_dlopen_hmo" "$LIBHMO" || fail "dlopen of libhmo.so"
HMO_STATS=1 "$T/t_dlopen_hmo" "$LIBHMO" 2>"$WORK/err" || { cat "$WORK/err"; fail "dlopen of libhmo.so with HMO_STATS"; }
grep -q '^hmo: pid' "$WORK/err" || fail "a dlopened libhmo wrote no summary"
