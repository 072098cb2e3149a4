"""Accounts: the connected exchange accounts, what each key may do, and what to do about it.

Add / Edit / Remove / Re-check, Accept risk (a key that may withdraw), "I made this change" (the person
changed the key that gained rights themselves) and the exchange's safe-key guide.
The page only shows and asks: the work is the accounts controller's (``gui.accounts_controller``).
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cryptobots_desktop.core.permissions import Severity, WarningCode, needs_risk_acceptance
from cryptobots_desktop.engine.events import AccountsChanged, AccountState
from cryptobots_desktop.gui.accounts_model import SEVERITY_COLOURS, SEVERITY_WORDS, AccountsModel
from cryptobots_desktop.gui.key_guide_view import KeyGuideView
from cryptobots_desktop.gui.table_view import make_table, selected_source_row

EMPTY_TEXT = (
    "No exchange account yet. Paper trading needs none. To trade for real, add an account with an API key "
    "that may read and trade spot only: never withdraw. Keys are kept only in your system's keyring."
)


def wrapping(object_name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(object_name)
    label.setWordWrap(True)
    return label


def warnings_html(state: AccountState | None) -> str:
    """The selected account's findings, worst first: what, why it matters, what to do."""
    if state is None:
        return "<p>Select an account to see what its key may do.</p>"
    a = state.account
    parts = [f"<h3>{escape(a.label)}</h3>"]
    if state.last_error:
        parts.append(f"<p style='color:#bc4c00'><b>The last check failed.</b> {escape(state.last_error)}</p>")
    p = a.permissions
    if p is not None:

        def yes_no(value: bool | None) -> str:
            return "unknown" if value is None else ("yes" if value else "no")

        ips = ", ".join(p.ip_whitelist) if p.ip_whitelist else ""
        parts.append(
            "<p>What the exchange says this key may do: "
            f"read <b>{yes_no(p.read)}</b> · spot trade <b>{yes_no(p.spot_trade)}</b> · "
            f"withdraw <b>{yes_no(p.withdraw)}</b> · margin <b>{yes_no(p.margin)}</b> · "
            f"futures <b>{yes_no(p.futures)}</b> · "
            f"restricted to IP addresses <b>{yes_no(p.ip_restricted)}</b>"
            f"{escape(' (' + ips + ')') if ips else ''}</p>"
        )
    if not state.warnings:
        parts.append("<p>Nothing to worry about: the key may read and trade spot, nothing more.</p>")
    for w in state.warnings:
        colour = SEVERITY_COLOURS.get(w.severity)
        style = f" style='color:{colour.name()}'" if colour is not None else ""
        says_so = "Bots will not" in w.explanation or "bots cannot" in w.explanation.lower()
        blocks = (
            " Bots cannot run on this account while this stands." if w.blocks_bots and not says_so else ""
        )
        parts.append(
            f"<p><b{style}>{SEVERITY_WORDS[w.severity]}: {escape(w.title)}</b><br>"
            f"{escape(w.explanation)}{blocks}<br><i>What to do:</i> {escape(w.action)}</p>"
        )
    return "".join(parts)


class AccountsPage(QWidget):
    addRequested = Signal()
    editRequested = Signal(str)  # account id
    removeRequested = Signal(str)
    recheckRequested = Signal(str)
    acceptRiskRequested = Signal(str)
    acknowledgeRequested = Signal(str)  # the key gained rights and the person says they gave them

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = AccountsModel()
        self.view = make_table(self.model, "accountsTable", self)
        self.add_button = QPushButton("Add account…")
        self.add_button.setObjectName("addAccountButton")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setObjectName("editAccountButton")
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("removeAccountButton")
        self.recheck_button = QPushButton("Re-check key")
        self.recheck_button.setObjectName("recheckAccountButton")
        self.accept_button = QPushButton("Accept withdrawal risk…")
        self.accept_button.setObjectName("acceptRiskButton")
        self.accept_button.setToolTip("Let bots run on an account whose key may withdraw funds")
        self.acknowledge_button = QPushButton("I made this change")
        self.acknowledge_button.setObjectName("acknowledgeWideningButton")
        self.acknowledge_button.setToolTip(
            "The key gained permissions because you changed it on the exchange yourself: clear the warning. "
            "If you did not, delete the key on the exchange instead."
        )
        self.add_button.clicked.connect(self.addRequested.emit)
        for button, signal in (
            (self.edit_button, self.editRequested),
            (self.remove_button, self.removeRequested),
            (self.recheck_button, self.recheckRequested),
            (self.accept_button, self.acceptRiskRequested),
            (self.acknowledge_button, self.acknowledgeRequested),
        ):
            button.clicked.connect(lambda _=False, s=signal: self._emit_selected(s))
        self.vault_label = wrapping("vaultProblem")
        self.vault_label.hide()
        self.empty_label = wrapping("accountsEmpty")
        self.empty_label.setText(EMPTY_TEXT)
        self.details = QTextBrowser()
        self.details.setObjectName("accountDetails")
        self.guide = KeyGuideView()
        self.guide.show_guide("")
        side = QTabWidget()
        side.setObjectName("accountTabs")
        side.addTab(self.details, "What the key may do")
        side.addTab(self.guide, "How to make a safe key")
        self.side_tabs = side

        bar = QHBoxLayout()
        bar.addWidget(self.add_button)
        bar.addStretch(1)
        for button in (
            self.acknowledge_button,
            self.accept_button,
            self.recheck_button,
            self.edit_button,
            self.remove_button,
        ):
            bar.addWidget(button)
        split = QSplitter()
        table_box = QWidget()
        t = QVBoxLayout(table_box)
        t.setContentsMargins(0, 0, 0, 0)
        t.addWidget(self.empty_label)
        t.addWidget(self.view, 1)
        split.addWidget(table_box)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.vault_label)
        layout.addWidget(split, 1)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self._on_selection()

    # -- from the engine -----------------------------------------------------------------------------
    def on_accounts(self, event: AccountsChanged) -> None:
        selected = self.selected_account_id()
        self.model.replace_all(event.accounts)
        vault = event.vault
        show_vault = bool(event.accounts) and not vault.available and vault.problem is not None
        self.vault_label.setText(
            f"<b>The system keyring cannot keep API keys.</b> {escape(vault.message)} {escape(vault.hint)} "
            "Live accounts are unavailable; paper trading works."
        )
        self.vault_label.setVisible(show_vault)
        if selected is not None:
            self.select_account(selected)
        elif self.model.rowCount() and selected_source_row(self.view) is None:
            self.view.selectRow(0)
        self._on_selection()

    def show_vault_problem(self, message: str) -> None:
        self.vault_label.setText(message)
        self.vault_label.setVisible(bool(message))

    # -- selection -----------------------------------------------------------------------------------
    def selected_state(self) -> AccountState | None:
        row = selected_source_row(self.view)
        return None if row is None else self.model.row_at(row)

    def selected_account_id(self) -> str | None:
        state = self.selected_state()
        return None if state is None else state.account.account_id

    def select_account(self, account_id: str) -> None:
        for i, state in enumerate(self.model.rows()):
            if state.account.account_id == account_id:
                proxy = self.view.model()
                source = self.model.index(i, 0)
                index = proxy.mapFromSource(source)  # type: ignore[attr-defined]
                self.view.selectRow(index.row())
                return

    def _emit_selected(self, signal: Signal) -> None:
        account_id = self.selected_account_id()
        if account_id is not None:
            signal.emit(account_id)  # type: ignore[attr-defined]

    def _on_selection(self, *_: object) -> None:
        state = self.selected_state()
        self.empty_label.setVisible(self.model.rowCount() == 0)
        self.view.setVisible(self.model.rowCount() > 0)
        for button in (self.edit_button, self.remove_button, self.recheck_button):
            button.setEnabled(state is not None)
        if state is not None:
            self.recheck_button.setEnabled(not state.checking)
        needs = state is not None and needs_risk_acceptance(state.account)
        self.accept_button.setVisible(needs)
        widened = state is not None and any(w.code is WarningCode.PERMISSIONS_WIDENED for w in state.warnings)
        self.acknowledge_button.setVisible(widened)
        self.details.setHtml(warnings_html(state))
        exchange = state.account.exchange_id if state is not None else ""
        if exchange != self.guide.exchange_id:
            self.guide.show_guide(exchange, self.model.exchange_names.get(exchange, ""))
        if state is not None and any(
            w.severity >= Severity.ERROR and w.code is not WarningCode.NOT_CHECKED for w in state.warnings
        ):
            self.side_tabs.setCurrentIndex(0)
