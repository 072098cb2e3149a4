"""The bots table: name, account, pair, strategy, status, open and closed deals, realised profit.

The Account column carries the account's key warnings: the worst one in words beside the name, all of
them in its tooltip, its colour the worst severity (the words say the same: colour is never alone).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from cryptobots_desktop.core.bots import BotStatus
from cryptobots_desktop.core.permissions import Severity, WarningCode
from cryptobots_desktop.engine.events import AccountState, BotUpdated
from cryptobots_desktop.gui.accounts_model import SEVERITY_COLOURS, SEVERITY_WORDS
from cryptobots_desktop.gui.formatting import fmt_signed
from cryptobots_desktop.gui.table_model import RED, RecordTableModel, pnl_colour

_Index = QModelIndex | QPersistentModelIndex
STATUS_TEXT = {
    BotStatus.RUNNING: "running",
    BotStatus.PAUSED: "paused (no new deals)",
    BotStatus.STOPPED: "stopped",
    BotStatus.ERROR: "stopped on an error",
}
SHORT = {
    WarningCode.NOT_CHECKED: "key not checked",
    WarningCode.WITHDRAW_ENABLED: "may withdraw",
    WarningCode.READ_DISABLED: "may not read",
    WarningCode.TRADE_DISABLED: "may not trade",
    WarningCode.KEY_EXPIRED: "key expired",
    WarningCode.KEY_EXPIRES_SOON: "key expires soon",
    WarningCode.NO_IP_RESTRICTION: "no IP restriction",
    WarningCode.DERIVATIVES_ENABLED: "futures/margin enabled",
    WarningCode.PERMISSIONS_WIDENED: "key gained permissions",
    WarningCode.PERMISSIONS_UNKNOWN: "permissions unknown",
}
"""A few words per warning, for the narrow Account column (the tooltip has the full titles)."""


@dataclass(frozen=True, slots=True)
class AccountTag:
    """How a live account shows in the bots table: its text, its tooltip, its worst severity."""

    text: str
    tooltip: str
    severity: Severity | None


def account_tag(state: AccountState) -> AccountTag:
    """``"Main — warning: no IP restriction"``; "(may not run)" when a warning keeps bots from starting."""
    label = state.account.label
    warnings = state.warnings  # worst first
    text = label
    if warnings:
        worst = warnings[0]
        more = f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""
        text = f"{label} — {SEVERITY_WORDS[worst.severity].lower()}: {SHORT[worst.code]}{more}"
    if state.blocking:
        text += " (may not run)"
    lines = [f"{SEVERITY_WORDS[w.severity]}: {w.title}." for w in warnings]
    if state.blocking:
        lines.append(
            f"Bots will not start on {label} (running ones pause) until this is dealt with: see Accounts."
        )
    if state.last_error:
        lines.append(f"The last check failed: {state.last_error}")
    tooltip = "\n".join(lines) if lines else f"{label}: the key may read and trade spot, nothing more."
    return AccountTag(text, tooltip, state.worst)


class BotsModel(RecordTableModel[BotUpdated]):
    HEADERS = ("Name", "Account", "Pair", "Strategy", "Status", "Open deals", "Closed deals", "Profit")

    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, AccountTag] = {}  # live account id -> its name and key warnings

    def key(self, row: BotUpdated) -> Hashable:
        return row.bot.bot_id

    def display(self, row: BotUpdated, col: int) -> str:
        b = row.bot
        if col == 0:
            return b.name
        if col == 1:
            if b.account_id == "paper":
                return "Paper"
            tag = self.accounts.get(b.account_id)
            return tag.text if tag is not None else f"{b.account_id} (not connected)"
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
        if col == 1 and (tag := self.accounts.get(row.bot.account_id)) is not None:
            return SEVERITY_COLOURS.get(tag.severity) if tag.severity is not None else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid() and index.column() == 1:
            tag = self.accounts.get(self.row_at(index.row()).bot.account_id)
            return tag.tooltip if tag is not None else None
        return super().data(index, role)

    def align_right(self, col: int) -> bool:
        return col >= 5

    def bot_id_at(self, i: int) -> str:
        return self.row_at(i).bot.bot_id
