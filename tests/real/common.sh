# Real programs: output under libhmo must be identical to output without it.
. "$SRCDIR/tests/lib.sh"

# same LABEL CMD...: runs CMD without and with libhmo (and its summary on, so the
# counting paths run too); stdout and exit status must match.
same() {
	label=$1; shift
	"$@" >"$WORK/plain.out" 2>"$WORK/plain.err"; rc0=$?
	HMO_STATS="$WORK/stats.%p" run_hmo "$@" >"$WORK/hmo.out" 2>"$WORK/hmo.err"; rc1=$?
	[ $rc0 -eq $rc1 ] || { cat "$WORK/hmo.err"; fail "$label: exit status $rc1 under hmo, $rc0 without"; }
	cmp -s "$WORK/plain.out" "$WORK/hmo.out" || fail "$label: stdout differs under hmo"
	ls "$WORK"/stats.* >/dev/null 2>&1 || fail "$label: no summary written"
	rm -f "$WORK"/stats.*
}
