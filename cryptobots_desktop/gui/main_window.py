"""The main window: a navigation list on the left, one page at a time on the right, the status bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .accounts_page import AccountsPage
from .activity_page import ActivityPage
from .bots_page import BotsPage
from .dashboard_page import DashboardPage
from .deals_page import DealsPage
from .icons import app_icon, page_icon
from .status_bar import AppStatusBar
from .warnings_banner import WarningsBanner

WINDOW_TITLE = "Cryptobots Desktop"
DASHBOARD, BOTS, DEALS, ACCOUNTS, ACTIVITY = range(5)  # the pages, in the navigation's order (Ctrl+1…5)


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(f"{WINDOW_TITLE} — Paper trading")
        self.setWindowIcon(app_icon())
        self.resize(1200, 780)
        self.close_handler: Callable[[QCloseEvent], None] | None = None
        self.data_dir: Path | None = None  # shown in the About dialog

        self.price_decimals: Callable[[str], int] = lambda _symbol: 2
        self.dashboard = DashboardPage()
        self.bots = BotsPage()
        self.deals = DealsPage(lambda symbol: self.price_decimals(symbol))  # noqa: PLW0108 - set later
        self.accounts = AccountsPage()
        self.activity = ActivityPage()
        self.banner = WarningsBanner()
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(150)
        self.nav.setIconSize(QSize(20, 20))
        self.pages = QStackedWidget()
        for title, page in (
            ("Dashboard", self.dashboard),
            ("Bots", self.bots),
            ("Deals", self.deals),
            ("Accounts", self.accounts),
            ("Activity", self.activity),
        ):
            self.nav.addItem(QListWidgetItem(page_icon(title), title))
            self.pages.addWidget(page)
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.nav.setCurrentRow(0)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        side = QVBoxLayout()
        side.addWidget(self.nav, 1)
        self.about_button = QPushButton("About")
        self.about_button.setObjectName("aboutButton")
        self.about_button.setFixedWidth(150)
        self.about_button.clicked.connect(self.show_about)
        side.addWidget(self.about_button)
        layout.addLayout(side)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.banner)  # across the top of every page
        right.addWidget(self.pages, 1)
        layout.addLayout(right, 1)
        self.setCentralWidget(central)
        self.status = AppStatusBar()
        self.setStatusBar(self.status)

        for i in range(self.nav.count()):
            QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self, lambda i=i: self.nav.setCurrentRow(i))
        self.new_bot_shortcut = QShortcut(QKeySequence("Ctrl+N"), self)
        self.pause_all_shortcut = QShortcut(QKeySequence("Ctrl+P"), self)
        self.quit_shortcut = QShortcut(QKeySequence.StandardKey.Quit, self)
        self.quit_shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        QShortcut(QKeySequence.StandardKey.HelpContents, self, self.show_about)  # F1

    def show_about(self) -> None:
        from .about_dialog import AboutDialog  # noqa: PLC0415 - built when asked, not at start-up

        AboutDialog(self, self.data_dir).exec()

    def show_page(self, index: int) -> None:
        self.nav.setCurrentRow(max(0, min(index, self.nav.count() - 1)))

    @property
    def page_index(self) -> int:
        return self.nav.currentRow()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.close_handler is not None:
            self.close_handler(event)
        else:
            event.accept()
