#!/bin/sh
# HMO_TRACE and hmo-report end to end: t_trace's known calls come out of the report
# exactly, with their call sites named; killed, forked and threaded programs; and
# every kind of bad trace or trace directory.
. "$SRCDIR/tests/lib.sh"
need python3
report="$BUILDDIR/hmo-report"
[ -x "$report" ] || fail "hmo-report not built"
cd "$WORK" || exit 99

# check JSON PYTHON-EXPRESSIONS...: each must be true of the report `r` (a dict);
# `large(fn)` is the large-block row of a function, `site(order, i)` a call site.
check() {
	json=$1
	shift
	python3 - "$json" "$@" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
def large(fn):
    return next((x for x in r["large"] if x["function"] == fn), {"count": 0, "bytes": 0})
def calls(fn):
    return next((x for x in r["calls"] if x["function"] == fn), {"calls": 0, "large_calls": 0})
def site(order, i=0):
    return r["sites"][order]["top"][i]
for expr in sys.argv[2:]:
    if not eval(expr):
        print("FAIL: not true of the report: " + expr)
        print(json.dumps({k: r[k] for k in ("large", "advice")}, indent=1)[:3000])
        sys.exit(1)
PY
}

MiB=1048576

# ---- one process: counts, bytes, outcomes, stacks ------------------------------------
mkdir tr
HMO_TRACE=tr HMO_BACKTRACE=8 run_hmo "$T/t_trace" >out 2>err || { cat err; fail "t_trace failed under HMO_TRACE"; }
[ "$(cat out)" = done ] || fail "t_trace's output changed"
[ ! -s err ] || { cat err; fail "tracing wrote to stderr"; }
set -- tr/hmo-t_trace-*.trace
[ -f "$1" ] || { ls -l tr; fail "no trace file named hmo-t_trace-PID.trace"; }
[ "$(stat -c %a "$1")" = 600 ] || fail "trace file mode $(stat -c %a "$1"), expected 600"
"$report" --json tr >r.json 2>rerr || { cat rerr; fail "hmo-report --json failed"; }
[ ! -s rerr ] || { cat rerr; fail "hmo-report warned on a clean trace"; }
check r.json \
	'len(r["processes"]) == 1 and r["processes"][0]["end"] == "exit"' \
	'large("malloc")["count"] == 6 and large("malloc")["bytes"] == 6 * 4 * '$MiB \
	'large("posix_memalign")["count"] == 3 and large("posix_memalign")["bytes"] == 9 * '$MiB \
	'large("realloc")["count"] == 2 and large("realloc")["bytes"] == 8 * '$MiB \
	'large("free")["count"] == 6 + 2 + 1' \
	'large("malloc")["pool_hits"] + large("malloc")["pool_new"] == 6' \
	'large("malloc")["pool_hits"] >= 5' \
	'large("mmap")["count"] == 2 and large("munmap")["count"] == 2' \
	'large("mmap")["bytes"] == 16 * '$MiB \
	'r["copies"]["count"] == 7 and r["copies"]["bytes"] == 7 * '$MiB \
	'calls("malloc")["large_calls"] == 6 and calls("memcpy")["large_calls"] == 7' \
	'site("by_bytes")["frames"][0].startswith("alloc_frame (t_trace.c:")' \
	'site("by_bytes")["calls"] == 6' \
	'any(f.startswith("main (t_trace.c:") for f in site("by_bytes")["frames"])' \
	'site("by_copy_bytes")["frames"][0].startswith("copy_frame (t_trace.c:")' \
	'site("by_copy_bytes")["copies"] == 7' \
	'site("never_freed")["frames"][0].startswith("alloc_aligned (t_trace.c:")' \
	'site("never_freed")["never_freed"] == 1 and site("never_freed")["never_freed_bytes"] >= 3 * '$MiB \
	'r["sites"]["never_freed"]["others"] == 0' \
	'r["processes"][0]["samples"] >= 1 and r["processes"][0]["peak_rss"] > 0' \
	'len(r["advice"]) >= 1'

# The text report: the same figures, at most 100 columns.
"$report" tr >r.txt 2>rerr || { cat rerr; fail "hmo-report failed"; }
grep -q '^malloc  *6  *24.0 MiB' r.txt || { cat r.txt; fail "text: 6 large mallocs of 24 MiB not shown"; }
grep -q 'at alloc_frame (t_trace.c:' r.txt || fail "text: alloc_frame not named"
grep -q '^7 copies, 7.00 MiB' r.txt || fail "text: the 7 copies not shown"
[ "$(awk '{ if (length($0) > 100) n++ } END { print n + 0 }' r.txt)" -eq 0 ] || fail "text: lines over 100 columns"

# Still 100 columns from a deep build tree (make distcheck's is), with a long trace
# path among the options; and the program's arguments cannot put control characters
# (a terminal's escape sequences) on the reader's screen. An argument in Latin-1 is
# not UTF-8: the text checks read bytes (LC_ALL=C).
deep=$WORK/a-directory-name-of-some-length/another-directory-name-of-some-length/and-a-third-one
mkdir -p "$deep/traces-in-a-directory-with-a-long-name-too"
cp "$T/t_trace" "$deep/" || fail "cannot copy t_trace"
esc=$(printf 'x\033[2Jy')
(cd "$deep" && HMO_TRACE="$deep/traces-in-a-directory-with-a-long-name-too" HMO_BACKTRACE=8 \
	run_hmo ./t_trace long-name "$esc" "$(printf 'caf\351.mp4')" "an-argument-that-is-rather-long-$deep") \
	>/dev/null || fail "t_trace from a deep directory failed"
"$report" "$deep/traces-in-a-directory-with-a-long-name-too" >r.txt 2>rerr || { cat rerr; fail "hmo-report failed"; }
LC_ALL=C grep -q '^process [0-9]* (parent [0-9]*): \./t_trace long-name .*\.\.\..*/and-a-third-one$' r.txt ||
	{ cat r.txt; fail "text: a long command line is not shortened in the middle"; }
LC_ALL=C grep -q '^  options: HMO_TRACE=/.*\.\.\..*/traces-in-a-directory-with-a-long-name-too$' r.txt &&
	LC_ALL=C grep -q '^    HMO_BACKTRACE=8$' r.txt || { cat r.txt; fail "text: long options not shortened and wrapped"; }
[ "$(LC_ALL=C awk '{ if (length($0) > 100) n++ } END { print n + 0 }' r.txt)" -eq 0 ] ||
	{ cat r.txt; fail "text: lines over 100 columns from a deep directory"; }
LC_ALL=C grep -q '^      at a_function_whose_name_is_so_long.*\.\.\..*_within_its_width (t_trace\.c:[0-9]*)$' r.txt ||
	{ cat r.txt; fail "text: a long function name is not shortened in the middle, with its line kept"; }
! LC_ALL=C grep -q "$(printf '\033')" r.txt || fail "text: a control character from argv reached the report"
LC_ALL=C grep -q 'x?\[2Jy' r.txt || { cat r.txt; fail "text: the escape in argv not shown as ?"; }
# JSON: the escape is escaped, and a byte that is not UTF-8 (a Latin-1 file name)
# becomes U+FFFD, so that any parser reads the report.
"$report" --json "$deep/traces-in-a-directory-with-a-long-name-too" >r.json 2>rerr ||
	{ cat rerr; fail "hmo-report --json failed"; }
check r.json '"x\x1b[2Jy caf\ufffd.mp4 an-argument" in r["processes"][0]["cmdline"]'

# exec: what the program recorded before it is kept (libhmo writes its buffers out
# first), and the report shows it becoming the new program. The new one has the same
# pid and name, so its file is hmo-t_trace-PID.trace.1, and a directory read takes it.
mkdir tx
HMO_TRACE=tx HMO_BACKTRACE=8 run_hmo "$T/t_trace" exec "$T/t_trace" normal >out 2>err ||
	{ cat err; fail "t_trace exec t_trace failed"; }
[ "$(cat out)" = done ] || fail "t_trace exec: the new program's output changed"
set -- tx/hmo-t_trace-*.trace.1
[ -f "$1" ] && [ "$(ls tx | wc -l)" -eq 2 ] || { ls -l tx; fail "exec: expected NAME.trace and NAME.trace.1"; }
"$report" --json tx >r.json 2>rerr || { cat rerr; fail "hmo-report --json on an exec"; }
[ ! -s rerr ] || { cat rerr; fail "hmo-report warned on an exec's traces"; }
check r.json 'len(r["processes"]) == 2' \
	'[p["end"] for p in r["processes"]] == ["exec", "exit"]' \
	'r["processes"][0]["pid"] == r["processes"][1]["pid"]' \
	'large("malloc")["count"] == 12 and r["copies"]["count"] == 14'
"$report" tx >r.txt 2>rerr || fail "hmo-report on an exec"
grep -q '^  ran .*; became t_trace by exec$' r.txt || { cat r.txt; fail "text: the exec not shown"; }

# Many processes (a build under hmo-run): the overview shows the 10 of highest peak
# RSS and sums up the others in one sentence.
mkdir tm
HMO_TRACE=tm run_hmo sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do "$1" normal >/dev/null || exit 1; done' \
	sh "$T/t_trace" || fail "12 runs of t_trace under sh"
"$report" --json tm >r.json 2>rerr || { cat rerr; fail "hmo-report --json on many processes"; }
n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["processes"]))' r.json)
[ "$n" -ge 13 ] || fail "expected at least 13 processes, got $n"
"$report" tm >r.txt 2>rerr || fail "hmo-report on many processes"
[ "$(grep -c '^process ' r.txt)" -eq 10 ] || { cat r.txt; fail "text: not 10 processes in the overview"; }
[ "$(grep -c '^process .*t_trace normal$' r.txt)" -eq 10 ] ||
	{ cat r.txt; fail "text: the 10 shown are not the largest (t_trace's)"; }
grep -q "^and $((n - 10)) other processes, of lower peak RSS" r.txt ||
	{ cat r.txt; fail "text: the other $((n - 10)) processes not summed up"; }

# Sampled latency of small calls, and HMO_BACKTRACE=0 (no stacks, same counts).
rm -f tr/*
HMO_TRACE=tr HMO_SAMPLE=1 HMO_BACKTRACE=0 run_hmo "$T/t_trace" >/dev/null || fail "t_trace with HMO_SAMPLE=1"
"$report" --json tr >r.json || fail "report with HMO_SAMPLE=1"
check r.json 'calls("malloc")["latency_samples"] >= 1' \
	'large("malloc")["count"] == 6' \
	'r["sites"]["by_bytes"]["top"] == []'

# ---- a process killed by SIGKILL: the trace reads up to its last flush -----------------
rm -f tr/* ready
# A simple command, so that $! is the traced process itself and not a subshell.
env LD_PRELOAD="$LIBHMO" HMO_TRACE=tr HMO_INTERVAL=20ms "$T/t_trace" hang ready >/dev/null 2>&1 9>&- &
pid=$!
for _ in $(seq 100); do [ -e ready ] && break; sleep 0.1; done
[ -e ready ] || { kill -9 $pid; fail "t_trace hang never got ready"; }
sleep 0.5
kill -9 $pid
wait $pid 2>/dev/null; rc=$?
[ $rc -eq 137 ] || fail "t_trace hang: status $rc, expected 137 (killed by SIGKILL)"
"$report" --json tr >r.json 2>rerr || { cat rerr; fail "no report for a killed process"; }
check r.json 'r["processes"][0]["ended"] == False' \
	'large("malloc")["count"] == 6' \
	'r["copies"]["count"] == 7'
"$report" tr >r.txt 2>/dev/null
grep -q 'no end record' r.txt || fail "text: a killed process not said to be killed"

# ---- fork: a file per process, merged; the child left by _exit ------------------------
rm -f tr/*
HMO_TRACE=tr run_hmo "$T/t_trace" fork >/dev/null || fail "t_trace fork"
[ "$(ls tr | wc -l)" -eq 2 ] || { ls tr; fail "expected two trace files after fork"; }
"$report" --json tr >r.json || fail "report of two processes"
check r.json 'len(r["processes"]) == 2' \
	'sorted(p["end"] for p in r["processes"]) == ["_exit", "exit"]' \
	'large("malloc")["count"] == 6 + 3'

# ---- threads: every thread's events, counters summed ----------------------------------
rm -f tr/*
HMO_TRACE=tr run_hmo "$T/t_trace" threads >/dev/null || fail "t_trace threads"
"$report" --json tr >r.json || fail "report of threads"
check r.json 'large("malloc")["count"] == 6 + 20' 'calls("malloc")["large_calls"] == 26' \
	'site("by_bytes")["calls"] == 20' \
	'any(f.startswith("thread_main (t_trace.c:") for f in site("by_bytes")["frames"])'

# ---- a path pattern, a name already taken, a directory that cannot be written ---------
rm -f tr/*
HMO_TRACE="$WORK/tr/x-%p.trace" run_hmo "$T/t_trace" >/dev/null || fail "pattern"
ls tr/x-[0-9]*.trace >/dev/null 2>&1 || { ls tr; fail "HMO_TRACE pattern %p not expanded"; }
rm -f tr/*
ln -s /nonexistent tr/same.trace
HMO_TRACE="$WORK/tr/same.trace" run_hmo "$T/t_trace" >/dev/null || fail "taken name"
[ -L tr/same.trace ] && [ -f tr/same.trace.1 ] || { ls -l tr; fail "a taken name was not kept, or .1 not used"; }
HMO_TRACE=/proc/nonexistent run_hmo "$T/t_trace" >out 2>err || fail "unwritable trace dir stopped the program"
[ "$(cat out)" = done ] || fail "output changed with an unwritable trace dir"
[ "$(wc -l <err)" -eq 1 ] &&
	grep -qx 'hmo: trace /proc/nonexistent: No such file or directory; tracing off' err ||
	{ cat err; fail "expected one hmo: line"; }

# ---- bad traces: one clear line; non-zero only when nothing could be read ---------------
HMO_TRACE=tr run_hmo "$T/t_trace" >/dev/null || fail "t_trace for the bad-trace cases"
good=$(ls tr/same.trace.1 2>/dev/null || true)
rm -f tr/*.trace*
HMO_TRACE="$WORK/good.trace" run_hmo "$T/t_trace" >/dev/null || fail "t_trace good.trace"
size=$(stat -c %s good.trace)

bad() {	# bad NAME EXPECTED-STATUS GREP-PATTERN
	"$report" "$1" >/dev/null 2>err; rc=$?
	[ $rc -eq "$2" ] || { cat err; fail "$1: status $rc, expected $2"; }
	grep -q "$3" err || { cat err; fail "$1: no line matching '$3'"; }
	[ "$(wc -l <err)" -le 2 ] || { cat err; fail "$1: more than a line or two on stderr"; }
}
bad missing.trace 1 'No such file'
: >empty.trace
bad empty.trace 1 'empty file'
head -c 4000 /bin/sh >garbage.trace
bad garbage.trace 1 'not an hmo trace'
cp good.trace newer.trace
printf '\377' | dd of=newer.trace bs=1 seek=9 conv=notrunc 2>/dev/null
bad newer.trace 1 'newer than this hmo-report reads'
head -c $((size - 5)) good.trace >torn.trace
bad torn.trace 0 'torn last record'
head -c 20 good.trace >header.trace
bad header.trace 1 'truncated in its header'
cp good.trace corrupt.trace
# the first record's size field (bytes 44-47 after the 40-byte header) made huge
printf '\377\377\377\177' | dd of=corrupt.trace bs=1 seek=44 conv=notrunc 2>/dev/null
bad corrupt.trace 0 'corrupt record at byte 40'
mkdir empty-dir
bad empty-dir 1 'no \*.trace files'
# A good trace beside a bad one: the report is made, with the bad one named.
"$report" good.trace garbage.trace >r.txt 2>err || fail "one good trace among bad ones gave no report"
grep -q 'garbage.trace: not an hmo trace' err || fail "the bad trace was not named"
grep -q '^hmo-report: 1 process' r.txt || fail "the good trace was not reported"
"$report" --top 0 good.trace >/dev/null 2>&1; [ $? -eq 2 ] || fail "--top 0 accepted"
: "$good"
exit 0
