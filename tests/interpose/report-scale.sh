#!/bin/sh
# hmo-report's time and memory follow the distinct things in a trace, not its
# records: 400,000 module records (each at an address of its own), and 20,000 that
# all name one object file (a plugin loaded and unloaded over and over), are read in
# seconds and in bounded memory. They once took 66 s (a quadratic search for
# duplicates) and 2.1 GiB (one ELF handle per record). bench/report.sh prints the
# figures; the bounds here are generous, for slow and sanitized builds.
. "$SRCDIR/tests/lib.sh"
need python3
mktrace="$BUILDDIR/bench/mktrace"
report="$BUILDDIR/hmo-report"
[ -x "$mktrace" ] || fail "bench/mktrace not built"
cd "$WORK" || exit 99

# measure TRACE: "STATUS SECONDS PEAK-KIB" of hmo-report on TRACE (its peak RSS from
# getrusage of the child); status "timeout" after 30 s.
measure() {
	python3 - "$report" "$1" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
try:
    rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, timeout=30).returncode
except subprocess.TimeoutExpired:
    rc = "timeout"
print(rc, "%.2f" % (time.monotonic() - t), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

# bounded NAME TRACE SECONDS MIB: both cases are measured, then failed ones said.
failed=
bounded() {
	set -- "$1" "$2" "$3" "$4" $(measure "$2")
	echo "$1: status $5, $6 s, peak RSS $(($7 / 1024)) MiB"
	if [ "$5" != 0 ]; then
		failed="$failed; $1: hmo-report status $5"
	elif ! awk -v s="$6" -v max="$3" 'BEGIN { exit !(s < max) }'; then
		failed="$failed; $1: $6 s, expected under $3 s"
	elif [ "$7" -ge $(($4 * 1024)) ]; then
		failed="$failed; $1: peak RSS $(($7 / 1024)) MiB, expected under $4 MiB"
	fi
}

"$mktrace" mods.trace 1000 400000 || fail "mktrace with 400,000 modules"
bounded "400,000 module records" mods.trace 20 400
"$mktrace" elf.trace 1000 20000 "$LIBHMO" || fail "mktrace with 20,000 records of one object"
bounded "20,000 records of one ELF" elf.trace 20 200
[ -z "$failed" ] || fail "${failed#; }"
# Its frames are still named by the object they fall in.
"$report" elf.trace >r.txt 2>err || { cat err; fail "hmo-report on 20,000 records of one ELF"; }
grep -q 'from libhmo\.so' r.txt || { cat r.txt; fail "the frames of the repeated object are not named"; }
exit 0
