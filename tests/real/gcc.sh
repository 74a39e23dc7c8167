#!/bin/sh
. "$SRCDIR/tests/real/common.sh"
need gcc
cat >"$WORK/prog.c" <<'C'
#include <stdio.h>
int main(void) { long s = 0; for (int i = 0; i < 1000; i++) s += i * i; printf("%ld\n", s); return 0; }
C
cd "$WORK" || exit 99
same "gcc -O2" gcc -O2 -o prog.plain prog.c
run_hmo gcc -O2 -o prog.hmo prog.c || fail "gcc under hmo"
cmp -s prog.plain prog.hmo || fail "gcc built a different binary under hmo"
same "the built program" ./prog.hmo
