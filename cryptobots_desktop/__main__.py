"""Command line: ``python -m cryptobots_desktop [--data-dir DIR]`` starts the app in paper mode."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cryptobots-desktop",
        description="Cryptobots Desktop: automated crypto trading on your desktop. Starts in paper mode "
        "(simulated funds on real recorded market data, no exchange key and no network needed).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep all data, settings and logs in DIR instead of the usual per-user folders",
    )
    parser.add_argument(
        "--quit-after-first-paint",
        action="store_true",
        help="for benchmarks: print 'first-paint' when the window first paints, then quit",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        print(
            "cryptobots-desktop: no graphical display found. Start it from a desktop session, "
            "or set DISPLAY (for example under Xvfb).",
            file=sys.stderr,
        )
        return 2
    from cryptobots_desktop.gui.app import run_app  # noqa: PLC0415 - Qt only when a window is needed

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
