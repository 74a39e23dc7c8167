#!/bin/sh
# The summary reports exactly the calls and bytes a program made.
. "$SRCDIR/tests/lib.sh"
HMO_STATS="$WORK/s" run_hmo "$T/t_counts" || fail "t_counts"
# What the process does without the program's calls (libraries' own start-up calls,
# such as the sanitizer runtime's): subtracted, so the rest is the program's alone.
HMO_STATS="$WORK/base" run_hmo "$T/t_counts" none || fail "t_counts none"
expect() {	# function column value
	got=$(( $(field "$WORK/s" "$1" "$2") - $(field "$WORK/base" "$1" "$2") ))
	[ "$got" = "$3" ] || { cat "$WORK/base" "$WORK/s"; fail "$1 column $2: got $got more than the baseline, expected $3"; }
}
expect malloc 1 10;          expect malloc 2 10000;        expect malloc 4 0
expect free 1 16
expect calloc 1 3;           expect calloc 2 6000000;      expect calloc 4 3;  expect calloc 5 6000000
expect realloc 1 3;          expect realloc 2 9000000;     expect realloc 4 3
expect posix_memalign 1 1;   expect posix_memalign 2 12345
expect aligned_alloc 1 1;    expect aligned_alloc 2 4194304; expect aligned_alloc 4 1
expect memalign 1 1;         expect memalign 2 7
expect malloc_usable_size 1 1
expect memcpy 1 7;           expect memcpy 2 864199
expect memmove 1 1;          expect memmove 2 200000
expect memset 1 1;           expect memset 2 300000
expect mmap 1 1;             expect mmap 2 5242880;        expect mmap 5 5242880
expect munmap 1 1;           expect munmap 2 5242880
# A lower threshold moves calls into the large columns.
HMO_THRESHOLD=100K HMO_STATS="$WORK/s2" run_hmo "$T/t_counts" || fail "t_counts with HMO_THRESHOLD"
[ "$(field "$WORK/s2" memcpy 4)" = 7 ] || fail "HMO_THRESHOLD=100K: memcpy of 123,457 not large"
[ "$(field "$WORK/s2" malloc 4)" = 0 ] || fail "HMO_THRESHOLD=100K: malloc of 1,000 counted large"
grep -q '>=100K' "$WORK/s2" || fail "the summary does not name the threshold"
