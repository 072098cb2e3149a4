"""Shared test helpers: where the shipped resources are, where artifacts go."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def resources() -> Path:
    return ROOT / "resources"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("CRYPTOBOTS_ARTIFACTS", ROOT / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def qapp(qapp: Any) -> Any:
    """pytest-qt's QApplication, set up as the app sets up its own (``configure_application``): with Qt's
    default quit-on-last-window-closed, closing the last dialog posts a quit that stops the asyncio loop
    under whichever coroutine runs next."""
    from cryptobots_desktop.gui.app import configure_application

    configure_application(qapp)
    return qapp
