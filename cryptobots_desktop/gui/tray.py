"""The system tray icon: a summary tooltip, Show/Hide and Quit, and desktop notifications."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from .icons import GREEN, app_icon


class AppTray(QObject):
    showHideRequested = Signal()
    quitRequested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(app_icon(GREEN), self)
        self.menu = QMenu()
        self.show_hide_action = QAction("Hide window", self.menu)
        self.show_hide_action.triggered.connect(self.showHideRequested.emit)
        self.quit_action = QAction("Quit Cryptobots Desktop", self.menu)
        self.quit_action.triggered.connect(self.quitRequested.emit)
        self.menu.addAction(self.show_hide_action)
        self.menu.addSeparator()
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

    def set_summary(self, text: str) -> None:
        self.icon.setToolTip(text)

    def notify(self, title: str, message: str) -> None:
        self.icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 8000)
