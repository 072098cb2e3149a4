"""The system tray icon: a summary tooltip, Show/Hide, Pause all, the worst key warnings, Quit, and
desktop notifications.

Icon colour: red on a critical key warning or a bot stopped on an error, amber on any other warning,
green while bots run, grey when all are paused or there are none.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from cryptobots_desktop.core.permissions import Severity

from .icons import AMBER, GREEN, GREY, RED, app_icon


class AppTray(QObject):
    showHideRequested = Signal()
    pauseToggleRequested = Signal()
    quitRequested = Signal()
    aboutRequested = Signal()
    accountRequested = Signal(str)  # account id of a warning line

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(app_icon(GREEN), self)
        self.menu = QMenu()
        self.show_hide_action = QAction("Hide window", self.menu)
        self.show_hide_action.triggered.connect(self.showHideRequested.emit)
        self.pause_action = QAction("Pause all bots", self.menu)
        self.pause_action.setEnabled(False)
        self.pause_action.triggered.connect(self.pauseToggleRequested.emit)
        self.about_action = QAction("About Cryptobots Desktop", self.menu)
        self.about_action.triggered.connect(self.aboutRequested.emit)
        self.quit_action = QAction("Quit Cryptobots Desktop", self.menu)
        self.quit_action.triggered.connect(self.quitRequested.emit)
        self.menu.addAction(self.show_hide_action)
        self.menu.addAction(self.pause_action)
        self.warnings_separator = self.menu.addSeparator()
        self.warning_actions: list[QAction] = []
        self._bots = (0, 0, 0)
        self._alert: Severity | None = None
        self.menu.addAction(self.about_action)
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.icon.setToolTip("Cryptobots Desktop")

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.showHideRequested.emit()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def dispose(self) -> None:
        """Remove the icon for good (its balloon and menu go with it) before the app quits."""
        self.icon.hide()
        self.icon.setContextMenu(None)
        self.menu.deleteLater()
        self.icon.deleteLater()

    def set_window_visible(self, visible: bool) -> None:
        self.show_hide_action.setText("Hide window" if visible else "Show window")

    def set_bots_state(self, running: int, paused: int, failed: int) -> None:
        """The bots' part of the icon colour, and the pause action."""
        self._bots = (running, paused, failed)
        self.pause_action.setEnabled(bool(running or paused))
        self.pause_action.setText("Resume all bots" if paused and not running else "Pause all bots")
        self._update_icon()

    def set_warnings(self, worst: Severity | None, lines: list[tuple[str, str]]) -> None:
        """The key warnings' part of the icon colour, and one menu line per account (opens it)."""
        self._alert = worst
        for action in self.warning_actions:
            self.menu.removeAction(action)
            action.deleteLater()
        self.warning_actions = []
        for account_id, text in lines:
            action = QAction(text, self.menu)
            action.triggered.connect(lambda _=False, a=account_id: self.accountRequested.emit(a))
            self.menu.insertAction(self.about_action, action)
            self.warning_actions.append(action)
        if lines:
            self.warning_actions.append(self.menu.insertSeparator(self.about_action))
        self._update_icon()

    @property
    def colour_name(self) -> str:
        """What the icon's status dot shows: red, amber, green or grey."""
        running, _paused, failed = self._bots
        if failed or self._alert == Severity.CRITICAL:
            return "red"
        if self._alert is not None and self._alert >= Severity.WARNING:
            return "amber"
        return "green" if running else "grey"

    def _update_icon(self) -> None:
        colours = {"red": RED, "amber": AMBER, "green": GREEN, "grey": GREY}
        self.icon.setIcon(app_icon(colours[self.colour_name]))

    def set_summary(self, text: str) -> None:
        self.icon.setToolTip(text)

    def notify(self, title: str, message: str, *, warning: bool = False) -> None:
        kind = QSystemTrayIcon.MessageIcon.Warning if warning else QSystemTrayIcon.MessageIcon.Information
        self.icon.showMessage(title, message, kind, 8000)
