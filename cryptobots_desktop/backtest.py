"""Headless backtest: a bot over the shipped market history as fast as possible, with the same engine code
as the window (paper exchange, journal, order executor, bot runner), in a throw-away folder.

DCA bots run through :class:`DcaBotRunner`, grid bots through :class:`GridBotRunner`; both fast-forward
over the minutes in which they cannot act (``BotRunner.watch`` and the paper exchange's ``next_touch``)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.balances import Balance
from cryptobots_desktop.core.bots import BotRecord, BotStatus, StrategyKind
from cryptobots_desktop.core.errors import CryptobotsError
from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.orders import Fill
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.dca import DcaParams, dca_preview, free_balance_problem
from cryptobots_desktop.core.strategies.grid import GridParams, grid_levels, grid_preview
from cryptobots_desktop.core.strategies.grid_bot import GridView, grid_profit
from cryptobots_desktop.core.strategies.grid_funds import grid_balance_problem
from cryptobots_desktop.core.strategies.validation import field_problems
from cryptobots_desktop.engine.bot_runner import BotRunner
from cryptobots_desktop.engine.dca_runner import DcaBotRunner
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.grid_runner import GridBotRunner
from cryptobots_desktop.engine.order_executor import OrderExecutor
from cryptobots_desktop.settings import DEFAULT_DATASET

MINUTE_MS = 60_000
EIGHT_PLACES = Decimal("0.00000001")
BotParams = DcaParams | GridParams


class BacktestInputError(CryptobotsError):
    """The backtest's inputs are wrong; ``problems`` are (field label, sentence) pairs."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass
class BacktestResult:
    pair: str
    start_ms: int
    end_ms: int
    quote: str
    deals: list[dict[str, Any]] = field(default_factory=list)
    realised_pnl: Decimal = Decimal(0)
    open_deals: int = 0
    final_value: Decimal = Decimal(0)
    starting_value: Decimal = Decimal(0)
    fills: list[Fill] = field(default_factory=list)  # every fill of the paper account, as the exchange has it
    balances: dict[str, Balance] = field(default_factory=dict)  # the paper account at the end
    steps: int = 0  # minutes the bot was stepped (all of them without fast-forward)
    strategy: StrategyKind = StrategyKind.DCA
    end_price: Decimal | None = None
    grid: dict[str, Any] | None = None  # a grid bot's own figures (cycles, what it holds at the end)

    def to_json(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "strategy": self.strategy.value,
            "pair": self.pair,
            "from": _iso(self.start_ms),
            "to": _iso(self.end_ms),
            "quote": self.quote,
            "deals": self.deals,
            "closed_deals": sum(1 for d in self.deals if d["phase"] == "closed"),
            "open_deals": self.open_deals,
            "realised_pnl": _fmt8(self.realised_pnl),
            "starting_value": format(self.starting_value, "f"),
            "final_value": _fmt8(self.final_value),
        }
        if self.grid is not None:
            report["end_price"] = None if self.end_price is None else format(self.end_price, "f")
            report["grid"] = self.grid
        return report


def _fmt8(value: Decimal) -> str:
    return format(value.quantize(EIGHT_PLACES), "f")


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> int:
    """``2023-04-10`` or ``2023-04-10T12:00`` (UTC) -> Unix ms; a clear message otherwise."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", ""))
    except ValueError as exc:
        raise BacktestInputError(
            f"{text!r} is not a date: write it like 2023-04-10 or 2023-04-10T12:00."
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def load_dca_params(path: Path) -> DcaParams:
    """Read DCA parameters from a JSON file, with the same messages as the new-bot dialog."""
    params = load_params(path, StrategyKind.DCA)
    assert isinstance(params, DcaParams)
    return params


def load_params(path: Path, strategy: StrategyKind) -> BotParams:
    """Read a strategy's parameters from a JSON file, with the same messages as the new-bot dialog."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BacktestInputError(f"The parameters file {path} cannot be read: {exc.strerror}.") from exc
    except json.JSONDecodeError as exc:
        raise BacktestInputError(
            f"The parameters file {path} is not valid JSON: {exc.msg} (line {exc.lineno})."
        ) from exc
    model: type[DcaParams] | type[GridParams] = DcaParams if strategy is StrategyKind.DCA else GridParams
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BacktestInputError("The bot's parameters are not valid.", field_problems(exc, model)) from exc


async def run_backtest(
    resources: Path,
    pair: str,
    params: BotParams,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    dataset: str = DEFAULT_DATASET,
    starting_quote: Decimal = Decimal(10_000),
    fast_forward: bool = True,
) -> BacktestResult:
    """Run a DCA or grid bot (by the type of ``params``) on ``pair`` minute by minute from ``start_ms`` to
    ``end_ms`` (default: all the data).

    With ``fast_forward`` the minutes in which the bot cannot do anything (no resting order can fill, no
    price level its deals watch is reached, no deal may open) are skipped in one jump; the result is the
    same as stepping every minute (``fast_forward=False``), only faster.
    """
    with tempfile.TemporaryDirectory(prefix="cryptobots-backtest-") as tmp:
        folder = Path(tmp)
        exchange = await PaperExchange.open(
            market_data_dir=resources / "market_data",
            dataset=dataset,
            state_path=folder / "paper.sqlite3",
            starting_balances={"USDT": starting_quote},
            speed=ReplaySpeed.MAX,
            replay_start_ms=start_ms if start_ms is not None else 0,  # 0: the first minute of the data
            only_pair=pair,  # all of the pair's own history, not only the window every pair shares
        )
        try:
            if pair not in exchange.markets:
                raise BacktestInputError(
                    f"{pair} is not in the recorded data. Choose one of: {', '.join(exchange.dataset.pairs)}."
                )
            market = exchange.markets[pair]
            if market.quote != "USDT":
                raise BacktestInputError(f"Backtests run on USDT pairs; {pair} is quoted in {market.quote}.")
            first, last = exchange.replay.start_ms, exchange.replay.end_ms
            start = first if start_ms is None else start_ms
            end = last if end_ms is None else end_ms
            if not first <= start < end <= last:
                raise BacktestInputError(
                    f"The recorded data of {pair} runs from {_iso(first)} to {_iso(last)}; choose --from and "
                    "--to inside it, with --from before --to."
                )
            exchange.replay.step(start - exchange.replay.now_ms())
            return await _run(
                exchange, folder, pair, params, market.quote, end, starting_quote, fast_forward=fast_forward
            )
        finally:
            await exchange.close()


async def _run(
    exchange: PaperExchange,
    folder: Path,
    pair: str,
    params: BotParams,
    quote: str,
    end: int,
    start_value: Decimal,
    *,
    fast_forward: bool = True,
) -> BacktestResult:
    journal = await SqliteJournal.open(
        folder / "journal.sqlite3", synchronous="NORMAL", clock=exchange.replay
    )
    try:
        bus = EventBus()
        executor = OrderExecutor(journal, exchange, bus, "paper")
        market = exchange.markets[pair]
        kind = StrategyKind.DCA if isinstance(params, DcaParams) else StrategyKind.GRID
        first_price = (await exchange.fetch_ticker(pair)).last
        if isinstance(params, GridParams):
            _check_grid(params, market, first_price, start_value)
        else:
            _check_dca(params, market, first_price, start_value)
        bot = BotRecord(
            "bt",
            "backtest",
            "paper",
            kind,
            (pair,),
            params.model_dump_json(),
            BotStatus.RUNNING,
            exchange.replay.now_ms(),
        )
        await journal.save_bot(bot)
        runner: BotRunner
        if isinstance(params, DcaParams):
            runner = DcaBotRunner(bot, params, market, journal, executor, bus, exchange.replay)
        else:
            runner = GridBotRunner(bot, params, market, journal, executor, bus, exchange.replay)
        start = exchange.replay.now_ms()
        price = None
        steps = 0
        while exchange.replay.now_ms() < end:
            if fast_forward:
                await _skip_quiet_minutes(exchange, runner, pair, end)
            exchange.replay.step(MINUTE_MS)
            price = (await exchange.fetch_ticker(pair)).last
            await runner.step(price)
            steps += 1
        result = BacktestResult(
            pair,
            start,
            exchange.replay.now_ms(),
            quote,
            starting_value=start_value,
            steps=steps,
            strategy=kind,
            end_price=price,
        )
        rows = await journal.orders_of_bot("bt")
        for record in runner.deals:
            last = runner.last.get(record.deal_no)
            deal = last.deal if last is not None else None
            orders = [
                {
                    "leg": r.intent.leg,
                    "side": f.side.value,
                    "price": format(f.price, "f"),
                    "amount": format(f.amount, "f"),
                    "fee": format(f.fee, "f"),
                    "fee_asset": f.fee_asset,
                    "time": _iso(f.ts_ms),
                }
                for r, f in sorted(
                    ((r, f) for r in rows if r.intent.deal_no == record.deal_no for f in r.fills),
                    key=lambda rf: rf[1].ts_ms,
                )
            ]
            pnl = deal.realised_pnl if deal is not None else Decimal(0)
            if isinstance(runner, GridBotRunner):
                view = GridView("paper", "bt", record.deal_no, pair, runner.orders_of(record.deal_no))
                pnl = grid_profit(runner.params, market, view).realised
            result.deals.append(
                {
                    "deal": record.deal_no,
                    "phase": record.phase,
                    "opened": _iso(record.opened_ms),
                    "closed": _iso(record.closed_ms) if record.closed_ms else None,
                    "close_reason": record.close_reason,
                    "note": record.note,
                    "realised_pnl": _fmt8(pnl),
                    "orders": orders,
                }
            )
        result.realised_pnl = runner.realised_profit()
        result.open_deals = len(runner.active_deals)
        if isinstance(runner, GridBotRunner):
            result.grid = _grid_figures(runner, price)
        balances = await exchange.fetch_balances()
        result.balances = dict(balances)
        result.fills = list(await exchange.fetch_fills())
        value = Decimal(0)
        for asset, balance in balances.items():
            if asset == quote:
                value += balance.total
            elif price is not None and asset == exchange.markets[pair].base:
                value += balance.total * price
        result.final_value = value
        return result
    finally:
        await journal.close()


def _check_dca(params: DcaParams, market: Market, price: Decimal, starting_quote: Decimal) -> None:
    """Refuse a DCA bot the dialog would refuse at the first price: its ladder's problems (an order under
    the exchange's minimum, a safety order at no price), too few funds."""
    try:
        preview = dca_preview(params, market, price)
    except ArithmeticError:
        raise BacktestInputError(
            "The bot's parameters are not valid.",
            [("Ladder", "These settings are too large to preview. Lower the sizes or the scales.")],
        ) from None
    problems = [("Ladder", p) for p in preview.problems]
    short = free_balance_problem(params, starting_quote, market.quote)
    if short is not None:
        problems.append(("Funds", short))
    if problems:
        raise BacktestInputError(
            f"The bot cannot start at the first price of the backtest ({price} {market.quote}).", problems
        )


def _check_grid(params: GridParams, market: Market, price: Decimal, starting_quote: Decimal) -> None:
    """Refuse a grid the dialog would refuse at the first price: its preview's problems, too few funds."""
    preview = grid_preview(params, market, price)
    problems = [("Grid", p) for p in preview.problems]
    short = grid_balance_problem(preview, market, starting_quote)
    if short is not None:
        problems.append(("Funds", short))
    if problems:
        raise BacktestInputError(
            f"The grid cannot start at the first price of the backtest ({price} {market.quote}).", problems
        )


def _grid_figures(runner: GridBotRunner, price: Decimal | None) -> dict[str, Any]:
    """The grid's completed cycles and realised profit, and what it still holds, valued at ``price``."""
    cycles, held, total = 0, Decimal(0), Decimal(0)
    for record in runner.deals:
        view = GridView("paper", "bt", record.deal_no, record.symbol, runner.orders_of(record.deal_no))
        cycles += grid_profit(runner.params, runner.market, view).cycles
        deal = runner.deal(record.deal_no)
        held += deal.base_held
        if price is not None:
            total += deal.total_pnl(price)
    value = held * price if price is not None else Decimal(0)
    return {
        "levels": len(grid_levels(runner.params, runner.market).prices),
        "cycles": cycles,
        "realised_profit": _fmt8(runner.realised_profit()),
        "base_held": format(held.normalize(), "f"),
        "base_held_value": _fmt8(value),
        "total_pnl_at_end_price": _fmt8(total),
    }


async def _skip_quiet_minutes(exchange: PaperExchange, runner: BotRunner, pair: str, end: int) -> None:
    """Jump over the whole minutes in which stepping the bot would change nothing.

    The next minute step that could matter is the first one whose matching reaches the candle in which a
    resting order may fill or a watched level is reached (its open time ``touch``), or the first at or
    after a cooldown's end; the replay jumps to the last whole minute before it (still before ``end``),
    and the minutes from there on are stepped one by one, as without fast-forward.
    """
    now = exchange.replay.now_ms()
    watch = runner.watch()
    if watch.now:
        return
    until = end if watch.wake_ms is None else min(end, watch.wake_ms)
    touch = await exchange.next_touch(pair, until, watch.low, watch.high)
    if touch is not None:
        until = min(until, touch)
    minutes = (until - now - 1) // MINUTE_MS
    if minutes > 0:
        await exchange.fast_forward(now + minutes * MINUTE_MS)


def format_report(result: BacktestResult) -> str:
    """The backtest as a person reads it: every deal's orders, then the totals."""
    lines = [f"Backtest of {result.pair} from {_iso(result.start_ms)} to {_iso(result.end_ms)}"]
    for deal in result.deals:
        closed = f"closed {deal['closed']}" if deal["closed"] else deal["phase"]
        name = "Grid" if result.grid is not None else f"Deal {deal['deal']}"
        lines.append(
            f"{name}: opened {deal['opened']}, {closed}, realised {deal['realised_pnl']} {result.quote}"
        )
        for o in deal["orders"]:
            lines.append(f"  {o['time']}  {o['side']:<4}  {o['amount']:>14} @ {o['price']:<12} ({o['leg']})")
        if deal["note"]:
            lines.append(f"  note: {deal['note']}")
    grid = result.grid
    if grid is not None:
        base = result.pair.split("/")[0]
        end = "" if result.end_price is None else f" at the end price of {result.end_price} {result.quote}"
        lines += [
            f"Grid: {grid['levels']} levels, {grid['cycles']} completed buy-sell cycles, realised profit "
            f"{Decimal(grid['realised_profit']):.2f} {result.quote} (fees included)",
            f"Still held: {grid['base_held']} {base}, worth {Decimal(grid['base_held_value']):.2f} "
            f"{result.quote}{end}; all the grid's trades with it valued so: "
            f"{Decimal(grid['total_pnl_at_end_price']):+.2f} {result.quote}",
            f"Portfolio {result.starting_value:.2f} -> {result.final_value:.2f} {result.quote}",
        ]
        return "\n".join(lines)
    closed = sum(1 for d in result.deals if d["phase"] == "closed")
    lines.append(
        f"Closed deals: {closed}, still open: {result.open_deals}; realised profit "
        f"{result.realised_pnl:.2f} {result.quote}; portfolio {result.starting_value:.2f} -> "
        f"{result.final_value:.2f} {result.quote}"
    )
    return "\n".join(lines)
