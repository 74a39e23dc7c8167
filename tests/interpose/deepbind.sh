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

# Traced, the module map is written again after the dlopen and after the dlclose:
# libdeep is in the second generation and not in the first or the third.
if command -v python3 >/dev/null; then
	mkdir "$WORK/tr"
	HMO_TRACE="$WORK/tr" run_hmo "$T/t_deepbind" "$LIBS/libdeep.so" || fail "t_deepbind traced"
	python3 - "$WORK"/tr/*.trace <<'PY' || fail "the module map did not follow dlopen and dlclose"
import struct, sys
d = open(sys.argv[1], "rb").read()
off, gens = 40, {}
while off + 8 <= len(d):
    t, _, size = struct.unpack_from("<HHI", d, off)
    if t == 2:  # HMO_REC_MODULE: start, end, bias, generation, path_len, path
        gen, n = struct.unpack_from("<II", d, off + 8 + 24)
        path = d[off + 8 + 32: off + 8 + 32 + n].decode()
        gens.setdefault(gen, []).append(path)
    off += 8 + ((size + 7) & ~7)
has = [any("libdeep" in p for p in gens[g]) for g in sorted(gens)]
print("module generations, with libdeep:", has)
sys.exit(0 if len(has) >= 3 and has[0] is False and True in has and has[-1] is False else 1)
PY
fi
