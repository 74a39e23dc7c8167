# Sourced by the shell tests. The automake harness exports LIBHMO (the built
# libhmo.so), T (the built test programs), SRCDIR and BUILDDIR.
set -u
: "${LIBHMO:?run through make check}"
[ -f "$LIBHMO" ] || { echo "libhmo.so not built at $LIBHMO"; exit 99; }
LIBS="$T/.libs"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hmo-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# run_hmo CMD...: runs CMD with libhmo preloaded (and nothing else of the caller's
# HMO_* environment).
run_hmo() { env LD_PRELOAD="$LIBHMO${EXTRA_PRELOAD:+ $EXTRA_PRELOAD}" "$@"; }

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
