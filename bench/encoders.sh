#!/bin/sh
# Encoders at 8K under /usr/bin/time: wall time and minor faults of ffmpeg encoding
# testsrc2 with each encoder, for glibc, glibc's two tunables for large buffers, and
# hmo. Called by scripts/bench with "encoders".
#   bench/encoders.sh LIBHMO ROUNDS
# Rounds are interleaved (glibc, hugetlb=1, mmap_max=0, hmo, then again), so drift on a
# shared machine hits every configuration alike. Each line gives the median of the
# rounds, with the fastest and slowest; the goals are judged on the medians, since a
# best-of hides the stalls (THP compaction, fault storms) that are part of a
# configuration's real cost.
set -eu
lib=$1
rounds=${2:-1}
command -v ffmpeg >/dev/null || { echo "encoders: ffmpeg is not installed"; exit 0; }
out=$(mktemp -d "${TMPDIR:-/tmp}/hmo-enc.XXXXXX")
trap 'rm -rf "$out"' EXIT
configs="glibc hugetlb=1 mmap_max=0 hmo"

# touch_rate: GB/s of a first touch of 1 GiB on transparent huge pages. On a VM with
# free page reporting (virtio-balloon), huge pages freed for a few seconds go back to
# the host, and touching them again costs a host fault each: measured here, 0.47 GB/s
# after 5 s idle against 11.2 GB/s right after a free, while 4 KiB pages stay at
# 2.5 GB/s either way. Every configuration that puts frames on huge pages (hmo,
# glibc.malloc.hugetlb=1) pays that on such a machine and not on bare metal, so the
# line below says which kind of machine these figures come from.
touch_rate() {
	python3 - <<'PY' 2>/dev/null || echo "?"
import mmap, time
n = 1 << 30
m = mmap.mmap(-1, n + (2 << 20))
if hasattr(m, "madvise"):
    m.madvise(mmap.MADV_HUGEPAGE)
t = time.monotonic()
for i in range(0, n, 4096):
    m[i] = 1
print("%.1f" % (n / (time.monotonic() - t) / 1e9))
PY
}

touch_rate >/dev/null
warm=$(touch_rate)
sleep 5
cold=$(touch_rate)
echo "huge-page first touch: $warm GB/s right after a free, $cold GB/s after 5 s idle" \
	"(much lower: free page reporting, a VM)"
printf '%-12s %-11s %9s %15s %11s   %s\n' encoder config "median s" "fastest-slowest" "minor flt" "vs glibc"
fails=0
specs=${BENCH_ENCODERS:-"libx264:60:libx264 -preset ultrafast|libx265:20:libx265 -preset ultrafast|libsvtav1:20:libsvtav1 -preset 12|libvpx-vp9:20:libvpx-vp9 -deadline realtime -cpu-used 8"}
IFS='|'
set -f
for spec in $specs; do
	unset IFS
	set +f
	name=${spec%%:*} rest=${spec#*:}
	frames=${rest%%:*} opts=${rest#*:}
	ffmpeg -hide_banner -encoders 2>/dev/null | grep -q " $name " || { echo "$name: not in this ffmpeg"; continue; }
	rm -f "$out"/runs.*
	for _ in $(seq "$rounds"); do
		for cfg in $configs; do
			once "$cfg" "$frames" "$opts" >>"$out/runs.$cfg"
		done
	done
	: >"$out/medians"
	for cfg in $configs; do
		set -- $(median "$out/runs.$cfg")
		echo "$1 $2" >>"$out/medians"
		[ "$cfg" = glibc ] && gsec=$1 gflt=$2
		printf '%-12s %-11s %9s %15s %11s   %s\n' "$name" "$cfg" "$1" "$3-$4" "$2" \
			"$(awk -v s="$1" -v g="$gsec" -v f="$2" -v h="$gflt" 'BEGIN { printf "%.2fx time, %.3fx faults", s / g, f / h }')"
	done
	# hmo at or below the best of the others; for libx264, <= 0.75x glibc's time and
	# <= a tenth of its faults.
	verdict=$(awk -v n="$name" '
		{ t[NR] = $1; f[NR] = $2 }
		END {
			bt = t[1]; bf = f[1]
			for (i = 2; i <= 3; i++) { if (t[i] < bt) bt = t[i]; if (f[i] < bf) bf = f[i] }
			ok = t[4] > 0 && t[4] <= bt * 1.02 && f[4] <= bf
			if (n == "libx264") ok = ok && t[4] <= 0.75 * t[1] && f[4] <= f[1] / 10
			print ok ? "met" : "NOT met"
		}' "$out/medians")
	[ "$verdict" = met ] || fails=$((fails + 1))
	echo "$name: goal $verdict (medians of $rounds; hmo at or below the best of the others, 2% tolerance)"
done
echo "encoders: $fails goal(s) not met"
