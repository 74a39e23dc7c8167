#!/bin/sh
# hmo-run: options from the option table, the command's streams, status and signals
# untouched, then the report of every process (or their summaries, untraced).
. "$SRCDIR/tests/lib.sh"
need python3
run="$BUILDDIR/hmo-run"
[ -x "$run" ] || fail "hmo-run not built"
cd "$WORK" || exit 99

# --help lists every variable of the table as an option.
"$run" --help >help || fail "hmo-run --help"
for v in $("$BUILDDIR/hmo-options" | awk '{ print $1 }'); do
	opt=$(echo "${v#HMO_}" | tr 'A-Z_' 'a-z-')
	grep -q -- "--$opt=" help || fail "--help does not list --$opt ($v)"
done
# ... in at most 80 columns, and with each option's help and default.
[ "$(awk '{ if (length($0) > 80) n++ } END { print n + 0 }' help)" -eq 0 ] ||
	{ awk 'length($0) > 80' help; fail "--help has lines over 80 columns"; }
grep -A3 -- '^  --threshold=SIZE$' help | tr '\n' ' ' | grep -q 'served by the frame pool .*(default 1M)' ||
	{ cat help; fail "--help: --threshold's help or default is missing"; }
"$BUILDDIR/hmo-report" --help >rhelp 2>&1 || fail "hmo-report --help"
[ "$(awk '{ if (length($0) > 80) n++ } END { print n + 0 }' rhelp)" -eq 0 ] ||
	{ awk 'length($0) > 80' rhelp; fail "hmo-report --help has lines over 80 columns"; }

# The report comes on stderr after the command; stdout is the command's alone.
"$run" -- "$T/t_counts" >out 2>err; rc=$?
[ $rc -eq 0 ] || fail "status $rc"
[ ! -s out ] || fail "hmo-run wrote to the command's stdout"
grep -q '^hmo-report: 1 process' err || { cat err; fail "no report on stderr"; }
[ "$(awk '$1 == "memcpy" { gsub(",", "", $2); print $2 }' err)" -ge 7 ] || { cat err; fail "memcpy calls not in the report"; }

# Options become HMO_* variables; -o writes the report to a file; --json.
"$run" --threshold=100K --json -o report.json -- "$T/t_counts" 2>err || fail "with --threshold and --json"
[ "$(jget report.json "j['schema']")" = 1 ] || fail "--json did not give JSON"
[ "$(jget report.json "call('memcpy', 'large_calls')")" = 7 ] || { cat report.json err; fail "--threshold=100K: memcpy of 123,457 not large"; }

# --trace=DIR keeps the traces there; --trace=off prints each exit summary instead.
mkdir kept
"$run" --trace="$WORK/kept" -o report -- "$T/t_counts" 2>/dev/null || fail "--trace=DIR"
ls kept/hmo-t_counts-*.trace >/dev/null 2>&1 || fail "--trace=DIR kept no trace"
"$run" --trace=off --threshold=100K -o report -- "$T/t_counts" 2>/dev/null || fail "--trace=off"
grep -q '>=100K' report || { cat report; fail "--trace=off: no summary"; }
[ "$(field report memcpy 4)" = 7 ] || fail "--trace=off: summary with memcpy of 123,457 not large"

# Every process of the command is in the report: a shell, and the child it runs.
"$run" -o report -- sh -c "'$T/t_counts'; true" 2>/dev/null || fail "a two-process command"
grep -q '^hmo-report: 2 processes' report || { cat report; fail "expected both processes in the report"; }

# A command named like a shell builtin is the program, run under hmo.
"$run" -o report -- true 2>/dev/null || fail "hmo-run -- true"
grep -q '^process [0-9]* (parent [0-9]*): true' report || { cat report; fail "'true' did not run as a program under hmo"; }

# stdin passes through, and the command's status comes back.
[ "$(echo hello | "$run" -- cat 2>/dev/null)" = hello ] || fail "stdin did not reach the command"
"$run" -- sh -c 'exit 7' 2>/dev/null; rc=$?
[ $rc -eq 7 ] || fail "exit status $rc, expected 7"

# LD_PRELOAD: libhmo by absolute path, after what was there.
"$run" -- sh -c 'echo "$LD_PRELOAD"' >pre 2>/dev/null
case $(cat pre) in
/*libhmo.so) ;;
*) fail "LD_PRELOAD is '$(cat pre)'" ;;
esac
LD_PRELOAD=/nonexistent/first.so "$run" -- sh -c 'echo "$LD_PRELOAD"' >pre 2>/dev/null
case $(cat pre) in
/nonexistent/first.so:/*libhmo.so) ;;
*) fail "an existing LD_PRELOAD was not kept first: '$(cat pre)'" ;;
esac

# A signal to hmo-run reaches the command, and hmo-run ends with it.
"$run" -- sleep 30 2>/dev/null &
pid=$!
sleep 1
kill -TERM $pid
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 $pid 2>/dev/null || break; sleep 0.5; done
kill -0 $pid 2>/dev/null && { kill -KILL $pid; fail "hmo-run did not end on SIGTERM"; }
wait $pid; rc=$?
[ $rc -eq 143 ] || fail "status $rc after SIGTERM, expected 143"

# --trace=DIR that does not exist is made, as mkdir -p would, and the report printed;
# a relative one is where hmo-run ran, even for a command that changes directory.
"$run" --trace="$WORK/new/deeper" -o report -- "$T/t_counts" 2>err || { cat err; fail "--trace=DIR, a new DIR"; }
ls new/deeper/hmo-t_counts-*.trace >/dev/null 2>&1 || { ls -lR new; fail "--trace=DIR: DIR not made"; }
grep -q '^hmo-report: 1 process' report || { cat report err; fail "--trace=DIR, a new DIR: no report"; }
"$run" --trace=rel -o report -- sh -c 'cd / && exec "$0"' "$T/t_counts" 2>err || { cat err; fail "--trace=rel"; }
ls rel/hmo-t_counts-*.trace >/dev/null 2>&1 || { ls -la . rel; fail "--trace=rel: no trace in ./rel"; }
grep -q '^hmo-report: 2 processes' report || { cat report err; fail "--trace=rel: no report of both processes"; }
# ... and one that cannot be made: one line, a non-zero status, nothing run.
: >afile
for dir in afile/sub afile; do
	"$run" --trace="$dir" -- touch ran 2>err; rc=$?
	[ $rc -ne 0 ] && [ ! -e ran ] && [ "$(wc -l <err)" -eq 1 ] &&
		grep -q "^hmo-run: cannot create trace directory $dir: ." err ||
		{ cat err; ls; fail "--trace=$dir: status $rc, expected one line and nothing run"; }
done

# Paths are never glob-expanded: with files here that the patterns match, each
# export and -o write a file of that very name, and nothing else is written or read.
echo keep >a.html; echo keep >b.html; echo keep >a.json; echo keep >a.folded; echo keep >a.txt
mkdir a.csv
"$run" --html='*.html' --perfetto='*.json' --flamegraph='*.folded' --csv='*.csv' -o '*.txt' \
	-- "$T/t_counts" 2>err || { cat err; fail "exports named with glob characters"; }
[ ! -s err ] || { cat err; fail "exports named with glob characters: something on stderr"; }
for f in a.html b.html a.json a.folded a.txt; do
	[ "$(cat $f)" = keep ] || fail "$f was overwritten"
done
[ -z "$(ls a.csv)" ] || fail "a.csv was written into"
grep -q '<html' '*.html' && [ -s '*.json' ] && [ -s '*.folded' ] && [ -s '*.csv/processes.csv' ] &&
	grep -q '^hmo-report: 1 process' '*.txt' || { ls -la; fail "the files named *.html ... were not all written"; }
"$run" --html='my report.html' -- "$T/t_counts" 2>/dev/null || fail "--html with a space"
grep -q '<html' 'my report.html' || fail "--html='my report.html' not written"

# Bad usage: one line in hmo-run's words, status 2, nothing run.
nl='
'
for bad in --no-such-option=1 --stats.hist=1 '--thresh$old=2M' --no-such-flag -x --=1 "--a b=1" \
	"--stats${nl}hist=1"; do
	"$run" "$bad" -- touch ran 2>err; rc=$?
	[ $rc -eq 2 ] && [ ! -e ran ] && [ "$(wc -l <err)" -eq 1 ] || { cat err; fail "$bad: not refused cleanly"; }
	want=$(printf 'hmo-run: unknown option %s (see hmo-run --help)' "$bad" | sed 's/$/\\n/' | tr -d '\n' |
		sed 's/\\n$//')
	[ "$(cat err)" = "$want" ] || { cat err; fail "$bad: expected '$want'"; }
done
# ... and a long one, with an escape in it, in one short line: the escape as \x1b.
long=$(head -c 100000 /dev/zero | tr '\0' a)
"$run" "--x$(printf '\033')[2J=$long" -- touch ran 2>err; rc=$?
[ $rc -eq 2 ] && [ ! -e ran ] && [ "$(wc -l <err)" -eq 1 ] && [ "$(wc -c <err)" -le 300 ] &&
	grep -qF 'hmo-run: unknown option --x\x1b[2J=aaaa' err && grep -qF 'aaa… (see hmo-run --help)' err ||
	{ head -c 400 err; fail "a long option with an escape not refused in one short line"; }
for opt in --html --perfetto --flamegraph --csv --output; do
	"$run" "$opt" -- touch ran 2>err; rc=$?
	[ $rc -eq 2 ] && [ ! -e ran ] && [ "$(wc -l <err)" -eq 1 ] && grep -q "^hmo-run: $opt needs a value" err ||
		{ cat err; fail "$opt without a value: not refused cleanly"; }
done
"$run" 2>/dev/null; [ $? -eq 2 ] || fail "no command: expected status 2"
exit 0
