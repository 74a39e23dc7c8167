#!/bin/sh
# The examples of hmo.h (examples/), as a user would run them: the capture -> encoder
# hand-off through hmo_shm, as one command (two processes by fork) and as two
# unrelated processes started apart; and hmo_copy_async with deadlines.
. "$SRCDIR/tests/lib.sh"
ex="$BUILDDIR/examples"
cd "$WORK" || exit 99

"$ex/shm-handoff" 60 >out 2>err || { cat out err; fail "shm-handoff 60"; }
grep -q '^capture: 60 frames handed over' out && grep -q '^encode: 60 frames, 0 bad' out ||
	{ cat out err; fail "shm-handoff: not every frame arrived intact"; }

# Two unrelated processes: the encoder is started first and waits for the segment.
name="examples-$$"
"$ex/shm-handoff" encode "$name" >enc 2>enc.err 9>&- &
enc=$!
"$ex/shm-handoff" capture "$name" 40 >cap 2>cap.err || { cat cap cap.err; fail "shm-handoff capture"; }
wait $enc || { cat enc enc.err; fail "shm-handoff encode, a separate process"; }
grep -q '^encode: 40 frames, 0 bad' enc || { cat enc enc.err; fail "the encoder process did not get 40 intact frames"; }
ls /dev/shm/hmo-"$name" /dev/hugepages/hmo-"$name" 2>/dev/null && fail "the segment's name was left behind"

# Bad use: a clear error, no hang.
"$ex/shm-handoff" capture "a/b" 1 >/dev/null 2>err && fail "a name with a slash was accepted"
grep -q 'hmo_shm_create a/b: Invalid argument' err || { cat err; fail "no clear error for a bad name"; }
"$ex/shm-handoff" nonsense 2>err; [ $? -eq 2 ] || fail "bad usage: expected status 2"

# 30 frames at 60/s: every byte of every copy right. Lateness depends on the machine
# and is only printed.
"$ex/copy-deadlines" 30 >out 2>err || { cat out err; fail "copy-deadlines"; }
grep -q '^copy-deadlines: 30 frames .* 0 wrong' out || { cat out err; fail "copy-deadlines: copies wrong"; }
cat out
exit 0
