#!/bin/sh
# hmo's CUDA layer against the fake libcuda and libcudart (tests/fakecuda): each road
# to the driver (the runtime linked as with -cudart shared, dlopen + dlsym, and
# cuGetProcAddress with both stream flavours), the device and pinned pools, copies
# of every kind and size, stream safety, pointer queries, IPC, out-of-memory, and
# the fallbacks: no libcuda, the stub library, no device, HMO_CUDA_POOL=off.
# Each program runs without hmo first: the fakes themselves must pass.
. "$SRCDIR/tests/lib.sh"
fake="$BUILDDIR/tests/fakecuda"
t="$BUILDDIR/tests/cuda"
[ -f "$fake/libcuda.so.1" ] && [ -f "$fake/libcudart.so.13" ] || fail "the fake CUDA libraries are not built"
cd "$WORK" || exit 99
LD_LIBRARY_PATH="$fake${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH

both() {	# both NAME CMD...: CMD passes alone and under hmo; hmo's output is in out.hmo
	name=$1
	shift
	"$@" >out.plain 2>err.plain || { cat out.plain err.plain; fail "$name, without hmo"; }
	HMO_STATS="$WORK/stats" run_hmo "$@" >out.hmo 2>err.hmo || { cat out.hmo err.hmo; fail "$name, under hmo"; }
	! grep -q hmo-pooled out.plain || fail "$name: pooled without hmo?"
}
# staged DIR DIRECTION: the copies (HtoD or DtoH in the function's name) that hmo
# staged through its pinned ring, from the report of the traces in DIR.
staged() {
	report_json "$WORK/staged.json" "$1"
	jget "$WORK/staged.json" "sum(c['staged'] for c in j['cuda'] if '$2' in c['function'])"
}

# The runtime, linked as nvcc -cudart shared links it.
both "cudart pool" "$t/t_cudart" pool
grep -q hmo-pooled out.hmo || { cat out.hmo stats; fail "cudaMalloc after cudaFree did not come from hmo's pool"; }
grep -q '^hmo: cuMemAlloc_v2 ' stats || { cat stats; fail "no cuMemAlloc_v2 line in the summary"; }
grep -q '^hmo: cuda pool: device .* from the pool' stats || { cat stats; fail "no device pool line"; }
grep -q '^hmo: cuda pool: pinned host' stats || { cat stats; fail "no pinned pool line"; }
rm -f stats
HMO_TRACE="$WORK/c1" both "cudart copies" "$t/t_cudart" copies
[ "$(staged c1 HtoD)" -ge 1 ] && [ "$(staged c1 DtoH)" -ge 1 ] || { cat stats; fail "pageable copies were not staged"; }
grep -q '^hmo: cuda staging: [1-9][0-9]* pageable H2D copies .* and [1-9][0-9]* D2H' stats ||
	{ cat stats; fail "the summary does not say what was staged"; }
rm -f stats
# The same copies with small chunks (many per copy, the ring wrapping around), and
# with staging off.
HMO_STAGING_CHUNK=64K HMO_STAGING_SLOTS=2 both "cudart copies, 64 KiB chunks" "$t/t_cudart" copies
rm -f stats
HMO_PIN=off HMO_TRACE="$WORK/c2" both "cudart copies, HMO_PIN=off" "$t/t_cudart" copies
[ "$(staged c2 Memcpy)" -eq 0 ] || fail "HMO_PIN=off still staged"
rm -f stats
FAKECUDART_PTSZ=1 HMO_TRACE="$WORK/c3" both "cudart copies, per-thread default streams" "$t/t_cudart" copies
[ "$(staged c3 Memcpy)" -ge 1 ] || { cat stats; fail "per-thread default streams: nothing staged"; }
rm -f stats
both "cudart streams" "$t/t_cudart" streams
rm -f stats
both "cudart cudaMallocAsync" "$t/t_cudart" async
grep -q '^hmo: cuMemAllocAsync ' stats || { cat stats; fail "cudaMallocAsync not counted"; }
rm -f stats
FAKECUDA_MEM=$((64 << 20)) both "cudart out-of-memory" "$t/t_cudart" oom
grep -q 'retries after out-of-memory' stats || fail "no out-of-memory line"
grep -q "GPU memory at the program's last cuMemGetInfo: .* free of 64.0 MiB" stats || { cat stats; fail "no GPU memory line"; }
[ "$(sed -n 's/.* \([0-9]*\) retries after out-of-memory/\1/p' stats)" -ge 1 ] || { cat stats; fail "out-of-memory: no release and retry"; }
rm -f stats
both "cudart device reset" "$t/t_cudart" reset
rm -f stats
# Frames from hmo's pool, copied again and again: staged like any pageable memory
# (hmo never registers its regions: a registered region would turn the driver copies
# hmo does not wrap asynchronous), and their copies keep pageable semantics.
HMO_TRACE="$WORK/c4" both "cudart frames" "$t/t_cudart" frames
grep -q '^registered 0' out.hmo || { cat out.hmo stats; fail "hmo registered host memory"; }
[ "$(staged c4 Memcpy)" -ge 1 ] || { cat stats; fail "frame copies were not staged"; }
rm -f stats
HMO_PIN=staging HMO_POOL_DECAY=0 both "cudart frames, HMO_POOL_DECAY=0" "$t/t_cudart" frames
rm -f stats

# The driver by dlopen + dlsym (FFmpeg), and by cuGetProcAddress.
both "driver dlsym" "$t/t_driver" dlsym
grep -q hmo-pooled out.hmo || fail "dlsym'd cuMemAlloc_v2 did not pool"
rm -f stats
both "driver cuGetProcAddress" "$t/t_driver" gpa
grep -q hmo-pooled out.hmo || fail "cuGetProcAddress'd cuMemAlloc did not pool"
for f in cuMemAllocAsync cuMemFreeAsync cuMemAllocManaged cuPointerGetAttributes; do
	grep -q "^hmo: $f " stats || { cat stats; fail "$f not counted"; }
done
rm -f stats
# Traced: the report's cuda section has the calls, the pool hits and the staged copies.
if command -v python3 >/dev/null; then
	mkdir tr
	HMO_TRACE="$WORK/tr" run_hmo "$t/t_cudart" copies >/dev/null || fail "t_cudart copies traced"
	"$BUILDDIR/hmo-report" --json tr >r.json || fail "hmo-report of a CUDA trace"
	python3 - r.json <<'PY' || fail "the report's cuda section is wrong"
import json, sys
c = {x["function"]: x for x in json.load(open(sys.argv[1]))["cuda"]}
assert c["cuMemAlloc_v2"]["count"] == 9 and c["cuMemAlloc_v2"]["pool_hits"] >= 1, c["cuMemAlloc_v2"]
assert c["cuMemcpyHtoD_v2"]["staged"] >= 1 and c["cuMemcpyDtoH_v2"]["staged"] >= 1
assert c["cuMemcpyHtoD_v2"]["count"] == 7 and c["cuMemcpyDtoH_v2"]["count"] == 14
PY
	"$BUILDDIR/hmo-report" tr | grep -q '^== cuda' || fail "no cuda section in the text report"
fi

# HMO_CUDA_POOL=off: counted, not pooled.
HMO_CUDA_POOL=off HMO_STATS="$WORK/stats" run_hmo "$t/t_cudart" pool >out 2>&1 || { cat out; fail "HMO_CUDA_POOL=off"; }
! grep -q hmo-pooled out || fail "HMO_CUDA_POOL=off still pooled"
grep -q '^hmo: cuMemAlloc_v2 ' stats || fail "HMO_CUDA_POOL=off: calls not counted"
rm -f stats
# No device, and the toolkit's stub library: everything passes straight through.
for v in FAKECUDA_NODEV FAKECUDA_STUB; do
	env "$v=1" HMO_STATS="$WORK/stats" LD_PRELOAD="$LIBHMO" "$t/t_cudart" nodev >out 2>&1 || { cat out; fail "$v under hmo"; }
	grep -q 'the first cuInit failed' stats || { cat stats; fail "$v: not said in the summary"; }
	rm -f stats
done
# No libcuda at all.
LD_LIBRARY_PATH= run_hmo "$t/t_driver" dlsym >out 2>&1 || { cat out; fail "no libcuda, under hmo"; }
grep -q 'no libcuda' out || fail "t_driver found a libcuda it should not have"
# HMO_METRICS has the CUDA layer's figures: calls per driver function, both pools'
# hits, the staged bytes; promtool accepts the file.
HMO_METRICS="$WORK/cuda.prom" run_hmo "$t/t_cudart" pool >out 2>&1 || { cat out; fail "t_cudart pool with HMO_METRICS"; }
HMO_METRICS="$WORK/copies.prom" run_hmo "$t/t_cudart" copies >out 2>&1 || { cat out; fail "t_cudart copies with HMO_METRICS"; }
for m in cuda copies; do
	if command -v promtool >/dev/null; then
		promtool check metrics <"$WORK/$m.prom" >out 2>&1 || { cat out "$WORK/$m.prom"; fail "promtool refuses $m.prom"; }
	fi
done
python3 - "$WORK/cuda.prom" "$WORK/copies.prom" <<'EOF' || fail "the CUDA figures of HMO_METRICS"
import re, sys
def samples(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        m = re.fullmatch(r'(\w+)\{([^}]*)\} (\S+)\n', line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            key = (m.group(1), labels.get("op") or labels.get("outcome") or labels.get("direction"))
            out[key] = float(m.group(3))
    return out
pool, copies = samples(sys.argv[1]), samples(sys.argv[2])
want = [(pool, ("hmo_cuda_calls_total", "cuMemAlloc_v2")), (pool, ("hmo_cuda_bytes_total", "cuMemAlloc_v2")),
        (pool, ("hmo_cuda_device_pool_allocations_total", "hit")),
        (pool, ("hmo_cuda_pinned_pool_allocations_total", "hit")),
        (copies, ("hmo_cuda_staged_bytes_total", "htod")), (copies, ("hmo_cuda_staged_bytes_total", "dtoh"))]
bad = [k for s, k in want if not s.get(k)]
if bad:
    print("FAIL: no or zero %s" % bad); sys.exit(1)
EOF

# 1 GiB copies, when the machine has the memory for them.
if [ "$(awk '/MemAvailable/ { print int($2 / 1048576) }' /proc/meminfo)" -ge 8 ]; then
	T_BIG=1 FAKECUDA_MEM=$((3 << 30)) run_hmo "$t/t_cudart" copies >out 2>&1 || { cat out; fail "1 GiB copies under hmo"; }
fi
exit 0
