"""User settings (pydantic): what the person chose, never a secret. Saved as JSON in the config folder."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .core.replay import ReplaySpeed

DEFAULT_DATASET = "binance_spot_2023"


class PaperSettings(BaseModel):
    """Paper trading: which recorded market to replay, how fast, and the simulated starting funds."""

    model_config = ConfigDict(extra="ignore")

    dataset: str = DEFAULT_DATASET
    speed: ReplaySpeed = ReplaySpeed.X10
    starting_balances: dict[str, Decimal] = Field(default_factory=lambda: {"USDT": Decimal(10_000)})

    @field_validator("starting_balances")
    @classmethod
    def _positive(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        if not value:
            raise ValueError("a paper account needs at least one starting balance")
        for asset, amount in value.items():
            if amount <= 0:
                raise ValueError(f"the starting balance of {asset} must be positive, not {amount}")
        return value


class WindowSettings(BaseModel):
    """What the window remembers between runs."""

    model_config = ConfigDict(extra="ignore")

    geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    chart_pair: str = "BTC/USDT"
    page: int = 0
    tray_hint_shown: bool = False
    columns: dict[str, str] = Field(default_factory=dict)  # table name -> its header's state, in base64


class AppSettings(BaseModel):
    """Everything the app persists about the person's choices (no secrets, ever)."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = 1
    paper: PaperSettings = Field(default_factory=PaperSettings)
    window: WindowSettings = Field(default_factory=WindowSettings)


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    """Settings as loaded, with a sentence for the activity log when the file could not be used."""

    settings: AppSettings
    problem: str | None = None


class SettingsStore:
    """Reads and atomically writes one settings file; a broken file is kept aside, never lost."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> LoadedSettings:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return LoadedSettings(AppSettings())
        try:
            return LoadedSettings(AppSettings.model_validate(json.loads(text)))
        except (ValueError, ValidationError) as exc:
            backup = self.path.with_suffix(".json.unreadable")
            os.replace(self.path, backup)
            reason = str(exc).splitlines()[0]
            return LoadedSettings(
                AppSettings(),
                f"The settings file could not be read ({reason}); defaults are used and the old file "
                f"was kept as {backup}.",
            )

    def save(self, settings: AppSettings) -> None:
        """Write atomically (temporary file, fsync, rename). Blocking: call it from a worker thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(settings.model_dump_json(indent=2))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
