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
