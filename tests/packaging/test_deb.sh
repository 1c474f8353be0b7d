#!/usr/bin/env bash
# Builds the Debian package with CPack, checks its computed Depends, unpacks it into a fresh root
# (dpkg -x: the container-less stand-in for installing) and runs the installed CLI from there:
# --version, a separation with a fixture model, and the same through the installed server.
set -euo pipefail
build=$1 fixtures=$2
cd "$build"
rm -f music-split_*_amd64.deb
cpack -G DEB >/dev/null
deb=$(ls music-split_*_amd64.deb)
info=$(dpkg-deb -I "$deb")
# The Depends name the packages of the libraries this build linked, whose names change with the
# release (libtorch1.13 and libavformat59 on Debian 12, libtorch2.6 and libavformat61 on 13).
deps=(libopenblas0-pthread)
for lib in $(ldd app/music-split | awk '/lib(torch_cpu|Qt6Widgets|avformat)\.so/ {print $3}'); do
  deps+=("$(dpkg -S "$(readlink -f "$lib")" | cut -d: -f1)")
done
[ ${#deps[@]} -eq 4 ] || { echo "app/music-split does not link LibTorch, Qt Widgets and FFmpeg"; exit 1; }
for dep in "${deps[@]}"; do
  grep -q "Depends:.*\b$dep\b" <<<"$info" || { echo "Depends lacks $dep"; exit 1; }
done
grep -q "Recommends: yt-dlp" <<<"$info" || { echo "no Recommends: yt-dlp"; exit 1; }
# apt can install it from Debian's packages alone (a simulation: nothing changes on this machine).
apt-get install -s "./$deb" 2>/dev/null | grep -q "^Inst music-split" \
  || { echo "apt cannot resolve the package's Depends"; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"
for f in usr/bin/music-split usr/bin/music-split-cli usr/bin/music-split-server usr/share/applications/music-split.desktop \
         usr/share/icons/hicolor/scalable/apps/music-split.svg usr/share/icons/hicolor/48x48/apps/music-split.png \
         usr/share/icons/hicolor/256x256/apps/music-split.png usr/share/metainfo/org.musicsplit.MusicSplit.metainfo.xml \
         usr/share/man/man1/music-split.1.gz usr/share/man/man1/music-split-cli.1.gz \
         usr/share/man/man1/music-split-server.1.gz usr/share/man/man1/music-split-worker.1.gz \
         usr/bin/music-split-worker usr/lib/systemd/system/music-split-server.service \
         usr/lib/systemd/system/music-split-worker@.service usr/share/doc/music-split/copyright; do
  [ -e "$root/$f" ] || { echo "missing $f"; exit 1; }
done
file -b "$root/usr/share/icons/hicolor/256x256/apps/music-split.png" | grep -q "PNG image data, 256 x 256" \
  || { echo "the 256 px icon is not a 256 x 256 PNG"; exit 1; }
zcat "$root/usr/share/man/man1/music-split-server.1.gz" | grep -q "max.*pending" \
  || { echo "the server's man page lacks its options"; exit 1; }
# The units start the programs with options they take (systemd itself is not in every build root).
for unit in "$root"/usr/lib/systemd/system/*.service; do
  grep -q "^ExecStart=/usr/bin/music-split-\(server\|worker\) " "$unit" || { echo "bad ExecStart in $unit"; exit 1; }
  for opt in $(grep -o -- ' --[a-z-]*' <(grep ^ExecStart "$unit")); do
    prog=$(grep -o 'music-split-[a-z]*' <(grep ^ExecStart "$unit") | head -1)
    "$root/usr/bin/$prog" --help | grep -q -- "$opt" || { echo "$unit: $prog has no $opt"; exit 1; }
  done
done
appstreamcli validate --no-net "$root/usr/share/metainfo/org.musicsplit.MusicSplit.metainfo.xml" >/dev/null
desktop-file-validate "$root/usr/share/applications/music-split.desktop"
# lintian: no errors (it refuses to run as root without this flag's twin, so it is allowed here).
lintian --fail-on error --allow-root "$deb" | grep -v "^N:" || true
lintian --fail-on error --allow-root "$deb" >/dev/null
"$root/usr/bin/music-split-cli" --version | grep -q "^music-split-cli [0-9]"
"$root/usr/bin/music-split-cli" separate "$fixtures/htdemucs_tiny/input.wav" --repo "$fixtures/repo" \
  -n htdemucs_tiny --shifts 0 -o "$root/out" >/dev/null 2>&1
for stem in drums bass other vocals; do
  [ -s "$root/out/htdemucs_tiny/input/$stem.wav" ] || { echo "no $stem stem"; exit 1; }
done
# The installed server, used by the installed CLI's remote mode.
"$root/usr/bin/music-split-server" --port 0 --repo "$fixtures/repo" --jobs-dir "$root/jobs" \
  --shifts 0 >"$root/server.out" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$root"' EXIT
url=""
for _ in $(seq 100); do
  url=$(grep -o 'http://[0-9.:]*' "$root/server.out" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the installed server did not start"; exit 1; }
"$root/usr/bin/music-split-cli" separate --remote "$url" -n htdemucs_tiny -o "$root/remote" \
  "$fixtures/htdemucs_tiny/input.wav" >/dev/null 2>&1
for stem in drums bass other vocals; do
  [ -s "$root/remote/htdemucs_tiny/input/$stem.wav" ] || { echo "no remote $stem stem"; exit 1; }
done
echo "package OK: $deb"
