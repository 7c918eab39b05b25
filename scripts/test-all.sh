#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then runs
# formatting, lints, the wasm32 build of the engine, a short run of every fuzz target,
# and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# A fresh clone builds the workspace once from scratch: incremental caches would only
# add about 11 GB of disk (which one CI run ran out of) and buy nothing.
export CARGO_INCREMENTAL=0
step "disk"
df -h . | tail -n 1

step "toolchain"
if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt

step "system packages"
# ffmpeg makes the test content and is the yardstick for decoded pictures and sound;
# nasm builds rav1d's assembly; libavcodec-dev (+ libclang for its bindings) is the
# H.264 decoder; mesa-vulkan-drivers is lavapipe, the CPU Vulkan wgpu renders on;
# libasound2-dev builds the cpal audio output; xvfb is the X server the window test draws on;
# g++ compiles libFuzzer for the fuzz targets; chromium runs the browser build's tests
# (nodejs and npm drive it, installed only where no node is).
PACKAGES="ffmpeg nasm pkg-config clang libclang-dev libavcodec-dev libavformat-dev libavutil-dev
  libswresample-dev mesa-vulkan-drivers libvulkan1 libasound2-dev xvfb xauth g++ chromium"
command -v node > /dev/null || PACKAGES="$PACKAGES nodejs npm"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
ffmpeg -hide_banner -version | head -n 1
# wgpu probes wayland at start-up and complains without a runtime dir.
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ]; then
  XDG_RUNTIME_DIR="$(mktemp -d)"; chmod 700 "$XDG_RUNTIME_DIR"; export XDG_RUNTIME_DIR
fi

step "wasm-bindgen CLI (the version of wasm-bindgen in Cargo.lock)"
wbg=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }')" != "$wbg" ]; then
  cargo install wasm-bindgen-cli --version "$wbg"
fi
wasm-bindgen --version

if [ ! -d ../shared ] && [ -z "${STREAMSTEER_SHARED:-}" ]; then
  echo "error: the shared data folder (../shared) is missing; set STREAMSTEER_SHARED" >&2
  exit 1
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "API docs (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked \
  -p streamsteer -p streamsteer-sim -p streamsteer-origin -p streamsteer-net -p streamsteer-media

step "engine for wasm32-unknown-unknown (default features, the browser build's hls+dash-lite, no front ends)"
cargo build -p streamsteer --target wasm32-unknown-unknown --locked
cargo build -p streamsteer --target wasm32-unknown-unknown --no-default-features --features hls,dash-lite --locked
cargo build -p streamsteer --target wasm32-unknown-unknown --no-default-features --locked
cargo clippy -p streamsteer-web --target wasm32-unknown-unknown --locked -- -D warnings

step "fuzz targets: each for ${FUZZ_SECONDS:-20} s (libFuzzer on stable, build kept in fuzz/target)"
bash scripts/fuzz.sh

step "tests"
cargo test --workspace --locked
# The engine with the browser build's front ends: sessions (live reloads included)
# read MPDs with the lite reader. With every ABR rule (`all-rules`): the browser build
# has only the default, but these tests play sessions with the others too.
cargo test -p streamsteer --no-default-features --features hls,dash-lite,all-rules --locked

step "examples (each runs to its end and exits non-zero if what it shows did not happen)"
# `cargo test` above already built them; each log is kept under target/examples/.
mkdir -p target/examples
for example in session_by_hand native_player custom_abr two_cdn_steering; do
  log="target/examples/$example.log"
  started=$SECONDS
  if ! cargo run -q -p streamsteer-examples --locked --example "$example" > "$log" 2>&1; then
    tail -n 40 "$log"
    echo "example $example failed (whole output: $log)" >&2
    exit 1
  fi
  echo "$example ok in $((SECONDS - started)) s: $(tail -n 1 "$log")"
done

step "media pipeline's optional outputs: cpal (no sound card here: a typed error), an X11 window (Xvfb)"
cargo clippy -p streamsteer-media -p streamsteer-cli --all-targets --locked \
  --features streamsteer-media/cpal,streamsteer-media/ffmpeg,streamsteer-cli/window -- -D warnings
xvfb-run -a cargo test -p streamsteer-media --features cpal,ffmpeg,window --locked --lib --test window

step "simulator smoke run (built-in defaults)"
cargo streamsteer simulate --abr default,robustmpc --json > /dev/null

step "demo (README's first command: default content, two CDNs on loopback, an outage)"
cargo streamsteer demo --quiet --out target/streamsteer-demo > target/streamsteer-demo.json
echo "demo ok: $(tr -d '\n ' < target/streamsteer-demo.json | head -c 200)"
# What the demo is for must show: the ABR rule moves between rungs, playback leaves the
# preferred CDN for its outage and comes back to it.
python3 - target/streamsteer-demo <<'PY'
import json, sys
out = sys.argv[1]
report = json.load(open(f"{out}/qoe.json"))
status = [e for e in map(json.loads, open(f"{out}/events.jsonl")) if e.get("type") == "status"]
during = {s["pathway"] for s in status if 22 <= s["time_s"] <= 32}
after = {s["pathway"] for s in status if 40 <= s["time_s"] <= 100}
assert report["switch_count"] >= 2, f"the bitrate never moved: {report['switch_count']} switches"
assert "cloudfront" in during, f"no failover during the outage (20-32 s): {during}"
assert "openconnect" in after, f"never back on openconnect after the outage: {after}"
print(f"demo shows {report['switch_count']} rendition switches, {sorted(during)} during the "
      f"outage and {sorted(after)} after it")
PY

step "browser: the npm package (web/) plays the origin's HLS and DASH, AV1 and H.264 + AAC, in headless Chromium; an outage, a link drop, steering 429/410"
# `cargo test` above built the CLI (the origin) and both contents.
# The suite's H.264 ladder (with B-frames), not web/compare's sibling made without them.
# (A loop, not `grep -L`: grep 3.8 exits 1 even when it lists a file.)
h264=""
for f in target/streamsteer-content/h264-40s-2s-4r-*/content.json; do
  if ! grep -q '"b_frames"' "$f"; then h264=$(dirname "$f"); break; fi
done
[ -n "$h264" ] || { echo "no H.264 test content in target/streamsteer-content" >&2; exit 1; }
av1=$(ls -d target/streamsteer-content/av1-40s-2s-* | head -n 1)
(
  cd web
  npm ci --no-audit --no-fund
  STREAMSTEER_BIN="$PWD/../target/debug/streamsteer" STREAMSTEER_CONTENT="$PWD/../$av1,$PWD/../$h264" npm test
)
