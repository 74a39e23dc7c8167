#!/bin/sh
. "$SRCDIR/tests/real/common.sh"
need ffmpeg
ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libx264 || skip "this ffmpeg has no libx264"
cd "$WORK" || exit 99
enc() {
	"$@" ffmpeg -nostdin -hide_banner -loglevel error -threads 2 \
		-f lavfi -i testsrc2=size=1280x720:rate=25 -frames:v 25 \
		-c:v libx264 -preset ultrafast -f h264 -y "$OUT"
}
OUT=plain.h264 enc env || fail "ffmpeg without hmo"
OUT=hmo.h264 HMO_STATS="$WORK/ff.stats" enc run_hmo || fail "ffmpeg under hmo"
[ "$(md5sum <plain.h264)" = "$(md5sum <hmo.h264)" ] || fail "the bitstream differs under hmo"

# Under hmo-run, traced: the output is the same, the calls are counted, and the
# report names FFmpeg's own allocation paths (av_malloc, av_buffer_realloc) among the
# call sites.
OUT=traced.h264 enc "$BUILDDIR/hmo-run" --json -o report.json -- || fail "ffmpeg under hmo-run"
[ "$(md5sum <plain.h264)" = "$(md5sum <traced.h264)" ] || fail "the bitstream differs when traced"
[ "$(jget report.json "call('__memcpy_chk', 'calls') + call('memcpy', 'calls')")" -gt 0 ] ||
	fail "no copies counted in ffmpeg"
[ "$(jget report.json "call('posix_memalign', 'calls')")" -gt 0 ] || fail "no posix_memalign counted in ffmpeg"
python3 - report.json <<'PY' || fail "the report does not name FFmpeg's allocation paths"
import json, sys
r = json.load(open(sys.argv[1]))
frames = [f for order in r["sites"].values() for s in order["top"] for f in s["frames"]]
names = ("av_malloc", "av_realloc", "av_buffer_realloc", "av_buffer_alloc")
sys.exit(0 if any(f.startswith(names) for f in frames) else 1)
PY
