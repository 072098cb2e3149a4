"""The .deb as a person gets it: install, start from the menu's launcher, look at it, remove, purge.

Collected only when ``CRYPTOBOTS_DEB`` names a built package (tests/packaging/conftest.py; scripts/test.sh's
``package`` stage builds one with scripts/package.sh and runs this file as root under Xvfb, a session bus,
gnome-keyring and a tray host: scripts/desktop-session.sh). It installs into this very system, so one run at
a time (a lock file).
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication, QImage

from tests.app_process import quits_cleanly
from tests.exchange_server.fixture import start_subprocess
from tests.x11_windows import window_geometry

DEB = os.environ.get("CRYPTOBOTS_DEB", "")
PACKAGE = "cryptobots-desktop"
LAUNCHER = "/usr/bin/cryptobots-desktop"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
# where a package's leftovers would be: searched for "cryptobots" before installing and after purging
SYSTEM_DIRS = ("/opt", "/usr", "/etc", "/var/lib/dpkg/info", "/var/cache/apt/archives")


def run(*cmd: str, timeout: float = 300, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    assert out.returncode == 0, f"{' '.join(cmd)} -> {out.returncode}\n{out.stdout}\n{out.stderr}"
    return out.stdout


def apt_get(*args: str) -> str:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return run("apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", *args, env=env)


def installed_version() -> str | None:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Version}", PACKAGE],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0 or not out.stdout.startswith("ii"):
        return None
    return out.stdout.split()[-1]


def leftovers() -> set[str]:
    found = set()
    for top in SYSTEM_DIRS:
        out = subprocess.run(
            ["find", top, "-xdev", "-iname", "*cryptobots*"], capture_output=True, text=True, check=False
        )
        found.update(line for line in out.stdout.splitlines() if line)
    return found


def app_env(home: Path) -> dict[str, str]:
    """What a desktop session gives a program it starts: a fresh HOME, the display and the session bus;
    no Python, no venv, no XDG_* overrides (the app picks its usual per-user folders under HOME)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    for key in ("DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    assert os.geteuid() == 0, "installing a .deb needs root (CI runs as root)"
    deb = Path(DEB).resolve()
    assert deb.is_file(), deb
    with open("/tmp/cryptobots-deb-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run on this machine installs the same package
        if installed_version() is not None:  # left by an interrupted run
            apt_get("purge", PACKAGE)
        before = leftovers()
        t = time.monotonic()
        apt_get("install", "--no-install-recommends", str(deb))
        info: dict[str, Any] = {
            "deb": deb,
            "install_s": time.monotonic() - t,
            "files": run("dpkg", "-L", PACKAGE).splitlines(),
            "before": before,
            "home": tmp_path_factory.mktemp("home"),
        }
        try:
            yield info
        finally:
            if installed_version() is not None:
                apt_get("purge", PACKAGE)


def deb_field(deb: Path, field: str) -> str:
    return run("dpkg-deb", "-f", str(deb), field).strip()


def test_installs_launcher_menu_entry_icons_and_the_opt_in_autostart_entry(installed: dict[str, Any]) -> None:
    files = set(installed["files"])
    assert os.path.realpath(LAUNCHER) == "/opt/cryptobots-desktop/cryptobots-desktop"
    assert os.access(LAUNCHER, os.X_OK)
    desktop = Path("/usr/share/applications/cryptobots-desktop.desktop").read_text()
    assert "Exec=cryptobots-desktop\n" in desktop
    assert "Icon=cryptobots-desktop\n" in desktop
    assert "/usr/share/icons/hicolor/scalable/apps/cryptobots-desktop.svg" in files
    for n in ICON_SIZES:
        png = Path(f"/usr/share/icons/hicolor/{n}x{n}/apps/cryptobots-desktop.png")
        assert str(png) in files
        image = QImage(str(png))
        assert (image.width(), image.height()) == (n, n)
    autostart = Path("/usr/share/cryptobots-desktop/autostart/cryptobots-desktop.desktop").read_text()
    assert "Exec=cryptobots-desktop --minimized\n" in autostart
    assert not any(f.startswith("/etc/xdg/autostart") for f in files), "autostart is opt-in"
    depends = deb_field(installed["deb"], "Depends")
    for lib in ("libxcb-cursor0", "libxkbcommon-x11-0", "libxcb-icccm4", "libegl1", "libfontconfig1"):
        assert re.search(rf"\b{lib}\b", depends), f"{lib} not in Depends: {depends}"
    assert "python3" not in depends  # the bundle carries its own Python


def test_version_is_the_package_version(installed: dict[str, Any]) -> None:
    printed = run(LAUNCHER, "--version", env=app_env(installed["home"])).strip()
    version = installed_version()
    assert version is not None
    # PEP 440 pre-releases become Debian's "~" (1.0rc1 -> 1.0~rc1)
    assert printed == f"cryptobots-desktop {version.replace('~', '')}"
    assert version == deb_field(installed["deb"], "Version")


def test_installed_bundle_finds_the_os_keyring_and_ccxt(installed: dict[str, Any]) -> None:
    out = run(LAUNCHER, "--self-check", "keyring", "--self-check", "ccxt", env=app_env(installed["home"]))
    assert "self-check keyring: ok (backend keyring.backends.SecretService.Keyring" in out
    assert "self-check ccxt: ok" in out


def test_installed_bundle_connects_a_live_account_through_the_keyring(installed: dict[str, Any]) -> None:
    """A live account from the bundle, as the Accounts dialog adds one: real ccxt signs requests to the
    local exchange (run from source), the key goes into the Secret Service, the balance is read, the
    account is removed. The key and secret go in on standard input, never on the command line."""
    exchange = start_subprocess("--speed", "max")
    try:
        out = subprocess.run(
            [LAUNCHER, "--self-check", "live", "--exchange-url", f"binance={exchange.base_url}"],
            input=f"{exchange.key}\n{exchange.secret}\n",
            capture_output=True,
            text=True,
            timeout=120,
            env=app_env(installed["home"]),
            check=False,
        )
    finally:
        exchange.stop()
    assert out.returncode == 0, out.stdout + out.stderr
    assert (
        "self-check live: ok (backend SecretService Keyring; connected, 4 markets, free USDT 10000"
        in out.stdout
    )
    assert exchange.secret not in out.stdout + out.stderr


def distinct_colours(image: QImage, step: int = 4) -> int:
    return len(
        {image.pixel(x, y) for y in range(0, image.height(), step) for x in range(0, image.width(), step)}
    )


def test_installed_app_starts_and_shows_the_paper_portfolio(
    installed: dict[str, Any], qapp: Any, artifacts_dir: Path
) -> None:
    home: Path = installed["home"]
    proc = subprocess.Popen(
        [LAUNCHER], cwd=home, env=app_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    log = home / ".local/state/cryptobots-desktop/log/cryptobots.log"
    with quits_cleanly(proc):
        deadline = time.monotonic() + 60
        while window_geometry(proc.pid) is None or not (
            log.exists() and "Paper trading on" in log.read_text()
        ):
            assert proc.poll() is None, f"the installed app exited early: {proc.communicate()}"
            assert time.monotonic() < deadline, "no window with the paper exchange open within 60 s"
            time.sleep(0.2)
        time.sleep(2.5)  # a few polls of the replay: prices, chart and balances are drawn
        geometry = window_geometry(proc.pid)
        assert geometry is not None
        x, y, w, h = geometry
        shot = QGuiApplication.primaryScreen().grabWindow(0, x, y, w, h).toImage()
        target = artifacts_dir / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        shot.save(str(target / "installed-app.png"))
        assert w >= 800 and h >= 500
        assert distinct_colours(shot) > 50, "the window looks blank"
        # it runs on the bundle's own Python: nothing of the system's Python or of a source tree is loaded
        mapped = {line.split()[-1] for line in Path(f"/proc/{proc.pid}/maps").read_text().splitlines()}
        pythons = sorted(m for m in mapped if "libpython" in m or "/python3" in m)
        assert pythons and all(m.startswith("/opt/cryptobots-desktop/") for m in pythons), pythons
        assert not [m for m in mapped if "/.venv/" in m or m.startswith("/usr/lib/python3")]
    data = home / ".local/share/cryptobots-desktop"
    assert (data / "paper-binance_spot_2023.sqlite3").exists()
    assert (home / ".config/cryptobots-desktop/settings.json").exists()

    # what the dashboard shows, read by the installed app itself (a fresh paper account: 10,000 USDT)
    out = run(LAUNCHER, "--self-check", "window", env=app_env(home), timeout=90)
    assert "self-check window: ok (Portfolio value 10,000.00 USDT; balances: USDT 10,000.00" in out
    # the bundle's Qt plugins: the xcb platform, the tray (a tray host runs in this session), SVG and PNG
    plugins = next(line for line in out.splitlines() if line.startswith("self-check window: platform"))
    assert "platform xcb; tray available;" in plugins, plugins
    assert {"svg", "png", "jpg"} <= set(plugins.split("image formats ")[1].split()), plugins


def test_installed_app_started_minimized_runs_in_the_tray_without_a_window(
    installed: dict[str, Any], tmp_path: Path
) -> None:
    """What the opt-in autostart entry runs (``--minimized``): the installed app opens the paper exchange
    and stays in the tray with no window shown (a tray host runs in this session), and quits cleanly."""
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.Popen(
        [LAUNCHER, "--minimized"],
        cwd=home,
        env=app_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = home / ".local/state/cryptobots-desktop/log/cryptobots.log"
    with quits_cleanly(proc):
        deadline = time.monotonic() + 60
        while not (log.exists() and "Paper trading on" in log.read_text()):
            assert proc.poll() is None, f"the installed app exited early: {proc.communicate()}"
            assert time.monotonic() < deadline, "the paper exchange did not open within 60 s"
            time.sleep(0.2)
        time.sleep(1.0)
        assert proc.poll() is None
        assert window_geometry(proc.pid) is None, "started minimized, yet a window is shown"


def test_remove_then_purge_leave_nothing_but_the_user_data(installed: dict[str, Any]) -> None:
    home: Path = installed["home"]
    files = [Path(f) for f in installed["files"] if f not in ("/.", "")]
    apt_get("remove", PACKAGE)
    assert installed_version() is None
    still = [str(f) for f in files if (f.exists() or f.is_symlink()) and not f.is_dir()]
    assert not still, f"left after remove: {still[:10]}"
    for folder in (
        "/opt/cryptobots-desktop",
        "/usr/share/cryptobots-desktop",
        "/usr/share/doc/cryptobots-desktop",
    ):
        assert not Path(folder).exists(), folder
    apt_get("purge", PACKAGE)
    status = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", PACKAGE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert status.returncode != 0 or status.stdout.startswith("un"), f"dpkg still knows it: {status.stdout}"
    assert leftovers() == installed["before"], sorted(leftovers() - installed["before"])
    # the person's data and settings stay (as users expect from remove and purge)
    assert (home / ".local/share/cryptobots-desktop/paper-binance_spot_2023.sqlite3").exists()
    assert (home / ".config/cryptobots-desktop/settings.json").exists()
