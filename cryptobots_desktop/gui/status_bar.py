"""The status bar: trading mode (unmistakable in paper mode), replay time and speed, connection state."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QStatusBar, QWidget

from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.engine.events import ConnectionChanged, ConnectionState, ReplayProgress

from .formatting import fmt_utc

_STATE_COLOURS = {
    ConnectionState.CONNECTED: "#1a7f37",
    ConnectionState.CONNECTING: "#6e7781",
    ConnectionState.RATE_LIMITED: "#9a6700",
    ConnectionState.DOWN: "#cf222e",
}
PAPER_MODE_TEXT = "Paper trading — simulated funds"


class AppStatusBar(QStatusBar):
    speedChanged = Signal(object)  # ReplaySpeed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode_label = QLabel(PAPER_MODE_TEXT)
        self.mode_label.setObjectName("modeLabel")
        self.mode_label.setStyleSheet(
            "QLabel { background: #fff8c5; color: #6b4b00; border: 1px solid #d4a72c; border-radius: 3px;"
            " padding: 1px 8px; font-weight: 700; }"
        )
        self.mode_label.setToolTip(
            "No real money is used: orders are simulated against recorded real prices."
        )
        self.replay_label = QLabel("")
        self.replay_label.setObjectName("replayLabel")
        self.speed_combo = QComboBox()
        self.speed_combo.setObjectName("speedPicker")
        self.speed_combo.setToolTip("How fast the recorded market is replayed")
        for speed in ReplaySpeed:
            self.speed_combo.addItem(f"Speed {speed.label}", speed.value)
        self.speed_combo.currentIndexChanged.connect(lambda _i: self.speedChanged.emit(self.speed))
        self.connection_label = QLabel("Connecting…")
        self.connection_label.setObjectName("connectionLabel")
        self.addWidget(self.mode_label)
        self.addWidget(self.replay_label, 1)
        self.addPermanentWidget(self.speed_combo)
        self.addPermanentWidget(self.connection_label)

    @property
    def speed(self) -> ReplaySpeed:
        return ReplaySpeed(self.speed_combo.currentData())  # Qt hands item data back as a plain str

    def set_speed(self, speed: ReplaySpeed) -> None:
        self.speed_combo.blockSignals(True)
        self.speed_combo.setCurrentIndex(list(ReplaySpeed).index(speed))
        self.speed_combo.blockSignals(False)

    def on_replay(self, event: ReplayProgress) -> None:
        text = f"Replay: {fmt_utc(event.now_ms, seconds=True)}"
        if event.finished:
            text += " — end of recorded data"
        self.replay_label.setText(text)
        self.replay_label.setToolTip(
            f"Recorded market data from {fmt_utc(event.start_ms)} to {fmt_utc(event.end_ms)}"
        )

    def on_connection(self, event: ConnectionChanged) -> None:
        name = "Paper exchange" if event.exchange_id == "paper" else event.exchange_id
        colour = _STATE_COLOURS[event.state]
        self.connection_label.setText(f"<span style='color:{colour}'>●</span> {name}: {event.state.value}")
        self.connection_label.setToolTip(event.detail or event.state.value)
