"""Find an app process's top-level window on the X server (x11-utils' xwininfo and xprop).

A window is matched by its title *and* the process that owns it (``_NET_WM_PID``), so a window left by
another test in the same X session is never taken for the one under test.
"""

from __future__ import annotations

import re
import subprocess

WINDOW_NAME = "Cryptobots Desktop — Paper trading"


def _run(*args: str) -> str:
    out = subprocess.run(list(args), capture_output=True, text=True, check=False)
    return out.stdout if out.returncode == 0 else ""


def _pid_of(window_id: str) -> int | None:
    found = re.search(r"_NET_WM_PID\(CARDINAL\) = (\d+)", _run("xprop", "-id", window_id, "_NET_WM_PID"))
    return int(found.group(1)) if found else None


def window_geometry(pid: int | None = None, name: str = WINDOW_NAME) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of the viewable window titled ``name`` of process ``pid`` (any if None)."""
    tree = _run("xwininfo", "-root", "-tree")
    for window_id in re.findall(r"^\s*(0x[0-9a-f]+) \"" + re.escape(name) + '"', tree, re.MULTILINE):
        if pid is not None and _pid_of(window_id) != pid:
            continue
        info = _run("xwininfo", "-id", window_id)
        if "IsViewable" not in info:
            continue
        v = {k: int(n) for k, n in re.findall(r"(Absolute upper-left [XY]|Width|Height):\s+(-?\d+)", info)}
        return v["Absolute upper-left X"], v["Absolute upper-left Y"], v["Width"], v["Height"]
    return None
