#!/usr/bin/env bash
# Installs what the app needs (scripts/setup.sh) and starts it. Paper trading is the default.
# usage: bash scripts/start.sh [--data-dir DIR] [--help] [--version]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "start: no graphical display: run this from a desktop session, or set DISPLAY" >&2
  exit 1
fi

echo "start: python -m cryptobots_desktop $*"
exec .venv/bin/python -m cryptobots_desktop "$@"
