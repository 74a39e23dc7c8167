#!/bin/sh
# A bad HMO_* value: one hmo: line naming the variable, the value and the default;
# the program runs on unchanged.
. "$SRCDIR/tests/lib.sh"
cd "$WORK" || exit 99
"$T/t_counts" >want.out 2>want.err; want_rc=$?

one_line() {	# VAR=VALUE expected-text
	env "$1" LD_PRELOAD="$LIBHMO" "$T/t_counts" >out 2>err; rc=$?
	[ $rc -eq $want_rc ] || fail "$1: exit status $rc, expected $want_rc"
	cmp -s out want.out || fail "$1: the program's stdout changed"
	[ "$(wc -l <err)" -eq 1 ] || { cat err; fail "$1: expected exactly one line on stderr"; }
	grep -qF "$2" err || { cat err; fail "$1: expected \"$2\""; }
}
one_line HMO_THRESHOLD=12Q 'hmo: HMO_THRESHOLD="12Q" is not a size'
one_line HMO_THRESHOLD=12Q 'using the default 1M'
one_line HMO_THRESHOLD=1K 'HMO_THRESHOLD="1K" is out of range (accepted: 4K to 1T)'
one_line HMO_THRESHOLD= 'HMO_THRESHOLD="" is not a size'
one_line HMO_STATS_HIST=maybe 'HMO_STATS_HIST="maybe" is not a boolean (1/0, on/off, yes/no); using the default off'
one_line HMO_STATS=/tmp/%x 'HMO_STATS="/tmp/%x" is a path with an unknown %-escape'
one_line HMO_TRESHOLD=2M 'hmo: unknown variable HMO_TRESHOLD ignored'
one_line HMO_HUGEPAGES=yes 'HMO_HUGEPAGES="yes" is not one of the choices (auto, hugetlb, 1G, thp, off); using the default auto'
one_line HMO_POOL_DECAY=5h 'HMO_POOL_DECAY="5h" is not a duration'
one_line HMO_POOL_MAX=200% 'HMO_POOL_MAX="200%" is not a percentage from 1% to 100%'
# Good values print nothing.
HMO_THRESHOLD=2M HMO_STATS=0 HMO_STATS_HIST=off run_hmo "$T/t_counts" 2>err
[ ! -s err ] || { cat err; fail "valid values printed something"; }

# One line means one line: every variable given a value with a newline, an escape
# and 128 KiB of text warns in one line, with the control characters as C escapes
# (no raw ESC reaches the terminal) and the value cut after 200 bytes with "…".
esc=$(printf '\033')
nl='
'
long=$(head -c 130000 /dev/zero | tr '\0' a)
for v in $("$BUILDDIR/hmo-options" | awk '{ print $1 }'); do
	env "$v=x${nl}y${esc}[2Jz$long" LD_PRELOAD="$LIBHMO" "$T/t_counts" >out 2>err; rc=$?
	[ $rc -eq $want_rc ] || fail "$v with a long value: exit status $rc, expected $want_rc"
	[ "$(wc -l <err)" -eq 1 ] || { head -c 600 err; fail "$v with a long value: expected one line on stderr"; }
	! grep -q "$esc" err || fail "$v: a raw ESC reached stderr"
	grep -qF "$v=\"x\\ny\\x1b[2Jzaaa" err && grep -qF "aaa…\" is " err && [ "$(wc -c <err)" -le 600 ] ||
		{ head -c 600 err; fail "$v: the value not escaped and cut"; }
done
# ... and so does an unknown variable's name.
env "HMO_A${nl}B${esc}[2J=1" LD_PRELOAD="$LIBHMO" "$T/t_counts" >out 2>err
[ "$(wc -l <err)" -eq 1 ] && grep -qxF 'hmo: unknown variable HMO_A\nB\x1b[2J ignored (see the HMO_* list in hmo'"'"'s README)' err ||
	{ cat err; fail "an unknown name with a newline and an escape: not one escaped line"; }
env "HMO_$long=1" LD_PRELOAD="$LIBHMO" "$T/t_counts" >out 2>err
[ "$(wc -l <err)" -eq 1 ] && [ "$(wc -c <err)" -le 300 ] && grep -qF 'aaa… ignored' err ||
	{ head -c 600 err; fail "an unknown name of 128 KiB: not one short line"; }
exit 0
