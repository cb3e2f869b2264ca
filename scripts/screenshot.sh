#!/usr/bin/env bash
# Runs the viewer in a virtual X display (Xvfb) on a sample session and writes a PNG.
#
#   scripts/screenshot.sh [OUT.png] [SESSION]
#
# Defaults: docs/screenshot.png, the stuck custom tool sample. Builds flightrec and flightrec-ui
# (release) when missing; installs Xvfb, ImageMagick and xdotool with apt when run as root.
# Environment: CARGO_TARGET_DIR (where the binaries are), SHOT_DELAY (seconds before the shot).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/docs/screenshot.png}"
session="${2:-sesn_011CZstuckCustomTool0002}"
target="${CARGO_TARGET_DIR:-$here/target}"
delay="${SHOT_DELAY:-4}"

need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v import >/dev/null || need+=(imagemagick)
command -v xdotool >/dev/null || need+=(xdotool)
command -v xdpyinfo >/dev/null || need+=(x11-utils)
if ((${#need[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "screenshot.sh: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
        exit 2
    fi
fi

if [[ ! -x $target/release/flightrec || ! -x $target/release/flightrec-ui ]]; then
    (cd "$here" && cargo build --release -p flightrec -p flightrec-ui)
fi

work="$(mktemp -d)"
trap 'kill ${APID:-} ${XPID:-} 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/shot.db"
"$target/release/flightrec" --db "$db" import "$here"/sample-logs/*.jsonl "$here"/sample-logs/*.sse \
    "$here"/sample-logs/*.json >/dev/null

display=":$((90 + RANDOM % 9))"
export DISPLAY="$display"
unset WAYLAND_DISPLAY
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
XPID=$!
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

"$target/release/flightrec-ui" --db "$db" "$session" >/dev/null 2>&1 &
APID=$!
sleep "$delay"
# Select the blocked custom tool use (End, then Up twice) and zoom in around it, so the
# inspector and the state panel show it. There is no window manager: focus the window by hand.
if wid="$(xdotool search --name '^flightrec$' 2>/dev/null | head -1)" && [[ -n $wid ]]; then
    xdotool windowmove "$wid" 0 0 windowsize "$wid" 1600 1000 >/dev/null 2>&1 || true
    sleep 1
    xdotool windowfocus --sync "$wid" >/dev/null 2>&1 || true
    xdotool mousemove 700 980 >/dev/null 2>&1 || true
    for k in ${SHOT_KEYS:-End Up Up plus plus plus plus}; do
        xdotool key "$k" >/dev/null 2>&1 || true
        sleep 0.3
    done
    sleep 1.5
fi
mkdir -p "$(dirname "$out")"
import -window root "$out"
echo "wrote $out"
