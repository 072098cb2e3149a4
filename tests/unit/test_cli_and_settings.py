"""The command line, the folders the app uses, and the settings file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from cryptobots_desktop import __version__
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.paths import app_paths, resources_dir
from cryptobots_desktop.settings import AppSettings, PaperSettings, SettingsStore
from tests.conftest import ROOT


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cryptobots_desktop", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env or dict(os.environ),
        check=False,
    )


def test_version_matches_package_metadata() -> None:
    out = run_cli("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"cryptobots-desktop {__version__}"
    assert __version__ != "0.0.0+source"


def test_help_names_the_options() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    for option in ("--data-dir DIR", "--version", "paper mode"):
        assert option in text


def test_no_display_gets_a_clear_message_not_a_crash(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = run_cli("--data-dir", str(tmp_path), env=env)
    assert out.returncode == 2
    assert "no graphical display" in out.stderr
    assert "Traceback" not in out.stderr


def test_data_dir_holds_everything(tmp_path: Path) -> None:
    paths = app_paths(tmp_path / "d")
    assert paths.settings_file == (tmp_path / "d" / "settings.json").resolve()
    assert paths.paper_state_file("binance_spot_2023").parent == (tmp_path / "d").resolve()
    assert paths.log_file.is_relative_to((tmp_path / "d").resolve())


def test_resources_are_found_from_the_source_tree() -> None:
    assert (resources_dir() / "market_data" / "datasets.json").is_file()
    assert (resources_dir() / "market_data" / "PROVENANCE.md").is_file()


def test_settings_round_trip_atomically(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    loaded = store.load()
    assert loaded.problem is None
    assert loaded.settings.paper.starting_balances == {"USDT": Decimal(10_000)}
    s = loaded.settings
    s.paper.speed = ReplaySpeed.MAX
    s.window.chart_pair = "XRP/USDT"
    store.save(s)
    assert not (tmp_path / "settings.json.tmp").exists()
    again = store.load().settings
    assert again.paper.speed is ReplaySpeed.MAX
    assert again.window.chart_pair == "XRP/USDT"
    assert json.loads((tmp_path / "settings.json").read_text())["paper"]["starting_balances"] == {
        "USDT": "10000"
    }


def test_invalid_settings_are_reported_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"paper": {"speed": "7x"}}))
    loaded = SettingsStore(path).load()
    assert loaded.settings == AppSettings()
    assert loaded.problem is not None and "could not be read" in loaded.problem
    assert json.loads((tmp_path / "settings.json.unreadable").read_text()) == {"paper": {"speed": "7x"}}


def test_starting_balances_must_be_positive() -> None:
    with pytest.raises(ValueError, match="starting balance of USDT must be positive"):
        PaperSettings(starting_balances={"USDT": Decimal(0)})
