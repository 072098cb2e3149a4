"""The DCA settings of the new-bot dialog: the DcaParams fields (the orders, the take profit, the risk and
limits) with their sentences, read into a validated :class:`DcaParams` or one sentence per wrong field.

Unlike the grid's form (:mod:`cryptobots_desktop.gui.grid_form`), the rows go into the dialog's own form,
under the bot's name and pair, so that both sets of labels line up in one column.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QSpinBox, QWidget

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.dca import MAX_SAFETY_ORDERS, DcaParams
from cryptobots_desktop.core.strategies.validation import field_label, field_problems

from .form_widgets import FIELD_CHARS, FieldForm, heading, number_edit, typed_decimal

# What a 3Commas user starts from: 20 + 5 safety orders from 40 (× 1.5), 1 % apart (× 1.2), take 1.5 %.
DEFAULTS: dict[str, str | int] = {
    "base_order_size": "20",
    "safety_order_size": "40",
    "max_safety_orders": 5,
    "price_deviation_pct": "1",
    "safety_order_step_scale": "1.2",
    "safety_order_volume_scale": "1.5",
    "take_profit_pct": "1.5",
    "trailing_deviation_pct": "0.5",
    "stop_loss_pct": "10",
    "cooldown_seconds": 0,
    "max_active_deals": 1,
}
DECIMAL_FIELDS = (
    "base_order_size",
    "safety_order_size",
    "price_deviation_pct",
    "safety_order_step_scale",
    "safety_order_volume_scale",
    "take_profit_pct",
    "trailing_deviation_pct",
    "stop_loss_pct",
)
QUOTE_FIELDS = ("base_order_size", "safety_order_size")  # sizes in the pair's quote currency
_TITLE_TO_FIELD = {info.title: name for name, info in DcaParams.model_fields.items() if info.title}


class DcaForm(QObject):
    """The DCA settings' rows, added to the dialog's ``fields`` after its bot rows (``rows`` are the
    form's rows they take); ``changed`` fires when the person edits a setting."""

    changed = Signal()

    def __init__(self, owner: QWidget, fields: FieldForm) -> None:
        super().__init__(owner)
        self._owner = owner
        self.fields = fields
        first = fields.form.rowCount()
        self._build_order_rows()
        self._build_take_profit_rows()
        self._build_limit_rows()
        self.rows = range(first, fields.form.rowCount())

    # -- building -------------------------------------------------------------------------------------
    def _number(self, name: str, unit: str | None = None) -> QLabel:
        edit = number_edit(name, str(DEFAULTS[name]), self._owner)
        edit.textChanged.connect(self._on_edit)
        return self.fields.add(name, edit, unit)

    def _spin(self, name: str, low: int, high: int, suffix: str = "") -> None:
        spin = QSpinBox()
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setValue(int(DEFAULTS[name]))
        spin.setSuffix(suffix)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        spin.setFixedWidth(self._owner.fontMetrics().horizontalAdvance("0") * FIELD_CHARS)
        spin.valueChanged.connect(self._on_edit)
        self.fields.add(name, spin)

    def _build_order_rows(self) -> None:
        self.fields.form.addRow(heading("Orders"))
        self._number("base_order_size", "quote")
        self._number("safety_order_size", "quote")
        self._spin("max_safety_orders", 0, MAX_SAFETY_ORDERS)
        self._number("price_deviation_pct", "%")
        self._number("safety_order_step_scale", "×")
        self._number("safety_order_volume_scale", "×")

    def _build_take_profit_rows(self) -> None:
        self.fields.form.addRow(heading("Take profit"))
        self._number("take_profit_pct", "%")
        self.trailing_check = QCheckBox(field_label(DcaParams, "trailing_take_profit"))
        self.trailing_check.setObjectName("trailing_take_profit")
        self.trailing_check.setChecked(False)
        self.trailing_check.setToolTip(
            "Instead of selling at the take-profit price, follow the price up and sell when it falls "
            "back by the trailing deviation."
        )
        self.trailing_check.toggled.connect(self._on_toggles)
        self.fields.inputs["trailing_take_profit"] = self.trailing_check
        self.fields.form.addRow(QLabel(), self.trailing_check)
        self._number("trailing_deviation_pct", "%")

    def _build_limit_rows(self) -> None:
        self.fields.form.addRow(heading("Risk and limits"))
        self.stop_loss_check = QCheckBox(field_label(DcaParams, "stop_loss_pct"))
        self.stop_loss_check.setObjectName("stop_loss_enabled")
        self.stop_loss_check.setAccessibleName("Use a stop loss")
        self.stop_loss_check.setToolTip("Sell the whole deal at a loss if the price falls this far.")
        self.stop_loss_check.toggled.connect(self._on_toggles)
        title = self._number("stop_loss_pct", "%")
        self.fields.form.replaceWidget(title, self.stop_loss_check)  # the check box is the row's label
        title.deleteLater()
        self._spin("cooldown_seconds", 0, 10**7, " s")
        self._spin("max_active_deals", 1, 1000)
        self.fields.inputs["max_active_deals"].setToolTip(
            "How many deals of this bot may be open at the same time."
        )
        self._on_toggles()

    @property
    def tab_chain(self) -> list[QWidget]:
        inputs = self.fields.inputs
        names = (
            "base_order_size",
            "safety_order_size",
            "max_safety_orders",
            "price_deviation_pct",
            "safety_order_step_scale",
            "safety_order_volume_scale",
            "take_profit_pct",
            "trailing_take_profit",
            "trailing_deviation_pct",
        )
        chain = [inputs[n] for n in names]
        chain += [self.stop_loss_check, inputs["stop_loss_pct"]]
        return [*chain, inputs["cooldown_seconds"], inputs["max_active_deals"]]

    # -- following the dialog -------------------------------------------------------------------------
    def set_units(self, market: Market | None) -> None:
        for name in QUOTE_FIELDS:
            self.fields.unit_labels[name].setText(market.quote if market is not None else "")

    def set_shown(self, shown: bool) -> None:
        """Show or hide the rows; a field's sentence row is hidden here but shown only by the next check."""
        form = self.fields.form
        sentences = {form.getWidgetPosition(label)[0] for label in self.fields.error_labels.values()}
        for row in self.rows:
            if not shown or row not in sentences:
                form.setRowVisible(row, shown)

    def _on_edit(self) -> None:
        self.changed.emit()

    def _on_toggles(self) -> None:
        self.fields.inputs["trailing_deviation_pct"].setEnabled(self.trailing_check.isChecked())
        self.fields.inputs["stop_loss_pct"].setEnabled(self.stop_loss_check.isChecked())
        self.changed.emit()

    # -- checking -------------------------------------------------------------------------------------
    def _edit(self, name: str) -> QLineEdit:
        widget = self.fields.inputs[name]
        assert isinstance(widget, QLineEdit)
        return widget

    def read_params(self) -> tuple[DcaParams | None, dict[str, str]]:
        """The params the inputs say, or None; and one sentence per field that is wrong."""
        errors: dict[str, str] = {}
        data: dict[str, Any] = {"trailing_take_profit": self.trailing_check.isChecked()}
        unused = {
            "trailing_deviation_pct": not self.trailing_check.isChecked(),
            "stop_loss_pct": not self.stop_loss_check.isChecked(),
        }
        for name in DECIMAL_FIELDS:
            if unused.get(name):
                data[name] = None
                continue
            value = typed_decimal(field_label(DcaParams, name), self._edit(name).text())
            if isinstance(value, str):
                errors[name] = value
                continue
            data[name] = value
        for name in ("max_safety_orders", "cooldown_seconds", "max_active_deals"):
            spin = self.fields.inputs[name]
            assert isinstance(spin, QSpinBox)
            data[name] = spin.value()
        try:
            params: DcaParams | None = DcaParams.model_validate(data)
        except ValidationError as error:
            params = None
            for label, sentence in field_problems(error, DcaParams):
                errors.setdefault(_TITLE_TO_FIELD.get(label, ""), sentence)
        return (None if errors else params), errors
