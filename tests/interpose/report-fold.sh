#!/bin/sh
# Past 1,000 processes hmo-report folds those of lower peak RSS: 1,005 synthetic
# traces (bench/mktrace --fleet) list 1,000 processes and fold 5, whose figures still
# count: each ordering's sum of sites equals that of the first 1,000 traces' report
# plus the 5 others' own reports, and the calls and large operations add up the same.
. "$SRCDIR/tests/lib.sh"
need python3
mktrace="$BUILDDIR/bench/mktrace"
report="$BUILDDIR/hmo-report"
[ -x "$mktrace" ] || fail "bench/mktrace not built"
cd "$WORK" || exit 99
mkdir all || exit 99
"$mktrace" --fleet all 1005 30 || fail "mktrace --fleet"
"$report" --json all >all.json 2>err || { cat err; fail "hmo-report on 1,005 traces"; }
"$report" all >all.txt 2>err || { cat err; fail "hmo-report on 1,005 traces (text)"; }
grep -q 'and 995 other processes.*--json lists the 1,000 of highest peak RSS' all.txt ||
	{ sed -n 1,60p all.txt; fail "the overview does not sum up the folded processes"; }
# the same traces in two reports: each on its own is below the folding point
mkdir a b || exit 99
for f in all/*.trace; do
	case $f in
	all/p000100[0-4].trace) ln -s "../$f" "b/${f#all/}" ;;
	*) ln -s "../$f" "a/${f#all/}" ;;
	esac
done
"$report" --json a >a.json 2>err || { cat err; fail "hmo-report on 1,000 traces"; }
"$report" --json b >b.json 2>err || { cat err; fail "hmo-report on 5 traces"; }
python3 - <<'PY' || fail "the folded report's totals differ"
import json, sys
al, a, b = (json.load(open(n + ".json")) for n in ("all", "a", "b"))
ok = True
def check(what, x, y):
    global ok
    if x != y:
        print("%s: %r, expected %r" % (what, x, y)); ok = False
check("processes listed", len(al["processes"]), 1000)
check("processes_folded.count", al["processes_folded"]["count"], 5)
check("processes_folded.exit", al["processes_folded"]["exit"], 5)
check("no folding below 1,000", "processes_folded" in a, False)
key = {"by_bytes": "bytes", "by_calls": "calls", "by_faults": "faults", "by_copy_bytes": "copy_bytes",
       "never_freed": "never_freed_bytes"}
def total(j, o):
    return j["sites"][o]["others_total"] + sum(s[key[o]] for s in j["sites"][o]["top"])
for o in key:
    check("sites " + o, total(al, o), total(a, o) + total(b, o))
def calls(j):
    return {c["function"]: (c["calls"], c["bytes"]) for c in j["calls"]}
for f, (n, by) in calls(al).items():
    x = calls(a).get(f, (0, 0)); y = calls(b).get(f, (0, 0))
    check("calls of " + f, (n, by), (x[0] + y[0], x[1] + y[1]))
check("copies", al["copies"]["bytes"], a["copies"]["bytes"] + b["copies"]["bytes"])
folded = [s for s in al["sites"]["by_bytes"]["top"] if "processes" in s]
check("a folded site's frames", bool(folded) and folded[0]["frames"][0].startswith("bench+0x"), True)
sys.exit(0 if ok else 1)
PY
# --openmetrics: samples of the 1,000 kept processes, and totals over all 1,005
for d in all a b; do
	"$report" --openmetrics $d >$d.prom 2>err || { cat err; fail "hmo-report --openmetrics $d"; }
done
python3 - <<'PY' || fail "--openmetrics's totals differ past the folding point"
import re, sys
def read(name):
    per, tot = 0, {}
    for line in open(name + ".prom"):
        m = re.match(r'(hmo_\w+)(\{[^}]*\})? (\d+)$', line)
        if not m or m.group(1) == "hmo_threshold_bytes":
            continue
        if 'pid="' in (m.group(2) or ""):
            per += 1
        else:
            tot[m.group(1) + (m.group(2) or "")] = int(m.group(3))
    return per, tot
(pa, al), (_, a), (_, b) = read("all"), read("a"), read("b")
bad = [k for k in set(al) | set(a) | set(b) if al.get(k, 0) != a.get(k, 0) + b.get(k, 0)]
frames = sum(v for k, v in al.items() if k.startswith("hmo_pool_frames_total"))
print("%d totals, %d frames, %d per-process samples" % (len(al), frames, pa))
if bad or not frames:
    print("differ:", bad[:5]); sys.exit(1)
PY
exit 0
