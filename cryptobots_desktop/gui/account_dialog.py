"""Add (or edit) an exchange account: the exchange, a name, the key's fields, and the safe-key guide.

The fields are the ones the exchange needs (ccxt's ``requiredCredentials``: API key, secret, and a
passphrase or uid where it asks for one). Secret fields are masked, with a Show toggle; surrounding
spaces of a paste are trimmed. "Test and save" hands an ``AccountDraft`` to the accounts controller,
which signs a real request with it and saves only if the exchange accepts; meanwhile the dialog shows
progress and can be cancelled. A failure is shown under the fields, and what was typed stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cryptobots_desktop.core.accounts import FIELD_NAMES, RequiredFields
from cryptobots_desktop.core.errors import CryptobotsError, InvalidCredentials
from cryptobots_desktop.core.ports import ExchangeListing
from cryptobots_desktop.engine.accounts import CREDENTIAL_FIELDS, AccountDraft
from cryptobots_desktop.gui.form_widgets import error_colour, wrapping
from cryptobots_desktop.gui.key_guide_view import KeyGuideView

SECRET_FIELDS = frozenset({"secret", "passphrase"})
PLACEHOLDERS = {
    "api_key": "Paste the API key",
    "secret": "Paste the API secret",
    "passphrase": "The passphrase you chose when you made the key",
    "uid": "Your user id on the exchange",
}


class AccountDialog(QDialog):
    """``submitted(AccountDraft)`` when the person asks to test and save; ``cancelRequested`` to stop."""

    submitted = Signal(object)  # AccountDraft
    exchangeChosen = Signal(str)  # the controller answers with set_required
    cancelRequested = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        account_id: str | None = None,
        exchange_id: str = "",
        label: str = "",
        key_hint: str = "",
    ) -> None:
        super().__init__(parent)
        self.account_id = account_id
        editing = account_id is not None
        self.setWindowTitle("Edit account" if editing else "Add an exchange account")
        self.setObjectName("accountDialog")
        self.setModal(True)
        self.resize(900, 560)
        self._required: dict[str, RequiredFields] = {}
        self._busy = False

        self.exchange_combo = QComboBox()
        self.exchange_combo.setObjectName("exchangeCombo")
        self.exchange_combo.setEditable(False)
        self.exchange_combo.setMinimumContentsLength(24)
        self.exchange_combo.addItem("Loading the exchanges…", "")
        self.exchange_combo.setEnabled(False)
        self.exchange_combo.currentIndexChanged.connect(self._on_exchange)
        self._fixed_exchange = exchange_id if editing else ""
        self.label_edit = QLineEdit(label)
        self.label_edit.setObjectName("accountLabel")
        self.label_edit.setPlaceholderText("A name you recognise, e.g. Binance main")
        self.label_edit.setMaxLength(60)

        form = QFormLayout()
        form.addRow("Exchange", self.exchange_combo)
        form.addRow("Account name", self.label_edit)
        self.edits: dict[str, QLineEdit] = {}
        self.show_toggles: dict[str, QCheckBox] = {}
        self._rows: dict[str, int] = {}
        for field in CREDENTIAL_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"{field}Edit")
            edit.setPlaceholderText(PLACEHOLDERS[field])
            edit.setAccessibleName(FIELD_NAMES[field])
            edit.textEdited.connect(lambda _text, e=edit: self._trim(e))
            edit.textChanged.connect(self._clear_error)
            self.edits[field] = edit
            box = QWidget()
            h = QHBoxLayout(box)
            h.setContentsMargins(0, 0, 0, 0)
            h.addWidget(edit, 1)
            if field in SECRET_FIELDS:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                toggle = QCheckBox("Show")
                toggle.setObjectName(f"{field}Show")
                toggle.toggled.connect(
                    lambda on, e=edit: e.setEchoMode(
                        QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
                    )
                )
                self.show_toggles[field] = toggle
                h.addWidget(toggle)
            form.addRow(FIELD_NAMES[field].capitalize().replace("Api", "API"), box)
            self._rows[field] = form.rowCount() - 1
        self.form = form
        self.keep_key_note = wrapping("keepKeyNote", 40)
        self.keep_key_note.setText(
            f"The saved key ({escape(key_hint)}) stays unless you enter a new one. A new key is tested "
            "before it replaces the old one."
        )
        self.keep_key_note.setVisible(editing)
        self.unsupported_label = wrapping("unsupportedExchange", 40)
        self.unsupported_label.hide()
        self.notice_label = wrapping("accountNotice", 40)  # a standing problem (the keyring), never cleared
        self.notice_label.hide()

        self.error_label = wrapping("accountError", 40)
        self.error_label.hide()
        self.progress = QProgressBar()
        self.progress.setObjectName("accountProgress")
        self.progress.setRange(0, 0)  # busy: how long the exchange takes is not known
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.progress_label = wrapping("accountProgressText", 40)
        self.progress_label.hide()

        self.buttons = QDialogButtonBox()
        self.save_button = QPushButton("Test and save")
        self.save_button.setObjectName("testAndSaveButton")
        self.save_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("accountCancelButton")
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.save_button.clicked.connect(self._submit)
        self.cancel_button.clicked.connect(self._cancel)

        left = QVBoxLayout()
        intro = wrapping("accountIntro", 40)
        intro.setText(
            "The app checks the key with the exchange before saving it, and keeps it only in your "
            "system's keyring. A bot needs a key that may <b>read</b> and <b>trade spot</b>, nothing more."
        )
        left.addWidget(intro)
        left.addLayout(form)
        left.addWidget(self.keep_key_note)
        left.addWidget(self.notice_label)
        left.addWidget(self.unsupported_label)
        left.addWidget(self.error_label)
        left.addWidget(self.progress_label)
        left.addWidget(self.progress)
        left.addStretch(1)
        left.addWidget(self.buttons)
        self.guide = KeyGuideView()
        self.guide.setMinimumWidth(320)
        body = QHBoxLayout(self)
        body.addLayout(left, 3)
        body.addWidget(self.guide, 2)
        self._show_fields(RequiredFields(("api_key", "secret")))
        if self._fixed_exchange:
            self.guide.show_guide(self._fixed_exchange)

    # -- from the controller ---------------------------------------------------------------------------
    def set_exchanges(self, listing: Sequence[ExchangeListing]) -> None:
        """Fill the picker: exchanges whose key rights the app can read first, then all others."""
        self.exchange_combo.blockSignals(True)
        self.exchange_combo.clear()
        if self._fixed_exchange:
            names = {e.exchange_id: e.name for e in listing}
            self.exchange_combo.addItem(
                names.get(self._fixed_exchange, self._fixed_exchange), self._fixed_exchange
            )
        else:
            self.exchange_combo.addItem("Choose the exchange…", "")
            probed = [e for e in listing if e.probed]
            others = [e for e in listing if not e.probed]
            for e in probed:
                self.exchange_combo.addItem(e.name, e.exchange_id)
            if others:
                self.exchange_combo.insertSeparator(self.exchange_combo.count())
                for e in others:
                    self.exchange_combo.addItem(f"{e.name} (cannot report key permissions)", e.exchange_id)
        self.exchange_combo.blockSignals(False)
        self.exchange_combo.setEnabled(not self._fixed_exchange and not self._busy)
        self._on_exchange()

    def set_required(self, exchange_id: str, required: RequiredFields) -> None:
        """The fields ``exchange_id`` needs; shown if it is still the chosen exchange."""
        self._required[exchange_id] = required
        if exchange_id == self.exchange_id:
            self._show_fields(required)

    def set_notice(self, text: str) -> None:
        """A problem that stands whatever is typed (the keyring cannot keep keys), in the error colour."""
        self.notice_label.setText(escape(text))
        self.notice_label.setStyleSheet(f"color: {error_colour(self)}; font-weight: 600;")
        self.notice_label.setVisible(bool(text))

    def set_busy(self, busy: bool, message: str = "") -> None:
        """While the exchange is asked: progress shown, inputs locked, Cancel stops the check."""
        self._busy = busy
        self.progress.setVisible(busy)
        self.progress_label.setText(message)
        self.progress_label.setVisible(busy and bool(message))
        self.save_button.setEnabled(not busy)
        self.exchange_combo.setEnabled(
            not busy and not self._fixed_exchange and self.exchange_combo.count() > 1
        )
        self.label_edit.setReadOnly(busy)
        for edit in self.edits.values():
            edit.setReadOnly(busy)
        if busy:
            self.error_label.hide()

    def show_error(self, error: CryptobotsError) -> None:
        """The failure's sentence and what to do, under the fields; the field it names gets the focus."""
        self.set_busy(False)
        colour = error_colour(self)
        self.error_label.setText(f"<b>{escape(error.message)}</b> {escape(error.hint)}".strip())
        self.error_label.setStyleSheet(f"color: {colour};")
        self.error_label.show()
        field = getattr(error, "field", None) if isinstance(error, InvalidCredentials) else None
        if field in self.edits:
            edit = self.edits[field]
            edit.setStyleSheet(f"border: 2px solid {colour}; border-radius: 3px; padding: 1px;")
            edit.setFocus()

    # -- what was typed --------------------------------------------------------------------------------
    @property
    def exchange_id(self) -> str:
        return str(self.exchange_combo.currentData() or "")

    @property
    def error_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisible() else ""

    def draft(self) -> AccountDraft:
        shown = self._required.get(self.exchange_id)
        fields = shown.fields if shown is not None else ("api_key", "secret")
        values = {f: self.edits[f].text() for f in fields}
        return AccountDraft(self.exchange_id, self.label_edit.text(), values, self.account_id)

    # -- inside ----------------------------------------------------------------------------------------
    def _on_exchange(self, *_: object) -> None:
        exchange_id = self.exchange_id
        name = self.exchange_combo.currentText().split(" (")[0]
        self.guide.show_guide(exchange_id, name)
        self.edits["secret"].setPlaceholderText(
            "Paste the whole private key (-----BEGIN EC PRIVATE KEY----- …)"
            if exchange_id.startswith("coinbase")
            else PLACEHOLDERS["secret"]
        )
        if not self.label_edit.text().strip() and exchange_id and self.account_id is None:
            self.label_edit.setPlaceholderText(f"e.g. {name} main")
        if exchange_id:
            known = self._required.get(exchange_id)
            if known is not None:
                self._show_fields(known)
            else:
                self.exchangeChosen.emit(exchange_id)
        self._clear_error()

    def _show_fields(self, required: RequiredFields) -> None:
        needed = set(required.fields) or {"api_key", "secret"}
        for field, row in self._rows.items():
            self.form.setRowVisible(row, field in needed)
        if required.unsupported:
            self.unsupported_label.setText(
                "This exchange needs credentials this app does not take "
                f"({escape(', '.join(required.unsupported))}): choose another exchange."
            )
        self.unsupported_label.setVisible(bool(required.unsupported))

    def _trim(self, edit: QLineEdit) -> None:
        text = edit.text()
        if "-----BEGIN" in text:
            return  # a PEM private key keeps its line breaks (trimmed when checked)
        if text != text.strip():
            edit.setText(text.strip())

    def _clear_error(self, *_: object) -> None:
        if not self._busy:
            self.error_label.hide()
        for edit in self.edits.values():
            if edit.styleSheet():
                edit.setStyleSheet("")

    def _submit(self) -> None:
        if not self._busy:
            self.submitted.emit(self.draft())

    def _cancel(self) -> None:
        if self._busy:
            self.cancelRequested.emit()
            self.set_busy(False)
        else:
            self.reject()

    def keyPressEvent(self, event: object) -> None:  # Escape while checking cancels the check first
        key = getattr(event, "key", lambda: None)()
        if key == Qt.Key.Key_Escape and self._busy:
            self._cancel()
            return
        super().keyPressEvent(event)  # type: ignore[arg-type]
