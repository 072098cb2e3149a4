"""After the kills: the journal and the exchange tell one and the same story, deal by deal and fill by fill.

Shared by the paper and the live crash tests. ``check_story`` opens nothing itself: it is given the journal
and the exchange account (``ExchangeGateway``: the paper exchange, or ``CcxtGateway`` on the local exchange)
the engine used, and the account's fills as the exchange lists them. What each venue's book of accepted
orders is (the paper exchange's state file, the local exchange's ``allOrders`` and request log) is for
each test to read; ``check_accepted`` compares it with the journal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.bots import BotRecord, BotStatus
from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.orders import Fill, OrderSide
from cryptobots_desktop.core.ports import ExchangeGateway
from cryptobots_desktop.core.strategies.controller import CloseReason, DealPhase
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.core.strategies.dca_deal import BASE, CLOSE, TAKE_PROFIT, DealView, decide, safety_leg
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.order_executor import OrderExecutor
from tests.crash import engine_process as ep

LIVE = (IntentState.OPEN, IntentState.FILLED, IntentState.CANCELED)  # states of orders the exchange has
FILLED = IntentState.FILLED


@dataclass
class Story:
    bot: BotRecord
    rows: list[JournaledOrder]
    deals: int
    fills: int


def fills_by_id(fills: Sequence[Fill]) -> dict[str, Fill]:
    by_id = {f.trade_id: f for f in fills}
    assert len(by_id) == len(fills), f"a trade id appears twice: {sorted(f.trade_id for f in fills)}"
    return by_id


async def check_story(
    journal: SqliteJournal,
    exchange: ExchangeGateway,
    account_id: str,
    *,
    exchange_fills: Sequence[Fill],
    starting_usdt: Decimal,
    now_ms: int,
) -> Story:
    """Reconcile once more (as a start would), then check (a) nothing is left PENDING, (b) journal and
    exchange agree on every order, its state and its fills, and on the open orders and all fills,
    (d) no deal is missing and each one's orders fit its phase, and the fills add up to the balances."""
    executor = OrderExecutor(journal, exchange, EventBus(), account_id)
    report = await executor.reconciler.reconcile_all()
    assert not report.unresolved, report.unresolved

    # (a) nothing is left whose fate is unknown
    left = await journal.needing_reconciliation(account_id)
    pending = [r.client_order_id for r in left if r.state is IntentState.PENDING]
    assert not pending, f"still PENDING after the final reconciliation: {pending}"

    bots = await journal.bots()
    assert [b.bot_id for b in bots] == [ep.BOT_ID], "the bot was saved twice, or lost"
    bot = bots[0]
    assert bot.status is BotStatus.RUNNING, f"the bot stopped: {bot.error}"
    rows = list(await journal.orders_of_bot(ep.BOT_ID))
    journaled = {r.client_order_id: r for r in rows}
    assert len(journaled) == len(rows), "a client order id is journaled twice"
    assert {r.client_order_id for r in left} <= set(journaled), "an order of no bot is journaled"

    # (b) journal -> exchange: every order the exchange accepted is there, same state, same fills
    for row in rows:
        at_exchange = await exchange.fetch_order(ep.SYMBOL, row.client_order_id)
        if row.state not in LIVE:
            assert row.state in (IntentState.REJECTED, IntentState.NOT_PLACED), row
            assert at_exchange is None, f"{row.client_order_id} is {row.state} but the exchange has it"
            continue
        assert at_exchange is not None, f"{row.client_order_id} is {row.state}, the exchange has no such"
        assert IntentState.of(at_exchange.status) is row.state, (row, at_exchange)
        assert at_exchange.exchange_order_id == row.exchange_order_id, (row, at_exchange)
        assert fills_by_id(at_exchange.fills) == fills_by_id(row.fills), row.client_order_id
    #     exchange -> journal: no open order the journal doesn't know
    open_ids = {o.client_order_id for o in await exchange.fetch_open_orders()}
    assert open_ids <= set(journaled), f"open at the exchange, not journaled: {open_ids - set(journaled)}"
    assert open_ids == {r.client_order_id for r in rows if r.state is IntentState.OPEN}
    #     every fill of the account belongs to a journaled order and is journaled
    at_exchange_fills = fills_by_id(exchange_fills)
    journal_fills = fills_by_id([f for r in rows for f in r.fills])
    assert at_exchange_fills == journal_fills, (
        f"fills only at the exchange: {sorted(at_exchange_fills.keys() - journal_fills.keys())}, "
        f"only in the journal: {sorted(journal_fills.keys() - at_exchange_fills.keys())}"
    )
    assert sorted(map(int, at_exchange_fills)) == list(range(1, len(at_exchange_fills) + 1)), "trade ids gap"

    # (d) no deal is missing, and each one's orders fit its phase
    params = DcaParams.model_validate_json(bot.params_json)
    market = (await exchange.load_markets())[ep.SYMBOL]
    price = (await exchange.fetch_ticker(ep.SYMBOL)).last
    deals = list(await journal.deals_of_bot(ep.BOT_ID))
    numbers = [d.deal_no for d in deals]
    assert numbers == list(range(1, len(deals) + 1)), f"deal numbers with a gap: {numbers}"
    by_deal: dict[int, list[JournaledOrder]] = defaultdict(list)
    for row in rows:
        by_deal[row.intent.deal_no].append(row)
    assert set(by_deal) <= set(numbers), f"orders of unknown deals: {set(by_deal) - set(numbers)}"
    assert sum(d.is_active for d in deals) <= params.max_active_deals
    singles = {BASE, *(safety_leg(i) for i in range(1, params.max_safety_orders + 1))}
    for record in deals:
        orders = by_deal.get(record.deal_no, [])
        where = f"deal {record.deal_no} ({record.phase})"
        legs = Counter(r.intent.leg for r in orders)
        assert all(legs[leg] <= 1 for leg in singles), f"{where}: a leg placed twice: {legs}"
        for leg in (TAKE_PROFIT, CLOSE):  # replaced legs: at most one attempt working at a time
            working = [r for r in orders if r.intent.leg == leg and r.state is IntentState.OPEN]
            assert len(working) <= 1, f"{where}: two {leg} orders working"
        base = next((r for r in orders if r.intent.leg == BASE), None)
        fills = [f for r in orders for f in r.fills]
        bought = sum((f.amount - f.fee for f in fills if f.side is OrderSide.BUY), Decimal(0))
        sold = sum((f.amount for f in fills if f.side is OrderSide.SELL), Decimal(0))
        assert sold <= bought, f"{where}: sold {sold} BTC but bought only {bought} (a sell sent twice?)"
        if record.phase == DealPhase.CLOSED:
            assert record.closed_ms is not None, where
            assert not [r for r in orders if r.state in (IntentState.OPEN, IntentState.PENDING)], where
            assert base is not None and base.state is IntentState.FILLED, where
            sells_filled = [r for r in orders if r.intent.leg in (TAKE_PROFIT, CLOSE) and r.state is FILLED]
            assert sells_filled, f"{where}: closed without its take-profit or closing sell filled"
            assert market.floor_amount(bought - sold) < market.min_amount, f"{where}: closed holding BTC"
        elif record.phase == DealPhase.OPEN:
            assert base is not None and base.state is IntentState.FILLED, where
        else:
            assert record.phase in (DealPhase.OPENING, DealPhase.CLOSING), where
        # the saved phase is what the controller reads from the journaled orders, with nothing left to do
        view = DealView(
            account_id,
            ep.BOT_ID,
            record.deal_no,
            record.symbol,
            tuple(orders),
            CloseReason(record.close_reason) if record.close_reason else None,
            record.trailing_high,
        )
        decision = decide(params, market, view, price, now_ms)
        assert decision.phase.value == record.phase, f"{where}: the journal's orders say {decision.phase}"
        assert not decision.actions, f"{where}: left unsettled: {decision.actions}"

    #     the fills add up to the exchange's balances, exactly
    quote, base_asset = market.quote, market.base
    all_fills = list(journal_fills.values())
    buys = [f for f in all_fills if f.side is OrderSide.BUY]
    sells = [f for f in all_fills if f.side is OrderSide.SELL]
    assert {f.fee_asset for f in buys} <= {base_asset} and {f.fee_asset for f in sells} <= {quote}
    usdt = (
        starting_usdt
        - sum((f.cost for f in buys), Decimal(0))
        + sum((f.cost for f in sells), Decimal(0))
        - sum((f.fee for f in sells), Decimal(0))
    )
    btc = sum((f.amount - f.fee for f in buys), Decimal(0)) - sum((f.amount for f in sells), Decimal(0))
    balances = await exchange.fetch_balances()
    assert balances[quote].total == usdt, f"USDT {balances[quote].total}, the fills say {usdt}"
    assert balances[base_asset].total == btc, f"BTC {balances[base_asset].total}, the fills say {btc}"
    assert all(b.total == 0 for a, b in balances.items() if a not in (quote, base_asset)), balances
    return Story(bot, rows, len(deals), len(all_fills))


def check_accepted(accepted: Mapping[str, str], rows: Sequence[JournaledOrder]) -> None:
    """(c) every order the exchange accepted (client order id -> exchange order id; the caller has checked
    that no client order id was accepted twice) is journaled under the same exchange id, and every order
    the journal says the exchange has was accepted."""
    in_journal = {r.client_order_id: r.exchange_order_id for r in rows if r.state in LIVE}
    assert dict(accepted) == in_journal, (
        f"at the exchange only: {sorted(accepted.keys() - in_journal.keys())}, "
        f"journaled only: {sorted(in_journal.keys() - accepted.keys())}"
    )
