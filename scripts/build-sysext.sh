#!/usr/bin/env bash
# Builds the systemd-sysext image dist/sluice-<version>-<arch>.raw: a squashfs holding
# usr/bin/sluice, the unit and the extension-release file, all rendered by `sluice render
# sysext-tree` from the same model as every other install path. Also writes SHA256SUMS (what
# systemd-sysupdate checks) and a .sha512 per image (what Ignition and the kOps script check).
#
# Reproducible: every file owned by root with a fixed mtime, no xattrs, sorted, one compressor
# setting; two builds of one commit give the same bytes.
#
# usage: scripts/build-sysext.sh [--arch x86-64|arm64|all] [--binary FILE] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

arch=all
binary=""
out=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--arch x86-64|arm64|all] [--binary FILE] [--out DIR]" >&2; exit 64 ;;
  esac
done
if [ "$arch" = all ]; then
  [ -z "$binary" ] || { echo "--binary needs one --arch" >&2; exit 64; }
  "$0" --arch x86-64 --out "$out"
  exec "$0" --arch arm64 --out "$out"
fi
case "$arch" in
  x86-64) default_binary=dist/sluice-linux-amd64 ;;
  arm64) default_binary=dist/sluice-linux-arm64 ;;
  *) echo "--arch must be x86-64, arm64 or all" >&2; exit 64 ;;
esac
binary="${binary:-$default_binary}"
[ -f "$binary" ] || { echo "$binary is missing: run npm run build first" >&2; exit 66; }

version="$(node -p 'require("./package.json").version')"
# The commit's time, not the clock's: the image must not depend on when it was built.
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
# The tree comes from the bundle when there is one (any architecture), else from the sources.
if [ -n "${SLUICE_RENDER:-}" ]; then read -r -a render <<<"$SLUICE_RENDER"
elif [ -f dist/sluice.cjs ]; then render=(node dist/sluice.cjs)
else render=(node --import tsx agent/cli/main.ts)
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tree="$work/tree"
mkdir -p "$tree/usr/bin"
install -m 0755 "$binary" "$tree/usr/bin/sluice"
"${render[@]}" render sysext-tree "$tree" --arch "$arch"
chmod -R u=rwX,go=rX "$tree"

name="sluice-$version-$arch.raw"
mkdir -p "$out"
rm -f "$out/$name"
# mksquashfs refuses SOURCE_DATE_EPOCH together with the explicit times below.
env -u SOURCE_DATE_EPOCH mksquashfs "$tree" "$out/$name" -quiet -noappend -all-root -no-xattrs -mkfs-time "$epoch" -all-time "$epoch" -comp gzip -processors 1 >/dev/null
(cd "$out" && sha512sum "$name" >"$name.sha512")
# SHA256SUMS lists every image in the directory, as systemd-sysupdate expects.
(cd "$out" && sha256sum sluice-*-*.raw | LC_ALL=C sort -k2 >SHA256SUMS)
echo "sysext: $out/$name"
