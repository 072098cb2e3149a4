"""The system tray icon: a summary tooltip, Show/Hide and Quit, and desktop notifications."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from .icons import GREEN, GREY, RED, app_icon


class AppTray(QObject):
    showHideRequested = Signal()
    pauseToggleRequested = Signal()
    quitRequested = Signal()
    aboutRequested = Signal()

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
        self.menu.addSeparator()
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
        """Icon colour and the pause action: red on a failed bot, green running, grey all paused or none."""
        colour = RED if failed else GREEN if running else GREY
        self.icon.setIcon(app_icon(colour))
        self.pause_action.setEnabled(bool(running or paused))
        self.pause_action.setText("Resume all bots" if paused and not running else "Pause all bots")

    def set_summary(self, text: str) -> None:
        self.icon.setToolTip(text)

    def notify(self, title: str, message: str) -> None:
        self.icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 8000)
