#!/bin/sh
# Under a memory cgroup's limit, every program that completes with glibc completes
# under hmo, with a peak within one frame of glibc's. The test makes its own group
# (v2 or v1, as root) and skips where it cannot.
. "$SRCDIR/tests/lib.sh"
L="$T/t_limits"

[ "$(id -u)" -eq 0 ] || skip "making a memory cgroup needs root"
cg=
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	v=2 parent=/sys/fs/cgroup
	grep -qw memory "$parent/cgroup.subtree_control" || echo +memory >"$parent/cgroup.subtree_control" 2>/dev/null
elif [ -w /sys/fs/cgroup/memory ] && [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	v=1 parent=/sys/fs/cgroup/memory
else
	skip "no memory cgroup controller to use (neither v2 nor v1 is mounted writable)"
fi
cg="$parent/hmo-test.$$"
mkdir "$cg" 2>/dev/null || skip "cannot create a memory cgroup under $parent"
[ $v = 1 ] || [ -f "$cg/memory.max" ] || { rmdir "$cg"; skip "the memory controller is not enabled under $parent"; }
trap 'rmdir "$cg" 2>/dev/null; rm -rf "$WORK"' EXIT

# in_cg LIMIT OUT CMD...: runs CMD in the group under LIMIT (bytes, or max); its
# exit status is returned and the group's peak usage (MiB) written to OUT.peak.
in_cg() {
	limit=$1 out=$2; shift 2
	if [ $v = 2 ]; then
		echo "$limit" >"$cg/memory.max"
		echo 0 >"$cg/memory.swap.max" 2>/dev/null
		# memory.peak (5.19 on) is reset by writing to it on 6.12 and later; older
		# kernels give the peak of the group's life, so each run has a fresh group.
		echo 0 >"$cg/memory.peak" 2>/dev/null
	else
		[ "$limit" = max ] && limit=-1
		echo "$limit" >"$cg/memory.limit_in_bytes"
		echo 0 >"$cg/memory.max_usage_in_bytes"
	fi
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$@" >"$out" 2>"$out.err" 9>&-
	rc=$?
	if [ $v = 2 ]; then
		p=$(cat "$cg/memory.peak" 2>/dev/null || cat "$cg/memory.current")
	else
		p=$(cat "$cg/memory.max_usage_in_bytes")
	fi
	echo $(( p >> 20 )) >"$out.peak"
	return $rc
}

# 1. Frames freed, then small blocks: cached frames must not push the group over.
in_cg max "$WORK/free" "$L" cgroup || fail "t_limits cgroup without a limit"
base=$(cat "$WORK/free.peak")
limit=$(( (base + 160) << 20 ))
in_cg $limit "$WORK/g1" "$L" cgroup || skip "glibc itself does not complete in $(( limit >> 20 )) MiB here"
in_cg $limit "$WORK/h1" env LD_PRELOAD="$LIBHMO" HMO_STATS="$WORK/h1.stats" "$L" cgroup ||
	{ cat "$WORK/h1.err" "$WORK/h1.stats"; fail "frames then small blocks: killed under hmo in $(( limit >> 20 )) MiB, glibc peaked at $(cat "$WORK/g1.peak") MiB"; }
echo "frames then small blocks in $(( limit >> 20 )) MiB: glibc peak $(cat "$WORK/g1.peak") MiB, hmo $(cat "$WORK/h1.peak") MiB"
grep -q "cgroup's memory limit is" "$WORK/h1.stats" || { cat "$WORK/h1.stats"; fail "the summary does not name the limit"; }
# One frame of slack (16 MiB).
[ "$(cat "$WORK/h1.peak")" -le $(( $(cat "$WORK/g1.peak") + 16 )) ] ||
	fail "frames then small blocks: hmo's peak $(cat "$WORK/h1.peak") MiB, glibc's $(cat "$WORK/g1.peak") MiB"

# 2. libx264 at 1080p (ffmpeg, unmodified), in 32 MiB more than glibc's peak.
if command -v ffmpeg >/dev/null 2>&1 && ffmpeg -hide_banner -encoders 2>/dev/null | grep -q ' libx264 '; then
	set -- ffmpeg -nostdin -hide_banner -loglevel error -threads 2 -f lavfi \
		-i testsrc2=size=1920x1080:rate=25 -frames:v 40 -c:v libx264 -f null -
	in_cg max "$WORK/x0" "$@" || { cat "$WORK/x0.err"; fail "libx264 without a limit"; }
	limit=$(( ($(cat "$WORK/x0.peak") + 32) << 20 ))
	if in_cg $limit "$WORK/gx" "$@"; then
		in_cg $limit "$WORK/hx" env LD_PRELOAD="$LIBHMO" "$@" ||
			{ cat "$WORK/hx.err"; fail "libx264 1080p: killed under hmo in $(( limit >> 20 )) MiB, glibc peaked at $(cat "$WORK/gx.peak") MiB"; }
		echo "libx264 1080p in $(( limit >> 20 )) MiB: glibc peak $(cat "$WORK/gx.peak") MiB, hmo $(cat "$WORK/hx.peak") MiB"
		# One 1080p frame with x264's padding is about 4 MiB; allow two.
		[ "$(cat "$WORK/hx.peak")" -le $(( $(cat "$WORK/gx.peak") + 8 )) ] ||
			fail "libx264 1080p: hmo's peak $(cat "$WORK/hx.peak") MiB, glibc's $(cat "$WORK/gx.peak") MiB"
	else
		echo "libx264: glibc itself does not complete in $(( limit >> 20 )) MiB here; not compared"
	fi
else
	echo "libx264: ffmpeg with libx264 is not installed; only the first program ran"
fi
exit 0
