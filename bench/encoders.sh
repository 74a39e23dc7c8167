#!/bin/sh
# Encoders at 8K under /usr/bin/time: wall time and minor faults of ffmpeg encoding
# testsrc2 with each encoder, for glibc, glibc's two tunables for large buffers, and
# hmo. Called by scripts/bench with "encoders".
#   bench/encoders.sh LIBHMO ROUNDS      (the best of ROUNDS runs of each)
set -eu
lib=$1
rounds=${2:-1}
command -v ffmpeg >/dev/null || { echo "encoders: ffmpeg is not installed"; exit 0; }
out=$(mktemp -d "${TMPDIR:-/tmp}/hmo-enc.XXXXXX")
trap 'rm -rf "$out"' EXIT

# once CONFIG FRAMES ENCODER-OPTIONS: one run; prints "seconds faults".
once() {
	cfg=$1 frames=$2 opts=$3
	case $cfg in
	glibc) pre= ;;
	hugetlb=1) pre=GLIBC_TUNABLES=glibc.malloc.hugetlb=1 ;;
	mmap_max=0) pre=GLIBC_TUNABLES=glibc.malloc.mmap_max=0 ;;
	hmo) pre=LD_PRELOAD=$lib ;;
	esac
	# shellcheck disable=SC2086
	/usr/bin/time -f '%e %R' -o "$out/t" env $pre ffmpeg -nostdin -hide_banner -loglevel error \
		-threads 2 -f lavfi -i testsrc2=size=7680x4320:rate=30 -frames:v "$frames" \
		-c:v $opts -f null - >/dev/null 2>&1 || { echo "0 0"; return; }
	tail -n 1 "$out/t"
}

printf '%-12s %-11s %9s %11s   %s\n' encoder config seconds "minor flt" "vs glibc"
fails=0
for spec in "libx264:60:libx264 -preset ultrafast" "libx265:20:libx265 -preset ultrafast" \
	    "libsvtav1:20:libsvtav1 -preset 12" "libvpx-vp9:20:libvpx-vp9 -deadline realtime -cpu-used 8"; do
	name=${spec%%:*} rest=${spec#*:}
	frames=${rest%%:*} opts=${rest#*:}
	ffmpeg -hide_banner -encoders 2>/dev/null | grep -q " $name " || { echo "$name: not in this ffmpeg"; continue; }
	for cfg in glibc hugetlb=1 mmap_max=0 hmo; do
		best=
		for _ in $(seq "$rounds"); do
			r=$(once "$cfg" "$frames" "$opts")
			best=$(printf '%s\n%s\n' "$best" "$r" | awk 'NF == 2' | sort -n | head -n 1)
		done
		eval "res_$(echo "$cfg" | tr -c 'a-z0-9\n' _)=\"$best\""
		set -- $best
		[ "$cfg" = glibc ] && gsec=$1 gflt=$2
		printf '%-12s %-11s %9s %11s   %s\n' "$name" "$cfg" "$1" "$2" \
			"$(awk -v s="$1" -v g="$gsec" -v f="$2" -v h="$gflt" 'BEGIN { printf "%.2fx time, %.3fx faults", s / g, f / h }')"
	done
	# hmo at or below the best of the others; for libx264, <= 0.75x glibc's time and
	# <= a tenth of its faults.
	verdict=$(printf '%s\n%s\n%s\n%s\n' "$res_glibc" "$res_hugetlb_1" "$res_mmap_max_0" "$res_hmo" | awk -v n="$name" '
		{ t[NR] = $1; f[NR] = $2 }
		END {
			bt = t[1]; bf = f[1]
			for (i = 2; i <= 3; i++) { if (t[i] < bt) bt = t[i]; if (f[i] < bf) bf = f[i] }
			ok = t[4] <= bt * 1.02 && f[4] <= bf
			if (n == "libx264") ok = ok && t[4] <= 0.75 * t[1] && f[4] <= f[1] / 10
			print ok ? "met" : "NOT met"
		}')
	[ "$verdict" = met ] || fails=$((fails + 1))
	echo "$name: goal $verdict (hmo at or below the best of the others; 2% timing tolerance)"
done
echo "encoders: $fails goal(s) not met"
