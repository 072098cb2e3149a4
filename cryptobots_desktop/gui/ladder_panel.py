"""The new-bot dialog's DCA preview: the deal's ladder at the pair's last price, the funds lines (what a
deal and the bots need against the free balance) and the ladders' problems. It shows what the dialog
worked out (:mod:`cryptobots_desktop.gui.dca_checks`, :mod:`cryptobots_desktop.gui.new_bot_summary`)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.dca import DcaPreview

from .dca_checks import FundsFacts
from .form_widgets import heading, wrapping
from .ladder_model import LadderModel


class LadderPanel(QWidget):
    """The ladder table (``ladder_view``), the status line above it, and the funds lines and sentences
    below it. ``owner`` (the dialog) gives the font the rows are sized by."""

    def __init__(self, owner: QWidget) -> None:
        super().__init__()
        self.setObjectName("previewPanel")
        v = QVBoxLayout(self)
        v.addWidget(heading("Ladder preview"))
        self.preview_status = wrapping("previewStatus", 50)
        v.addWidget(self.preview_status)

        self.ladder_model = LadderModel(self)
        self.ladder_view = QTableView()
        self.ladder_view.setObjectName("ladderPreview")
        self.ladder_view.setAccessibleName("Ladder preview")
        self.ladder_view.setModel(self.ladder_model)
        self.ladder_view.verticalHeader().hide()
        self.ladder_view.setAlternatingRowColors(True)
        self.ladder_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.ladder_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.ladder_view.setWordWrap(False)
        self.ladder_view.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        header = self.ladder_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.ladder_view.verticalHeader().setDefaultSectionSize(owner.fontMetrics().height() + 8)
        self._fit_table_height()
        v.addWidget(self.ladder_view, 1)

        facts = QFormLayout()
        facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.funds_per_deal_label = wrapping("fundsPerDeal")
        self.funds_needed_label = wrapping("fundsNeeded")
        self.free_balance_label = wrapping("freeBalance")
        self.max_deviation_label = wrapping("maxDeviation")
        self.stop_loss_price_label = wrapping("stopLossPrice")
        for text, label in (
            ("Funds per deal", self.funds_per_deal_label),
            ("Funds needed", self.funds_needed_label),
            ("Free balance", self.free_balance_label),
            ("Max deviation covered", self.max_deviation_label),
            ("Stop loss price", self.stop_loss_price_label),
        ):
            name = QLabel(text)
            name.setBuddy(label)
            label.setAccessibleName(text)
            facts.addRow(name, label)
        v.addLayout(facts)

        self.balance_label = wrapping("balanceCheck", 50)
        v.addWidget(self.balance_label)
        self.problems_label = wrapping("previewProblems", 50)
        v.addWidget(self.problems_label)
        v.addStretch(1)  # the ladder only as tall as its rows; what is left goes below everything

    def _fit_table_height(self) -> None:
        """At least the default ladder (base + 5 safety orders) without scrolling, at most all its rows."""
        view = self.ladder_view
        row_height = view.verticalHeader().defaultSectionSize()
        chrome = view.horizontalHeader().sizeHint().height() + 2 * view.frameWidth() + 2
        view.setMinimumHeight(chrome + 6 * row_height)
        view.setMaximumHeight(chrome + max(6, self.ladder_model.rowCount()) * row_height)

    def columns_width(self) -> int:
        """The width the ladder needs to show every column in full, its frame included (not a scroll bar)."""
        view, header = self.ladder_view, self.ladder_view.horizontalHeader()
        columns = sum(
            max(view.sizeHintForColumn(i), header.sectionSizeHint(i)) for i in range(header.count())
        )
        return columns + 2 * view.frameWidth()

    # -- showing --------------------------------------------------------------------------------------
    def show_ladder(
        self,
        status: str,
        market: Market | None,
        preview: DcaPreview | None,
        problems: Sequence[str],
        colour: str,
    ) -> None:
        """The status line, the ladder's rows (none without a preview: the headers keep the currencies)
        and the problems, in ``colour``."""
        self.preview_status.setText(status)
        model = self.ladder_model
        if preview is None or market is None:
            if model.rowCount() or market is not model.market:
                model.set_rows((), market)
                self._fit_table_height()
        elif model.rowCount() != len(preview.rows) or any(
            model.row(i) != row for i, row in enumerate(preview.rows)
        ):
            model.set_rows(preview.rows, market)
            self._fit_table_height()
        self.problems_label.setText("\n".join(f"• {p}" for p in problems))
        self.problems_label.setStyleSheet(f"color: {colour};")
        self.problems_label.setVisible(bool(problems))

    def show_funds(self, funds: FundsFacts | None, colour: str) -> None:
        """The funds lines ("—" while there are none) and the free-balance sentences, in ``colour`` when
        a balance falls short."""
        labels = (
            self.funds_per_deal_label,
            self.funds_needed_label,
            self.free_balance_label,
            self.max_deviation_label,
            self.stop_loss_price_label,
        )
        if funds is None:
            for label in labels:
                label.setText("—")
            self.balance_label.hide()
            return
        texts = (funds.per_deal, funds.needed, funds.free_balance, funds.max_deviation, funds.stop_loss_price)
        for label, text in zip(labels, texts, strict=True):
            label.setText(text)
        self.balance_label.setText("\n".join(funds.balance_sentences))
        self.balance_label.setStyleSheet(f"color: {colour};" if funds.short else "")
        self.balance_label.setVisible(bool(funds.balance_sentences))
