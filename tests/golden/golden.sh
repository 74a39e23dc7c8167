#!/bin/sh
# Golden files: the checked-in fixtures are what mkgolden writes, and hmo-report's
# text and JSON of each are exactly the checked-in expected output; so are those of
# hmo-report --diff of the diff-before/diff-after pair, and hmo-report --openmetrics of
# encoder.trace.
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
# --openmetrics of encoder.trace (with labels of the user's), into encoder.prom.
"$report" --openmetrics --labels 'job=golden,host=h1' "$gold/encoder.trace" >encoder.prom 2>encoder-prom.err
[ -s encoder-prom.err ] && { cat encoder-prom.err; echo "FAIL: hmo-report --openmetrics said something on stderr"; status=1; }
if ! diff -u "$gold/encoder.prom" encoder.prom; then
	echo "FAIL: hmo-report --openmetrics's output for encoder.trace differs from $gold/encoder.prom"
	status=1
fi
# --diff of the pair, text and JSON, into diff.txt, diff.json and diff.err.
for t in diff-before diff-after; do
	cmp -s "$t.trace" "$gold/$t.trace" || { echo "FAIL: $t.trace differs from what mkgolden writes"; status=1; }
done
# The pair mkgolden just wrote here (the same bytes, checked above), by their bare
# names: the text cuts a long path in the middle, which no rewriting could undo.
"$report" --diff diff-before.trace diff-after.trace >diff.txt 2>diff.err
"$report" --diff --json diff-before.trace diff-after.trace >diff.json 2>>diff.err
for k in txt json err; do
	if ! diff -u "$gold/diff.$k" "diff.$k"; then
		echo "FAIL: hmo-report --diff's $k output for the diff-before/diff-after pair differs from $gold/diff.$k"
		status=1
	fi
done
exit $status
