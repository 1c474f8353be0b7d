#!/usr/bin/env bash
# Builds the Debian package with CPack, checks its computed Depends, unpacks it into a fresh root
# (dpkg -x: the container-less stand-in for installing) and runs the installed CLI from there:
# --version and a separation with a fixture model.
set -euo pipefail
build=$1 fixtures=$2
cd "$build"
rm -f music-split_*_amd64.deb
cpack -G DEB >/dev/null
deb=$(ls music-split_*_amd64.deb)
info=$(dpkg-deb -I "$deb")
for dep in libtorch1.13 libqt6widgets6 libavformat59 libopenblas0-pthread; do
  grep -q "Depends:.*$dep" <<<"$info" || { echo "Depends lacks $dep"; exit 1; }
done
grep -q "Recommends: yt-dlp" <<<"$info" || { echo "no Recommends: yt-dlp"; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"
for f in usr/bin/music-split usr/bin/music-split-cli usr/share/applications/music-split.desktop \
         usr/share/icons/hicolor/scalable/apps/music-split.svg; do
  [ -e "$root/$f" ] || { echo "missing $f"; exit 1; }
done
"$root/usr/bin/music-split-cli" --version | grep -q "^music-split-cli [0-9]"
"$root/usr/bin/music-split-cli" separate "$fixtures/htdemucs_tiny/input.wav" --repo "$fixtures/repo" \
  -n htdemucs_tiny --shifts 0 -o "$root/out" >/dev/null 2>&1
for stem in drums bass other vocals; do
  [ -s "$root/out/htdemucs_tiny/input/$stem.wav" ] || { echo "no $stem stem"; exit 1; }
done
echo "package OK: $deb"
