#!/bin/sh
# A real node_exporter, with only its textfile collector, serves what HMO_METRICS
# wrote into its directory: hmo's samples, with their labels and values, on
# /metrics, and no scrape error. SKIP where node_exporter is not installed or
# cannot listen on a local port.
. "$SRCDIR/tests/lib.sh"
need python3
NE=$(command -v prometheus-node-exporter || command -v node_exporter) ||
	skip "prometheus-node-exporter is not installed (scripts/setup installs it)"

mkdir "$WORK/textfile"
HMO_METRICS="$WORK/textfile" HMO_METRICS_LABELS='job=metrics-test' run_hmo "$T/t_metrics" exact 2>"$WORK/err"
[ $? = 5 ] || { cat "$WORK/err"; fail "t_metrics exact"; }
set -- "$WORK"/textfile/hmo-t_metrics-*.prom
[ -f "$1" ] || { ls -la "$WORK/textfile"; fail "no hmo-t_metrics-PID.prom in the directory"; }
pid=${1##*-}; pid=${pid%.prom}

# A free port: the kernel picks one, which is closed again for node_exporter to take
# (another program may get it in between: then try again).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cat >"$WORK/up.py" <<'EOF'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
EOF
ne=
for try in 1 2 3; do
	port=$(free_port)
	"$NE" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$WORK/textfile" >"$WORK/ne.log" 2>&1 9>&- &
	ne=$!
	# up within 10 s, or gone
	python3 "$WORK/up.py" "$port" && break
	kill "$ne" 2>/dev/null
	wait "$ne" 2>/dev/null
	ne=
done
[ -n "$ne" ] || { cat "$WORK/ne.log"; skip "node_exporter did not start on a local port"; }
trap 'kill "$ne" 2>/dev/null; wait "$ne" 2>/dev/null; rm -rf "$WORK"' EXIT

python3 - "$port" "$pid" <<'EOF' || { cat "$WORK/ne.log"; fail "node_exporter's /metrics"; }
import sys, urllib.request
port, pid = sys.argv[1], sys.argv[2]
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
lines = text.splitlines()
def value(name):
    for l in lines:
        if l.startswith(name + "{") or l.startswith(name + " "):
            labels = l[l.index("{") + 1:l.rindex("}")] if "{" in l else ""
            yield labels, float(l.rsplit(" ", 1)[1])
errors = [v for _, v in value("node_textfile_scrape_error")]
if errors != [0.0]:
    print("FAIL: node_textfile_scrape_error %s" % errors); sys.exit(1)
want = 'exe="t_metrics",job="metrics-test",outcome="hit",pid="%s"' % pid
hits = [v for labels, v in value("hmo_pool_frames_total") if labels == want]
if hits != [7.0]:
    print("FAIL: hmo_pool_frames_total{%s}: %s, expected [7]" % (want, hits))
    print("\n".join(l for l in lines if l.startswith("hmo_pool_frames")))
    sys.exit(1)
fams = {l.split()[2] for l in lines if l.startswith("# TYPE hmo_")}
if len(fams) < 20 or "hmo_calls_total" not in fams or "hmo_running" not in fams:
    print("FAIL: hmo's families on /metrics: %s" % sorted(fams)); sys.exit(1)
print("node_exporter serves %d of hmo's families" % len(fams))
EOF
