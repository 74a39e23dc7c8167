#!/bin/sh
# RTLD_DEEPBIND libraries, and libhmo opened with dlopen instead of preloaded.
. "$SRCDIR/tests/lib.sh"
run_hmo "$T/t_deepbind" "$LIBS/libdeep.so" || fail "t_deepbind under libhmo"
# Without room for jemalloc's static TLS the dlopen may fail, but only cleanly.
"$T/t_dlopen_hmo" "$LIBHMO" may-fail || fail "dlopen of libhmo.so did not fail cleanly"
# With room, it loads, works, and writes its summary.
tls=glibc.rtld.optional_static_tls=65536
GLIBC_TUNABLES=$tls "$T/t_dlopen_hmo" "$LIBHMO" || fail "dlopen of libhmo.so with $tls"
GLIBC_TUNABLES=$tls HMO_STATS=1 "$T/t_dlopen_hmo" "$LIBHMO" 2>"$WORK/err" \
	|| { cat "$WORK/err"; fail "dlopen of libhmo.so with HMO_STATS"; }
grep -q '^hmo: pid' "$WORK/err" || fail "a dlopened libhmo wrote no summary"
