#!/bin/sh
# hmo-report --openmetrics: two runs of t_metrics traced into one directory with
# HMO_METRICS beside; promtool accepts the report; each process's samples of the
# families the report writes are exactly those of its HMO_METRICS file (same labels,
# same values: calls, bytes, large calls, frames, the threshold); the totals (the
# samples without a pid) are the sums over the two processes. Then bad --labels and
# bad combinations: one hmo-report: line, status 2.
. "$SRCDIR/tests/lib.sh"
need promtool
need python3
report="$BUILDDIR/hmo-report"
cd "$WORK" || exit 99
mkdir tr m
LABELS='job=batch "7",host=a\b'
for i in 1 2; do
	HMO_TRACE=tr HMO_METRICS=m HMO_METRICS_LABELS="$LABELS" run_hmo "$T/t_metrics" exact 2>err
	rc=$?
	[ $rc = 5 ] || { cat err; fail "t_metrics exact, run $i: status $rc, expected 5"; }
	[ -s err ] && { cat err; fail "t_metrics exact, run $i, wrote to stderr"; }
done
[ "$(ls tr | wc -l)" = 2 ] || { ls -la tr; fail "not two traces"; }
[ "$(ls m | wc -l)" = 2 ] || { ls -la m; fail "not two metrics files"; }

"$report" --openmetrics --labels "$LABELS" tr >out.prom 2>out.err || { cat out.err; fail "hmo-report --openmetrics"; }
[ -s out.err ] && { cat out.err; fail "hmo-report --openmetrics said something on stderr"; }
promtool check metrics <out.prom >promtool.out 2>&1 || { cat promtool.out out.prom; fail "promtool refuses the report"; }
# the same with -o
"$report" --openmetrics --labels "$LABELS" -o out2.prom tr 2>out.err || { cat out.err; fail "--openmetrics -o"; }
cmp -s out.prom out2.prom || fail "--openmetrics -o FILE differs from standard output"

cat >compare.py <<'EOF'
import glob, re, sys
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
def parse(path):
    """{family: [(labels, value)]} of a file in the text format, strictly."""
    fams, cur = {}, None
    for line in open(path, encoding="utf-8").read().split("\n")[:-1]:
        m = re.fullmatch(r"# HELP (\S+) .+", line)
        if m:
            cur = None; continue
        m = re.fullmatch(r"# TYPE (\S+) (counter|gauge)", line)
        if m:
            cur = m.group(1); fams.setdefault(cur, []); continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != cur:
            sys.exit("%s: not a sample of the family above: %r" % (path, line))
        labels, rest = {}, m.group(2) or ""
        while rest:
            l = LABEL.match(rest)
            if not l:
                sys.exit("%s: bad labels: %r" % (path, line))
            labels[l.group(1)] = l.group(2)
            rest = rest[l.end():]
            rest = rest[1:] if rest.startswith(",") else rest
        fams[cur].append((labels, m.group(3)))
    return fams
def key(labels):
    return tuple(sorted(labels.items()))
rep = parse(sys.argv[1])
bad = 0
def check(ok, what):
    global bad
    if not ok:
        print("FAIL: " + what); bad += 1
# the families the report writes for a program without CUDA, and only those
want = ["hmo_threshold_bytes", "hmo_calls_total", "hmo_bytes_total", "hmo_large_calls_total",
        "hmo_large_bytes_total", "hmo_large_copy_bytes_total", "hmo_pool_frames_total"]
check(list(rep) == want, "the report's families are %s, expected %s" % (list(rep), want))
files = sorted(glob.glob(sys.argv[2] + "/*.prom"))
pids = []
for f in files:
    mine = parse(f)
    pid = mine["hmo_running"][0][0]["pid"]
    pids.append(pid)
    for fam in rep:
        a = {key(l): v for l, v in mine[fam]}
        b = {key(l): v for l, v in rep[fam] if l.get("pid") == pid}
        check(a == b, "%s, pid %s: the report says %s, the HMO_METRICS file %s" % (fam, pid, sorted(b.items()), sorted(a.items())))
        check(len(a) > 0, "%s, pid %s: no samples" % (fam, pid))
check(len(pids) == 2 and pids[0] != pids[1], "two processes: %s" % pids)
# totals: the samples without a pid, each the sum over the processes
user = {"job": 'batch \\"7\\"', "host": "a\\\\b"}
for fam in rep:
    if fam == "hmo_threshold_bytes":
        check(all("pid" in l for l, v in rep[fam]), "a total of the threshold")
        continue
    tot = [(l, v) for l, v in rep[fam] if "pid" not in l]
    check(len(tot) > 0, "%s: no total" % fam)
    for l, v in tot:
        check("exe" not in l, "%s: a total with exe" % fam)
        check({k: l[k] for k in user} == user, "%s: a total without the user's labels: %s" % (fam, l))
        own = {k: x for k, x in l.items() if k not in user}
        s = sum(int(x) for m, x in rep[fam] if "pid" in m and all(m.get(k) == y for k, y in own.items()))
        check(int(v) == s, "%s %s: total %s, the processes' sum %s" % (fam, l, v, s))
        s2 = 0
        for f in files:
            s2 += sum(int(x) for m, x in parse(f)[fam] if all(m.get(k) == y for k, y in own.items()))
        check(int(v) == s2, "%s %s: total %s, the HMO_METRICS files' sum %s" % (fam, l, v, s2))
# the program's own figures: 8 frames each, 3 large memcpy calls each
check(sum(int(v) for l, v in rep["hmo_pool_frames_total"] if "pid" not in l and l["outcome"] in ("hit", "new")) >= 16,
      "fewer than 16 frames in all")
check([int(v) for l, v in rep["hmo_large_calls_total"] if "pid" not in l and l["function"] == "memcpy"] == [6],
      "not 6 large memcpy calls in all")
sys.exit(1 if bad else 0)
EOF
python3 compare.py out.prom m || { cat out.prom; for f in m/*; do echo "== $f"; cat "$f"; done; fail "the report's figures"; }

# ---- without --labels: exe and pid only; the totals have no labels but their own --
"$report" --openmetrics tr >plain.prom 2>out.err || { cat out.err; fail "--openmetrics without --labels"; }
promtool check metrics <plain.prom >promtool.out 2>&1 || { cat promtool.out plain.prom; fail "promtool refuses the report without labels"; }
grep -q '^hmo_large_copy_bytes_total [0-9]*$' plain.prom || { cat plain.prom; fail "no total without labels"; }
grep 'job=' plain.prom && fail "labels without --labels"

# ---- bad use: one line, status 2, nothing on standard output ------------------------
bad() {	# WHAT ARGS...: hmo-report ARGS must refuse
	what=$1; shift
	"$report" "$@" >bad.out 2>bad.err
	rc=$?
	[ $rc = 2 ] || { cat bad.err; fail "$what: status $rc, expected 2"; }
	[ "$(wc -l <bad.err)" = 1 ] && grep -q '^hmo-report: ' bad.err || { cat bad.err; fail "$what: not one hmo-report: line"; }
	[ -s bad.out ] && fail "$what: something on standard output"
	cat bad.err
}
bad "a label starting with __" --openmetrics --labels '__x=1' tr
grep -q '__' bad.err || fail "the line does not name the problem"
bad "a label hmo sets" --openmetrics --labels 'pid=1' tr
bad "a bad label name" --openmetrics --labels '1x=1' tr
bad "a list with a comma at the end" --openmetrics --labels 'a=1,' tr
bad "a label twice" --openmetrics --labels 'a=1,a=2' tr
bad "not a list" --openmetrics --labels 'job' tr
bad "--labels without --openmetrics" --labels 'a=1' tr
bad "--openmetrics --json" --openmetrics --json tr
bad "--openmetrics --diff" --openmetrics --diff tr tr
bad "--openmetrics --html" --openmetrics --html x.html tr
bad "--openmetrics --top" --openmetrics --top 3 tr
bad "--labels without a value" --openmetrics tr --labels
exit 0
