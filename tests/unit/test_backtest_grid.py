"""The headless backtest of a grid bot: the command, its report, bad settings, and fast-forward.

The grid runs through the same ``GridBotRunner`` as the window, on the real April 2023 BTC/USDT minutes.
Bad settings get the new-bot dialog's sentences (the pydantic model's and the grid preview's, which the
dialog shows too). Fast-forward (the grid stepped only when one of its resting orders can fill) must give
exactly the fills, balances and report of stepping every minute.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import pytest

from cryptobots_desktop.backtest import (
    BacktestInputError,
    BacktestResult,
    load_params,
    parse_time,
    run_backtest,
)
from cryptobots_desktop.core.bots import StrategyKind
from cryptobots_desktop.core.strategies.grid import GridParams
from tests.conftest import ROOT

GRID = {"lower_price": "27800", "upper_price": "28800", "levels": 11, "amount_per_level": "0.001"}
WINDOW = ("--from", "2023-04-05", "--to", "2023-04-08")


def backtest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cryptobots_desktop", "backtest", "--pair", "BTC/USDT", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )


def params_file(tmp_path: Path, **changes: object) -> str:
    path = tmp_path / "grid.json"
    path.write_text(json.dumps({**GRID, **changes}))
    return str(path)


def test_json_report_has_the_grids_orders_cycles_and_holdings(tmp_path: Path) -> None:
    out = backtest("--strategy", "grid", "--params", params_file(tmp_path), *WINDOW, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["strategy"] == "grid"
    assert (report["from"], report["to"]) == ("2023-04-05T00:00:00Z", "2023-04-08T00:00:00Z")
    (deal,) = report["deals"]
    orders = deal["orders"]
    assert orders[0]["leg"] == "init" and orders[0]["side"] == "buy"  # the sells' base, at market
    assert [o["time"] for o in orders] == sorted(o["time"] for o in orders)
    levels = {D(o["price"]) for o in orders if o["leg"] != "init"}
    assert levels <= {D(27800 + 100 * i) for i in range(11)}  # only at the grid's levels
    assert all("E" not in o["price"] for o in orders)  # plain numbers, never 2.8E+4
    grid = report["grid"]
    assert grid["levels"] == 11 and grid["cycles"] > 0
    assert D(grid["realised_profit"]) > 0 and D(grid["realised_profit"]) == D(report["realised_pnl"])
    assert D(deal["realised_pnl"]) == D(grid["realised_profit"])
    end_price = D(report["end_price"])
    assert D(grid["base_held_value"]) == (D(grid["base_held"]) * end_price).quantize(D("1e-8"))
    # the grid's trades are the only ones: the portfolio moves by exactly their result
    change = D(report["final_value"]) - D(report["starting_value"])
    assert abs(change - D(grid["total_pnl_at_end_price"])) < D("0.00000002")

    text = backtest("--strategy", "grid", "--params", params_file(tmp_path), *WINDOW)
    assert text.returncode == 0, text.stderr
    assert f"Grid: 11 levels, {grid['cycles']} completed buy-sell cycles, realised profit" in text.stdout
    assert "Still held:" in text.stdout and "Portfolio 10000.00 -> " in text.stdout


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"lower_price": "29000"},
            "Grid: Upper price (28800) must be above the lower price (29000). "
            "Raise the upper price or lower the lower price.",
        ),
        ({"levels": 500}, "Grid levels: Grid levels must be between 2 and 200."),
        ({"amount_per_level": "abc"}, "Amount per level: Amount per level must be a number, like 10 or 2.5."),
    ],
    ids=["lower-above-upper", "levels-out-of-range", "amount-not-a-number"],
)
def test_bad_grid_settings_get_the_dialogs_sentences(tmp_path: Path, changes: dict, expected: str) -> None:
    out = backtest("--strategy", "grid", "--params", params_file(tmp_path, **changes), *WINDOW)
    assert out.returncode == 2
    assert "The bot's parameters are not valid." in out.stderr
    label, sentence = expected.split(": ", 1)
    label = "Upper price" if label == "Grid" else label
    assert f"  - {label}: {sentence}" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_grid_the_exchange_would_refuse_is_explained_before_running(tmp_path: Path) -> None:
    # 0.0001 BTC at 27,800 is 2.78 USDT: under the 5 USDT minimum order
    out = backtest(
        "--strategy", "grid", "--params", params_file(tmp_path, amount_per_level="0.0001"), *WINDOW
    )
    assert out.returncode == 2
    assert "The grid cannot start at the first price of the backtest" in out.stderr
    assert "the exchange minimum of 5 USDT for BTC/USDT" in out.stderr
    assert "Raise the amount per level to at least 0.00018 BTC." in out.stderr
    # 11 levels of 1 BTC need far more than the backtest's 10,000 USDT
    rich = backtest("--strategy", "grid", "--params", params_file(tmp_path, amount_per_level="1"), *WINDOW)
    assert rich.returncode == 2
    assert "  - Funds: The grid needs about " in rich.stderr and "USDT short." in rich.stderr


def test_load_params_reads_a_grid(tmp_path: Path) -> None:
    params = load_params(Path(params_file(tmp_path)), StrategyKind.GRID)
    assert params == GridParams(
        lower_price=D(27800), upper_price=D(28800), levels=11, amount_per_level=D("0.001")
    )
    with pytest.raises(BacktestInputError) as caught:
        load_params(Path(params_file(tmp_path, base_order_size="5")), StrategyKind.GRID)
    assert caught.value.problems == [
        ("base_order_size", "base_order_size is not a setting of this bot; remove it.")
    ]


def test_example_grid_is_valid_and_trades_in_the_shipped_data() -> None:
    params = load_params(ROOT / "examples" / "grid-btc.json", StrategyKind.GRID)
    result = asyncio.run(
        run_backtest(
            ROOT / "resources",
            "BTC/USDT",
            params,
            start_ms=parse_time("2023-04-01T21:03"),
            end_ms=parse_time("2023-04-06"),
        )
    )
    assert result.grid is not None and result.grid["cycles"] > 0


@pytest.mark.parametrize(
    ("start", "end"),
    [("2023-04-05", "2023-04-06T12:00"), ("2023-04-26T12:00", "2023-04-27T06:00")],
    ids=["calm-05", "swing-26"],
)
def test_fast_forward_gives_the_same_grid_as_every_minute(start: str, end: str) -> None:
    params = GridParams.model_validate(
        {"lower_price": "27000", "upper_price": "30000", "levels": 31, "amount_per_level": "0.001"}
    )

    def run(fast: bool) -> BacktestResult:
        return asyncio.run(
            run_backtest(
                ROOT / "resources",
                "BTC/USDT",
                params,
                start_ms=parse_time(start),
                end_ms=parse_time(end),
                fast_forward=fast,
            )
        )

    slow, quick = run(False), run(True)
    assert slow.fills and slow.grid is not None and slow.grid["cycles"] > 0
    assert quick.steps < slow.steps / 2  # the quiet minutes were skipped
    assert (quick.fills, quick.balances, quick.to_json()) == (slow.fills, slow.balances, slow.to_json())
