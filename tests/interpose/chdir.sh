#!/bin/sh
# A relative LD_PRELOAD survives the program's chdir into its children.
. "$SRCDIR/tests/lib.sh"
dir=$(dirname "$LIBHMO")
cd "$dir/.." || fail "cd"
rel="$(basename "$dir")/$(basename "$LIBHMO")"
[ -f "$rel" ] || fail "no $rel"
LD_PRELOAD="$rel" "$T/t_chdir" 2>"$WORK/err" || { cat "$WORK/err"; fail "t_chdir"; }
if grep -q "cannot be preloaded" "$WORK/err"; then cat "$WORK/err"; fail "ld.so complained"; fi
