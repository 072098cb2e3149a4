"""Pieces the new-bot dialog's strategy forms share: headings, wrapped sentences, number inputs, and a
form whose fields each carry their sentence on the row below, shown only while the field is wrong."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import BaseModel
from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QPalette, QRegularExpressionValidator
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QWidget

from cryptobots_desktop.core.strategies.validation import field_label

# A number as a person types it: digits, one decimal point, a minus (so "-1" gets its sentence, not a
# silently refused key). No exponent and no thousands separator: "1,000" must never become 1.
NUMBER_PATTERN = r"\s*-?[0-9]*\.?[0-9]*\s*"
MAX_INPUT_LENGTH = 24
FIELD_CHARS = 14  # width of a number input, in digits


def heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600; padding-top: 6px;")
    return label


def wrapping(object_name: str, min_chars: int = 0) -> QLabel:
    """A word-wrapped label. ``min_chars`` keeps it from being laid out as a tall thin column: a layout
    takes a wrapped label's minimum height at its minimum width, which made the dialog scroll with room
    to spare."""
    label = QLabel()
    label.setMinimumWidth(label.fontMetrics().averageCharWidth() * min_chars)
    label.setObjectName(object_name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return label


def error_colour(widget: QWidget) -> str:
    """Red that reads on the window's background, light or dark."""
    dark = widget.palette().color(QPalette.ColorRole.Window).lightness() < 128
    return "#ff7b72" if dark else "#cf222e"


def number_edit(name: str, text: str, parent: QWidget) -> QLineEdit:
    """A right-aligned input that takes plain decimal numbers only."""
    edit = QLineEdit(text)
    edit.setObjectName(name)
    edit.setValidator(QRegularExpressionValidator(QRegularExpression(NUMBER_PATTERN), edit))
    edit.setMaxLength(MAX_INPUT_LENGTH)
    edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    edit.setFixedWidth(parent.fontMetrics().horizontalAdvance("0") * FIELD_CHARS)
    return edit


class FieldForm:
    """A ``QFormLayout`` of a settings model's fields: ``label | field unit`` and the field's sentence."""

    def __init__(self, form: QFormLayout, model: type[BaseModel]) -> None:
        self.form = form
        self.model = model
        self.inputs: dict[str, QWidget] = {}
        self.error_labels: dict[str, QLabel] = {}
        self.unit_labels: dict[str, QLabel] = {}
        self._error_rows: dict[str, int] = {}

    def add(self, name: str, field: QWidget, unit: str | None = None) -> QLabel:
        """Add the field's row under its title; returns the title label."""
        title = field_label(self.model, name)
        label = QLabel(title)
        label.setBuddy(field)
        field.setAccessibleName(title)
        info = self.model.model_fields.get(name)
        if info is not None and info.description:
            field.setToolTip(info.description)
        self.inputs[name] = field
        box = QWidget()
        h = QHBoxLayout(box)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(field)
        if unit is not None:
            unit_label = QLabel(unit)
            unit_label.setObjectName(f"{name}Unit")
            self.unit_labels[name] = unit_label
            h.addWidget(unit_label)
        h.addStretch(1)
        self.form.addRow(label, box)
        error = wrapping(f"{name}Error", 50)
        self.error_labels[name] = error
        self.form.addRow(error)  # the whole row's width: some sentences are long, and they name the field
        self._error_rows[name] = self.form.rowCount() - 1
        self.form.setRowVisible(self._error_rows[name], False)
        return label

    def show_errors(self, errors: dict[str, str], colour: str) -> None:
        """Each field's sentence under it (hidden when it has none) and a red outline on the field."""
        for name, label in self.error_labels.items():
            sentence = errors.get(name, "")
            label.setText(sentence)
            label.setStyleSheet(f"color: {colour};")
            self.form.setRowVisible(self._error_rows[name], bool(sentence))
            field = self.inputs[name]
            if bool(field.property("invalid")) != bool(sentence):
                field.setProperty("invalid", bool(sentence))
                outline = f"border: 2px solid {colour}; border-radius: 3px; padding: 1px;"
                field.setStyleSheet(f"QLineEdit, QComboBox, QSpinBox {{ {outline} }}" if sentence else "")
            field.setAccessibleDescription(sentence)


def typed_decimal(title: str, text: str) -> Decimal | str:
    """The number typed in the field titled ``title``, or the sentence saying what is wrong with it."""
    text = text.strip()
    if not text:
        return f"{title} is required."
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        return f"{title} must be a number, like 10 or 2.5."
    return value
