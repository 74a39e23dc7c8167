# Sourced by the shell tests. The automake harness exports LIBHMO (the built
# libhmo.so), T (the built test programs), SRCDIR and BUILDDIR.
set -u
: "${LIBHMO:?run through make check}"
[ -f "$LIBHMO" ] || { echo "libhmo.so not built at $LIBHMO"; exit 99; }
LIBS="$T/.libs"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hmo-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# hugetlb.sh reserves 2 MiB hugetlb pages, which are the whole machine's: while they
# are there, every libhmo with HMO_HUGEPAGES=auto takes them, and a test running beside
# it would take the pages it counts on. So the tests run under a shared lock, and
# hugetlb.sh (HMO_TEST_LOCK=-x) under an exclusive one.
exec 9>>"$BUILDDIR/tests/hugetlb.lock"
# A process a test left running would hold it for ever: wait 10 minutes at most.
flock -w 600 "${HMO_TEST_LOCK:--s}" 9 || { echo "ERROR: $BUILDDIR/tests/hugetlb.lock still held after 10 minutes (a process left running by a test?)"; exit 99; }

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# run_hmo CMD...: runs CMD with libhmo preloaded (and nothing else of the caller's
# HMO_* environment).
# The command does not get the lock's descriptor (see above).
run_hmo() { env LD_PRELOAD="$LIBHMO${EXTRA_PRELOAD:+ $EXTRA_PRELOAD}" "$@" 9>&-; }

# field FILE FUNCTION COLUMN: a number from an HMO_STATS summary, commas removed.
# Columns: 1 calls, 2 bytes, 4 calls >= threshold, 5 their bytes.
field() {
	awk -v fn="$2" -v col="$3" '
		$1 == "hmo:" && $2 == fn {
			# calls bytes mean(two words) large-calls large-bytes
			n = split($0, w, /[ ]+/)
			v[1] = $3; v[2] = $4; v[4] = $7; v[5] = $8
			gsub(",", "", v[col]); print v[col]; found = 1; exit
		}
		END { if (!found) print 0 }' "$1"
}

need() { command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed (scripts/setup installs it)"; }
