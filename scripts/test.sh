#!/usr/bin/env bash
# Installs everything (scripts/setup.sh --dev), then runs the whole test suite in stages, stopping at the
# first failure:  ruff check .  ·  mypy cryptobots_desktop  ·  lint-imports  ·  pytest (under Xvfb, a session
# bus, an unlocked gnome-keyring and a tray host: scripts/desktop-session.sh)  ·  bench/startup.py  ·
# package (scripts/package.sh)  ·  deb-install (tests/packaging/test_deb.py)  ·  bench/installed_startup.py.
# usage: bash scripts/test.sh [PYTEST ARGS...]      e.g. bash scripts/test.sh -k grid -x
# Screenshots the tests take go to artifacts/screenshots/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

now() { printf '%s' "${EPOCHREALTIME:-$(date +%s.%N)}"; }
summary=()
total_start=$(now)

finish() {  # $1 = overall status word
  local total
  total=$(awk -v a="$total_start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  local IFS=","
  echo "== summary: $1 · ${summary[*]} · total ${total} s" | sed 's/,/, /g'

}

# stage NAME CMD...: runs CMD, prints its status and time; exits at the first failure
stage() {
  local name=$1 t rc secs
  shift
  echo "== stage $name: $*"
  t=$(now)
  set +e
  "$@"
  rc=$?
  set -e
  secs=$(awk -v a="$t" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" -eq 0 ]; then
    echo "== stage $name: OK ($secs s)"
    summary+=("$name ${secs} s")
  else
    local why=""
    [ "$name" = pytest ] && [ "$rc" -eq 5 ] && why=", no tests were collected"
    [ "$name" = pytest ] && [ "$rc" -eq 124 ] && why=", timed out"
    echo "== stage $name: FAILED (exit $rc$why, $secs s)"
    summary+=("$name FAILED ${secs} s")
    finish FAILED
    exit "$rc"
  fi
}

stage setup bash scripts/setup.sh --dev

export LANG=C.UTF-8
export QT_QPA_PLATFORM=xcb
export CRYPTOBOTS_ARTIFACTS="$PWD/artifacts"
mkdir -p "$CRYPTOBOTS_ARTIFACTS/screenshots"

stage ruff .venv/bin/ruff check .
stage mypy .venv/bin/mypy cryptobots_desktop
stage lint-imports .venv/bin/lint-imports
# pytest's exit 5 (no tests collected) is non-zero, so it fails the run like any other failure.
stage pytest timeout --kill-after=30 1200 \
  xvfb-run -a -s "-screen 0 1600x1000x24" \
  dbus-run-session -- bash scripts/desktop-session.sh \
  .venv/bin/python -m pytest -q -p no:cacheprovider "$@"

# Benchmarks print figures (ratios against a baseline measured in the same run); they gate nothing but
# must run: a crash fails the stage.
stage bench-startup xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/startup.py --runs 5

# The installers: build the bundle and the .deb (zstd: ~12x faster to pack than xz, same contents), then
# install the .deb into this system, start the installed app, screenshot it, remove and purge it
# (tests/packaging/test_deb.py, as root), and time the bundle's start against the source's.
pkg_out=$(mktemp -d "${TMPDIR:-/tmp}/cryptobots-dist.XXXXXX")
trap 'rm -rf "$pkg_out"' EXIT
stage package bash scripts/package.sh --out "$pkg_out" --compression zstd
deb=$(ls "$pkg_out"/cryptobots-desktop_*.deb)
stage deb-install timeout --kill-after=30 900 \
  xvfb-run -a -s "-screen 0 1600x1000x24" \
  dbus-run-session -- bash scripts/desktop-session.sh \
  env CRYPTOBOTS_DEB="$deb" .venv/bin/python -m pytest -q -p no:cacheprovider tests/packaging/test_deb.py
stage bench-installed-startup xvfb-run -a -s "-screen 0 1600x1000x24" \
  .venv/bin/python bench/installed_startup.py --launcher "$pkg_out/cryptobots-desktop/cryptobots-desktop" --runs 5

finish OK
