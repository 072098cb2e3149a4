"""Where the app keeps its files: data and settings (platformdirs), and the shipped resources."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "cryptobots-desktop"


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The folders of one app instance; ``--data-dir`` puts all of them under one folder."""

    data_dir: Path
    config_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    def paper_state_file(self, dataset: str) -> Path:
        """The paper account of one dataset (its replay time, balances, orders and fills)."""
        return self.data_dir / f"paper-{dataset}.sqlite3"

    @property
    def journal_file(self) -> Path:
        """The order journal: every order intent and what the exchange said about it."""
        return self.data_dir / "journal.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "cryptobots.log"

    def create(self) -> None:
        for folder in (self.data_dir, self.config_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)


def app_paths(data_dir: Path | None = None) -> AppPaths:
    """The OS's usual folders, or everything under ``data_dir`` when one is given."""
    if data_dir is not None:
        root = data_dir.expanduser().resolve()
        return AppPaths(root, root, root / "logs")
    return AppPaths(
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )


def resources_dir() -> Path:
    """The shipped ``resources/`` folder: beside the package in a source tree, inside a PyInstaller bundle."""
    override = os.environ.get("CRYPTOBOTS_RESOURCES")
    if override:
        return Path(override)
    bundle_root = getattr(sys, "_MEIPASS", None)
    if bundle_root is not None:
        return Path(bundle_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"
