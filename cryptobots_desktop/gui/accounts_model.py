"""The accounts table: one row per connected exchange account, with its key's status in words."""

from __future__ import annotations

from collections.abc import Hashable

from PySide6.QtGui import QColor

from cryptobots_desktop.core.permissions import Severity, WarningCode
from cryptobots_desktop.engine.events import AccountState
from cryptobots_desktop.gui.formatting import fmt_local_time
from cryptobots_desktop.gui.table_model import RecordTableModel

SEVERITY_WORDS = {
    Severity.CRITICAL: "Critical",
    Severity.ERROR: "Error",
    Severity.WARNING: "Warning",
    Severity.INFO: "Note",
}
SEVERITY_COLOURS = {
    Severity.CRITICAL: QColor("#cf222e"),
    Severity.ERROR: QColor("#bc4c00"),
    Severity.WARNING: QColor("#9a6700"),
}
"""Text colours that read on a light or dark background; the words say the same (colour is never alone)."""


SAFETY_FIELDS = frozenset({"read", "spot_trade", "withdraw", "margin", "futures"})
"""What a key may do that decides whether it is safe for a bot (the IP list and expiry are warnings)."""


def status_text(state: AccountState) -> str:
    """One line: checking, the last failure, the worst warning, or that the key is as it should be."""
    if state.checking:
        return "Checking the key…"
    if state.last_error:
        return f"Check failed: {state.last_error}"
    notable = [w for w in state.warnings if w.severity >= Severity.WARNING]
    if notable:
        more = f" (+{len(notable) - 1} more)" if len(notable) > 1 else ""
        return f"{SEVERITY_WORDS[notable[0].severity]}: {notable[0].title}{more}"
    unknown = next((w for w in state.warnings if w.code is WarningCode.PERMISSIONS_UNKNOWN), None)
    if unknown is not None and SAFETY_FIELDS & set(unknown.fields):
        # what decides whether the key is safe is not known: no "OK" (never a guess shown as fact)
        return f"Unknown: {unknown.title.lower()}; check it yourself (see the guide)"
    if state.warnings:
        return f"OK as far as the exchange says; {state.warnings[0].title.lower()}"
    return "OK: read and spot trading only"


def checked_text(state: AccountState) -> str:
    checked = state.account.last_checked_ms
    if checked is None:
        return "never"
    from datetime import datetime  # noqa: PLC0415

    when = datetime.fromtimestamp(checked / 1000)
    return f"{when:%Y-%m-%d} {fmt_local_time(checked / 1000)}"


class AccountsModel(RecordTableModel[AccountState]):
    HEADERS = ("Account", "Exchange", "API key", "Last checked", "Bots", "Key status")

    def __init__(self) -> None:
        super().__init__()
        self.exchange_names: dict[str, str] = {}

    def key(self, row: AccountState) -> Hashable:
        return row.account.account_id

    def display(self, row: AccountState, col: int) -> str:
        a = row.account
        if col == 0:
            return a.label
        if col == 1:
            return self.exchange_names.get(a.exchange_id, a.exchange_id)
        if col == 2:
            return a.key_hint
        if col == 3:
            return checked_text(row)
        if col == 4:
            if not row.connected:
                return "not connected"
            return "may not run" if row.blocking else "may run"
        return status_text(row)

    def colour(self, row: AccountState, col: int) -> QColor | None:
        if col == 5 and row.last_error and not row.checking:
            return SEVERITY_COLOURS[Severity.ERROR]
        if col in (4, 5) and row.worst is not None:
            return SEVERITY_COLOURS.get(row.worst)
        return None

    def replace_all(self, states: tuple[AccountState, ...]) -> None:
        """Show exactly these accounts (gone ones removed, the others updated in place)."""
        keep = {s.account.account_id for s in states}
        self.remove_many(k for k in (self.key(r) for r in self.rows()) if k not in keep)
        self.upsert_many(states)
