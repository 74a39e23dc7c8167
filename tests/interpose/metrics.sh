#!/bin/sh
# HMO_METRICS: Prometheus text that promtool accepts, at exit and mid-run; the
# same figures as hmo_stats of the same run; never seen half-written while it is
# rewritten every 10 ms; one hmo: line and the program's own exit status where it
# cannot be written (no directory, one that vanishes, /proc, /dev/full, a
# read-only or full file system); a symbolic link in the way replaced, never
# followed; bad HMO_METRICS_LABELS named in one line. (metrics-exporter.sh: a real
# node_exporter serves the file.)
. "$SRCDIR/tests/lib.sh"
need promtool
need python3

# prom.py FILE [EXPR]: parses FILE as the text format, strictly (every line a
# comment or a sample of the family whose # HELP and # TYPE came last; values
# numbers; every family of hmo's in its place, the last one included); then prints
# EXPR over v(NAME, LABEL=VALUE...), the sum of the matching samples, and s(NAME),
# their count. A file that does not parse prints "bad: why" and exits 1.
cat >"$WORK/prom.py" <<'EOF'
import re, sys
FAMILIES = """hmo_running hmo_elapsed_seconds hmo_threshold_bytes hmo_calls_total hmo_bytes_total
hmo_large_calls_total hmo_large_bytes_total hmo_large_copy_bytes_total hmo_large_copy_timed_bytes_total
hmo_large_copy_seconds_total hmo_api_copies_total hmo_api_copy_bytes_total hmo_api_copy_seconds_total
hmo_pool_frames_total hmo_pool_frames_freed_total hmo_pool_frame_bytes_total hmo_pool_faults_avoided_total
hmo_pool_mapped_bytes hmo_pool_resident_bytes hmo_pool_live_bytes hmo_pool_peak_live_bytes
hmo_pool_released_bytes_total hmo_page_faults_total hmo_peak_rss_bytes hmo_cuda_calls_total hmo_cuda_bytes_total
hmo_cuda_seconds_total hmo_cuda_errors_total hmo_cuda_device_pool_allocations_total
hmo_cuda_pinned_pool_allocations_total hmo_cuda_staged_bytes_total hmo_cuda_device_pool_cached_bytes
hmo_cuda_device_pool_peak_cached_bytes hmo_cuda_device_pool_released_bytes_total hmo_cuda_pinned_pool_cached_bytes
hmo_cuda_device_free_bytes hmo_cuda_device_total_bytes""".split()
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
def parse(text):
    if not text.endswith("\n"):
        raise ValueError("no newline at the end")
    fams, samples, cur = [], [], None
    for line in text.split("\n")[:-1]:
        m = re.fullmatch(r"# HELP (\S+) (.+)", line)
        if m:
            fams.append(m.group(1)); cur = None; continue
        m = re.fullmatch(r"# TYPE (\S+) (counter|gauge)", line)
        if m:
            if not fams or fams[-1] != m.group(1):
                raise ValueError("TYPE without its HELP: " + line)
            cur = m.group(1); continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != cur:
            raise ValueError("not a sample of the family above: %r" % line)
        labels, rest = {}, m.group(2) or ""
        while rest:
            l = LABEL.match(rest)
            if not l:
                raise ValueError("bad labels: %r" % line)
            labels[l.group(1)] = l.group(2).replace('\\n', '\n').replace('\\"', '"').replace('\\\\', '\\')
            rest = rest[l.end():]
            if rest.startswith(","):
                rest = rest[1:]
            elif rest:
                raise ValueError("bad labels: %r" % line)
        samples.append((m.group(1), labels, float(m.group(3))))
    if fams != FAMILIES:
        raise ValueError("families %s, not hmo's %s" % (fams, FAMILIES))
    return samples
def load(path):
    with open(path, encoding="utf-8") as f:
        return parse(f.read())
if __name__ == "__main__":
    try:
        S = load(sys.argv[1])
    except Exception as e:
        print("bad: %s" % e); sys.exit(1)
    def match(name, kw):
        return [x for n, l, x in S if n == name and all(l.get(k) == v for k, v in kw.items())]
    env = {"v": lambda name, **kw: sum(match(name, kw)), "s": lambda name, **kw: len(match(name, kw)), "S": S}
    def ev(expr):
        r = eval(expr, env)
        return str(int(r) if isinstance(r, float) and r.is_integer() else r)
    if len(sys.argv) > 3 and sys.argv[2] == "--checks":
        # lines of WHAT<tab>EXPR<tab>EXPECTED: each failure printed
        bad = 0
        for line in open(sys.argv[3], encoding="utf-8"):
            what, expr, expected = line.rstrip("\n").split("\t")
            if ev(expr) != expected:
                print("FAIL: %s: the file says %s, expected %s" % (what, ev(expr), expected)); bad += 1
        sys.exit(1 if bad else 0)
    if len(sys.argv) > 2:
        print(ev(sys.argv[2]))
EOF
prom() { python3 "$WORK/prom.py" "$@"; }
promcheck() {	# FILE WHAT
	promtool check metrics <"$1" >"$WORK/promtool.out" 2>&1 || { cat "$WORK/promtool.out" "$1"; fail "promtool refuses $2"; }
	prom "$1" >/dev/null || { prom "$1"; fail "$2 does not parse"; }
}
# hmo_lines FILE: the number of hmo: lines in FILE.
hmo_lines() { grep -c '^hmo:' "$1"; }

# ---- the figures: the same as hmo_stats's, exactly ------------------------------
mkdir "$WORK/m"
HMO_METRICS="$WORK/m/%e-%p.prom" HMO_METRICS_LABELS='job=enc "1",host=a\b' T_STATS="$WORK/st" \
	run_hmo "$T/t_metrics" exact 2>"$WORK/err"
rc=$?
[ $rc = 5 ] || { cat "$WORK/err"; fail "t_metrics exact: status $rc, expected 5"; }
[ -s "$WORK/err" ] && { cat "$WORK/err"; fail "t_metrics exact wrote to stderr"; }
set -- "$WORK"/m/t_metrics-*.prom
[ $# = 1 ] && [ -f "$1" ] || { ls -la "$WORK/m"; fail "not one metrics file: $*"; }
f=$1
pid=${f##*-}; pid=${pid%.prom}
promcheck "$f" "the file written at exit"
[ "$(stat -c %a "$f")" = 644 ] || fail "mode $(stat -c %a "$f"), not 644"
[ "$(ls -a "$WORK/m" | wc -l)" = 3 ] || { ls -la "$WORK/m"; fail "something besides the file was left"; }
L="exe='t_metrics', pid='$pid', job='enc \"1\"', host='a\\\\b'"
# want WHAT EXPR-OVER-THE-FILE EXPECTED: a check, run with the others by checks_run
: >"$WORK/checks"
want() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$WORK/checks"; }
checks_run() { prom "$1" --checks "$WORK/checks" || { cat "$1"; fail "the figures of $1"; }; }
st() { sed -n "s/^$1=//p" "$WORK/st"; }
[ "$(st hmo)" = 1 ] || fail "no hmo_stats figures"
frames="v('hmo_pool_frames_total', $L, outcome='hit') + v('hmo_pool_frames_total', $L, outcome='new')"
want "frames" "$frames" "$(st frames)"
want "frames (the program's)" "$frames" 8
want "pool hits" "v('hmo_pool_frames_total', $L, outcome='hit')" "$(st frames_reused)"
want "pool hits (the program's)" "v('hmo_pool_frames_total', $L, outcome='hit')" 7
want "fallbacks" "v('hmo_pool_frames_total', $L, outcome='fallback')" "$(st frame_fallbacks)"
want "frames freed" "v('hmo_pool_frames_freed_total', $L)" "$(st frames_freed)"
want "frame bytes" "v('hmo_pool_frame_bytes_total', $L)" "$(st frame_bytes)"
want "faults avoided" "v('hmo_pool_faults_avoided_total', $L)" "$(st faults_avoided)"
COPY="('memcpy', 'memmove', 'memset', '__memcpy_chk', '__memmove_chk', '__memset_chk')"
FREE="('free', 'free_sized', 'free_aligned_sized')"
NOTALLOC="$COPY + $FREE + ('malloc_usable_size', 'mmap', 'mmap64', 'munmap', 'mremap')"
sumfn() {	# FAMILY CONDITION-ON-fn
	echo "sum(x for n, l, x in S if n == '$1' and l.get('pid') == '$pid' and ($2))"
}
want "copy calls" "$(sumfn hmo_calls_total "l['function'] in $COPY")" "$(st copy_calls)"
want "copy bytes" "$(sumfn hmo_bytes_total "l['function'] in $COPY")" "$(st copy_bytes)"
want "large copy calls" "$(sumfn hmo_large_calls_total "l['function'] in $COPY")" "$(st large_copy_calls)"
want "large copy bytes" "v('hmo_large_copy_bytes_total', $L)" "$(st large_copy_bytes)"
want "large copy bytes, by function" "$(sumfn hmo_large_bytes_total "l['function'] in $COPY")" "$(st large_copy_bytes)"
want "large copy time" "round(v('hmo_large_copy_seconds_total', $L) * 1e9)" "$(st large_copy_ns)"
want "memcpy large calls (the program's)" "v('hmo_large_calls_total', $L, function='memcpy')" 3
want "free calls" "$(sumfn hmo_calls_total "l['function'] in $FREE")" "$(st free_calls)"
want "allocation calls" "$(sumfn hmo_calls_total "l['function'] not in $NOTALLOC")" "$(st alloc_calls)"
want "allocation bytes" "$(sumfn hmo_bytes_total "l['function'] not in $NOTALLOC")" "$(st alloc_bytes)"
want "running" "v('hmo_running', $L)" 0
want "the threshold" "v('hmo_threshold_bytes', $L)" 1048576
want "every sample's labels" "all(l.get('pid') == '$pid' and l.get('exe') == 't_metrics' and l.get('job') == 'enc \"1\"' and l.get('host') == 'a\\\\b' for n, l, x in S)" True
want "peak live bytes" "v('hmo_pool_peak_live_bytes', $L) >= 3 << 20" True
want "minor faults" "v('hmo_page_faults_total', $L, kind='minor') > 0" True
want "CUDA figures of a program without CUDA" "s('hmo_cuda_calls_total') + s('hmo_cuda_device_pool_allocations_total')" 0
checks_run "$f"

# ---- a relative path is taken from where the program started ----------------------
mkdir "$WORK/rel"
(cd "$WORK/rel" && HMO_METRICS=rel-%p.prom HMO_INTERVAL=10ms run_hmo "$T/t_metrics" chdir) 2>"$WORK/err"
[ $? = 5 ] || { cat "$WORK/err"; fail "t_metrics chdir: status"; }
set -- "$WORK"/rel/rel-*.prom
[ -f "$1" ] || fail "a relative HMO_METRICS: no file where the program started"
promcheck "$1" "the file of a program that changed directory"
ls /rel-*.prom >/dev/null 2>&1 && fail "a relative HMO_METRICS: a file in /"

# ---- a forked child writes its own file ---------------------------------------------
mkdir "$WORK/f"
HMO_METRICS="$WORK/f/m-%p.prom" run_hmo "$T/t_metrics" fork 2>"$WORK/err"
rc=$?
[ $rc = 3 ] || { cat "$WORK/err"; fail "t_metrics fork: status $rc, expected 3"; }
set -- "$WORK"/f/m-*.prom
[ $# = 2 ] || { ls -la "$WORK/f"; fail "t_metrics fork: $# files, expected 2"; }
for m in "$@"; do
	promcheck "$m" "a forked process's file"
	p=${m##*-}; p=${p%.prom}
	[ "$(prom "$m" "all(l['pid'] == '$p' for n, l, x in S)")" = True ] || fail "$m: another process's pid"
	[ "$(prom "$m" "v('hmo_pool_frames_total')")" -ge 8 ] || { cat "$m"; fail "$m: fewer than 8 frames"; }
done

# A forked child starts no writer thread (a thread made in a fork handler could wait
# on the next allocator's locks): while it runs it has no file; it writes at exit.
mkdir "$WORK/f2"
env HMO_METRICS="$WORK/f2/m-%p.prom" HMO_INTERVAL=10ms LD_PRELOAD="$LIBHMO" "$T/t_metrics" fork 1000 9>&- &
job=$!
sleep 0.5
for m in "$WORK"/f2/m-*.prom; do
	[ -f "$m" ] && [ "$m" != "$WORK/f2/m-$job.prom" ] && fail "a forked child's file while it ran: $m"
done
wait $job
[ $? = 3 ] || fail "t_metrics fork 1000: status"
set -- "$WORK"/f2/m-*.prom
[ $# = 2 ] || { ls -la "$WORK/f2"; fail "t_metrics fork 1000: $# files, expected 2"; }
for m in "$@"; do
	[ "$(prom "$m" "v('hmo_running')")" = 0 ] || fail "$m: not written at its exit"
done

# ---- an exec: the image that goes writes its last figures first ---------------------
mkdir "$WORK/x"
HMO_METRICS="$WORK/x/m-%e-%p.prom" run_hmo sh -c 'exec true' 2>"$WORK/err" || fail "sh -c 'exec true' under hmo"
set -- "$WORK"/x/m-sh-*.prom
[ -f "$1" ] || { ls -la "$WORK/x"; cat "$WORK/err"; fail "no file of the shell that exec'd"; }
promcheck "$1" "the file written before an exec"
[ "$(prom "$1" "v('hmo_running')")" = 0 ] || fail "the file written before an exec says running"
[ -f "$WORK"/x/m-true-*.prom ] || { ls -la "$WORK/x"; fail "no file of the exec'd program"; }

# ---- never half-written: a reader while it is rewritten every 10 ms -----------------
mkdir "$WORK/live"
live="$WORK/live/m.prom"
# The reader starts first (python may take a while to start on a loaded machine),
# and reads until it sees the file written at exit.
cat >"$WORK/reader.py" <<'EOF'
import importlib.util, os, shutil, sys, time
spec = importlib.util.spec_from_file_location("prom", sys.argv[1])
prom = importlib.util.module_from_spec(spec); spec.loader.exec_module(prom)
path, d = sys.argv[2], sys.argv[3]
open(sys.argv[4], "w").close()	# ready: the program may start
end = time.time() + 30
reads, running, versions, kept = 0, 0, set(), 0
while time.time() < end:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        time.sleep(0.001)
        continue
    try:
        s = prom.parse(text)
    except Exception as e:
        print("FAIL: read %d does not parse: %s" % (reads, e)); sys.exit(1)
    reads += 1
    versions.add(tuple(x for n, l, x in s if n == "hmo_elapsed_seconds"))
    r = [x for n, l, x in s if n == "hmo_running"]
    if r != [1.0] and r != [0.0]:
        print("FAIL: hmo_running is %s" % r); sys.exit(1)
    if r == [1.0]:
        running += 1
        if kept < 3 and running % 20 == 1:	# a few mid-run files, for promtool
            shutil.copy(path, os.path.join(os.path.dirname(d), "mid%d.prom" % kept)); kept += 1
    else:
        break
print("%d reads, %d while running, %d versions" % (reads, running, len(versions)))
if running < 20 or len(versions) < 20:
    print("FAIL: too few reads or versions mid-run"); sys.exit(1)
EOF
python3 "$WORK/reader.py" "$WORK/prom.py" "$live" "$WORK/live" "$WORK/ready" >"$WORK/reader.out" 2>&1 &
reader=$!
for i in $(seq 300); do [ -f "$WORK/ready" ] && break; sleep 0.1; done
[ -f "$WORK/ready" ] || { cat "$WORK/reader.out"; fail "the reader did not start"; }
HMO_METRICS="$live" HMO_INTERVAL=10ms run_hmo "$T/t_metrics" run 1500 2>"$WORK/err" ||
	{ cat "$WORK/err"; fail "t_metrics run: status $?"; }
wait $reader || { cat "$WORK/reader.out"; fail "the reader"; }
cat "$WORK/reader.out"
[ -s "$WORK/err" ] && { cat "$WORK/err"; fail "t_metrics run wrote to stderr"; }
for m in "$WORK"/mid*.prom "$live"; do
	promcheck "$m" "$(basename "$m")"
done
[ "$(prom "$live" "v('hmo_running')")" = 0 ] || fail "the last file is not the one written at exit"
[ "$(ls -a "$WORK/live" | wc -l)" = 3 ] || { ls -la "$WORK/live"; fail "a temporary file was left"; }

# ---- where it cannot be written: one line, the program's own status -------------------
# once CASE EXPECTED-STATUS COMMAND...: runs COMMAND; checks its status and that it
# wrote one hmo: line.
once() {
	what=$1 want=$2; shift 2
	"$@" 2>"$WORK/err"
	rc=$?
	[ "$rc" = "$want" ] || { cat "$WORK/err"; fail "$what: status $rc, expected $want"; }
	n=$(hmo_lines "$WORK/err")
	[ "$n" = 1 ] || { cat "$WORK/err"; fail "$what: $n hmo: lines, expected 1"; }
	echo "$what: $(cat "$WORK/err")"
}
once "no such directory" 5 run_hmo env HMO_METRICS="$WORK/none/m.prom" "$T/t_metrics" exact
grep -q "No such file or directory" "$WORK/err" || fail "no such directory: the reason is not given"
once "no such directory, every 10 ms" 0 run_hmo env HMO_METRICS="$WORK/none/m.prom" HMO_INTERVAL=10ms "$T/t_metrics" run 300
once "a file under /proc" 5 run_hmo env HMO_METRICS=/proc/hmo-metrics-test.prom "$T/t_metrics" exact
# /dev/full as the file: the temporary file could be made beside it (in /dev, as
# root), but rename would put a regular file in the device's place. hmo replaces a
# regular file or a symbolic link only: the device is left as it is.
once "/dev/full" 5 run_hmo env HMO_METRICS=/dev/full "$T/t_metrics" exact
[ -c /dev/full ] || fail "/dev/full is no longer a device"
ls /dev/full.tmp.* >/dev/null 2>&1 && fail "a temporary file was left in /dev"
# a directory that goes away while the program runs
mkdir "$WORK/gone"
env HMO_METRICS="$WORK/gone/m.prom" HMO_INTERVAL=10ms LD_PRELOAD="$LIBHMO" "$T/t_metrics" run 3000 2>"$WORK/err" 9>&- &
job=$!
for i in $(seq 100); do [ -f "$WORK/gone/m.prom" ] && break; sleep 0.02; done
[ -f "$WORK/gone/m.prom" ] || fail "vanishing directory: no file after 2 s"
# moved away at once (rm -r could race with a temporary file being made in it)
mv "$WORK/gone" "$WORK/moved"
wait $job
rc=$?
[ $rc = 0 ] || { cat "$WORK/err"; fail "vanishing directory: status $rc"; }
[ "$(hmo_lines "$WORK/err")" = 1 ] || { cat "$WORK/err"; fail "vanishing directory: not one hmo: line"; }
echo "a directory that vanishes: $(cat "$WORK/err")"

# A read-only and a full file system, in a mount namespace of the test's own (root).
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	mkdir "$WORK/ro" "$WORK/full"
	cat >"$WORK/mounts.sh" <<'EOF'
set -e
mount -t tmpfs -o ro,size=1m tmpfs "$WORK/ro"
mount -t tmpfs -o size=64k tmpfs "$WORK/full"
dd if=/dev/zero of="$WORK/full/fill" bs=4k 2>/dev/null || true
set +e
env HMO_METRICS="$WORK/ro/m.prom" LD_PRELOAD="$LIBHMO" "$T/t_metrics" exact 2>"$WORK/err-ro"
echo "ro $?" >"$WORK/status"
env HMO_METRICS="$WORK/full/m.prom" LD_PRELOAD="$LIBHMO" "$T/t_metrics" exact 2>"$WORK/err-full"
echo "full $?" >>"$WORK/status"
ls -a "$WORK/full" >"$WORK/full-ls"
EOF
	WORK="$WORK" T="$T" LIBHMO="$LIBHMO" unshare -m sh "$WORK/mounts.sh" 9>&- || fail "the mounts"
	[ "$(cat "$WORK/status" | tr '\n' ' ')" = "ro 5 full 5 " ] || fail "read-only or full: status $(cat "$WORK/status")"
	for c in ro full; do
		[ "$(hmo_lines "$WORK/err-$c")" = 1 ] || { cat "$WORK/err-$c"; fail "$c: not one hmo: line"; }
		echo "$c: $(cat "$WORK/err-$c")"
	done
	grep -q "Read-only file system" "$WORK/err-ro" || fail "read-only: the reason is not given"
	grep -q "No space left on device" "$WORK/err-full" || fail "full: the reason is not given"
	[ "$(cat "$WORK/full-ls" | tr '\n' ' ')" = ". .. fill " ] || fail "full: left $(cat "$WORK/full-ls")"
else
	echo "read-only and full file systems not tried: they need root and unshare -m"
fi

# ---- a symbolic link in the way: replaced, never followed -----------------------------
mkdir "$WORK/l"
echo keep >"$WORK/l/target"
ln -s target "$WORK/l/m.prom"
HMO_METRICS="$WORK/l/m.prom" run_hmo "$T/t_metrics" exact 2>"$WORK/err"
[ $? = 5 ] || fail "symbolic link: status"
[ -s "$WORK/err" ] && { cat "$WORK/err"; fail "symbolic link: stderr"; }
[ "$(cat "$WORK/l/target")" = keep ] || fail "symbolic link: its target was written"
[ -f "$WORK/l/m.prom" ] && [ ! -L "$WORK/l/m.prom" ] || fail "symbolic link: not replaced by the file"
promcheck "$WORK/l/m.prom" "the file that replaced a link"
# at the temporary file's name (NAME.tmp.PID: the shell's pid is the program's after exec)
rm "$WORK/l/m.prom"
sh -c 'ln -s target "$1.tmp.$$" && exec env HMO_METRICS="$1" LD_PRELOAD="$2" "$3" exact' sh \
	"$WORK/l/m.prom" "$LIBHMO" "$T/t_metrics" 2>"$WORK/err" 9>&-
[ $? = 5 ] || fail "symbolic link at the temporary name: status"
[ "$(cat "$WORK/l/target")" = keep ] || fail "symbolic link at the temporary name: its target was written"
promcheck "$WORK/l/m.prom" "the file written past a link at the temporary name"
[ "$(ls "$WORK/l" | tr '\n' ' ')" = "m.prom target " ] || { ls -la "$WORK/l"; fail "symbolic link at the temporary name: left behind"; }

# ---- bad values: one line naming the problem; the default instead ---------------------
bad() {	# VARIABLE VALUE WORDS-OF-THE-REASON
	mkdir -p "$WORK/b"
	rm -f "$WORK/b/m.prom"
	env HMO_METRICS="$WORK/b/m.prom" "$1=$2" LD_PRELOAD="$LIBHMO" "$T/t_metrics" exact 2>"$WORK/err" 9>&-
	[ $? = 5 ] || fail "$1=$2: status"
	[ "$(hmo_lines "$WORK/err")" = 1 ] || { cat "$WORK/err"; fail "$1=$2: not one hmo: line"; }
	grep -q "^hmo: $1=.*$3" "$WORK/err" || { cat "$WORK/err"; fail "$1=$2: the line does not say '$3'"; }
}
for v in '__x=1' 'pid=3' 'exe=a' 'function=f' '1a=b' 'a-b=c' 'a=b,a=c' 'job' 'a=b,' ' a=b'; do
	bad HMO_METRICS_LABELS "$v" "is "
	# the file is written all the same, with exe and pid only
	[ "$(prom "$WORK/b/m.prom" "all(set(l) - {'exe', 'pid'} <= {'function', 'outcome', 'backing', 'node', 'kind'} for n, l, x in S)")" = True ] ||
		{ cat "$WORK/b/m.prom"; fail "HMO_METRICS_LABELS=$v: labels in the file"; }
done
bad HMO_METRICS_LABELS '__x=1' "__"
bad HMO_METRICS_LABELS 'pid=3' "hmo sets itself"
bad HMO_METRICS_LABELS '1a=b' "not \[a-zA-Z_\]"
bad HMO_METRICS_LABELS 'a=b,a=c' "twice"
# 1 (stderr) is not a place for a file replaced whole: refused, and nothing written
env HMO_METRICS=1 LD_PRELOAD="$LIBHMO" "$T/t_metrics" exact 2>"$WORK/err" 9>&-
[ $? = 5 ] || fail "HMO_METRICS=1: status"
[ "$(hmo_lines "$WORK/err")" = 1 ] && grep -q '^hmo: HMO_METRICS="1" is not off or a path' "$WORK/err" ||
	{ cat "$WORK/err"; fail "HMO_METRICS=1: not one line saying why"; }

# ---- without HMO_METRICS: no writer thread --------------------------------------------
# (env execs the program: $! is its pid). hmo_threads PID NAME: how many threads of
# that name PID has, once it has hmo's pool ticker (hmo is set up by then), or after 2 s.
hmo_threads() {
	for i in $(seq 100); do
		grep -qx hmo-pool /proc/$1/task/*/comm 2>/dev/null && break
		sleep 0.02
	done
	cat /proc/$1/task/*/comm 2>/dev/null | grep -cx "$2"
}
env LD_PRELOAD="$LIBHMO" "$T/t_metrics" run 2500 9>&- &
job=$!
n=$(hmo_threads $job hmo-metrics)
wait $job
[ "$n" = 0 ] || fail "without HMO_METRICS, $n hmo-metrics threads"
env HMO_METRICS="$WORK/b/t.prom" LD_PRELOAD="$LIBHMO" "$T/t_metrics" run 2500 9>&- &
job=$!
n=$(hmo_threads $job hmo-metrics)
wait $job
[ "$n" = 1 ] || fail "with HMO_METRICS, $n hmo-metrics threads"
exit 0
