#!/bin/sh
# HMO_NUMA applied for real, on node 0 (every machine has one): get_mempolicy shows
# the policy on a frame and move_pages where its memory is. The decisions for 2 and
# 4 nodes are in tests/unit/check_numa.
. "$SRCDIR/tests/lib.sh"
pol() { awk '/^policy/ { print $2, $4, $6 }' "$1"; }
"$T/t_pool" numa >/dev/null 2>&1 || skip "get_mempolicy/move_pages do not work on this kernel (no CONFIG_NUMA?)"

run_hmo "$T/t_pool" numa >"$WORK/local" 2>&1 || { cat "$WORK/local"; fail "HMO_NUMA=local"; }
[ "$(pol "$WORK/local")" = "0 0 0" ] || { cat "$WORK/local"; fail "local: expected the default policy on node 0"; }
HMO_NUMA=node:0 run_hmo "$T/t_pool" numa >"$WORK/bind" 2>&1 || fail "HMO_NUMA=node:0"
[ "$(pol "$WORK/bind")" = "2 0x1 0" ] || { cat "$WORK/bind"; fail "node:0: expected MPOL_BIND to node 0"; }
HMO_NUMA=preferred:0 run_hmo "$T/t_pool" numa >"$WORK/pref" 2>&1 || fail "HMO_NUMA=preferred:0"
[ "$(pol "$WORK/pref")" = "1 0x1 0" ] || { cat "$WORK/pref"; fail "preferred:0: expected MPOL_PREFERRED"; }

# A node this machine lacks: local placement, one hmo: line when HMO_STATS is on,
# and not a byte when it is off.
last=$(ls -d /sys/devices/system/node/node* 2>/dev/null | sed 's/.*node//' | sort -n | tail -n 1)
missing=$(( ${last:-0} + 1 ))
HMO_NUMA=node:$missing HMO_STATS="$WORK/s" run_hmo "$T/t_pool" numa >"$WORK/miss" 2>"$WORK/miss.err" \
	|| fail "HMO_NUMA=node:$missing"
[ "$(pol "$WORK/miss")" = "0 0 0" ] || { cat "$WORK/miss"; fail "node:$missing: expected local placement"; }
[ "$(grep -c 'names a node this machine does not have' "$WORK/miss.err")" -eq 1 ] \
	|| { cat "$WORK/miss.err"; fail "node:$missing: expected one hmo: line"; }
HMO_NUMA=node:$missing run_hmo "$T/t_pool" numa >/dev/null 2>"$WORK/quiet.err" || fail "quiet run"
! grep -q '^hmo:' "$WORK/quiet.err" || { cat "$WORK/quiet.err"; fail "a note printed without HMO_STATS"; }
# gpu without a GPU: local, with the note.
HMO_NUMA=gpu HMO_STATS="$WORK/g" run_hmo "$T/t_pool" numa >"$WORK/gpu" 2>"$WORK/gpu.err" || fail "HMO_NUMA=gpu"
if grep -q 'no NVIDIA GPU' "$WORK/gpu.err"; then
	[ "$(pol "$WORK/gpu")" = "0 0 0" ] || fail "gpu without a GPU: expected local placement"
fi
