#!/bin/sh
# hmo-report's other outputs from one trace of t_trace: Perfetto (Chrome trace event
# JSON, parsed and its required fields checked), folded stacks, CSV tables, and the
# HTML page, which must parse and carry its plots.
. "$SRCDIR/tests/lib.sh"
need python3
report="$BUILDDIR/hmo-report"
cd "$WORK" || exit 99
mkdir tr
HMO_TRACE=tr HMO_INTERVAL=10ms run_hmo "$T/t_trace" >/dev/null || fail "t_trace under HMO_TRACE"
"$report" --perfetto p.json --flamegraph f.folded --cost count --csv csv --html r.html tr >/dev/null 2>err ||
	{ cat err; fail "hmo-report with every export"; }

python3 - <<'PY' || exit 1
import csv, json, re, sys
from html.parser import HTMLParser

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

# Perfetto: the Chrome trace event format's required fields, per phase.
d = json.load(open("p.json"))
ev = d["traceEvents"]
for e in ev:
    if not all(k in e for k in ("name", "ph", "pid")):
        fail("event without name, ph or pid: %r" % e)
    if e["ph"] == "X" and not (isinstance(e.get("ts"), (int, float)) and isinstance(e.get("dur"), (int, float)) and "tid" in e):
        fail("X event without ts, dur or tid: %r" % e)
    if e["ph"] == "C" and not (isinstance(e.get("args"), dict) and e["args"] and "ts" in e):
        fail("C event without ts or args: %r" % e)
    if e["ph"] not in ("X", "C", "M", "s", "f"):
        fail("unexpected phase %r" % e["ph"])
x = [e for e in ev if e["ph"] == "X"]
if sum(1 for e in x if e["name"].startswith("malloc ")) != 6:
    fail("expected 6 malloc X events")
if sum(1 for e in x if e["cat"] == "copy") != 7:
    fail("expected 7 copy X events")
if not any(e["ph"] == "M" and e["name"] == "process_name" for e in ev):
    fail("no process_name metadata")
if not any(e["ph"] == "C" and "RSS" in e["args"] for e in ev):
    fail("no RSS counter")
if not any(e.get("args", {}).get("site", "").startswith("alloc_frame") for e in x):
    fail("no X event names its call site")
if any(e["ts"] < 0 for e in x):
    fail("negative timestamps")

# Folded stacks, weighted by count: alloc_frame's stack with its 6 calls.
lines = open("f.folded").read().splitlines()
if not lines or not all(re.match(r"^\S.* \d+$", l) for l in lines):
    fail("folded stacks are not 'frames value' lines")
if not any(";alloc_frame (t_trace.c:" in l and l.endswith(" 6") for l in lines):
    fail("alloc_frame's 6 calls not in the folded stacks")

# CSV: a header and rows of the same width in each table.
for name in ("processes", "calls", "large", "copies", "sites"):
    rows = list(csv.reader(open("csv/%s.csv" % name)))
    if len(rows) < 2 or any(len(r) != len(rows[0]) for r in rows):
        fail("csv/%s.csv: no rows, or rows of different widths" % name)
large = {r["function"]: r for r in csv.DictReader(open("csv/large.csv"))}
if large["malloc"]["count"] != "6":
    fail("csv/large.csv: malloc count %s" % large["malloc"]["count"])

# HTML: well nested, with its plots and sections.
class P(HTMLParser):
    void = {"meta", "br", "img", "line", "rect", "polyline", "input", "link"}
    def __init__(self):
        super().__init__()
        self.stack, self.svgs, self.h2 = [], 0, []
    def handle_starttag(self, tag, a):
        if tag == "svg":
            self.svgs += 1
        if tag not in self.void:
            self.stack.append(tag)
    def handle_startendtag(self, tag, a):
        pass
    def handle_endtag(self, tag):
        if tag in self.void:
            return
        if not self.stack or self.stack.pop() != tag:
            fail("html: </%s> does not close what is open" % tag)
    def handle_data(self, data):
        if self.stack and self.stack[-1] == "h2":
            self.h2.append(data)
p = P()
p.feed(open("r.html").read())
if p.stack:
    fail("html: unclosed " + ", ".join(p.stack))
if p.svgs < 4:
    fail("html: %d plots, expected 4" % p.svgs)
for want in ("Memory over time", "Allocation sizes", "Copy bandwidth", "Top call sites", "Advice"):
    if not any(h.startswith(want) for h in p.h2):
        fail("html: no section " + want)
PY

# Names from a trace are the program's: an executable named with a comma, a semicolon,
# a quote, a newline and an escape, run with such arguments, and frames in an object
# named so (bench/mktrace). CSV fields hold no control character (shown as ?, as in the
# text report) and are quoted per RFC 4180; a folded line is "frame;frame... count",
# its frames without ';' (shown as ':') or control characters.
odd=$(printf 't,x;y"q\n\033[2Jz')
mkdir odd odd-tr
cp "$T/t_trace" "odd/$odd" || fail "cannot copy t_trace to an odd name"
HMO_TRACE="$WORK/odd-tr" run_hmo "odd/$odd" "$(printf 'a,b;c"d\ne\033[0m')" >/dev/null ||
	fail "t_trace under an odd name"
"$BUILDDIR/bench/mktrace" odd-tr/synthetic.trace 100 64 "/nonexistent/$odd.so" || fail "mktrace"
"$report" --flamegraph odd.folded --csv odd-csv odd-tr >/dev/null 2>err || { cat err; fail "exports of odd names"; }
python3 - <<'PY' || exit 1
import csv, re, sys

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

shown = 't,x;y"q??[2Jz'	# the name as CSV shows it
for name in ("processes", "sites"):
    text = open("odd-csv/%s.csv" % name, newline="").read()
    if re.search(r"[\x00-\x1f\x7f]", text.replace("\n", "")):
        fail("%s.csv: a control character in a field" % name)
    rows = list(csv.reader(open("odd-csv/%s.csv" % name, newline="")))
    if any(len(r) != len(rows[0]) for r in rows):
        fail("%s.csv: rows of different widths: %r" % (name, rows))
procs = list(csv.DictReader(open("odd-csv/processes.csv", newline="")))
if not any(p["exe"].endswith("/" + shown) for p in procs):
    fail("processes.csv: exe not %r: %r" % (shown, [p["exe"] for p in procs]))
if not any(p["cmdline"].endswith("/%s a,b;c\"d?e?[0m" % shown) for p in procs):
    fail("processes.csv: cmdline: %r" % [p["cmdline"] for p in procs])
sites = list(csv.DictReader(open("odd-csv/sites.csv", newline="")))
if not any(shown + ".so+0x" in s["stack"] for s in sites):
    fail("sites.csv: no frame in the odd object: %r" % [s["stack"] for s in sites][:3])

folded = open("odd.folded", newline="").read()
if re.search(r"[\x00-\x09\x0b-\x1f\x7f]", folded):
    fail("folded: a control character")
lines = folded.split("\n")[:-1]
for l in lines:
    m = re.match(r"^([^;]+(;[^;]+)*) (\d+)$", l)
    if not m:
        fail("folded: not 'frame;frame... count': %r" % l)
folded_name = shown.replace(";", ":")
if not any(l.startswith(folded_name + ";") for l in lines):
    fail("folded: no stack of %r: %r" % (folded_name, lines[:3]))
if not any(";" + folded_name + ".so+0x" in l for l in lines):
    fail("folded: no frame in the odd object: %r" % lines[:3])
PY

# Bad export targets: one line, status 1, and the report itself still printed.
"$report" --csv /proc/nonexistent/x tr >out 2>err; [ $? -eq 1 ] || fail "--csv into /proc: status"
grep -q '^hmo-report: 1 process' out || fail "--csv failure lost the report"
"$report" --cost bytes-per-frame tr >/dev/null 2>&1; [ $? -eq 2 ] || fail "a bad --cost accepted"
exit 0
