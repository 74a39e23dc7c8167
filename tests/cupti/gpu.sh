#!/bin/sh
# hmo-report's GPU section, golden: synthetic CUPTI activity records (Memcpy6,
# Memset4, Memory4, Kernel10, API) go through hmo's converter into a trace
# (tests/cupti/mkgpu), and the report must print exactly tests/cupti/gpu.txt (and
# gpu.json). After a deliberate change: make update-golden. SKIP without CUPTI headers.
. "$SRCDIR/tests/lib.sh"
mk="$BUILDDIR/tests/cupti/mkgpu"
[ -x "$mk" ] || skip "no CUPTI headers when configure ran (the CUDA toolkit is not installed)"
cd "$WORK" || exit 99
"$mk" gpu.trace || fail "mkgpu"
"$BUILDDIR/hmo-report" gpu.trace >gpu.txt 2>gpu.err || { cat gpu.err; fail "hmo-report of gpu.trace"; }
"$BUILDDIR/hmo-report" --json gpu.trace >gpu.json 2>>gpu.err || fail "hmo-report --json of gpu.trace"
status=0
for k in txt json; do
	diff -u "$SRCDIR/tests/cupti/gpu.$k" "gpu.$k" || { echo "FAIL: gpu.$k differs from tests/cupti/gpu.$k"; status=1; }
done
[ ! -s gpu.err ] || { cat gpu.err; echo "FAIL: hmo-report warned"; status=1; }
# Perfetto: device work on GPU stream tracks, and flows from the API calls to it.
"$BUILDDIR/hmo-report" --perfetto gpu.perfetto.json gpu.trace >/dev/null || fail "--perfetto of gpu.trace"
python3 - <<'PY' || status=1
import json, sys
ev = json.load(open("gpu.perfetto.json"))["traceEvents"]
copies = [e for e in ev if e.get("cat") == "gpu copy"]
kernels = [e for e in ev if e.get("cat") == "gpu kernel"]
starts = {e["id"] for e in ev if e["ph"] == "s"}
ends = {e["id"] for e in ev if e["ph"] == "f"}
mem = [e for e in ev if e["ph"] == "C" and e["name"].startswith("GPU memory allocated")]
ok = len(mem) == 239 and mem[-1]["args"]["device"] == 8.0 and len(copies) == 27 and len(kernels) == 5 and all(e["tid"] >= 1000000 for e in copies) and len(starts & ends) == 20
if not ok:
    print("FAIL: perfetto GPU tracks: %d copies, %d kernels, %d joined flows" % (len(copies), len(kernels), len(starts & ends)))
    sys.exit(1)
PY
exit $status
