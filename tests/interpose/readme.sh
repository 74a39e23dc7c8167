#!/bin/sh
# README.md's variable listing is the one the option table prints.
. "$SRCDIR/tests/lib.sh"
"$BUILDDIR/hmo-options" --markdown >"$WORK/want" || fail "hmo-options"
sed -n '/<!-- options:begin -->/,/<!-- options:end -->/p' "$SRCDIR/README.md" | sed '1d;$d' >"$WORK/have"
diff -u "$WORK/have" "$WORK/want" || fail "README.md is stale: run 'make update-readme'"
