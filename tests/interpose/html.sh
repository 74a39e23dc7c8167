#!/bin/sh
# The HTML page in headless Chromium: it loads, its DOM holds the plots, and a
# screenshot is taken (kept as html.png beside the test log).
. "$SRCDIR/tests/lib.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || skip "chromium is not installed (scripts/setup installs it)"
report="$BUILDDIR/hmo-report"
cd "$WORK" || exit 99
mkdir tr
HMO_TRACE=tr HMO_INTERVAL=10ms run_hmo "$T/t_trace" >/dev/null || fail "t_trace under HMO_TRACE"
"$report" --html r.html tr >/dev/null || fail "hmo-report --html"
flags="--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --user-data-dir=$WORK/profile"
# shellcheck disable=SC2086
timeout 120 "$browser" $flags --dump-dom "file://$WORK/r.html" >dom.html 2>browser.log ||
	{ tail -5 browser.log; fail "chromium could not load the page"; }
grep -q '<h1>hmo report</h1>' dom.html || fail "the loaded page has no title heading"
[ "$(grep -o '<svg' dom.html | wc -l)" -ge 4 ] || fail "the loaded page has fewer than 4 plots"
# shellcheck disable=SC2086
timeout 120 "$browser" $flags --window-size=1000,1600 --screenshot="$WORK/r.png" "file://$WORK/r.html" \
	>/dev/null 2>>browser.log || { tail -5 browser.log; fail "chromium could not take a screenshot"; }
[ "$(head -c 8 r.png | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "the screenshot is not a PNG"
[ "$(stat -c %s r.png)" -gt 20000 ] || fail "the screenshot is nearly empty"
cp r.png "$BUILDDIR/tests/interpose/html.png" 2>/dev/null || true
exit 0
