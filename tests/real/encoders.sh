#!/bin/sh
# Encoders give byte-identical output with and without hmo, at 4K and 8K, through
# ffmpeg (libx264, libx265, libsvtav1, libvpx-vp9) and the x264 and x265 command-line
# encoders, and the frame pool really serves their frames.
. "$SRCDIR/tests/real/common.sh"
need ffmpeg
cd "$WORK" || exit 99
# served REPORT: frames the pool served, from the report of the traces.
served() { jget "$1" "total(j['large'], 'pool_hits') + total(j['large'], 'pool_new')"; }

# same_file LABEL OUT CMD...: CMD writes OUT; run without and with hmo, compare.
same_file() {
	label=$1 out=$2; shift 2
	"$@" >/dev/null 2>"$WORK/plain.err" || { cat "$WORK/plain.err"; fail "$label without hmo"; }
	mv "$out" plain.bin
	mkdir "$WORK/enc.tr"	# a directory: one trace per process (sh, then x265 by exec)
	HMO_TRACE="$WORK/enc.tr" run_hmo "$@" >/dev/null 2>"$WORK/hmo.err" \
		|| { cat "$WORK/hmo.err"; fail "$label under hmo"; }
	cmp -s plain.bin "$out" || fail "$label: the output differs under hmo"
	report_json "$WORK/enc.json" "$WORK/enc.tr"
	[ "$(served "$WORK/enc.json")" -gt 0 ] 2>/dev/null \
		|| { cat "$WORK/hmo.err"; fail "$label: the frame pool served no frame"; }
	rm -rf plain.bin "$out" "$WORK"/enc.tr "$WORK"/enc.json*
}

encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
for size in 3840x2160 7680x4320; do
	frames=3
	[ "$size" = 7680x4320 ] && frames=2
	for enc in "libx264 -preset ultrafast" "libx265 -preset ultrafast" \
		   "libsvtav1 -preset 12" "libvpx-vp9 -deadline realtime -cpu-used 8"; do
		name=${enc%% *}
		if ! printf '%s\n' "$encoders" | grep -q " $name "; then
			echo "$name: not in this ffmpeg, not tested"
			continue
		fi
		# shellcheck disable=SC2086
		same_file "ffmpeg $name $size" out.mkv ffmpeg -nostdin -hide_banner -loglevel error \
			-threads 2 -f lavfi -i "testsrc2=size=$size:rate=25" -frames:v "$frames" \
			-c:v $enc -fflags +bitexact -f matroska -y out.mkv
	done
done

# The command-line encoders, on raw 4K frames: x264 from a y4m file (which it maps
# one frame per mmap), x265 from a pipe.
ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i testsrc2=size=3840x2160:rate=25 \
	-frames:v 3 -pix_fmt yuv420p -f yuv4mpegpipe -y in.y4m || fail "making in.y4m"
if command -v x264 >/dev/null 2>&1; then
	same_file "x264 CLI" out.264 x264 --quiet --preset ultrafast --threads 2 -o out.264 in.y4m
else
	echo "x264 CLI not installed, not tested"
fi
if command -v x265 >/dev/null 2>&1; then
	same_file "x265 CLI" out.265 sh -c 'exec x265 --log-level error --preset ultrafast --frame-threads 1 --y4m --input - -o out.265 <in.y4m'
else
	echo "x265 CLI not installed, not tested"
fi
