#!/bin/sh
# An unmodified program on the strict fake libcuda: Debian's ffmpeg uploading frames
# to "the GPU" and back (hwupload_cuda, hwupload/hwdownload), at odd sizes in nv12,
# yuv420p and p010le, with one context, two contexts in one graph, a split into two
# chains, the primary context, and -filter_complex (whose probe graph unloads libcuda
# and loads it again elsewhere). Under hmo, with every HMO_PIN and HMO_CUDA_POOL value,
# the output must be byte for byte what ffmpeg writes without hmo, and ffmpeg must
# print no error. SKIP only where ffmpeg lacks the CUDA filters.
. "$SRCDIR/tests/lib.sh"
fake="$BUILDDIR/tests/fakecuda"
[ -f "$fake/libcuda.so.1" ] || fail "the fake CUDA libraries are not built"
need ffmpeg
ffmpeg -hide_banner -filters 2>/dev/null | grep -q ' hwupload_cuda ' || skip "this ffmpeg has no hwupload_cuda filter"
cd "$WORK" || exit 99
LD_LIBRARY_PATH="$fake${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
FAKECUDA_DEVICES=2
export LD_LIBRARY_PATH FAKECUDA_DEVICES

n=0
same() {	# same SIZE ARGS...: ffmpeg ARGS plain and under hmo, outputs identical
	size=$1
	shift
	n=$((n + 1))
	set -- -nostdin -v error -f lavfi -i "testsrc2=size=$size:rate=5" -frames:v 4 "$@" -f rawvideo -y
	timeout 120 ffmpeg "$@" plain.yuv >plain.err 2>&1 9>&- || { cat plain.err; fail "case $n: ffmpeg without hmo: $*"; }
	[ ! -s plain.err ] || { cat plain.err; fail "case $n: ffmpeg printed errors without hmo: $*"; }
	for pin in auto staging off; do
		for pool in on off; do
			HMO_PIN=$pin HMO_CUDA_POOL=$pool HMO_THRESHOLD=${THRESHOLD:-1M} HMO_STATS="$WORK/stats" \
				timeout 120 env LD_PRELOAD="$LIBHMO" ffmpeg "$@" hmo.yuv >hmo.err 2>&1 9>&- ||
				{ cat hmo.err; fail "case $n (HMO_PIN=$pin HMO_CUDA_POOL=$pool): ffmpeg under hmo failed: $*"; }
			[ ! -s hmo.err ] || { cat hmo.err; fail "case $n (HMO_PIN=$pin HMO_CUDA_POOL=$pool): ffmpeg printed errors under hmo: $*"; }
			cmp -s plain.yuv hmo.yuv || fail "case $n (HMO_PIN=$pin HMO_CUDA_POOL=$pool): the frames differ under hmo: $*"
			if [ "$pin" = auto ]; then
				grep -q '^hmo: cuda staging: [1-9]' stats || { cat stats; fail "case $n: nothing was staged: $*"; }
			fi
			rm -f stats
		done
	done
}

up() { echo "format=$1,hwupload_cuda,hwdownload,format=$1"; }
dev="-init_hw_device cuda=cu -filter_hw_device cu"
# Small odd frames, every plane staged (HMO_THRESHOLD=4K), and a large odd one at the
# default threshold.
for fmt in nv12 yuv420p p010le; do
	THRESHOLD=4K same 322x182 -vf "$(up $fmt)"
done
same 1922x1082 -vf "$(up nv12)"
# The device from -init_hw_device, and a second context beside it in one graph.
THRESHOLD=4K same 322x182 $dev -vf format=p010le,hwupload,hwdownload,format=p010le
THRESHOLD=4K same 322x182 $dev -filter_complex \
	"[0]split[a][b];[a]format=nv12,hwupload,hwdownload,format=nv12[x];[b]$(up nv12)[y];[x][y]hstack"
# Two hwupload_cuda chains after a split (two contexts), in -vf and -filter_complex.
THRESHOLD=4K same 322x182 -vf "split[a][b];[a]$(up nv12)[x];[b]$(up yuv420p),format=nv12[y];[x][y]hstack"
THRESHOLD=4K same 322x182 -filter_complex "[0]split[a][b];[a]$(up nv12)[x];[b]$(up nv12)[y];[x][y]hstack"
# -filter_complex alone: libcuda unloaded after the probe graph and loaded again.
THRESHOLD=4K same 322x182 -filter_complex "[0]$(up yuv420p)"
# The primary context on the second device.
THRESHOLD=4K same 322x182 -init_hw_device cuda=cu:1,primary_ctx=1 -filter_hw_device cu \
	-vf format=nv12,hwupload,hwdownload,format=nv12
exit 0
