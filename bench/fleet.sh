#!/bin/sh
# Fleet scale: hmo-report on a directory of many small traces (bench/mktrace --fleet:
# 30 events and 64 call sites each, a few KB), under /usr/bin/time -v, for 1,000,
# 10,000 and 100,000 traces (or the counts given). Goal at 100,000: a peak RSS of at
# most 256 MiB, in minutes (at most 300 s). The traces go to a temporary directory,
# removed after each count.
#   bench/fleet.sh BUILDDIR [COUNT...]
set -eu
build=$1
shift
[ $# -gt 0 ] || set -- 1000 10000 100000
out=$(mktemp -d "${TMPDIR:-/tmp}/hmo-fleet-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
for count in "$@"; do
	mkdir "$out/traces"
	"$build/bench/mktrace" --fleet "$out/traces" "$count" 30
	kib=$(du -sk "$out/traces" | cut -f1)
	/usr/bin/time -v -o "$out/t" "$build/hmo-report" "$out/traces" >"$out/report.txt"
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/t")
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/t")
	awk -v c="$count" -v kib="$rss" -v wall="$wall" -v disk="$kib" 'BEGIN {
		n = split(wall, p, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + p[i]
		printf "fleet: %d traces (%.0f MiB on disk) in %.1f s, peak RSS %.1f MiB (%.1f KiB a trace)\n",
			c, disk / 1024, s, kib / 1024, kib / c
		if (c >= 100000)
			printf "fleet: goal at %d traces (<= 256 MiB, <= 300 s) %s\n", c,
				(kib <= 262144 && s <= 300) ? "met" : "NOT met"
	}'
	rm -rf "$out/traces"
done
