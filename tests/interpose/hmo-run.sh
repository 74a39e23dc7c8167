#!/bin/sh
# hmo-run: options from the option table, the command's streams, status and signals
# untouched, then every process's summary.
. "$SRCDIR/tests/lib.sh"
run="$BUILDDIR/hmo-run"
[ -x "$run" ] || fail "hmo-run not built"
cd "$WORK" || exit 99

# --help lists every variable of the table as an option.
"$run" --help >help || fail "hmo-run --help"
for v in $("$BUILDDIR/hmo-options" | awk '{ print $1 }'); do
	opt=$(echo "${v#HMO_}" | tr 'A-Z_' 'a-z-')
	grep -q -- "--$opt=" help || fail "--help does not list --$opt ($v)"
done

# The summary comes on stderr after the command; stdout is the command's alone.
"$run" -- "$T/t_counts" >out 2>err; rc=$?
[ $rc -eq 0 ] || fail "status $rc"
[ ! -s out ] || fail "hmo-run wrote to the command's stdout"
[ "$(field err memcpy 1)" -ge 7 ] || { cat err; fail "no summary on stderr"; }

# Options become HMO_* variables; -o writes the summary to a file.
"$run" --threshold=100K -o report -- "$T/t_counts" 2>err || fail "with --threshold"
grep -q '>=100K' report || { cat report err; fail "--threshold=100K not applied"; }
[ "$(field report memcpy 4)" = 7 ] || fail "--threshold=100K: memcpy of 123,457 not large"

# Every process of the command writes its summary: a shell, and the child it runs.
"$run" -o report -- sh -c "'$T/t_counts'; true" 2>/dev/null || fail "a two-process command"
[ "$(grep -c '^hmo: pid' report)" -ge 2 ] || { cat report; fail "expected a summary per process"; }

# A command named like a shell builtin is the program, run under hmo.
"$run" -o report -- true 2>/dev/null || fail "hmo-run -- true"
grep -q '^hmo: pid [0-9]* true' report || { cat report; fail "'true' did not run as a program under hmo"; }

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

# Bad usage: one line, status 2, nothing run.
"$run" --no-such-option=1 -- touch ran 2>err; rc=$?
[ $rc -eq 2 ] && [ ! -e ran ] && [ "$(wc -l <err)" -eq 1 ] || { cat err; fail "unknown option not refused cleanly"; }
"$run" 2>/dev/null; [ $? -eq 2 ] || fail "no command: expected status 2"
exit 0
