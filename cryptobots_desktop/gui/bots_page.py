"""Bots: every bot with its status and profit; New bot, Start, Pause, Stop.

The engine's updates are coalesced: the latest of each bot reaches the table at most every ``FLUSH_MS``
(and at once when the page shows or a bot's status changes), in one change, however many came in between.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cryptobots_desktop.core.bots import BotStatus
from cryptobots_desktop.engine.events import BotUpdated
from cryptobots_desktop.gui.batching import Throttle
from cryptobots_desktop.gui.bots_model import BotsModel
from cryptobots_desktop.gui.table_view import make_table, selected_source_row


class BotsPage(QWidget):
    newBotRequested = Signal()
    statusRequested = Signal(str, object)  # bot id, BotStatus

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = BotsModel()
        self.view = make_table(self.model, "botsTable", self)
        self.new_button = QPushButton("New bot…")
        self.new_button.setObjectName("newBotButton")
        self.new_button.setToolTip("Create a DCA bot (Ctrl+N)")
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("No new deals; open deals keep their take-profit")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("The bot stops acting; its open orders stay on the exchange")
        self.new_button.clicked.connect(self.newBotRequested.emit)
        for button, status in (
            (self.start_button, BotStatus.RUNNING),
            (self.pause_button, BotStatus.PAUSED),
            (self.stop_button, BotStatus.STOPPED),
        ):
            button.clicked.connect(lambda _=False, s=status: self._request(s))
        self.empty_label = QLabel(
            "No bot yet. Create one with “New bot…”: it trades your paper account on real recorded prices."
        )
        self.empty_label.setObjectName("botsEmpty")
        bar = QHBoxLayout()
        bar.addWidget(self.new_button)
        bar.addStretch(1)
        for button in (self.start_button, self.pause_button, self.stop_button):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.view, 1)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._bots: dict[str, BotUpdated] = {}  # the latest of each bot, not yet shown
        self._throttle = Throttle(self.flush, parent=self)
        self._update_buttons()

    def on_bot(self, event: BotUpdated) -> None:
        self._bots[event.bot.bot_id] = event
        shown = self.model.get(event.bot.bot_id)
        if shown is not None and shown.bot.status is not event.bot.status:
            self.flush()  # a status change (a person's start/pause/stop, an error) shows at once
        else:
            self._throttle.request()

    def flush(self) -> None:
        """Show the bots' updates received since the last flush, in one change."""
        self._throttle.cancel()
        bots, self._bots = self._bots, {}
        if bots:
            self.model.upsert_many(bots.values())
            self._update_buttons()

    def showEvent(self, event: QShowEvent) -> None:
        self.flush()
        super().showEvent(event)

    def selected_bot(self) -> BotUpdated | None:
        row = selected_source_row(self.view)
        return None if row is None else self.model.row_at(row)

    def _request(self, status: BotStatus) -> None:
        selected = self.selected_bot()
        if selected is not None:
            self.statusRequested.emit(selected.bot.bot_id, status)

    def _update_buttons(self, *_: object) -> None:
        self.empty_label.setVisible(self.model.rowCount() == 0)
        selected = self.selected_bot()
        status = None if selected is None else selected.bot.status
        self.start_button.setEnabled(status in (BotStatus.PAUSED, BotStatus.STOPPED, BotStatus.ERROR))
        self.pause_button.setEnabled(status is BotStatus.RUNNING)
        self.stop_button.setEnabled(status in (BotStatus.RUNNING, BotStatus.PAUSED))
