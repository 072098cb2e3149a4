"""The headless backtest command: the same engine as the window over the shipped history."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from tests.conftest import ROOT

PARAMS = {
    "base_order_size": "50",
    "safety_order_size": "50",
    "max_safety_orders": 5,
    "price_deviation_pct": "1",
    "safety_order_step_scale": "1.5",
    "safety_order_volume_scale": "1.5",
    "take_profit_pct": "1",
}


def backtest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cryptobots_desktop", "backtest", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )


def test_json_report_lists_every_order_and_adds_up(tmp_path: Path) -> None:
    params = tmp_path / "dca.json"
    params.write_text(json.dumps(PARAMS))
    out = backtest(
        "--pair",
        "BTC/USDT",
        "--strategy",
        "dca",
        "--params",
        str(params),
        "--from",
        "2023-04-05",
        "--to",
        "2023-04-08",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert (report["pair"], report["from"], report["to"]) == (
        "BTC/USDT",
        "2023-04-05T00:00:00Z",
        "2023-04-08T00:00:00Z",
    )
    closed = [d for d in report["deals"] if d["phase"] == "closed"]
    assert closed and report["closed_deals"] == len(closed)
    for deal in closed:
        sides = [o["side"] for o in deal["orders"]]
        assert sides[0] == "buy" and sides[-1] == "sell"
        assert all(o["time"] >= deal["opened"] for o in deal["orders"])
        # average cost P/L: what the sells brought minus what the sold base cost, fees included
        assert Decimal(deal["realised_pnl"]) > 0
    assert sum(Decimal(d["realised_pnl"]) for d in closed) == Decimal(report["realised_pnl"])
    # the same command prints the same deals (deterministic replay)
    again = backtest(
        "--pair",
        "BTC/USDT",
        "--strategy",
        "dca",
        "--params",
        str(params),
        "--from",
        "2023-04-05",
        "--to",
        "2023-04-08",
        "--json",
    )
    assert json.loads(again.stdout) == report


def test_bad_parameters_get_the_dialogs_sentences(tmp_path: Path) -> None:
    params = tmp_path / "bad.json"
    params.write_text(json.dumps({**PARAMS, "take_profit_pct": "-1", "max_safety_orders": 500}))
    out = backtest("--pair", "BTC/USDT", "--strategy", "dca", "--params", str(params))
    assert out.returncode == 2
    assert "The bot's parameters are not valid." in out.stderr
    assert "Take profit" in out.stderr and "Max safety orders" in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_pair_dates_and_files_are_explained(tmp_path: Path) -> None:
    params = tmp_path / "dca.json"
    params.write_text(json.dumps(PARAMS))
    pair = backtest("--pair", "DOGE/USDT", "--strategy", "dca", "--params", str(params))
    assert pair.returncode == 2 and "DOGE/USDT is not in the recorded data" in pair.stderr
    dates = backtest(
        "--pair", "BTC/USDT", "--strategy", "dca", "--params", str(params), "--from", "2020-01-01"
    )
    assert dates.returncode == 2  # a one-pair backtest has all of its pair's own history
    assert "The recorded data of BTC/USDT runs from 2023-03-16T22:15:00Z to 2023-05-01" in dates.stderr
    missing = backtest("--pair", "BTC/USDT", "--strategy", "dca", "--params", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
    garbled = tmp_path / "garbled.json"
    garbled.write_text("{oops")
    broken = backtest("--pair", "BTC/USDT", "--strategy", "dca", "--params", str(garbled))
    assert broken.returncode == 2 and "not valid JSON" in broken.stderr


def test_a_ladder_the_exchange_would_refuse_or_too_few_funds_is_refused_up_front(tmp_path: Path) -> None:
    """What the new-bot dialog's preview refuses at the first price, the backtest refuses before it runs."""
    tiny = tmp_path / "tiny.json"
    tiny.write_text(json.dumps({**PARAMS, "base_order_size": "0.5"}))
    out = backtest("--pair", "BTC/USDT", "--strategy", "dca", "--params", str(tiny))
    assert out.returncode == 2, out.stdout
    assert "The bot cannot start at the first price of the backtest" in out.stderr
    assert "Base order would be" in out.stderr and "under the exchange minimum of 5 USDT" in out.stderr
    assert "Raise the base order size." in out.stderr and "Traceback" not in out.stderr
    greedy = tmp_path / "greedy.json"
    greedy.write_text(json.dumps({**PARAMS, "safety_order_size": "5000", "max_safety_orders": 3}))
    out = backtest("--pair", "BTC/USDT", "--strategy", "dca", "--params", str(greedy))
    assert out.returncode == 2, out.stdout
    assert "Funds: The bot may need up to" in out.stderr and "but only 10000.00 USDT is free" in out.stderr
