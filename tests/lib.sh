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

# The figures a test checks come from a machine-readable source: `hmo-report --json`
# of a trace of the run (report_json), or the key=value lines a test program wrote
# from hmo_stats (check_stats in tests/interpose/check.h, into the file named by
# T_STATS). jget reads either.

# report_json OUT TRACE...: hmo-report --json of the traces (files or directories),
# into OUT.
report_json() {
	rj_out=$1; shift
	"$BUILDDIR/hmo-report" --json "$@" >"$rj_out" 2>"$rj_out.err" ||
		{ cat "$rj_out.err"; fail "hmo-report --json $*"; }
}

# jget FILE EXPR: the value of a Python expression over FILE, a number printed as
# an integer where it is one (True and False as 1 and 0). In EXPR:
#   j               the JSON object, or the key=value lines as a dict (j["frames"])
#   call(FN, KEY)   calls[]: KEY (calls, bytes, large_calls, large_bytes) of function
#                   FN, 0 when FN was never called
#   large(FN, KEY)  large[] likewise (count, bytes, pool_hits, pool_new, fallbacks...)
#   cuda(FN, KEY)   cuda[] likewise (count, bytes, staged, pool_hits, errors...)
#   total(LIST, KEY)  KEY summed over the entries of LIST (j["large"], j["cuda"])
# A file it cannot read, or an expression it cannot evaluate, prints "jget-error"
# (which no comparison accepts) and the reason on stderr.
jget() {
	python3 - "$1" "$2" <<'JGET_EOF'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
try:
    text = open(path, encoding="utf-8").read()
    if text.lstrip().startswith("{"):
        j = json.loads(text)
    else:
        j = {}
        for line in text.splitlines():
            k, sep, v = line.partition("=")
            if sep:
                j[k.strip()] = float(v) if "." in v else int(v)
    def entry(name, fn, key):
        for e in j.get(name, []):
            if e["function"] == fn:
                return e[key]
        return 0
    env = {"j": j, "total": lambda lst, key: sum(e[key] for e in lst),
           "call": lambda fn, key: entry("calls", fn, key),
           "large": lambda fn, key: entry("large", fn, key),
           "cuda": lambda fn, key: entry("cuda", fn, key)}
    v = eval(expr, env)
except Exception as e:
    print("jget-error")
    print("jget %s %s: %r" % (path, expr, e), file=sys.stderr)
    sys.exit(0)
if isinstance(v, bool) or (isinstance(v, float) and v.is_integer()):
    v = int(v)
print(v)
JGET_EOF
}

# The summary's text, for what only it says (and for tests of the text itself):
# its readers are here, in one place.

# field FILE FUNCTION COLUMN: a number from an HMO_STATS summary's table, commas
# removed. Columns: 1 calls, 2 bytes, 4 calls >= threshold, 5 their bytes.
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

# advised FILE: the program's large anonymous mappings advised to huge pages.
advised() { awk '/^hmo: mmap: / { print $3; found = 1 } END { if (!found) print 0 }' "$1"; }

# released FILE: the frame pool's bytes released to the kernel, as the summary
# writes them ("0 B", "16.0 MiB").
released() { awk '/^hmo: frame pool: .* mapped in/ { sub(/.*released /, ""); print; exit }' "$1"; }

# node0_mib FILE: MiB of the pool's memory resident on NUMA node 0 at exit.
node0_mib() { awk '/resident at exit by NUMA node/ {
	for (i = 1; i < NF; i++) if ($i == "node" && $(i + 1) ~ /^0,?$/) { v = $(i + 2); u = $(i + 3) } }
	END { m = (u ~ /^GiB/) ? v * 1024 : (u ~ /^KiB/) ? v / 1024 : (u ~ /^B/) ? 0 : v; printf "%d\n", m }' "$1"; }

need() { command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed (scripts/setup installs it)"; }
