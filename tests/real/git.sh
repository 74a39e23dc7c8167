#!/bin/sh
. "$SRCDIR/tests/real/common.sh"
need git
repo="$WORK/repo"
git init -q "$repo" && cd "$repo" || fail "git init"
for i in 1 2 3; do seq 1 $((i * 1000)) >"f$i"; done
git add . && git -c user.name=t -c user.email=t@t commit -qm one || fail "git commit"
same "git log" env GIT_CONFIG_NOSYSTEM=1 git -c core.pager=cat log --stat --format=%T
same "git fsck" git fsck --full --strict
same "git gc" sh -c 'git gc -q && git count-objects -v | grep -v size'
