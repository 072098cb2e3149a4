"""Command line: ``python -m cryptobots_desktop [--data-dir DIR]`` starts the app in paper mode."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

import cryptobots_desktop


def _exchange_url(text: str) -> tuple[str, str]:
    exchange_id, sep, url = text.partition("=")
    if not sep or not exchange_id or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError("expected EXCHANGE=URL, e.g. binance=http://127.0.0.1:8080")
    return exchange_id.strip().lower(), url.strip()


class _VersionAction(argparse.Action):
    """``--version``: reads the package metadata only when asked (~16 ms that start-up does not pay)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        print(f"{parser.prog} {cryptobots_desktop.__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cryptobots-desktop",
        description="Cryptobots Desktop: automated crypto trading on your desktop. Starts in paper mode "
        "(simulated funds on real recorded market data, no exchange key and no network needed).",
    )
    parser.add_argument("--version", action=_VersionAction)
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
    parser.add_argument(
        "--minimized",
        action="store_true",
        help="start hidden in the system tray (for autostart); without a tray the window is shown",
    )
    parser.add_argument(  # hidden: the tests' local exchange (or a proxy) in place of an exchange's API
        "--exchange-url",
        action="append",
        type=_exchange_url,
        metavar="EXCHANGE=URL",
        help=argparse.SUPPRESS,
    )
    parser.add_argument(  # hidden: run by the packaging tests from the installed bundle
        "--self-check",
        action="append",
        choices=["keyring", "ccxt", "window", "live"],
        help=argparse.SUPPRESS,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    bt = commands.add_parser(
        "backtest",
        help="run a bot over the shipped market history, as fast as possible, and print its deals",
        description="Run a bot over the shipped real market history with the same engine as the window, "
        "as fast as possible, and print every deal's orders (side, price, amount, time) and the profit.",
    )
    bt.add_argument("--pair", required=True, help="e.g. BTC/USDT")
    bt.add_argument("--strategy", required=True, choices=["dca", "grid"], help="the bot's strategy")
    bt.add_argument(
        "--params", required=True, type=Path, metavar="FILE.json", help="the strategy's parameters"
    )
    bt.add_argument(
        "--from", dest="start", metavar="DATE", help="UTC start, e.g. 2023-04-05 (default: first data)"
    )
    bt.add_argument(
        "--to", dest="end", metavar="DATE", help="UTC end, e.g. 2023-04-20T12:00 (default: last data)"
    )
    bt.add_argument("--json", action="store_true", help="print one JSON document instead of the report")
    return parser


def backtest(args: argparse.Namespace) -> int:
    """The ``backtest`` command; bad input gets the same sentences as the new-bot dialog."""
    import asyncio  # noqa: PLC0415 - only this command needs these
    import json  # noqa: PLC0415

    from cryptobots_desktop.backtest import (  # noqa: PLC0415
        BacktestInputError,
        format_report,
        load_params,
        parse_time,
        run_backtest,
    )
    from cryptobots_desktop.core.bots import StrategyKind  # noqa: PLC0415
    from cryptobots_desktop.core.errors import CryptobotsError  # noqa: PLC0415
    from cryptobots_desktop.paths import resources_dir  # noqa: PLC0415

    try:
        params = load_params(args.params, StrategyKind(args.strategy))
        start = parse_time(args.start) if args.start else None
        end = parse_time(args.end) if args.end else None
        result = asyncio.run(run_backtest(resources_dir(), args.pair, params, start_ms=start, end_ms=end))
    except BacktestInputError as exc:
        print(f"cryptobots-desktop backtest: {exc.message}", file=sys.stderr)
        for label, sentence in exc.problems:
            print(f"  - {label}: {sentence}", file=sys.stderr)
        return 2
    except CryptobotsError as exc:
        print(f"cryptobots-desktop backtest: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result.to_json(), indent=2) if args.json else format_report(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    # The app uses no pydantic plugins; looking for them reads every installed package's metadata (~12 ms)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = build_parser().parse_args(argv)
    if args.command == "backtest":
        return backtest(args)
    if args.self_check:
        from cryptobots_desktop.self_check import run  # noqa: PLC0415

        return run(args.self_check, dict(args.exchange_url or []))
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        print(
            "cryptobots-desktop: no graphical display found. Start it from a desktop session, "
            "or set DISPLAY (for example under Xvfb).",
            file=sys.stderr,
        )
        return 2
    # No cycle collection while start-up builds its long-lived objects (modules, Qt wrappers): its passes
    # over them cost ~10 % of the time to the first paint; the controller turns it on again right after
    gc.disable()
    from cryptobots_desktop.gui.app import run_app  # noqa: PLC0415 - Qt only when a window is needed

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
