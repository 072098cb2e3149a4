"""The warnings banner across the top of every page: one line per account with a warning.

Its colour is the worst severity (critical red, error orange, warning amber); each line has a button
that opens the account. Critical lines cannot be hidden; the others can be, until the key's next check.
Notes (``Severity.INFO``: something the exchange does not say) stay on the Accounts page.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from cryptobots_desktop.core.permissions import Severity
from cryptobots_desktop.engine.events import AccountsChanged

BACKGROUNDS = {Severity.CRITICAL: "#cf222e", Severity.ERROR: "#bc4c00", Severity.WARNING: "#9a6700"}
WORDS = {Severity.CRITICAL: "Critical", Severity.ERROR: "Error", Severity.WARNING: "Warning"}
VAULT_LINE_ID = "~keyring"  # the line about the keyring itself (no account id can be this)


@dataclass(frozen=True, slots=True)
class BannerLine:
    """One line: which account, how bad, and the sentence."""

    account_id: str
    severity: Severity
    text: str
    snooze_key: tuple[str, int | None]  # hidden until this changes (the account's last check)


def banner_lines(event: AccountsChanged) -> list[BannerLine]:
    """The banner's lines for these accounts, worst first."""
    lines: list[BannerLine] = []
    vault = event.vault
    if event.accounts and not vault.available and vault.problem is not None:
        lines.append(
            BannerLine(
                VAULT_LINE_ID,
                Severity.ERROR,
                f"The system keyring cannot keep API keys: live accounts are unavailable. {vault.message}",
                (VAULT_LINE_ID, None),
            )
        )
    for state in event.accounts:
        notable = [w for w in state.warnings if w.severity >= Severity.WARNING]
        if not notable:
            continue
        worst = notable[0]
        more = f" and {len(notable) - 1} more" if len(notable) > 1 else ""
        blocked = " Bots will not run on this account." if state.blocking else ""
        lines.append(
            BannerLine(
                state.account.account_id,
                worst.severity,
                f"{state.account.label}: {worst.title}{more}.{blocked}",
                (state.account.account_id, state.account.last_checked_ms),
            )
        )
    return sorted(lines, key=lambda line: line.severity, reverse=True)


class WarningsBanner(QFrame):
    openAccountRequested = Signal(str)  # account id ("~keyring": the Accounts page itself)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warningsBanner")
        # always as tall as its lines need: a page that wants every pixel (Accounts) squeezed it to a sliver
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 8, 4)
        self._layout.setSpacing(2)
        self._snoozed: set[tuple[str, int | None]] = set()
        self.lines: list[BannerLine] = []
        self._last: AccountsChanged | None = None
        self.hide()

    @property
    def worst(self) -> Severity | None:
        return self.lines[0].severity if self.lines else None

    def on_accounts(self, event: AccountsChanged) -> None:
        self._last = event
        self._render()

    def snooze(self, line: BannerLine) -> None:
        """Hide a non-critical line until the account's next check."""
        if line.severity < Severity.CRITICAL:
            self._snoozed.add(line.snooze_key)
            self._render()

    def _render(self) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # at once: until its deferred deletion it would still draw over the new lines
                widget.deleteLater()
        lines = banner_lines(self._last) if self._last is not None else []
        self.lines = [line for line in lines if line.snooze_key not in self._snoozed]
        if not self.lines:
            self.hide()
            return
        colour = BACKGROUNDS[self.lines[0].severity]
        self.setStyleSheet(
            f"QFrame#warningsBanner {{ background: {colour}; border-radius: 4px; }}"
            "QFrame#warningsBanner QLabel { color: white; }"
        )
        for line in self.lines:
            row = QWidget()
            h = QHBoxLayout(row)
            h.setContentsMargins(0, 0, 0, 0)
            label = QLabel(f"<b>{WORDS[line.severity]}</b> — {escape(line.text)}")
            label.setObjectName("bannerLine")
            label.setWordWrap(True)
            h.addWidget(label, 1)
            open_button = QPushButton("Open account" if line.account_id != VAULT_LINE_ID else "Open Accounts")
            open_button.setObjectName("bannerOpen")
            open_button.clicked.connect(lambda _=False, a=line.account_id: self.openAccountRequested.emit(a))
            h.addWidget(open_button)
            if line.severity < Severity.CRITICAL:
                hide_button = QPushButton("Hide until next check")
                hide_button.setObjectName("bannerSnooze")
                hide_button.clicked.connect(lambda _=False, ln=line: self.snooze(ln))
                h.addWidget(hide_button)
            self._layout.addWidget(row)
            row.show()  # now, not at the next turn of the event loop (the banner showed empty until then)
        self.show()
