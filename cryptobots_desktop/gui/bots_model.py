"""The bots table: name, account, pair, strategy, status, open and closed deals, realised profit."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from PySide6.QtGui import QColor

from cryptobots_desktop.core.bots import BotStatus
from cryptobots_desktop.engine.events import BotUpdated
from cryptobots_desktop.gui.formatting import fmt_signed
from cryptobots_desktop.gui.table_model import RED, RecordTableModel, pnl_colour

STATUS_TEXT = {
    BotStatus.RUNNING: "running",
    BotStatus.PAUSED: "paused (no new deals)",
    BotStatus.STOPPED: "stopped",
    BotStatus.ERROR: "stopped on an error",
}


class BotsModel(RecordTableModel[BotUpdated]):
    HEADERS = ("Name", "Account", "Pair", "Strategy", "Status", "Open deals", "Closed deals", "Profit")

    def __init__(self) -> None:
        super().__init__()
        self.account_labels: dict[str, str] = {}  # live account id -> its name (and whether bots may run)

    def key(self, row: BotUpdated) -> Hashable:
        return row.bot.bot_id

    def display(self, row: BotUpdated, col: int) -> str:
        b = row.bot
        if col == 0:
            return b.name
        if col == 1:
            if b.account_id == "paper":
                return "Paper"
            return self.account_labels.get(b.account_id, f"{b.account_id} (not connected)")
        if col == 2:
            return ", ".join(b.symbols)
        if col == 3:
            return b.strategy.value.upper()
        if col == 4:
            text = STATUS_TEXT[b.status]
            return f"{text}: {b.error}" if b.status is BotStatus.ERROR and b.error else text
        if col == 5:
            return str(row.open_deals)
        if col == 6:
            return str(row.closed_deals)
        return f"{fmt_signed(row.realised_pnl)} {b.symbols[0].split('/')[1]}"

    def sort_value(self, row: BotUpdated, col: int) -> Any:
        if col == 7:
            return float(row.realised_pnl)
        if col in (5, 6):
            return (row.open_deals, row.closed_deals)[col - 5]
        return self.display(row, col)

    def colour(self, row: BotUpdated, col: int) -> QColor | None:
        if col == 7:
            return pnl_colour(row.realised_pnl)
        if col == 4 and row.bot.status is BotStatus.ERROR:
            return RED
        return None

    def align_right(self, col: int) -> bool:
        return col >= 5

    def bot_id_at(self, i: int) -> str:
        return self.row_at(i).bot.bot_id
