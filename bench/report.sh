#!/bin/sh
# Report speed: hmo-report on a synthetic trace of 50M events (bench/mktrace), under
# /usr/bin/time. Goal: at least 10M events/s, with a peak RSS of at most 64 MiB.
# Then module maps: 400,000 module records (each at an address of its own) and
# 20,000 records that all name one object file (libhmo.so), each with a goal of at
# most 1 s and 64 MiB: the report's cost follows distinct objects, not records.
#   bench/report.sh BUILDDIR [EVENTS]
set -eu
build=$1
n=${2:-50000000}
out=$(mktemp -d "${TMPDIR:-/tmp}/hmo-report-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
"$build/bench/mktrace" "$out/big.trace" "$n"
cat "$out/big.trace" >/dev/null	# from the page cache, as a trace just written would be
/usr/bin/time -f '%e %M' -o "$out/t" "$build/hmo-report" "$out/big.trace" >/dev/null
set -- $(tail -n 1 "$out/t")
awk -v s="$1" -v kib="$2" -v n="$n" -v mb="$(($(stat -c %s "$out/big.trace") / 1048576))" 'BEGIN {
	rate = n / (s > 0 ? s : 0.01)
	printf "report: %d events (%d MiB) in %.2f s: %.1fM events/s, peak RSS %.1f MiB\n", n, mb, s, rate / 1e6, kib / 1024
	printf "report: goal (>= 10M events/s, <= 64 MiB) %s\n", (rate >= 1e7 && kib <= 65536) ? "met" : "NOT met"
}'

# modules NAME MKTRACE-ARGS...: one line of time and peak RSS, and the goal's verdict.
modules() {
	name=$1
	shift
	"$build/bench/mktrace" "$out/mods.trace" 1000 "$@"
	/usr/bin/time -f '%e %M' -o "$out/t" "$build/hmo-report" "$out/mods.trace" >/dev/null
	set -- $(tail -n 1 "$out/t")
	awk -v name="$name" -v s="$1" -v kib="$2" 'BEGIN {
		printf "report: %s in %.2f s, peak RSS %.1f MiB: goal (<= 1 s, <= 64 MiB) %s\n", name, s,
			kib / 1024, (s <= 1 && kib <= 65536) ? "met" : "NOT met"
	}'
}
modules "400,000 module records" 400000
modules "20,000 records of one ELF" 20000 "$build/.libs/libhmo.so"
