#!/bin/sh
# The pages the frame pool chose for fresh frames, and why: said alike by the
# summary, the trace (also a forked child's) and hmo-report's text and JSON; the
# boot's record of first-touch rates written once and read by the next process;
# explicit HMO_HUGEPAGES values forcing their backing.
. "$SRCDIR/tests/lib.sh"
need python3
REPORT="$BUILDDIR/hmo-report"
# A record of this test's own, not the user's.
mkdir -m 700 "$WORK/run"
XDG_RUNTIME_DIR="$WORK/run"
export XDG_RUNTIME_DIR
sentence() { sed -n 's/^hmo: frame pool: \(frames on .*\)/\1/p' "$1"; }
# The balloon's free page reporting, read here as the kernel's sysfs gives it.
reporting=0
for f in /sys/bus/virtio/drivers/virtio_balloon/virtio*/features; do
	[ -r "$f" ] && [ "$(cut -c6 "$f")" = 1 ] && reporting=1
done

HMO_STATS="$WORK/s1" HMO_TRACE="$WORK/tr1" run_hmo "$T/t_pool" entry || fail "t_pool entry"
s1=$(sentence "$WORK/s1")
[ -n "$s1" ] || { cat "$WORK/s1"; fail "the summary does not say which pages the pool chose"; }
echo "$s1"
[ "$(grep -c '^hmo: frame pool: frames on ' "$WORK/s1")" = 1 ] || fail "the choice is said more than once"
# Nothing was recorded before: this process measured, unless the kernel keeps the
# choice from it (no THP, a memory limit).
rec="$WORK/run/hmo-fresh"
if [ -f "$rec" ]; then
	case $s1 in *"(measured now)") ;; *) fail "a new record, but the summary does not say it measured now" ;; esac
	[ "$(stat -c %a "$rec")" = 600 ] || fail "the record is mode $(stat -c %a "$rec"), not 600"
	grep -q '^hmo-fresh 2 ' "$rec" || { cat "$rec"; fail "the record is not a version 2 record"; }
	# The next process reads it and probes nothing.
	HMO_STATS="$WORK/s2" run_hmo "$T/t_pool" entry || fail "t_pool entry, second run"
	case $(sentence "$WORK/s2") in
	*"(measured earlier this boot)") ;;
	*) cat "$WORK/s2"; fail "the second process measured again instead of reading the boot's record" ;;
	esac
fi
"$REPORT" "$WORK/tr1" >"$WORK/r1.txt" 2>"$WORK/r1.err" || { cat "$WORK/r1.err"; fail "hmo-report"; }
"$REPORT" --json "$WORK/tr1" >"$WORK/r1.json" 2>>"$WORK/r1.err" || { cat "$WORK/r1.err"; fail "hmo-report --json"; }
S1="$s1" REPORTING=$reporting python3 - "$WORK/r1.json" "$WORK/r1.txt" <<'PY' || exit 1
import json, os, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
procs = d["processes"]
assert len(procs) == 1, procs
pp = procs[0].get("pool_pages")
assert pp, "no pool_pages in the JSON report"
want = os.environ["S1"]
assert pp["text"] == want, (pp["text"], want)
# The text report wraps the same sentence over lines.
flat = " ".join(text.split())
assert "pages: " + " ".join(want.split()) in flat, "the text report does not give the summary's sentence"
assert pp["why"] in ("no_thp", "memory_limit", "free_page_reporting", "thp_cheap", "thp_costly", "unmeasured"), pp
assert pp["backing"] in ("thp", "4k"), pp
if os.environ["REPORTING"] == "1" and pp["why"] not in ("no_thp", "memory_limit"):
    # Free page reporting: 4 KiB pages, and huge pages not probed.
    assert pp["why"] == "free_page_reporting" and pp["backing"] == "4k", pp
    assert pp["free_page_reporting"] and pp["fresh_thp_mbps"] == 0 and pp["fresh_4k_mbps"] > 0, pp
    assert "free page reporting" in want, want
if pp["why"] in ("thp_cheap", "thp_costly"):
    thp, small = pp["fresh_thp_mbps"], pp["fresh_4k_mbps"]
    assert thp > 0 and small > 0, pp
    assert (pp["why"] == "thp_cheap") == (thp * 5 >= small * 4), pp
    assert pp["backing"] == ("thp" if pp["why"] == "thp_cheap" else "4k"), pp
PY

# Explicit values force their backing, whatever the rates.
HMO_HUGEPAGES=off HMO_STATS="$WORK/off" run_hmo "$T/t_pool" entry || fail "HMO_HUGEPAGES=off"
[ "$(sentence "$WORK/off")" = "frames on 4 KiB pages, reused, as HMO_HUGEPAGES says" ] ||
	{ cat "$WORK/off"; fail "HMO_HUGEPAGES=off: not said as forced 4 KiB pages"; }
if grep -q '\[always\]\|\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
	HMO_HUGEPAGES=thp HMO_STATS="$WORK/thp" run_hmo "$T/t_pool" entry || fail "HMO_HUGEPAGES=thp"
	[ "$(sentence "$WORK/thp")" = "frames on transparent huge pages, as HMO_HUGEPAGES says" ] ||
		{ cat "$WORK/thp"; fail "HMO_HUGEPAGES=thp: not said as forced THP"; }
fi

# A forked child's trace says the choice too: its pool is its parent's.
mkdir "$WORK/tr2"
HMO_TRACE="$WORK/tr2" run_hmo "$T/t_pool" fork || fail "t_pool fork"
"$REPORT" --json "$WORK/tr2" >"$WORK/r2.json" 2>"$WORK/r2.err" || { cat "$WORK/r2.err"; fail "hmo-report --json, fork"; }
python3 - "$WORK/r2.json" <<'PY' || exit 1
import json, sys
procs = json.load(open(sys.argv[1]))["processes"]
assert len(procs) == 21, len(procs)
texts = {p.get("pool_pages", {}).get("text") for p in procs}
assert None not in texts, "a process's trace lacks the pool's choice"
assert len(texts) == 1, texts
PY
exit 0
