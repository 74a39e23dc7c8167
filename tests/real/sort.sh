#!/bin/sh
. "$SRCDIR/tests/real/common.sh"
need sort
# About 60 MB of lines, sorted with two threads and a large buffer.
awk 'BEGIN { srand(7); for (i = 0; i < 2000000; i++) printf "%08x line %d\n", int(rand() * 4294967295), i }' >"$WORK/in"
same "sort" sort --parallel=2 -S 200M "$WORK/in"
same "sort -n -u" sort -n -u -k3 "$WORK/in"
