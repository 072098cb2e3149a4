"""Accepting a key that may withdraw: the dialog says exactly what it means; typing the account's name
accepts it. Until then no bot runs on the account; the safe way (a new key) is offered first."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from cryptobots_desktop.core.permissions import WITHDRAWAL_RISK_TEXT
from cryptobots_desktop.gui.form_widgets import wrapping


class RiskDialog(QDialog):
    """``confirmed(typed)`` when the person typed the account's name and chose to accept."""

    confirmed = Signal(str)

    def __init__(self, label: str, exchange_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("riskDialog")
        self.setWindowTitle("This key may withdraw funds")
        self.setModal(True)
        self.setMinimumWidth(560)
        self._label = label
        text = wrapping("riskText", 60)
        text.setText(
            f"<p><b>The API key of {escape(label)} ({escape(exchange_name)}) may withdraw funds.</b></p>"
            f"<p>{escape(WITHDRAWAL_RISK_TEXT)}</p>"
        )
        prompt = QLabel(f"Type the account's name to accept: <b>{escape(label)}</b>")
        prompt.setObjectName("riskPrompt")
        self.typed = QLineEdit()
        self.typed.setObjectName("riskTyped")
        self.typed.setPlaceholderText(label)
        self.typed.textChanged.connect(self._update)
        self.buttons = QDialogButtonBox()
        self.accept_button = QPushButton("I accept the risk")
        self.accept_button.setObjectName("riskAcceptButton")
        self.accept_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel: I will make a new key")
        self.cancel_button.setObjectName("riskCancelButton")
        self.cancel_button.setDefault(True)
        self.buttons.addButton(self.accept_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.accept_button.clicked.connect(self._accept)
        self.cancel_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(prompt)
        layout.addWidget(self.typed)
        layout.addWidget(self.buttons)

    def _update(self, text: str) -> None:
        self.accept_button.setEnabled(text.strip() == self._label)

    def _accept(self) -> None:
        if self.typed.text().strip() == self._label:
            self.confirmed.emit(self.typed.text())
            self.accept()
