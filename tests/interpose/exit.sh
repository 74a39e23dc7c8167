#!/bin/sh
# Where the summary goes, and that it comes however the program leaves.
. "$SRCDIR/tests/lib.sh"
cd "$WORK" || exit 99

# No HMO_* variable: not a byte on stderr, no file.
run_hmo "$T/t_counts" 2>err; rc=$?
[ $rc -eq 0 ] || fail "t_counts rc $rc"
[ ! -s err ] || { cat err; fail "libhmo printed with no HMO_* variable set"; }
[ -z "$(ls | grep -v '^err$')" ] || fail "libhmo created a file unasked"

# _exit and _Exit still write the summary, and the exit status is kept.
HMO_STATS=1 run_hmo "$T/t_counts" _exit 2>err; rc=$?
[ $rc -eq 3 ] || fail "_exit status $rc, expected 3"
grep -q '^hmo: memcpy ' err || { cat err; fail "no summary through _exit"; }
HMO_STATS=1 run_hmo "$T/t_counts" _Exit 2>err; rc=$?
[ $rc -eq 4 ] || fail "_Exit status $rc, expected 4"
[ "$(grep -c '^hmo: pid' err)" -eq 1 ] || { cat err; fail "no single summary through _Exit"; }

# %e and %p expand; the file is private (0600) and nothing goes to stderr.
HMO_STATS="$WORK/%e-%p.stats" run_hmo "$T/t_counts" 2>err || fail "t_counts with a file"
set -- "$WORK"/t_counts-*.stats
[ -f "$1" ] || fail "no t_counts-PID.stats file"
[ "$(stat -c %a "$1")" = 600 ] || fail "summary file mode $(stat -c %a "$1"), expected 600"
[ ! -s err ] || { cat err; fail "stderr not empty with HMO_STATS=PATH"; }

# A relative path is anchored where the program started, whatever it does later.
mkdir rel && (cd rel && HMO_STATS=rel.stats run_hmo /bin/sh -c "cd / && exit 0")
[ -f rel/rel.stats ] || fail "a relative HMO_STATS path was not anchored at the start directory"

# A taken name is never overwritten: the summary goes to NAME.PID beside it.
echo keep >taken
HMO_STATS="$WORK/taken" run_hmo "$T/t_counts" 2>err || fail "t_counts with a taken file"
[ "$(cat taken)" = keep ] || fail "an existing file was overwritten"
ls taken.* >/dev/null 2>&1 || fail "no taken.PID written"
# ... nor followed through a symlink.
ln -s "$WORK/target" link
HMO_STATS="$WORK/link" run_hmo "$T/t_counts" 2>err || fail "t_counts with a symlink"
[ ! -e target ] || fail "the summary followed a symlink"

# A file that cannot be made: one hmo: line, then the summary on stderr.
HMO_STATS=/nonexistent/dir/s run_hmo "$T/t_counts" 2>err || fail "t_counts with a bad dir"
[ "$(grep -c 'cannot create the HMO_STATS file /nonexistent/dir/s' err)" -eq 1 ] || { cat err; fail "no single error line"; }
grep -q '^hmo: malloc ' err || { cat err; fail "summary lost when its file could not be made"; }

# HMO_STATS_HIST adds the size histogram.
HMO_STATS=1 HMO_STATS_HIST=1 run_hmo "$T/t_counts" 2>err || fail "with HMO_STATS_HIST"
grep -Eq '^hmo: +1.00 MiB \.\. 2.00 MiB +3$' err || { cat err; fail "no histogram row for the 3 callocs"; }
