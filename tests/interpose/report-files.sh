#!/bin/sh
# hmo-report reads regular files only. A FIFO, a device or a socket where a trace was
# expected (named on the command line, as a *.trace in a directory, or behind a
# symlink) gets one line naming it and what it is; the other traces are still
# reported, and nothing waits for a writer that will never come.
. "$SRCDIR/tests/lib.sh"
need python3
report="$BUILDDIR/hmo-report"
[ -x "$report" ] || fail "hmo-report not built"
cd "$WORK" || exit 99
mkdir tr
HMO_TRACE="$WORK/good.trace" run_hmo "$T/t_trace" >/dev/null || fail "t_trace under HMO_TRACE"
cp good.trace tr/
mkfifo fifo.trace tr/fifo.trace || fail "mkfifo"
ln -s "$WORK/fifo.trace" link.trace
ln -s "$WORK/fifo.trace" tr/link.trace
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' sock.trace ||
	fail "cannot make a socket"

# skipped NAME KIND ARGS...: the report of good.trace, and one line saying NAME is KIND.
skipped() {
	name=$1 kind=$2
	shift 2
	timeout 5 "$report" "$@" >out 2>err; rc=$?
	[ $rc -ne 124 ] || fail "hmo-report $*: still reading after 5 s"
	[ $rc -eq 0 ] || { cat err; fail "hmo-report $*: status $rc"; }
	grep -q '^hmo-report: 1 process' out || { cat out err; fail "hmo-report $*: good.trace not reported"; }
	[ "$(wc -l <err)" -eq 1 ] || { cat err; fail "hmo-report $*: expected one line on stderr"; }
	grep -qF "hmo-report: $name: $kind, not a regular file" err ||
		{ cat err; fail "hmo-report $*: the line does not name $name as $kind"; }
}
skipped fifo.trace "a FIFO" good.trace fifo.trace
skipped link.trace "a FIFO" link.trace good.trace
skipped tr/fifo.trace "a FIFO" tr/good.trace tr/fifo.trace
skipped /dev/null "a character device" good.trace /dev/null
skipped sock.trace "a socket" good.trace sock.trace
# In a directory: the FIFO and the symlink to one are skipped, good.trace is read.
timeout 5 "$report" tr >out 2>err; rc=$?
[ $rc -ne 124 ] || fail "hmo-report DIR: still reading after 5 s"
[ $rc -eq 0 ] && grep -q '^hmo-report: 1 process' out || { cat out err; fail "hmo-report DIR: status $rc"; }
[ "$(wc -l <err)" -eq 2 ] && grep -qF 'tr/fifo.trace: a FIFO, not a regular file' err &&
	grep -qF 'tr/link.trace: a FIFO, not a regular file' err || { cat err; fail "hmo-report DIR: expected two lines"; }
# Only a FIFO: nothing to report, status 1, at once.
timeout 5 "$report" fifo.trace >out 2>err; rc=$?
[ $rc -eq 1 ] || { cat err; fail "hmo-report on a FIFO alone: status $rc, expected 1"; }

# A name or an argument is shown escaped, on one line, whatever it holds.
mkdir odd
printf 'junk' >"odd/a$(printf '\n\033')[2Jb.trace"
"$report" good.trace odd >out 2>err || { cat err; fail "hmo-report with an odd file name"; }
[ "$(wc -l <err)" -eq 1 ] && grep -qF 'hmo-report: odd/a\n\x1b[2Jb.trace: not an hmo trace' err ||
	{ cat -A err; fail "an odd file name not shown escaped on one line"; }
for args in "--top=$(printf '1\n\033')" "--cost=$(printf 'x\n')" "$(printf -- '--x\ny')"; do
	"$report" "$args" good.trace >out 2>err; rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && ! grep -q "$(printf '\033')" err ||
		{ cat -A err; fail "hmo-report $args: not one escaped line and status 2"; }
done
exit 0
