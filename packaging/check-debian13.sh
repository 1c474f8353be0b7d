#!/usr/bin/env bash
# Runs `packaging/setup.sh test` on a fresh Debian 13 (trixie): a minimal root made by debootstrap
# (cached as a tarball), the repository cloned into it with ../shared beside it, /proc, /dev and
# /sys bound. Needs root, debootstrap and Debian's mirror; takes about an hour on 2 cores, so it is
# not part of .ci/run.
#   packaging/check-debian13.sh [test|build|test --fast|...]   (setup.sh's arguments; default test)
# The clone is of the committed HEAD: uncommitted changes are not tested.
# Environment:
#   MUSIC_SPLIT_CACHE  the root's tarball, apt's downloads and ccache's files, kept between runs
#                      (default ${XDG_CACHE_HOME:-$HOME/.cache}/music-split)
#   DEB13_ROOT         where the root is unpacked: kept after the run, for a look inside with chroot
#                      (default: a temporary folder, removed at exit)
#   DEBIAN_MIRROR      (default http://deb.debian.org/debian); JOBS is passed on to setup.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$repo/../shared" 2>/dev/null && pwd) || { echo "no ../shared beside $repo" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "check-debian13: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "check-debian13: apt-get install debootstrap" >&2; exit 1; }
[ $# -gt 0 ] || set -- test

cache=${MUSIC_SPLIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/music-split}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
tarball=$cache/debian13-minbase.tar.gz
mkdir -p "$cache/debian13-apt" "$cache/debian13-ccache"

if [ -n "${DEB13_ROOT:-}" ]; then
  root=$DEB13_ROOT keep=1
  [ ! -e "$root" ] || [ -z "$(ls -A "$root")" ] || { echo "$root is not empty" >&2; exit 1; }
  mkdir -p "$root"
else
  root=$(mktemp -d "${TMPDIR:-/var/tmp}/music-split-deb13.XXXXXX") keep=0
fi
root=$(cd "$root" && pwd)

mounts=()
cleanup() {
  local i proc
  # Daemons the tests started inside (the sound server) would keep the mounts busy.
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && kill "${proc#/proc/}" 2>/dev/null || true
  done
  sleep 1
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" || true
  done
  # A bind mount left behind would make rm delete the host's files through it.
  if findmnt -rn -o TARGET | grep -q "^$root/"; then
    echo "check-debian13: mounts remain under $root; not removing it" >&2
  elif [ "$keep" = 0 ]; then
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT
bind() {
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounts+=("$2")
}

if [ ! -s "$tarball" ]; then
  echo "check-debian13: debootstrap trixie into $root"
  debootstrap --variant=minbase trixie "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { echo "debootstrap failed, see $cache/debootstrap.log" >&2; exit 1; }
  tar -C "$root" --numeric-owner -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
else
  tar -C "$root" --numeric-owner -xzf "$tarball"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"

# The repository as committed, and the shared fixtures and tools beside it (copied: nothing of the
# host's is writable from inside but apt's and ccache's caches).
git clone -q "$repo" "$root/src/music-split"
git -C "$root/src/music-split" checkout -q --detach "$(git -C "$repo" rev-parse HEAD)"
cp -a "$shared" "$root/src/shared"

for d in proc dev sys; do bind "/$d" "$root/$d"; done
bind "$cache/debian13-apt" "$root/var/cache/apt/archives"
bind "$cache/debian13-ccache" "$root/root/.cache/ccache"

echo "check-debian13: setup.sh $* in $root/src/music-split"
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  ${JOBS:+JOBS=$JOBS} CCACHE_DIR=/root/.cache/ccache \
  bash -c 'cd /src/music-split && bash packaging/setup.sh "$@"' setup "$@"
