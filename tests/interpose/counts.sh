#!/bin/sh
# The counters hold exactly the calls and bytes a program made (read from
# hmo-report --json of its trace), and the summary gives the same figures.
. "$SRCDIR/tests/lib.sh"
HMO_TRACE="$WORK/tr" HMO_STATS="$WORK/s" run_hmo "$T/t_counts" || fail "t_counts"
report_json "$WORK/s.json" "$WORK/tr"
# What the process does without the program's calls (libraries' own start-up calls,
# such as the sanitizer runtime's): subtracted, so the rest is the program's alone.
HMO_TRACE="$WORK/trbase" run_hmo "$T/t_counts" none || fail "t_counts none"
report_json "$WORK/base.json" "$WORK/trbase"
expect() {	# function key value
	got=$(( $(jget "$WORK/s.json" "call('$1', '$2')") - $(jget "$WORK/base.json" "call('$1', '$2')") ))
	[ "$got" = "$3" ] || { cat "$WORK/s"; fail "$1 $2: got $got more than the baseline, expected $3"; }
}
expect malloc calls 10;         expect malloc bytes 10000;           expect malloc large_calls 0
expect free calls 16
expect calloc calls 3;          expect calloc bytes 6000000;         expect calloc large_calls 3
expect calloc large_bytes 6000000
expect realloc calls 3;         expect realloc bytes 9000000;        expect realloc large_calls 3
expect posix_memalign calls 1;  expect posix_memalign bytes 12345
expect aligned_alloc calls 1;   expect aligned_alloc bytes 4194304;  expect aligned_alloc large_calls 1
expect memalign calls 1;        expect memalign bytes 7
expect malloc_usable_size calls 1
expect memcpy calls 7;          expect memcpy bytes 864199
expect memmove calls 1;         expect memmove bytes 200000
expect memset calls 1;          expect memset bytes 300000
expect mmap calls 1;            expect mmap bytes 5242880;           expect mmap large_bytes 5242880
expect munmap calls 1;          expect munmap bytes 5242880

# The summary reads the same counters as the report: each row of its table (calls,
# bytes, calls and bytes at or above the threshold) is the report's for that run,
# and it has no row the report lacks.
fns=$(jget "$WORK/s.json" "' '.join(c['function'] for c in j['calls'])")
[ -n "$fns" ] || fail "the report has no calls"
for fn in $fns; do
	text="$(field "$WORK/s" "$fn" 1) $(field "$WORK/s" "$fn" 2) $(field "$WORK/s" "$fn" 4) $(field "$WORK/s" "$fn" 5)"
	json=$(jget "$WORK/s.json" "' '.join(str(call('$fn', k)) for k in ('calls', 'bytes', 'large_calls', 'large_bytes'))")
	# free and malloc_usable_size have no bytes columns in the summary
	[ "$(echo $text | sed 's/^\([0-9]*\)$/\1 0 0 0/')" = "$json" ] ||
		{ cat "$WORK/s"; fail "$fn: the summary says $text, the report $json"; }
done
rows=$(grep -v '^hmo: pid ' "$WORK/s" | grep -Ec '^hmo: [A-Za-z_0-9]+ +[0-9,]+( |$)')
[ "$rows" -eq "$(echo $fns | wc -w)" ] || { cat "$WORK/s"; fail "the summary has $rows rows, the report $(echo $fns | wc -w) functions"; }

# A lower threshold moves calls into the large columns.
HMO_THRESHOLD=100K HMO_TRACE="$WORK/tr2" HMO_STATS="$WORK/s2" run_hmo "$T/t_counts" || fail "t_counts with HMO_THRESHOLD"
report_json "$WORK/s2.json" "$WORK/tr2"
[ "$(jget "$WORK/s2.json" "j['processes'][0]['threshold']")" = 102400 ] || fail "HMO_THRESHOLD=100K not in force"
[ "$(jget "$WORK/s2.json" "call('memcpy', 'large_calls')")" = 7 ] || fail "HMO_THRESHOLD=100K: memcpy of 123,457 not large"
[ "$(jget "$WORK/s2.json" "call('malloc', 'large_calls')")" = 0 ] || fail "HMO_THRESHOLD=100K: malloc of 1,000 counted large"
grep -q '>=100K' "$WORK/s2" || fail "the summary does not name the threshold"
