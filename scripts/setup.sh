#!/usr/bin/env bash
# Installs what the app (and with --dev, its test suite) needs on Debian 12, idempotently:
#   1. Debian packages (skipped entirely when dpkg-query shows all of them installed),
#   2. .venv made with Debian's /usr/bin/python3 (when missing or broken), pip upgraded once,
#   3. pip install -c constraints.txt -e . (or '.[dev]'), skipped when the stamp in .venv matches
#      sha256(pyproject.toml + constraints.txt + extras),
#   4. the app's own modules compiled to bytecode (only new or changed ones).
# usage: bash scripts/setup.sh [--dev]      (run by scripts/start.sh and scripts/test.sh)
# Never installs keyrings.alt: it would silently become a plaintext keyring.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

extras=""
for arg in "$@"; do
  case "$arg" in
    --dev) extras="dev" ;;
    -h|--help) echo "usage: bash scripts/setup.sh [--dev]"; exit 0 ;;
    *) echo "setup: unknown argument: $arg (usage: bash scripts/setup.sh [--dev])" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*"; }
now() { printf '%s' "${EPOCHREALTIME:-$(date +%s.%N)}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

# ---------------------------------------------------------------- 1. Debian packages
runtime_pkgs=(
  python3 python3-venv ca-certificates fonts-dejavu-core
  libgl1 libegl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0
  libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1
  libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0
)
dev_pkgs=(xvfb xauth trayer gnome-keyring dbus-x11 x11-utils)
pkgs=("${runtime_pkgs[@]}")
[ "$extras" = dev ] && pkgs+=("${dev_pkgs[@]}")

missing_pkgs() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || printf '%s\n' "$p"
  done
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  say "this is not a Debian-like system (no dpkg-query/apt-get); install Python 3.11+ and Qt's xcb libraries yourself," >&2
  say "then: python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e '.[dev]'" >&2
  exit 1
fi

mapfile -t missing < <(missing_pkgs "${pkgs[@]}")
if [ "${#missing[@]}" -eq 0 ]; then
  say "Debian packages: all ${#pkgs[@]} installed"
else
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      as_root=(sudo)
    else
      say "these Debian packages are missing and installing them needs root (and there is no sudo):" >&2
      say "  ${missing[*]}" >&2
      say "run this script as root, or install them: apt-get install --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
  fi
  t=$(now)
  say "Debian packages: installing ${#missing[@]} missing (${missing[*]})"
  log=$(mktemp)
  { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "${pkgs[@]}"; } >"$log" 2>&1 || {
      tail -n 30 "$log" >&2; rm -f "$log"; say "apt-get failed (last lines above)" >&2; exit 1; }
  rm -f "$log"
  mapfile -t still < <(missing_pkgs "${pkgs[@]}")
  if [ "${#still[@]}" -ne 0 ]; then say "still missing after apt-get: ${still[*]}" >&2; exit 1; fi
  say "Debian packages: done ($(since "$t"))"
fi

# ---------------------------------------------------------------- 2. the venv (Debian's python3)
py=/usr/bin/python3
if [ ! -x "$py" ]; then say "$py is missing (Debian's python3 package)" >&2; exit 1; fi
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "$py is $("$py" -V 2>&1); Python 3.11 or newer is needed (Debian 12 or later)" >&2
  exit 1
fi

if [ -x .venv/bin/python ] && .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
  say "venv: .venv ($(.venv/bin/python -V 2>&1))"
else
  t=$(now)
  [ -e .venv ] && { say "venv: .venv is broken, making it anew"; rm -rf .venv; }
  say "venv: creating .venv with $py ($("$py" -V 2>&1))"
  "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  say "venv: done, pip $(.venv/bin/python -m pip --version | awk '{print $2}') ($(since "$t"))"
fi

# ---------------------------------------------------------------- 3. the project, editable
stamp_for() {  # $1 = extras ("" or "dev")
  { cat pyproject.toml constraints.txt; printf 'extras=%s\n' "$1"; } | sha256sum | awk '{print $1}'
}
stamp_file() { printf '.venv/.cryptobots-setup-%s.sha256' "${1:-runtime}"; }

want=$(stamp_for "$extras")
if [ -f "$(stamp_file "$extras")" ] && [ "$(cat "$(stamp_file "$extras")")" = "$want" ]; then
  say "python packages: up to date (stamp matches)"
else
  t=$(now)
  target="."
  [ -n "$extras" ] && target=".[$extras]"
  say "python packages: pip install -c constraints.txt -e '$target'"
  .venv/bin/python -m pip install -q -c constraints.txt -e "$target"
  if .venv/bin/python -m pip show -q keyrings.alt >/dev/null 2>&1; then
    say "keyrings.alt is installed in .venv: it would store secrets in plaintext; remove it" >&2
    exit 1
  fi
  rm -f .venv/.cryptobots-setup-*.sha256
  printf '%s\n' "$want" > "$(stamp_file "$extras")"
  # the dev extras include everything the runtime needs
  [ "$extras" = dev ] && stamp_for "" > "$(stamp_file "")"
  say "python packages: done ($(since "$t"))"
fi

# ---------------------------------------------------------------- 4. the app's own bytecode
# pip compiles what it installs, but not an editable project: without this every start compiles the app's
# ~130 modules from source wherever bytecode is not written at import (PYTHONDONTWRITEBYTECODE, a read-only
# clone). Only new or changed files are compiled (~0.03 s when up to date).
.venv/bin/python -m compileall -q cryptobots_desktop
