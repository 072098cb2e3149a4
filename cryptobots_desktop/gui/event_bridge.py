"""The one path from the engine to the window: bus events re-emitted as Qt signals on the GUI thread.

Like Electrum's ``QtEventListener``: the engine knows nothing of Qt; this bridge subscribes to the bus and
emits a typed signal per event. Receivers live on the GUI thread, so a signal emitted from any other
thread is queued there by Qt (AutoConnection), and a slot never runs off the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import (
    AccountsChanged,
    ActivityLogged,
    BotStopped,
    BotUpdated,
    CandlesUpdated,
    ConnectionChanged,
    DealUpdated,
    Event,
    KeyWarningsRaised,
    OrderUpdated,
    PortfolioUpdated,
    ReplayProgress,
    TickerUpdated,
)


class QtEventBridge(QObject):
    tickerUpdated = Signal(object)  # TickerUpdated
    candlesUpdated = Signal(object)  # CandlesUpdated
    portfolioUpdated = Signal(object)  # PortfolioUpdated
    replayProgress = Signal(object)  # ReplayProgress
    connectionChanged = Signal(object)  # ConnectionChanged
    activityLogged = Signal(object)  # ActivityLogged
    orderUpdated = Signal(object)  # OrderUpdated
    dealUpdated = Signal(object)  # DealUpdated
    botUpdated = Signal(object)  # BotUpdated
    botStopped = Signal(object)  # BotStopped
    accountsChanged = Signal(object)  # AccountsChanged
    keyWarningsRaised = Signal(object)  # KeyWarningsRaised

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._signals = {
            TickerUpdated: self.tickerUpdated,
            CandlesUpdated: self.candlesUpdated,
            PortfolioUpdated: self.portfolioUpdated,
            ReplayProgress: self.replayProgress,
            ConnectionChanged: self.connectionChanged,
            ActivityLogged: self.activityLogged,
            OrderUpdated: self.orderUpdated,
            DealUpdated: self.dealUpdated,
            BotUpdated: self.botUpdated,
            BotStopped: self.botStopped,
            AccountsChanged: self.accountsChanged,
            KeyWarningsRaised: self.keyWarningsRaised,
        }
        self._unsubscribe = bus.subscribe(self._dispatch)

    def _dispatch(self, event: Event) -> None:
        signal = self._signals.get(type(event))
        if signal is not None:
            signal.emit(event)

    def close(self) -> None:
        self._unsubscribe()
