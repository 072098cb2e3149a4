"""The status bar: trading mode (unmistakable in paper mode), replay time, running bots, replay speed,
connection state."""

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
        self.live_label = QLabel("")
        self.live_label.setObjectName("liveLabel")
        self.live_label.setStyleSheet(
            "QLabel { background: #ffebe9; color: #82071e; border: 1px solid #cf222e; border-radius: 3px;"
            " padding: 1px 8px; font-weight: 700; }"
        )
        self.live_label.setToolTip("Bots on these accounts trade with real funds.")
        self.live_label.hide()
        self.bots_label = QLabel("Bots: none yet")
        self.bots_label.setObjectName("botsLabel")
        self._connections: dict[str, ConnectionChanged] = {}
        self.addWidget(self.mode_label)
        self.addWidget(self.live_label)
        self.addWidget(self.replay_label, 1)
        self.addPermanentWidget(self.bots_label)
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

    def set_live_accounts(self, labels: list[str]) -> None:
        """The connected live accounts' names beside the paper mode (hidden when there are none)."""
        self.live_label.setText(f"Live: {', '.join(labels)}" if labels else "")
        self.live_label.setVisible(bool(labels))

    def set_bots(self, text: str) -> None:
        """How many bots run (and are paused, or stopped on an error)."""
        self.bots_label.setText(text)

    def on_connection(self, event: ConnectionChanged) -> None:
        """One dot per exchange: connected, rate limited or down, the last error on hover."""
        self._connections[event.exchange_id] = event
        parts, tips = [], []
        for exchange_id, e in self._connections.items():
            name = "Paper exchange" if exchange_id == "paper" else exchange_id
            colour = _STATE_COLOURS[e.state]
            parts.append(f"<span style='color:{colour}'>●</span> {name}: {e.state.value}")
            tips.append(f"{name}: {e.detail or e.state.value}")
        self.connection_label.setText(" &nbsp; ".join(parts))
        self.connection_label.setToolTip("\n".join(tips))
