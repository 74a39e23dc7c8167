#!/bin/sh
. "$SRCDIR/tests/real/common.sh"
need tar; need gzip
mkdir -p "$WORK/tree" && cd "$WORK" || exit 99
for i in $(seq 1 200); do seq 1 $((i * 37)) >"tree/file$i"; done
same "tar | gzip" sh -c 'tar --sort=name --mtime=@0 --owner=0 --group=0 -cf - tree | gzip -9n | sha256sum'
tar -czf t.tgz tree
same "gzip -t and tar list" sh -c 'gzip -t t.tgz && tar -tzf t.tgz | wc -l'
