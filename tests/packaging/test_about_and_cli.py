"""One version everywhere (--version, the About dialog, the package metadata); --minimized; --self-check."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QSystemTrayIcon

from cryptobots_desktop import __version__
from cryptobots_desktop.__main__ import main
from tests.conftest import ROOT
from tests.x11_windows import window_geometry


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert __version__ == version("cryptobots-desktop")
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"cryptobots-desktop {__version__}"


def test_about_dialog_from_the_window_shows_version_licence_and_paper_default(qtbot, tmp_path: Path) -> None:
    from cryptobots_desktop.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.data_dir = tmp_path
    window.show()
    seen: dict[str, str] = {}

    def read_and_close() -> None:
        dialog = QApplication.activeModalWidget()
        assert dialog is not None
        seen["title"] = dialog.windowTitle()
        seen["text"] = dialog.findChild(QLabel, "aboutText").text()
        dialog.reject()

    QTimer.singleShot(300, read_and_close)
    qtbot.mouseClick(window.about_button, Qt.MouseButton.LeftButton)  # returns when the dialog closed
    assert seen["title"] == "About Cryptobots Desktop"
    text = seen["text"]
    assert f"Version {__version__}" in text
    assert "Paper trading by default" in text
    assert "GPL-3.0-or-later" in text
    assert str(tmp_path) in text


def test_tray_menu_offers_about() -> None:
    from cryptobots_desktop.gui.tray import AppTray

    tray = AppTray()
    fired: list[bool] = []
    tray.aboutRequested.connect(lambda: fired.append(True))
    assert "About Cryptobots Desktop" in [a.text() for a in tray.menu.actions()]
    tray.about_action.trigger()
    assert fired == [True]
    tray.dispose()


@pytest.mark.e2e
def test_minimized_starts_in_the_tray_without_a_window(qapp, tmp_path: Path) -> None:
    """--minimized (the autostart entry's option): the tray icon only; the window stays hidden."""
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cryptobots_desktop", "--data-dir", str(data), "--minimized"],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "xcb"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        log = data / "logs" / "cryptobots.log"
        deadline = time.monotonic() + 30
        while not (log.exists() and "Paper trading on" in log.read_text()):
            assert proc.poll() is None, f"the app exited early: {proc.communicate()}"
            assert time.monotonic() < deadline, "the paper exchange did not open"
            time.sleep(0.2)
        time.sleep(0.5)
        shown = window_geometry(proc.pid) is not None
        # without a tray there is nowhere to hide: the window is shown instead
        assert shown is (not QSystemTrayIcon.isSystemTrayAvailable())
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_self_check_keyring_uses_the_os_keyring_and_prints_no_secret() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cryptobots_desktop", "--self-check", "keyring"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(
        r"self-check keyring: ok \(backend keyring\.backends\.SecretService\.Keyring: .*\)\n", out.stdout
    )
