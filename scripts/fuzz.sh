#!/usr/bin/env bash
# Builds the fuzz targets (libFuzzer, stable toolchain, no cargo-fuzz) and runs each one
# for a fixed budget, seeded from the committed corpus (fuzz/corpus/<target>/) and the
# real inputs (shared manifests, test fixtures, traces). Fails on any crash, timeout or
# out-of-memory. See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

usage() {
  cat <<'EOF'
usage: scripts/fuzz.sh [options] [target...]

Builds every target (one release build under fuzz/target, reused between runs), then
runs each named target (default: all) and prints its executions and coverage.

  --time S      seconds per target (default: $FUZZ_SECONDS, else 20)
  --runs N      run N executions per target instead of a time budget (long runs)
  --merge       afterwards, add the inputs that reach new coverage to the committed
                corpus fuzz/corpus/<target>/, kept small (minimised, at most
                $FUZZ_CORPUS_MAX_FILES files / $FUZZ_CORPUS_MAX_KB KiB per target,
                defaults 200 / 256, keeping the inputs that bring the most edges)
  --build-only  build, run nothing
  --list        print the targets
  -h, --help    this text

The committed corpus is only read (copied to a scratch folder under fuzz/target/runs)
unless --merge is given. A crash, timeout (per input: $FUZZ_TIMEOUT_S, default 10 s)
or out-of-memory ($FUZZ_RSS_MB, default 2048 MB) leaves its input under
fuzz/artifacts/<target>/ and makes the script exit non-zero.
EOF
}

TARGETS=(hls dash dash_lite parse_any steering trace fmp4 retry_after session)
SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"
RUNS=""
MERGE=0
BUILD_ONLY=0
SELECTED=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) SECONDS_PER_TARGET="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --merge) MERGE=1; shift ;;
    --build-only) BUILD_ONLY=1; shift ;;
    --list) printf '%s\n' "${TARGETS[@]}"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *)
      if [[ " ${TARGETS[*]} " != *" $1 "* ]]; then
        echo "fuzz.sh: unknown target $1 (targets: ${TARGETS[*]})" >&2; exit 2
      fi
      SELECTED+=("$1"); shift ;;
  esac
done
[ ${#SELECTED[@]} -eq 0 ] && SELECTED=("${TARGETS[@]}")

SHARED="${STREAMSTEER_SHARED:-$ROOT/../shared}"
TIMEOUT_S="${FUZZ_TIMEOUT_S:-10}"
RSS_MB="${FUZZ_RSS_MB:-2048}"
MAX_FILES="${FUZZ_CORPUS_MAX_FILES:-200}"
MAX_KB="${FUZZ_CORPUS_MAX_KB:-256}"

# ----- build ---------------------------------------------------------------------
# The instrumentation cargo-fuzz applies, spelled out: SanitizerCoverage's inline 8-bit
# counters, PC table and comparison tracing, which libFuzzer (compiled by libfuzzer-sys
# with the system C++ compiler) reads. No AddressSanitizer: it needs nightly, and the
# engine has no unsafe code. --target keeps build scripts and proc macros
# uninstrumented; the fixed target dir keeps the build between runs.
HOST="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="$ROOT/fuzz/target"
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
-Cllvm-args=-sanitizer-coverage-stack-depth \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
unset RUSTDOCFLAGS CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
echo "fuzz: building ${#TARGETS[@]} targets for $HOST (release, debug assertions, overflow checks)"
build_start=$(date +%s)
cargo build --manifest-path fuzz/Cargo.toml --release --bins --target "$HOST"
echo "fuzz: build took $(( $(date +%s) - build_start )) s"
BIN="$CARGO_TARGET_DIR/$HOST/release"
[ "$BUILD_ONLY" = 1 ] && exit 0

# ----- seeds ---------------------------------------------------------------------
# Copies FILE into DIR under a name made from its path (sources share file names).
seed() {
  local dir="$1"; shift
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    cp "$f" "$dir/$(printf '%s' "${f#"$ROOT"/}" | tr -c 'A-Za-z0-9._-' '_')"
  done
}

# The first N files (by name) under DIR no larger than MAX bytes.
first_small() {
  local dir="$1" n="$2" max="$3"
  [ -d "$dir" ] || return 0
  find "$dir" -type f -size -"$((max + 1))"c ! -name '*.md' ! -name 'LICENSE*' | LC_ALL=C sort | head -n "$n"
}

# Real inputs for a target, and the hand-written seeds of fuzz/seeds/<target>/, copied
# into DIR.
real_seeds() {
  local target="$1" dir="$2" m="$SHARED/manifests" fx="$ROOT/tests/fixtures"
  seed "$dir" "$ROOT/fuzz/seeds/$target"/*
  case "$target" in
    hls) seed "$dir" "$m"/*/*.m3u8 "$fx"/*/*.m3u8 "$fx"/*/*/*.m3u8 "$fx"/*/*/*/*.m3u8 ;;
    dash) seed "$dir" "$m"/*/*.mpd "$m"/dash-mpd-rs/*.xml "$fx"/*/*.mpd "$fx"/*/*/*.mpd ;;
    # The same inputs, and what the dash target has found (the two share a converter).
    dash_lite)
      seed "$dir" "$m"/*/*.mpd "$m"/dash-mpd-rs/*.xml "$fx"/*/*.mpd "$fx"/*/*/*.mpd "$ROOT"/fuzz/corpus/dash/* ;;
    parse_any)
      seed "$dir" "$m"/*/*.m3u8 "$m"/*/*.mpd "$m"/dash-mpd-rs/*.xml "$fx"/*/*.m3u8 "$fx"/*/*/*.m3u8 \
        "$fx"/*/*.mpd "$fx"/*/*/*.mpd ;;
    trace)
      local d
      for d in "$SHARED"/traces/*/ "$SHARED"/ladders/*/; do
        # shellcheck disable=SC2046
        seed "$dir" $(first_small "$d" 4 32768)
      done ;;
    fmp4)
      # The target reads a 2-byte big-endian init length, the init, then a media segment.
      local init seg len
      for init in "$fx"/cmaf/*/*/init.mp4; do
        for seg in "$(dirname "$init")"/seg_*.m4s; do
          [ -f "$seg" ] || continue
          len=$(wc -c < "$init")
          {
            printf "\\$(printf %03o $((len >> 8)))\\$(printf %03o $((len & 255)))"
            cat "$init" "$seg"
          } > "$dir/$(printf '%s' "${seg#"$fx"/}" | tr '/' '_')"
        done
      done ;;
    *) ;;
  esac
}

max_len() {
  case "$1" in
    hls) echo 16384 ;;
    dash | dash_lite | parse_any) echo 100000 ;;
    trace | fmp4) echo 32768 ;;
    steering) echo 16384 ;;
    retry_after) echo 256 ;;
    session) echo 4096 ;;
  esac
}

# Prints the inputs of a merge control file (libFuzzer's: file count, first-corpus count,
# paths, then STARTED/FT/COV lines per input) that bring the most coverage edges, at most
# MAX_FILES inputs and MAX_KB KiB. libFuzzer credits each edge to the smallest input that
# reaches it, so the inputs' edge sets are disjoint; the greedy below stays correct
# should they overlap (lazy greedy: gains only shrink, so a candidate whose recomputed
# gain still tops every other's last known gain is the best).
greedy_cover() {
  awk -v maxn="$MAX_FILES" -v maxb="$((MAX_KB * 1024))" '
    NR == 1 { n = $1 + 0; next }
    NR == 2 { next }
    NR <= n + 2 { path[NR - 3] = $0; next }
    $1 == "STARTED" { size[$2] = $3 + 0; next }
    $1 == "COV" { for (i = 3; i <= NF; i++) e[$2, i - 2] = $i; ne[$2] = NF - 2; gain[$2] = NF - 2; next }
    END {
      picked = 0; bytes = 0
      while (picked < maxn) {
        best = -1
        for (f in gain) {
          if ((f in done) || gain[f] <= 0) continue
          if (best < 0 || gain[f] > gain[best] || (gain[f] == gain[best] && size[f] < size[best])) best = f
        }
        if (best < 0) break
        g = 0
        for (k = 1; k <= ne[best]; k++) if (!(e[best, k] in cov)) g++
        if (g < gain[best]) { gain[best] = g; continue }
        done[best] = 1
        if (bytes + size[best] > maxb) continue
        picked++; bytes += size[best]
        for (k = 1; k <= ne[best]; k++) cov[e[best, k]] = 1
        print path[best]
      }
    }' "$1"
}

# ----- runs ----------------------------------------------------------------------
RUNS_DIR="$CARGO_TARGET_DIR/runs"
FAILED=()
SUMMARY=()
for target in "${SELECTED[@]}"; do
  work="$RUNS_DIR/$target"
  rm -rf "$work"
  mkdir -p "$work/seeds" "$work/found" "$ROOT/fuzz/artifacts/$target"
  committed="$ROOT/fuzz/corpus/$target"
  if [ -d "$committed" ]; then
    find "$committed" -maxdepth 1 -type f -exec cp {} "$work/seeds/" \;
  fi
  real_seeds "$target" "$work/seeds"
  nseeds=$(find "$work/seeds" -type f | wc -l)
  budget=(-max_total_time="$SECONDS_PER_TARGET")
  what="${SECONDS_PER_TARGET} s"
  if [ -n "$RUNS" ]; then
    budget=(-runs="$RUNS")
    what="$RUNS runs"
  fi
  len=$(max_len "$target")
  echo "fuzz: $target: $what from $nseeds seeds (max_len $len, timeout ${TIMEOUT_S} s, rss ${RSS_MB} MB)"
  log="$work/fuzz.log"
  start=$(date +%s)
  set +e
  # found/ first: libFuzzer writes the inputs it discovers there, never to the seeds.
  (cd "$work" && "$BIN/$target" found seeds "${budget[@]}" -max_len="$len" -timeout="$TIMEOUT_S" \
    -rss_limit_mb="$RSS_MB" -print_final_stats=1 -artifact_prefix="$ROOT/fuzz/artifacts/$target/" \
    > "$log" 2>&1)
  rc=$?
  set -e
  took=$(( $(date +%s) - start ))
  # The last status line carries the coverage; the final stats the executions.
  status_line=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status_line")
  corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$status_line")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
  line=$(printf '%-12s %-4s %6s s  execs %-10s %7s/s  cov %-6s ft %-6s corpus %-10s rss %s MB' \
    "$target" "$([ $rc -eq 0 ] && echo ok || echo FAIL)" "$took" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}")
  echo "fuzz: $line"
  SUMMARY+=("$line")
  if [ $rc -ne 0 ]; then
    FAILED+=("$target")
    echo "fuzz: $target failed (exit $rc); log: $log; tail:" >&2
    grep -v -E '^#[0-9]+ +(NEW|REDUCE|pulse)' "$log" | tail -n 60 >&2
    continue
  fi

  if [ "$MERGE" = 1 ]; then
    # Inputs found in this run that add coverage over the committed corpus and the real
    # seeds, then the committed corpus minimised. Coverage here is edges only
    # (-use_counters=0): hit-count features would keep many times more inputs.
    mkdir -p "$committed" "$work/base" "$work/min"
    cp "$work/seeds/." "$work/base/" -r
    before=$(find "$work/base" -type f -printf '%f\n' | LC_ALL=C sort)
    (cd "$work" && "$BIN/$target" -merge=1 -use_counters=0 -max_len="$len" -timeout="$TIMEOUT_S" \
      -rss_limit_mb="$RSS_MB" base found > merge1.log 2>&1)
    added=0
    while IFS= read -r f; do
      cp "$work/base/$f" "$committed/$f"
      added=$((added + 1))
    done < <(comm -13 <(printf '%s\n' "$before") <(find "$work/base" -type f -printf '%f\n' | LC_ALL=C sort))
    # Then the committed corpus cut down to the limits, keeping the inputs that bring
    # the most edges (ties: the smaller), from libFuzzer's merge control file.
    (cd "$work" && "$BIN/$target" -merge=1 -use_counters=0 -merge_control_file="$work/control" \
      -max_len="$len" -timeout="$TIMEOUT_S" -rss_limit_mb="$RSS_MB" min "$committed" > merge2.log 2>&1)
    mkdir -p "$work/keep"
    if [ -f "$work/control" ]; then
      greedy_cover "$work/control" | while IFS= read -r f; do cp "$f" "$work/keep/"; done
    fi
    if [ -n "$(ls -A "$work/keep")" ]; then
      find "$committed" -maxdepth 1 -type f -delete
      find "$work/keep" -maxdepth 1 -type f -exec cp {} "$committed/" \;
    else
      echo "fuzz: $target: the merge gave no coverage figures; corpus left as it was" >&2
    fi
    echo "fuzz: $target: merged $added new inputs; committed corpus now" \
      "$(find "$committed" -type f | wc -l) files," \
      "$(find "$committed" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.1f", s / 1024}') KiB"
  fi
done

echo
echo "fuzz: summary"
printf '  %s\n' "${SUMMARY[@]}"
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${FAILED[*]} (inputs under fuzz/artifacts/<target>/)" >&2
  exit 1
fi
