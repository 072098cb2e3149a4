"""Start-up of the packaged app (the PyInstaller bundle, as the .deb installs it) against the app from source.

Both are started as fresh processes, alternately, with a fresh data folder each time, on the same X display,
and timed from spawn to the line each prints at its window's first paint (``--quit-after-first-paint``).
Prints the medians and the ratio bundle/source.

    xvfb-run -a .venv/bin/python bench/installed_startup.py [--launcher PATH] [--runs 5] [--drop-caches]

--launcher: the installed /usr/bin/cryptobots-desktop (default), or a bundle's executable
(dist/cryptobots-desktop/cryptobots-desktop). --drop-caches: before every start, drop the kernel's page
cache (root only), a cold start from disk as after a reboot; without it the disk cache is warm (the first
start of each is thrown away).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import time_to_first_paint  # the same timer as bench/startup.py


def drop_caches() -> None:
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launcher", default="/usr/bin/cryptobots-desktop")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--drop-caches", action="store_true")
    args = parser.parse_args()
    if not os.access(args.launcher, os.X_OK):
        print(f"installed_startup: {args.launcher} is not there (install the .deb or give --launcher)")
        return 2
    if args.drop_caches and os.geteuid() != 0:
        print("installed_startup: --drop-caches needs root")
        return 2

    with tempfile.TemporaryDirectory() as tmp:
        runs = iter(range(10_000))

        def cmd(kind: str) -> list[str]:
            data = str(Path(tmp) / f"{kind}-{next(runs)}")
            base = [args.launcher] if kind == "bundle" else [sys.executable, "-m", "cryptobots_desktop"]
            return [*base, "--data-dir", data, "--quit-after-first-paint"]

        def timed(kind: str) -> float:
            if args.drop_caches:
                drop_caches()
            return time_to_first_paint(cmd(kind))

        if not args.drop_caches:
            time_to_first_paint(cmd("bundle"))  # warm the disk cache for both
            time_to_first_paint(cmd("source"))
        bundle, source = [], []
        for _ in range(args.runs):
            source.append(timed("source"))
            bundle.append(timed("bundle"))
    b, s = statistics.median(bundle), statistics.median(source)
    cache = "cold disk cache" if args.drop_caches else "warm disk cache"
    over = f"over {args.runs} runs, {cache}"
    print(f"installed-startup: packaged ({args.launcher}) median {b * 1000:.0f} ms {over}")
    print(f"installed-startup: from source (.venv) median {s * 1000:.0f} ms {over}")
    print(f"installed-startup: ratio packaged/source = {b / s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
