#!/bin/sh
# Tracing overhead: ffmpeg encoding 4K testsrc2 with libx264 (240 frames) under
# libhmo, untraced and with HMO_TRACE on (call stacks at depth 16). Rounds are
# interleaved; the goal is judged on the medians: traced <= 1.03x untraced.
#   bench/tracing.sh LIBHMO ROUNDS
set -eu
lib=$1
rounds=${2:-3}
command -v ffmpeg >/dev/null || { echo "tracing: ffmpeg is not installed"; exit 0; }
ffmpeg -hide_banner -encoders 2>/dev/null | grep -q ' libx264 ' || { echo "tracing: no libx264 in this ffmpeg"; exit 0; }
out=$(mktemp -d "${TMPDIR:-/tmp}/hmo-tracing.XXXXXX")
trap 'rm -rf "$out"' EXIT

once() {	# once traced|untraced: prints seconds
	rm -rf "$out/tr"
	mkdir "$out/tr"
	if [ "$1" = traced ]; then
		set -- env HMO_TRACE="$out/tr" HMO_BACKTRACE=16
	else
		set -- env
	fi
	/usr/bin/time -f '%e' -o "$out/t" "$@" LD_PRELOAD="$lib" ffmpeg -nostdin -hide_banner -loglevel error \
		-threads 2 -f lavfi -i testsrc2=size=3840x2160:rate=30 -frames:v 240 -c:v libx264 -preset ultrafast \
		-f null - >/dev/null 2>&1 || { echo 0; return; }
	tail -n 1 "$out/t"
}

: >"$out/untraced"
: >"$out/traced"
for _ in $(seq "$rounds"); do
	once untraced >>"$out/untraced"
	once traced >>"$out/traced"
	events=$(du -k "$out/tr" | tail -n 1 | cut -f1)
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
u=$(med "$out/untraced") t=$(med "$out/traced")
awk -v u="$u" -v t="$t" -v n="$rounds" -v k="$events" 'BEGIN {
	r = t / u
	printf "tracing: libx264 4K, 240 frames: untraced %.2f s, traced %.2f s (medians of %d): %.3fx, trace %d KiB\n", u, t, n, r, k
	printf "tracing: goal (<= 1.03x) %s\n", (r <= 1.03) ? "met" : "NOT met"
}'
