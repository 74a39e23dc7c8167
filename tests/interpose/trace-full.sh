#!/bin/sh
# A trace directory on a full disk: the trace cannot start, and libhmo says so in one
# line (hmo: trace PATH: REASON; tracing off), leaves no empty file behind, and the
# program runs on untraced. The disk is a tmpfs of 64 KiB, filled up first: this needs
# root and a mount namespace that allows it, and is skipped elsewhere.
. "$SRCDIR/tests/lib.sh"
cd "$WORK" || exit 99
[ "$(id -u)" -eq 0 ] || skip "not root: no small tmpfs can be mounted to fill up"
mkdir full
mount -t tmpfs -o size=64k,mode=0755 hmo-test-full "$WORK/full" 2>err ||
	skip "mount -t tmpfs is not allowed here ($(head -n 1 err))"
trap 'umount "$WORK/full" 2>/dev/null; rm -rf "$WORK"' EXIT
dd if=/dev/zero of=full/fill bs=4k 2>/dev/null	# until the disk is full
[ "$(stat -f -c %a full)" -eq 0 ] || fail "the tmpfs still has $(stat -f -c %a full) blocks free"
"$T/t_trace" >want 2>/dev/null || fail "t_trace alone"

for trace in "$WORK/full" "$WORK/full/x-%p.trace"; do
	HMO_TRACE=$trace run_hmo "$T/t_trace" >out 2>err; rc=$?
	[ $rc -eq 0 ] || { cat err; fail "HMO_TRACE=$trace on a full disk: status $rc"; }
	cmp -s out want || fail "HMO_TRACE=$trace on a full disk: the program's output changed"
	[ "$(wc -l <err)" -eq 1 ] || { cat err; fail "HMO_TRACE=$trace on a full disk: expected one line"; }
	grep -q "^hmo: trace $WORK/full/[^ ]*[0-9]\.trace: .*No space left on device; tracing off\$" err ||
		{ cat err; fail "HMO_TRACE=$trace on a full disk: not the line expected"; }
	[ "$(ls full)" = fill ] || { ls -la full; fail "HMO_TRACE=$trace on a full disk: a file was left"; }
done
exit 0
