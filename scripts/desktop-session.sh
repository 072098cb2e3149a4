#!/usr/bin/env bash
# A throwaway desktop session for tests: a fresh XDG_DATA_HOME/XDG_CONFIG_HOME, an unlocked gnome-keyring
# (the real Secret Service, never a plaintext keyring), and a system tray host (trayer); then runs CMD and
# exits with its status, stopping what it started.
# Run it inside an X server and a session bus:
#   xvfb-run -a -s "-screen 0 1600x1000x24" dbus-run-session -- bash scripts/desktop-session.sh CMD...
set -uo pipefail

if [ "$#" -eq 0 ]; then echo "usage: desktop-session.sh CMD [ARGS...]" >&2; exit 2; fi
if [ -z "${DISPLAY:-}" ]; then echo "desktop-session: DISPLAY is not set (run it under xvfb-run)" >&2; exit 2; fi
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "desktop-session: no session bus (run it under dbus-run-session)" >&2; exit 2
fi

session_dir=$(mktemp -d "${TMPDIR:-/tmp}/cryptobots-session.XXXXXX")
export XDG_DATA_HOME="$session_dir/data"      # fresh every run: an old login.keyring means KeyringLocked
export XDG_CONFIG_HOME="$session_dir/config"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -w "${XDG_RUNTIME_DIR:-/nonexistent}" ]; then
  export XDG_RUNTIME_DIR="$session_dir/runtime"
  mkdir -p -m 700 "$XDG_RUNTIME_DIR"
fi

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$session_dir"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

secrets_owned() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"
}

# the keyring: a throwaway password on stdin creates and unlocks a fresh login keyring
printf '%s' "ci-keyring-pw" | gnome-keyring-daemon --foreground --unlock --components=secrets \
  >"$session_dir/gnome-keyring.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do secrets_owned && break; sleep 0.05; done   # at most ~10 s
if ! secrets_owned; then
  echo "desktop-session: gnome-keyring did not take org.freedesktop.secrets within 10 s:" >&2
  cat "$session_dir/gnome-keyring.log" >&2
  exit 3
fi

# the system tray host
trayer --edge top --align right --widthtype request --height 24 --SetDockType true --transparent false \
  >"$session_dir/trayer.log" 2>&1 &
pids+=($!)

"$@"
rc=$?
exit "$rc"
