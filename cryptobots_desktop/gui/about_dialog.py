"""About Cryptobots Desktop: version (the same source as ``--version``), licence, links, paper by default."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QUrl, qVersion
from PySide6.QtGui import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cryptobots_desktop import __version__

from .icons import app_icon

LICENCE = "GPL-3.0-or-later"
LICENCE_URL = "https://www.gnu.org/licenses/gpl-3.0.html"


def about_html(data_dir: Path | None) -> str:
    """The dialog's text (rich text with links)."""
    folder = ""
    if data_dir is not None:
        url = QUrl.fromLocalFile(str(data_dir)).toString()
        folder = f'<p>Your data: <a href="{html.escape(url)}">{html.escape(str(data_dir))}</a></p>'
    return (
        f"<h2>Cryptobots Desktop</h2>"
        f"<p>Version {html.escape(__version__)}</p>"
        "<p>Automated crypto trading with DCA and grid bots.</p>"
        "<p><b>Paper trading by default:</b> simulated funds on real recorded Binance market data — no "
        "exchange key and no network needed. API keys of a real account are kept only in your "
        "operating system's keyring, never in a file.</p>"
        f"{folder}"
        f'<p>Licence: <a href="{LICENCE_URL}">{LICENCE}</a>. No warranty: trading can lose money.</p>'
        f"<p><small>Qt {html.escape(qVersion())}, PySide6 {html.escape(pyside_version)}</small></p>"
    )


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, data_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("about")
        self.setWindowTitle("About Cryptobots Desktop")
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = QLabel(about_html(data_dir))
        self.text.setObjectName("aboutText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setOpenExternalLinks(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.text.setMinimumWidth(420)
        row = QHBoxLayout()
        row.addWidget(icon)
        row.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
