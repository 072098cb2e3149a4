"""``python -m tests.exchange_server``: run the local exchange until SIGTERM/SIGINT (see ``--help``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from decimal import Decimal
from pathlib import Path

from cryptobots_desktop.core.replay import ReplaySpeed

from .faults import FAULT_KINDS, Fault
from .server import (
    DEFAULT_BALANCES,
    DEFAULT_KEY,
    DEFAULT_PASSPHRASE,
    DEFAULT_SECRET,
    MARKET_DATA,
    ExchangeServer,
    ServerConfig,
    default_restrictions,
)

EPILOG = f"""
accounts:
  One API key (--key/--secret, plus --passphrase for OKX) opens two paper accounts with the same starting
  balances: one behind the Binance API (/api/v3, /sapi/v1), one behind the OKX API (/api/v5). Orders are
  matched by the app's paper engine on the dataset's real candles. Default balances:
  {", ".join(f"{a} {v}" for a, v in DEFAULT_BALANCES.items())}  (--balance ASSET=AMOUNT, repeatable,
  replaces them all). With --state-dir the accounts are kept there and reopened on the next start.

clocks:
  Server time (/api/v3/time, /api/v5/public/time; request timestamps are checked against it) is the wall
  clock plus --skew-ms. Market time (candles, tickers, orders, trades) is the replay of the recorded data:
  it starts at --replay-start-ms (default: one day into the data) and runs at --speed (1x, 10x, 100x; max
  = moves only when advanced: POST /_control/replay {{"advance_ms": 60000}}).

key restrictions (what GET /sapi/v1/account/apiRestrictions and OKX /api/v5/account/config report):
  --restrict FLAG=VALUE, repeatable, e.g. --restrict enableWithdrawals=true --restrict ipRestrict=true
  --restrict tradingAuthorityExpirationTime=1735689600000. Flags:
  {", ".join(k for k in default_restrictions() if k != "ipWhitelist")}.
  enableReading=false fails every signed call with -2015; enableSpotAndMarginTrading=false fails order
  placement and cancels with -2015; ipRestrict=true fails calls from addresses not in ipWhitelist
  (--restrict ipWhitelist=10.0.0.1,10.0.0.2; default 127.0.0.1,::1).

faults (--fault KIND[:k=v,...], repeatable; kinds: {", ".join(FAULT_KINDS)}):
  keys: method=POST, path=/api/v3/order (or a glob /api/v3/*), count=N (requests hit; none = until
  cleared), skip=N (let N pass first), delay_ms=N, status=500|502|503|504, body=TEXT, retry_after_s=N.
  e.g. --fault drop_after:method=POST,path=/api/v3/order   --fault status:status=503,count=none
       --fault delay:delay_ms=1500   --fault malformed:path=/api/v3/account
       --fault rate_limit:retry_after_s=5
  rate limits: --rate-limit N (requests per minute before 429), --ban-after N (requests ignoring a 429
  window before 418), --ban-s S (length of the ban).

control endpoints (no auth, 127.0.0.1 only; JSON bodies):
  GET  /_control/state
  POST /_control/faults        {{"kind": "status", "status": 503, ...}}
                               (or a list of them, or {{"clear": true, "add": [...]}})
  DELETE /_control/faults
  POST /_control/restrictions  {{"enableWithdrawals": true, ...}} ({{"reset": true}} back to defaults first)
  POST /_control/clock         {{"skew_ms": N}}
  POST /_control/replay        {{"advance_ms": N}} | {{"to_ms": T}} | {{"speed": "max"}}
  POST /_control/reset         {{"accounts": true}} also starts fresh paper accounts
  GET|DELETE /_control/requests  the request log (method, path, status, note)
"""


def parse_value(text: str) -> object:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    return text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tests.exchange_server",
        description="Local exchange speaking Binance spot and OKX v5 REST with real signatures. "
        "Prints its base URL on the first line, then serves until SIGTERM or SIGINT.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port (default)")
    p.add_argument("--key", default=DEFAULT_KEY, help="API key (default: a built-in test key)")
    p.add_argument("--secret", default=DEFAULT_SECRET, help="API secret")
    p.add_argument("--passphrase", default=DEFAULT_PASSPHRASE, help="OKX passphrase")
    p.add_argument("--market-data", type=Path, default=MARKET_DATA, help="folder holding datasets.json")
    p.add_argument("--dataset", default="binance_spot_2023")
    p.add_argument("--balance", action="append", default=[], metavar="ASSET=AMOUNT")
    p.add_argument("--speed", default="1x", choices=[s.value for s in ReplaySpeed])
    p.add_argument("--replay-start-ms", type=int, default=None)
    p.add_argument("--state-dir", type=Path, default=None, help="keep the paper accounts here")
    p.add_argument("--skew-ms", type=int, default=0, help="server time = wall clock + this")
    p.add_argument("--rate-limit", type=int, default=None, metavar="N", help="requests per minute")
    p.add_argument("--ban-after", type=int, default=3)
    p.add_argument("--ban-s", type=float, default=120.0)
    p.add_argument("--restrict", action="append", default=[], metavar="FLAG=VALUE")
    p.add_argument("--fault", action="append", default=[], metavar="KIND[:k=v,...]")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    return p


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    balances = dict(DEFAULT_BALANCES)
    if args.balance:
        balances = {}
        for item in args.balance:
            asset, _, amount = item.partition("=")
            balances[asset.strip().upper()] = Decimal(amount)
    restrictions = default_restrictions()
    for item in args.restrict:
        flag, _, value = item.partition("=")
        restrictions[flag] = (
            [v for v in value.split(",") if v] if flag == "ipWhitelist" else parse_value(value)
        )
    return ServerConfig(
        host=args.host,
        port=args.port,
        key=args.key,
        secret=args.secret,
        passphrase=args.passphrase,
        market_data_dir=args.market_data,
        dataset=args.dataset,
        balances=balances,
        speed=ReplaySpeed(args.speed),
        replay_start_ms=args.replay_start_ms,
        state_dir=args.state_dir,
        skew_ms=args.skew_ms,
        rate_limit_per_minute=args.rate_limit,
        ban_after=args.ban_after,
        ban_s=args.ban_s,
        restrictions=restrictions,
        faults=[Fault.parse(f) for f in args.fault],
    )


async def serve(config: ServerConfig) -> None:
    server = ExchangeServer(config)
    url = await server.start()
    print(url, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr, format="%(message)s"
    )
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"exchange_server: {exc}", file=sys.stderr)
        return 2
    asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
