"""Open deals (live profit/loss at the price now) and closed deals (realised), from the engine's events."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from decimal import Decimal
from typing import Any

from PySide6.QtGui import QColor

from cryptobots_desktop.engine.events import DealUpdated
from cryptobots_desktop.gui.formatting import fmt_amount, fmt_pct, fmt_signed, fmt_utc
from cryptobots_desktop.gui.table_model import RecordTableModel, pnl_colour

Decimals = Callable[[str], int]


def _quote(symbol: str) -> str:
    return symbol.split("/")[1]


def fmt_age(ms: int) -> str:
    minutes = max(0, ms) // 60_000
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    return f"{days}d {hours}h" if days else f"{hours}h {mins:02d}m"


PRICE_COLUMN = 4  # the open deals' columns from "Price now" on move with the prices and the time


class OpenDealsModel(RecordTableModel[DealUpdated]):
    HEADERS = (
        "Bot",
        "Pair",
        "Deal",
        "Average entry",
        "Price now",
        "Profit/loss",
        "P/L %",
        "Safety orders",
        "Take-profit",
        "Age",
    )

    def __init__(self, price_decimals: Decimals) -> None:
        super().__init__()
        self.price_decimals = price_decimals
        self.prices: dict[tuple[str, str], Decimal] = {}  # (account id, pair) -> the price now
        self.now_ms: int | None = None  # the paper replay's time; live deals age in wall time
        self.replay_account = "paper"

    def price(self, row: DealUpdated) -> Decimal | None:
        """The deal's pair's price now on the deal's own account."""
        return self.prices.get((row.account_id, row.record.symbol))

    def _now_ms(self, row: DealUpdated) -> int | None:
        if row.account_id and row.account_id != self.replay_account:
            return int(time.time() * 1000)
        return self.now_ms

    def key(self, row: DealUpdated) -> Hashable:
        return (row.record.bot_id, row.record.deal_no)

    def pnl(self, row: DealUpdated) -> tuple[Decimal | None, Decimal | None]:
        price = self.price(row)
        if row.deal is None or price is None or row.deal.average_entry_price is None:
            return None, None
        return row.deal.total_pnl(price), row.deal.total_pnl_pct(price)

    def display(self, row: DealUpdated, col: int) -> str:
        r = row.record
        if col == 0:
            return row.bot_name
        if col == 1:
            return r.symbol
        if col == 2:
            return f"#{r.deal_no} {r.phase}"
        if col == 3:
            avg = row.deal.average_entry_price if row.deal is not None else None
            return "—" if avg is None else fmt_amount(avg, self.price_decimals(r.symbol))
        if col == 4:
            price = self.price(row)
            return "—" if price is None else fmt_amount(price, self.price_decimals(r.symbol))
        if col == 5:
            pnl = self.pnl(row)[0]
            return "—" if pnl is None else f"{fmt_signed(pnl)} {_quote(r.symbol)}"
        if col == 6:
            pct = self.pnl(row)[1]
            return "—" if pct is None else fmt_pct(pct)
        if col == 7:
            return f"{row.safety_orders_filled} of {row.safety_orders_max}"
        if col == 8:
            tp = row.take_profit_price
            return "—" if tp is None else fmt_amount(tp, self.price_decimals(r.symbol))
        now_ms = self._now_ms(row)
        return "" if now_ms is None else fmt_age(now_ms - r.opened_ms)

    def sort_value(self, row: DealUpdated, col: int) -> Any:
        if col in (5, 6):
            value = self.pnl(row)[col - 5]
            return float(value) if value is not None else 0.0
        if col == 9:
            return -row.record.opened_ms
        return self.display(row, col)

    def colour(self, row: DealUpdated, col: int) -> QColor | None:
        return pnl_colour(self.pnl(row)[0]) if col in (5, 6) else None

    def align_right(self, col: int) -> bool:
        return col >= 3

    def total(self) -> Decimal:
        return sum((p for p, _ in map(self.pnl, self.rows()) if p is not None), Decimal(0))

    def refresh_prices(self) -> None:
        """The prices moved: every row's price, P/L and age columns changed (one change range)."""
        self.refresh_columns(PRICE_COLUMN, len(self.HEADERS) - 1)


class ClosedDealsModel(RecordTableModel[DealUpdated]):
    HEADERS = ("Bot", "Pair", "Deal", "Opened", "Closed", "Duration", "How it ended", "Realised profit")

    def key(self, row: DealUpdated) -> Hashable:
        return (row.record.bot_id, row.record.deal_no)

    def realised(self, row: DealUpdated) -> Decimal:
        return row.deal.realised_pnl if row.deal is not None else Decimal(0)

    def display(self, row: DealUpdated, col: int) -> str:
        r = row.record
        closed = r.closed_ms or r.opened_ms
        if col == 0:
            return row.bot_name
        if col == 1:
            return r.symbol
        if col == 2:
            return f"#{r.deal_no}"
        if col == 3:
            return fmt_utc(r.opened_ms)
        if col == 4:
            return fmt_utc(closed)
        if col == 5:
            return fmt_age(closed - r.opened_ms)
        if col == 6:
            return "failed" if r.phase == "failed" else (r.close_reason or "take-profit")
        return f"{fmt_signed(self.realised(row))} {_quote(r.symbol)}"

    def sort_value(self, row: DealUpdated, col: int) -> Any:
        if col == 7:
            return float(self.realised(row))
        if col in (3, 4):
            return row.record.opened_ms if col == 3 else (row.record.closed_ms or 0)
        return self.display(row, col)

    def colour(self, row: DealUpdated, col: int) -> QColor | None:
        return pnl_colour(self.realised(row)) if col == 7 else None

    def align_right(self, col: int) -> bool:
        return col == 7

    def total(self) -> Decimal:
        return sum((self.realised(r) for r in self.rows()), Decimal(0))

    def csv_rows(self) -> list[list[str]]:
        """The closed deals as CSV rows (ids and numbers only, never a secret), header first."""
        out = [
            [
                "bot",
                "pair",
                "deal",
                "opened_utc",
                "closed_utc",
                "ended",
                "realised_profit",
                "quote",
                "bought",
                "sold",
                "fees_in_quote",
                "note",
            ]
        ]
        for row in self.rows():
            r, d = row.record, row.deal
            out.append(
                [
                    row.bot_name,
                    r.symbol,
                    str(r.deal_no),
                    fmt_utc(r.opened_ms),
                    fmt_utc(r.closed_ms or r.opened_ms),
                    self.display(row, 6),
                    format(self.realised(row), "f"),
                    _quote(r.symbol),
                    format(d.base_bought, "f") if d else "",
                    format(d.base_sold, "f") if d else "",
                    format(d.fees_in_quote, "f") if d else "",
                    r.note or "",
                ]
            )
        return out
