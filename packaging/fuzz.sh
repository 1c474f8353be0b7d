#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz: clang, ASan and UBSan on everything) and runs them.
#   [PARALLEL=N] packaging/fuzz.sh [TARGET[,TARGET...]|all] [SECONDS]
#   (default: all, 600 s each, 1 at once)
# Targets: pickle checkpoint onnx catalog bag multipart remote decoder.
# Seeds come from the fixtures in ../shared (model files, bag YAML), the catalog, and files made
# here (short audio in several formats, multipart bodies, server answers); the corpus grows in
# build-fuzz/corpus/TARGET and is kept between runs. A finding is written to
# build-fuzz/artifacts/TARGET-* and the script exits 1; replay it with
#   build-fuzz/tests/fuzz/fuzz_TARGET build-fuzz/artifacts/TARGET-...
# Each run's last line (executions, coverage) is appended to build-fuzz/fuzz-results.txt.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$repo/../shared" 2>/dev/null && pwd || true)
build=${FUZZ_BUILD:-$repo/build-fuzz}
all=(pickle checkpoint onnx catalog bag multipart remote decoder)
which=${1:-all}
seconds=${2:-600}
if [ "$which" = all ]; then targets=("${all[@]}"); else IFS=, read -ra targets <<<"$which"; fi
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (${all[*]})" >&2; exit 2; }
done
command -v clang++ >/dev/null || { echo "fuzz.sh: needs clang (apt-get install clang)" >&2; exit 2; }

cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUSIC_SPLIT_FUZZ=ON -DMUSIC_SPLIT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "${targets[@]/#/fuzz_}"

seeds=$build/seeds
make_seeds() {
  rm -rf "$seeds" && mkdir -p "$seeds"/{pickle,checkpoint,onnx,catalog,bag,multipart,remote,decoder}
  cp "$repo/models/catalog.yaml" "$seeds/catalog/"
  if [ -n "$shared" ] && [ -d "$shared/fixtures/demucs/repo" ]; then
    local th i=0
    for th in "$shared"/fixtures/demucs/repo/*.th; do
      i=$((i + 1))
      # The smallest model whole; every model's pickle alone.
      [ "$i" = 1 ] && cp "$th" "$seeds/checkpoint/"
      unzip -p "$th" '*/data.pkl' > "$seeds/pickle/$(basename "$th" .th).pkl" || true
    done
    cp "$shared"/fixtures/demucs/repo/*.yaml "$seeds/bag/"
  fi
  printf 'models: [a, b]\nweights: [[1, 2], [3, 4]]\nsegment: 7.8\n' > "$seeds/bag/weights.yaml"
  # Short audio in the formats people drop on the app.
  local fmt
  for fmt in wav flac mp3 ogg m4a aiff; do
    ffmpeg -v error -f lavfi -i "sine=frequency=440:duration=0.05" -ac 2 -ar 44100 \
      "$seeds/decoder/tone.$fmt" </dev/null || true
  done
  ffmpeg -v error -f lavfi -i "sine=frequency=440:duration=0.05" -ac 2 -ar 48000 \
    "$seeds/decoder/tone.opus" </dev/null || true
  # Every regression input found so far seeds its target again.
  cp "$repo"/tests/audio/regressions/* "$seeds/decoder/" 2>/dev/null || true
  local b=XyZ
  printf 'multipart/form-data; boundary=%s\n--%s\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF....\r\n--%s\r\nContent-Disposition: form-data; name="model_name"\r\n\r\nhtdemucs\r\n--%s--\r\n' \
    $b $b $b $b > "$seeds/multipart/form"
  printf '%s' '{"status":"done","stems":["drums","bass"],"result":{"drums":"/download/s/drums","bass":"b.flac"}}' > "$seeds/remote/done"
  printf '%s' '{"status":"running","progress":0.4}' > "$seeds/remote/running"
  printf '%s' '{"models":["htdemucs"],"total":1,"details":{"htdemucs":{"names":["drums","bass","other","vocals"],"description":"x"}}}' > "$seeds/remote/models"
  # A small ONNX model with a few of htdemucs's initializers, where Python's onnx is at hand.
  /usr/bin/python3 - "$seeds/onnx/small.onnx" <<'PY' 2>/dev/null || true
import sys, onnx, onnx.helper as h, onnx.numpy_helper as nh, numpy as np
inits = [nh.from_array(np.ones(s, np.float32), n) for n, s in
         [("encoder.0.conv.weight", (4, 2, 8, 1)), ("encoder.0.conv.bias", (4,)),
          ("onnx::Conv_123", (2, 2, 1))]]
node = h.make_node("Conv", ["x", "onnx::Conv_123"], ["y"], name="/encoder.0/conv/Conv")
g = h.make_graph([node], "g", [h.make_tensor_value_info("x", 1, [1, 2, 4])],
                 [h.make_tensor_value_info("y", 1, None)], initializer=inits)
onnx.save(h.make_model(g), sys.argv[1])
PY
}
make_seeds

# Model files are big: the whole of the smallest fixture may be mutated.
declare -A maxlen=([checkpoint]=1200000)
# LibTorch has no frame pointers: a suppression (tests/fuzz/lsan.supp) can only see its frames
# with the slow unwinder, used where LibTorch allocates for the target.
declare -A slowunwind=([checkpoint]=1)

run_target() {
  local t=$1 corpus log last execs status=0
  corpus=$build/corpus/$t
  mkdir -p "$corpus" "$build/artifacts"
  echo "fuzz.sh: fuzz_$t for $seconds s"
  log=$build/fuzz-$t.log
  # -rss_limit_mb: a reader that allocates what a header claims is a finding; -timeout: a hang.
  if ! LSAN_OPTIONS="suppressions=$repo/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
      ASAN_OPTIONS="${slowunwind[$t]:+fast_unwind_on_malloc=0:}${ASAN_OPTIONS:-}" \
      "$build/tests/fuzz/fuzz_$t" "$corpus" "$seeds/$t" -max_total_time="$seconds" \
      -rss_limit_mb=3072 -timeout=30 -print_final_stats=1 ${maxlen[$t]:+-max_len=${maxlen[$t]}} \
      -artifact_prefix="$build/artifacts/$t-" >"$log" 2>&1; then
    status=1
    echo "fuzz.sh: fuzz_$t FOUND something; see $log and $build/artifacts/" >&2
    grep -m5 -E "ERROR|SUMMARY|terminate|runtime error" "$log" >&2 || true
  fi
  # The last status line ("#N ... cov: C ft: F corp: ...") and the final statistics.
  last=$(grep -E "^#[0-9]+[[:space:]]" "$log" | tail -1 | grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[^ ]+" || true)
  execs=$(grep -E "stat::number_of_executed_units" "$log" | awk '{print $2}' || true)
  echo "$(date -u +%F) $t ${seconds}s execs=${execs:-?} ${last:-?}" | tee -a "$build/fuzz-results.txt"
  return $status
}

# PARALLEL targets at once (default 1; each runs on one core).
status=0 running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "${PARALLEL:-1}" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
