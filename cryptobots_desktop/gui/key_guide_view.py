"""An exchange's "how to make a safe key" guide, as the accounts page and the add-account dialog show it."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QTextBrowser, QWidget

from cryptobots_desktop.core.key_guides import SAFE_KEY_SUMMARY, guide_for


def guide_html(exchange_id: str, exchange_name: str = "") -> str:
    """The guide as simple HTML: the summary, the numbered steps, then the notes."""
    guide = guide_for(exchange_id)
    name = guide.exchange_name if guide.exchange_id else (exchange_name or guide.exchange_name)
    steps = "".join(f"<li>{escape(step)}</li>" for step in guide.steps)
    notes = "".join(f"<p><i>{escape(note)}</i></p>" for note in guide.notes)
    return (
        f"<h3>How to make a safe key on {escape(name)}</h3>"
        f"<p><b>{escape(SAFE_KEY_SUMMARY)}</b></p><ol>{steps}</ol>{notes}"
    )


class KeyGuideView(QTextBrowser):
    """A read-only, scrollable guide for one exchange."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyGuide")
        self.setOpenExternalLinks(False)
        self.exchange_id = ""

    def show_guide(self, exchange_id: str, exchange_name: str = "") -> None:
        self.exchange_id = exchange_id
        self.setHtml(guide_html(exchange_id, exchange_name))
