#!/usr/bin/env bash
# Builds the installers from a clean clone on Debian 12, in one command:
#   dist/cryptobots-desktop/                      the PyInstaller one-folder bundle (no Python needed)
#   dist/cryptobots-desktop_<version>_<arch>.deb  the Debian package (bundle in /opt/cryptobots-desktop)
# It installs what it needs (the app's Debian packages and .venv via scripts/setup.sh; dpkg-dev, binutils and
# libpython3.11 from apt; PyInstaller from the 'packaging' extras, pinned by constraints.txt), then prints the
# sizes and the build time.
# usage: bash scripts/package.sh [--out DIR] [--compression xz|zstd]
#   --compression zstd: a ~15% bigger .deb built ~12x faster (CI uses it); xz (the default) is Debian's usual.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=dist
compression=xz
while [ "$#" -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --compression) compression=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package: unknown argument: $1 (usage: bash scripts/package.sh [--out DIR] [--compression xz|zstd])" >&2
       exit 2 ;;
  esac
done
case "$compression" in xz|zstd) ;; *) echo "package: --compression is xz or zstd" >&2; exit 2 ;; esac

say() { printf 'package: %s\n' "$*"; }
now() { printf '%s' "${EPOCHREALTIME:-$(date +%s.%N)}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
start=$(now)

# ---------------------------------------------------------------- 1. tools
bash scripts/setup.sh
build_pkgs=(dpkg-dev binutils libpython3.11)   # dpkg-deb/dpkg-shlibdeps; objdump for PyInstaller
missing=()
for p in "${build_pkgs[@]}"; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "installing ${missing[*]} needs root (or sudo)" >&2; exit 1; }
    as_root=(sudo)
  fi
  say "Debian packages: installing ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
stamp=.venv/.cryptobots-packaging.sha256
want=$(cat pyproject.toml constraints.txt | sha256sum | awk '{print $1}')
if [ -x .venv/bin/pyinstaller ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  say "PyInstaller: $(.venv/bin/pyinstaller --version) (up to date)"
else
  say "PyInstaller: pip install -c constraints.txt -e '.[packaging]'"
  log=$(mktemp)
  .venv/bin/python -m pip install -q -c constraints.txt -e '.[packaging]' >"$log" 2>&1 || {
    tail -n 30 "$log" >&2; rm -f "$log"; say "pip failed (last lines above)" >&2; exit 1; }
  rm -f "$log"
  printf '%s\n' "$want" > "$stamp"
fi

# ---------------------------------------------------------------- 2. the bundle
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cryptobots-pyinstaller.XXXXXX")
trap 'rm -rf "$work"' EXIT
t=$(now)
say "PyInstaller: building the one-folder bundle into $out/cryptobots-desktop"
rm -rf "$out/cryptobots-desktop"
.venv/bin/pyinstaller --noconfirm --log-level WARN --distpath "$out" --workpath "$work" \
  packaging/cryptobots-desktop.spec 2>&1 | grep -v -E "pyqtgraph\.(opengl|flowchart)|ole32|shell32" >&2 || true
[ -x "$out/cryptobots-desktop/cryptobots-desktop" ] || { say "PyInstaller failed" >&2; exit 1; }
bundle_secs=$(since "$t")
version=$("$out/cryptobots-desktop/cryptobots-desktop" --version | awk '{print $2}')
say "bundle: version $version, ${bundle_secs} s"

# ---------------------------------------------------------------- 3. the .deb
t=$(now)
rm -f "$out"/cryptobots-desktop_*.deb
deb=$(DEB_COMPRESSION=$compression bash packaging/linux/build-deb.sh "$out/cryptobots-desktop" "$out" | tail -n 1)
deb_secs=$(since "$t")

# ---------------------------------------------------------------- 4. figures
bundle_mb=$(du -sm "$out/cryptobots-desktop" | awk '{print $1}')
deb_mb=$(stat -c %s "$deb" | awk '{ printf "%.1f", $1 / 1048576 }')
say "bundle: $out/cryptobots-desktop (${bundle_mb} MB, built in ${bundle_secs} s)"
say "deb:    $deb (${deb_mb} MB, $compression, built in ${deb_secs} s)"
say "done in $(since "$start") s"
