"""The app as a person starts it: a separate process on the X server, looked at from outside."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication, QImage

from tests.app_process import quits_cleanly
from tests.conftest import ROOT
from tests.x11_windows import window_geometry

pytestmark = pytest.mark.e2e


def distinct_colours(image: QImage, step: int = 4) -> int:
    seen = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            seen.add(image.pixel(x, y))
    return len(seen)


def start_app(data: Path, **env: str) -> subprocess.Popen[str]:
    """The app as a separate process on the X server (``env`` on top of this one's), its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "cryptobots_desktop", "--data-dir", str(data)],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "xcb", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_app_starts_shows_its_window_and_quits_cleanly(qapp, tmp_path: Path, artifacts_dir: Path) -> None:
    data = tmp_path / "data"
    proc = start_app(data)
    with quits_cleanly(proc):
        deadline = time.monotonic() + 30
        geometry = None
        while geometry is None:
            assert proc.poll() is None, f"the app exited early: {proc.communicate()}"
            assert time.monotonic() < deadline, "no window within 30 s"
            time.sleep(0.2)
            geometry = window_geometry(proc.pid)
        log = data / "logs" / "cryptobots.log"
        while not (log.exists() and "Paper trading on" in log.read_text()):
            assert time.monotonic() < deadline, "the paper exchange did not open"
            time.sleep(0.2)
        time.sleep(2.5)  # a few polls of the replay: prices, chart and balances are drawn
        geometry = window_geometry(proc.pid)
        assert geometry is not None
        x, y, w, h = geometry
        shot = QGuiApplication.primaryScreen().grabWindow(0, x, y, w, h).toImage()
        target = artifacts_dir / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        shot.save(str(target / "app-paper-mode.png"))
        assert (shot.width(), shot.height()) == (w, h)
        assert w >= 800 and h >= 500
        # not blank: a real window with text, a table and candles has many colours
        assert distinct_colours(shot) > 50

        # a second app on the same data folder would send the same orders again: it refuses to start
        second = start_app(data)
        try:
            assert second.stderr is not None
            line = second.stderr.readline()  # printed before its message box opens
            assert "already running with this data folder" in line
        finally:
            second.kill()
            second.wait(timeout=10)
    # quitting saved the paper account and the settings
    assert (data / "paper-binance_spot_2023.sqlite3").exists()
    assert (data / "settings.json").exists()


def test_paper_mode_never_imports_ccxt(tmp_path: Path) -> None:
    """ccxt costs ~0.45 s to import: paper mode must start and run without it."""
    script = f"""
import asyncio, sys
from pathlib import Path
import qasync
from PySide6.QtWidgets import QApplication
from cryptobots_desktop.gui.controller import AppController
from cryptobots_desktop.paths import app_paths, resources_dir
from cryptobots_desktop.settings import SettingsStore
app = QApplication([])
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
paths = app_paths(Path({str(tmp_path)!r}))
paths.create()
store = SettingsStore(paths.settings_file)
c = AppController(store, store.load(), paths, resources_dir(), tray_available=False)
async def main():
    await c.start()
    await asyncio.sleep(1.5)
    assert c.window.dashboard.balances_model.rowCount() == 1
    await c.shutdown()
with loop:
    loop.run_until_complete(main())
print("ccxt imported:", any(m == "ccxt" or m.startswith("ccxt.") for m in sys.modules))
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "xcb"},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "ccxt imported: False" in out.stdout


def wait_for_paper(data: Path, proc: subprocess.Popen[str], seconds: float = 30) -> None:
    log = data / "logs" / "cryptobots.log"
    deadline = time.monotonic() + seconds
    while not (log.exists() and "Paper trading on" in log.read_text()):
        assert proc.poll() is None, f"the app exited early: {proc.communicate()}"
        assert time.monotonic() < deadline, "the paper exchange did not open"
        time.sleep(0.2)


def test_the_session_ending_shuts_down_cleanly(tmp_path: Path) -> None:
    """Qt's event loop ends under the app (QCoreApplication.exit, as at the end of a desktop session;
    QApplication.quit would first close the window, which hides to the tray where there is one): the app
    shuts down as Quit does - settings saved, the journal and paper account closed (no WAL left)."""
    data = tmp_path / "data"
    script = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from cryptobots_desktop.__main__ import main\n"
        "app = QApplication(sys.argv[:1])\n"
        "QTimer.singleShot(4000, lambda: app.exit(0))\n"
        f"sys.exit(main(['--data-dir', {str(data)!r}]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (data / "settings.json").exists()
    assert not list(data.glob("*-wal")), "the journal or the paper account was not closed"
    log = (data / "logs" / "cryptobots.log").read_text()
    assert "Qt's event loop ended under the app: shutting down" in log


def test_the_display_going_away_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    """The X server dies under the app: Qt cannot run again, so the app says so in a sentence and exits
    1; what it journaled is kept (the next start reconciles it)."""
    display = next(n for n in range(150, 250) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    xvfb = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", "1280x800x24"], stderr=subprocess.DEVNULL)
    data = tmp_path / "data"
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{display}").exists():
            assert time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.1)
        proc = start_app(data, DISPLAY=f":{display}")
        wait_for_paper(data, proc)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert "cryptobots-desktop: the display went away" in err
    assert (data / "journal.sqlite3").exists()
