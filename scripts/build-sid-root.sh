#!/usr/bin/env bash
# build-sid-root.sh: a Debian sid root with rTorrent 0.16 for the 0.16 integration tests.
#
# Builds .cache/sid-root once with debootstrap (minbase + rtorrent) and reuses it while
# `chroot ROOT rtorrent -h` still prints a version.  The Debian mirror is read from this
# machine's apt configuration at run time (the source serving the `debian` archive).
# A build goes into a temporary directory that is renamed only when it works, so a broken
# half-build is never reused.
#
# Environment:
#   SID_ROOT   where the root goes (default: <repo>/.cache/sid-root)
#   CI=true    a failure exits non-zero; otherwise it only warns (0.16 tests then skip)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${SID_ROOT:-$REPO/.cache/sid-root}
ROOT=$(realpath -m "$ROOT")
PARENT=$(dirname "$ROOT")
LOG="$PARENT/$(basename "$ROOT").build.log"

say() { echo "build-sid-root: $*" >&2; }

give_up() {
  if [[ "${CI:-}" == "true" ]]; then
    say "ERROR: $*"
    exit 1
  fi
  say "warning: $* -- the rTorrent 0.16 tests will be skipped"
  exit 0
}

# The version line of the root's rTorrent, or nothing when it does not run.
root_version() {
  [[ -x "$1/usr/bin/rtorrent" ]] || return 1
  chroot "$1" rtorrent -h 2>/dev/null | grep -o 'client version [0-9][0-9.]*[0-9]' | head -n 1
}

# The URI of the apt source that serves the `debian` archive (not debian-security).
debian_mirror() {
  local file uri
  shopt -s nullglob
  for file in /etc/apt/sources.list.d/*.sources; do
    while read -r uri; do
      if [[ "$uri" =~ ^https?://[^[:space:]]+/debian/?$ ]]; then
        echo "${uri%/}"
        return 0
      fi
    done < <(sed -n 's/^[[:space:]]*URIs:[[:space:]]*//p' "$file" | tr ' \t' '\n\n')
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$file" ]] || continue
    # deb [options] URI suite components...
    uri=$(sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' "$file" \
      | grep -E '^https?://[^[:space:]]+/debian/?$' | head -n 1 || true)
    if [[ -n "$uri" ]]; then
      echo "${uri%/}"
      return 0
    fi
  done
  return 1
}

# Unmount whatever debootstrap left mounted below $1, deepest first, then delete it
# without ever crossing into another file system.
remove_tree() {
  local dir=$1 mnt
  [[ -e "$dir" ]] || return 0
  while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($2 "/", d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

if version=$(root_version "$ROOT"); then
  exit 0  # quiet when the cached root is complete
fi

[[ $(id -u) -eq 0 ]] || give_up "building $ROOT needs root (debootstrap and chroot); run: sudo make sid-root"

mkdir -p "$PARENT"
# One builder at a time: a second `make` waits for the first and then reuses its root.
exec 9>"$PARENT/.$(basename "$ROOT").lock"
flock 9
if version=$(root_version "$ROOT"); then
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq debootstrap >/dev/null 2>&1; then
    apt-get update -qq || give_up "apt-get update failed"
    apt-get install -y -qq debootstrap >/dev/null || give_up "could not install debootstrap"
  fi
fi

mirror=$(debian_mirror) || give_up "no apt source serving the debian archive in /etc/apt/sources.list{,.d/}"

BUILD=$(mktemp -d "$PARENT/.$(basename "$ROOT").build.XXXXXX")
trap 'remove_tree "$BUILD"' EXIT
chmod 0755 "$BUILD"  # mktemp makes it 0700; a root file system's top must be world-readable
say "building a Debian sid root with rtorrent in $ROOT (log: $LOG); this takes a minute or two"
if ! debootstrap --variant=minbase --include=rtorrent sid "$BUILD" "$mirror" >"$LOG" 2>&1; then
  tail -n 20 "$LOG" >&2 || true
  give_up "debootstrap failed (see $LOG)"
fi
# Downloaded .debs are only dead weight in the cache.
rm -rf "$BUILD/var/cache/apt/archives/"*.deb
version=$(root_version "$BUILD") || give_up "the new root's rtorrent does not run (see $LOG)"

# Replace a broken previous root only now that the new one works.
if [[ -e "$ROOT" ]]; then
  remove_tree "$ROOT"
fi
mv "$BUILD" "$ROOT"
trap - EXIT
say "done: $ROOT ($version)"
