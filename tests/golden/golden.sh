#!/bin/sh
# Golden files: the checked-in fixtures are what mkgolden writes, and hmo-report's
# text and JSON of each are exactly the checked-in expected output.
# After a deliberate change of the report: make update-golden, and read the diff.
. "$SRCDIR/tests/lib.sh"
report="$BUILDDIR/hmo-report"
gold="$SRCDIR/tests/golden"
cd "$WORK" || exit 99
"$BUILDDIR/tests/golden/mkgolden" . || fail "mkgolden"
status=0
for t in encoder killed; do
	cmp -s "$t.trace" "$gold/$t.trace" || { echo "FAIL: $t.trace differs from what mkgolden writes"; status=1; }
	"$report" "$gold/$t.trace" >"$t.txt" 2>"$t.err"
	"$report" --json "$gold/$t.trace" >"$t.json" 2>>"$t.err"
	# The fixture's path is in the output: make it the same wherever the tree is.
	sed -i "s|$gold/||g" "$t.txt" "$t.json" "$t.err"
	for k in txt json err; do
		if ! diff -u "$gold/$t.$k" "$t.$k"; then
			echo "FAIL: hmo-report's $k output for $t.trace differs from $gold/$t.$k"
			status=1
		fi
	done
done
exit $status
