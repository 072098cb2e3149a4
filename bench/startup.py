"""Start-up benchmark: the app's time to first paint against a bare PySide6 window with the same widgets.

Both are started as fresh processes, alternately, on the same X display, and timed from spawn to the
line each prints at its window's first paint. Prints medians and the ratio (goal: <= 1.5).

    xvfb-run -a .venv/bin/python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BASELINE = r"""
import sys
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import (QApplication, QComboBox, QFrame, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QMainWindow, QPushButton, QSplitter, QStackedWidget, QStatusBar, QTabWidget, QTableView, QTextBrowser,
    QVBoxLayout, QWidget)

app = QApplication(sys.argv[:1])
win = QMainWindow()
nav = QListWidget(); nav.addItems(["Dashboard", "Bots", "Deals", "Accounts", "Activity"])
pages = QStackedWidget()
dash = QWidget(); d = QVBoxLayout(dash)
d.addWidget(QLabel("Portfolio value")); d.addWidget(QLabel("10,000.00 USDT"))
bar = QHBoxLayout(); combo = QComboBox(); combo.addItems(["BTC/USDT", "ETH/USDT"])
bar.addWidget(combo); d.addLayout(bar)
split = QSplitter()
split.addWidget(pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")}))
split.addWidget(QTableView()); d.addWidget(split)
bots = QWidget(); b = QVBoxLayout(bots)
for text in ("New bot…", "Start", "Pause", "Stop"):
    b.addWidget(QPushButton(text))
b.addWidget(QTableView())
deals = QTabWidget(); deals.addTab(QTableView(), "Open"); deals.addTab(QTableView(), "Closed")
accounts = QWidget(); ac = QVBoxLayout(accounts)
for text in ("Add account…", "Re-check key", "Edit…", "Remove…"):
    ac.addWidget(QPushButton(text))
asplit = QSplitter(); asplit.addWidget(QTableView()); tabs = QTabWidget()
tabs.addTab(QTextBrowser(), "What the key may do"); tabs.addTab(QTextBrowser(), "How to make a safe key")
asplit.addWidget(tabs); ac.addWidget(asplit)
act = QWidget(); a = QVBoxLayout(act); a.addWidget(QLineEdit()); a.addWidget(QTableView())
for page in (dash, bots, deals, accounts, act):
    pages.addWidget(page)
banner = QFrame(); banner.hide()
right = QVBoxLayout(); right.addWidget(banner); right.addWidget(pages)
central = QWidget(); h = QHBoxLayout(central); h.addWidget(nav); h.addLayout(right)
win.setCentralWidget(central)
status = QStatusBar(); status.addWidget(QLabel("Paper trading")); status.addPermanentWidget(QComboBox())
win.setStatusBar(status)
win.resize(1200, 780)

class FirstPaint(QObject):
    done = False
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not self.done:
            self.done = True
            print("first-paint", flush=True)
            QTimer.singleShot(0, app.quit)
        return False

f = FirstPaint(); win.installEventFilter(f)
win.show()
app.exec()
"""


def time_to_first_paint(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "first-paint":
            elapsed = time.perf_counter() - start
            break
    else:
        raise RuntimeError(f"{cmd[:3]} never painted (exit {proc.wait()})")
    proc.wait(timeout=30)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app_cmd = [sys.executable, "-m", "cryptobots_desktop", "--data-dir", tmp, "--quit-after-first-paint"]
        base_cmd = [sys.executable, "-c", BASELINE]
        time_to_first_paint(app_cmd)  # warm the disk cache for both
        time_to_first_paint(base_cmd)
        app_times, base_times = [], []
        for _ in range(args.runs):
            base_times.append(time_to_first_paint(base_cmd))
            app_times.append(time_to_first_paint(app_cmd))
    app_median = statistics.median(app_times)
    base_median = statistics.median(base_times)
    runs = f"over {args.runs} runs"
    print(f"startup: bare PySide6 window (same widgets) median {base_median * 1000:.0f} ms {runs}")
    print(f"startup: Cryptobots Desktop (paper mode)     median {app_median * 1000:.0f} ms {runs}")
    print(f"startup: ratio app/baseline = {app_median / base_median:.2f} (goal <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
