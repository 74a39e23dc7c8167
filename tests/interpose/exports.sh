#!/bin/sh
# libhmo.so exports what src/preload/libhmo.map lists and nothing else: the map, the
# symbols libhmo's own objects give default visibility, and the library's dynamic
# symbols are the same set (a name the C library lacks, marked so in the map, may be
# missing from both of the others), and no export carries a symbol version.
. "$SRCDIR/tests/lib.sh"
map="$SRCDIR/src/preload/libhmo.map"
: "${LIBHMO_OBJECTS:?run through make check}"
cd "$WORK" || exit 99

# The map's names: between "global:" and "local:", comments dropped.
sed -e 's|/\*.*\*/||g' -e '/\/\*/,/\*\//d' "$map" |
	awk '/global:/ { on = 1; next } /local:/ { on = 0 } on { gsub(/[;[:space:]]/, ""); if ($0 != "") print }' |
	sort >map.txt
[ -s map.txt ] || fail "no names read from $map"
[ -z "$(uniq -d map.txt)" ] || fail "named twice in $map: $(uniq -d map.txt | tr '\n' ' ')"
# The names that may be missing: marked in the map, and not found by configure.
sed -n 's|^[[:space:]]*\([A-Za-z_0-9]*\);.*where the C library has it.*|\1|p' "$map" | while read -r s; do
	up=$(printf '%s' "$s" | tr '[:lower:]' '[:upper:]')
	grep -q "^#define HAVE_$up 1" "$BUILDDIR/config.h" || echo "$s"
done | sort >optional.txt

# Default-visibility definitions in libhmo's objects (libtool keeps the PIC object
# of each X.lo in .libs/X.o).
: >objects.txt
for lo in $LIBHMO_OBJECTS; do
	o="$BUILDDIR/$(dirname "$lo")/.libs/$(basename "$lo" .lo).o"
	[ -f "$o" ] || fail "libhmo's object $o is not there"
	readelf -sW "$o" | awk '($5 == "GLOBAL" || $5 == "WEAK") && $6 == "DEFAULT" && $7 != "UND" && $8 != "" { print $8 }' >>objects.txt
done
sort -u -o objects.txt objects.txt
nm -D --defined-only "$LIBHMO" | awk '{ print $NF }' | sed 's/@.*//' | sort -u >lib.txt

status=0
say() { [ -s "$2" ] && { echo "FAIL: $1: $(tr '\n' ' ' <"$2")"; status=1; }; }
comm -23 objects.txt map.txt >d1; say "exported by the code (HMO_EXPORT or .globl) but not listed in libhmo.map" d1
comm -23 lib.txt map.txt >d2; say "exported by libhmo.so but not listed in libhmo.map" d2
comm -23 map.txt lib.txt | comm -23 - optional.txt >d3; say "listed in libhmo.map but not exported by libhmo.so" d3
comm -23 map.txt objects.txt | comm -23 - optional.txt >d4; say "listed in libhmo.map but defined by none of libhmo's objects" d4
[ "$status" -eq 0 ] || exit 1

# No version on any export: programs bind to them as to a library with no map.
readelf --dyn-syms -W "$LIBHMO" | awk '$7 != "UND" && $8 ~ /@/ { print $8 }' >versioned.txt
say "exports with a symbol version (the map's node must have no name)" versioned.txt
[ "$status" -eq 0 ] || exit 1
echo "libhmo.so exports $(wc -l <lib.txt) symbols, as libhmo.map lists, none versioned"
