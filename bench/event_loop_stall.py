"""Event-loop stall benchmark: how late the running window's event loop gets with 200 DCA bots trading.

The real app window (``AppController`` on a qasync loop, the Dashboard with its chart showing) runs in
this process on the paper exchange at 100x replay, with a fresh data folder and 1,000,000 USDT of paper
funds. A ``QTimer`` firing every 5 ms measures its own lateness (the time between two firings minus 5 ms)
from start to end; it is late exactly when the event loop is busy with something else (Python work of
the engine, Qt's painting), so its lateness is the freeze a person would see.

Phases, one run:

1. idle: the window with the replay running and no bot (the baseline);
2. creating: 200 DCA bots are created, 50 per shipped pair (BTC, ETH, SOL, XRP /USDT), each with its own
   small realistic parameters so their deals differ (reported, not a goal);
3. bots: the 200 bots trade for a while at 100x.

It prints p50/p99/max lateness of each phase, the process's peak RSS of each phase (``VmHWM``, reset at
the start of each phase through ``/proc/self/clear_refs`` when the kernel allows it), and the ratios of
the bots phase to the idle window. Goals: with bots, p99 <= 16 ms, max <= 50 ms, peak RSS <= 2x idle.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/event_loop_stall.py \
        [--idle 15] [--run 30] [--bots 200]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import math
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qasync  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cryptobots_desktop.core.replay import ReplaySpeed  # noqa: E402
from cryptobots_desktop.core.strategies.dca import DcaParams  # noqa: E402
from cryptobots_desktop.engine.events import DealUpdated, Event  # noqa: E402
from cryptobots_desktop.gui.controller import AppController  # noqa: E402
from cryptobots_desktop.paths import app_paths, resources_dir  # noqa: E402
from cryptobots_desktop.settings import SettingsStore  # noqa: E402

TICK_MS = 5
GOAL_P99_MS = 16.0
GOAL_MAX_MS = 50.0
GOAL_RSS_RATIO = 2.0
PAIRS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT")


# -- measurements --------------------------------------------------------------------------------------
def _status_kib(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


@dataclass
class Phase:
    name: str
    late_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    seconds: float = 0.0
    peak_rss_kib: int = 0
    polls: list[float] = field(default_factory=list)  # seconds each poll's on_prices took

    def pct(self, q: float) -> float:
        data = sorted(self.late_ms)
        if not data:
            return math.nan
        return data[min(len(data) - 1, max(0, math.ceil(q / 100 * len(data)) - 1))]

    @property
    def worst(self) -> float:
        return max(self.late_ms, default=math.nan)


class StallMeter:
    """A 5 ms precise QTimer; each firing records how late it came, into the current phase."""

    def __init__(self) -> None:
        self.phase: Phase | None = None
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def enter(self, phase: Phase) -> None:
        self.phase = phase
        phase.started = time.perf_counter()
        self._last = phase.started  # a phase's first sample measures from its own start

    def leave(self) -> None:
        phase = self.phase
        if phase is not None:
            phase.seconds = time.perf_counter() - phase.started
            phase.peak_rss_kib = _status_kib("VmHWM")
        self.phase = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.phase is not None:
            self.phase.late_ms.append(max(0.0, (now - self._last) * 1000 - TICK_MS))
        self._last = now


# -- the scenario --------------------------------------------------------------------------------------
def bot_params(pair_index: int, i: int) -> DcaParams:
    """Small realistic settings, varied per bot so that deals open, average down and close differently."""
    k = pair_index * 50 + i
    return DcaParams(
        base_order_size=Decimal(15),
        safety_order_size=Decimal(15),
        max_safety_orders=3,
        price_deviation_pct=Decimal("0.5") + Decimal(k % 6) / 10,  # 0.5 .. 1.0 %
        safety_order_step_scale=(Decimal(1), Decimal("1.2"), Decimal("1.5"))[k % 3],
        safety_order_volume_scale=(Decimal(1), Decimal("1.5"))[(k // 3) % 2],
        take_profit_pct=Decimal("0.5") + Decimal((k * 7) % 6) / 10,  # 0.5 .. 1.0 %
        cooldown_seconds=(0, 60, 300)[(k // 2) % 3],
    )


async def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


async def scenario(c: AppController, meter: StallMeter, args: argparse.Namespace) -> dict[str, Phase]:
    phases = {name: Phase(name) for name in ("idle", "creating", "bots")}
    deals: dict[tuple[str, int], str] = {}

    def on_event(event: Event) -> None:
        if isinstance(event, DealUpdated):
            deals[(event.record.bot_id, event.record.deal_no)] = event.record.phase

    c.bus.subscribe(on_event)
    await c.start()
    rt = c.runtime
    if rt is None:
        raise RuntimeError("the paper exchange did not open")
    c.window.show_page(0)  # the Dashboard, with its chart
    await wait_for(lambda: len(rt.feed.prices) == len(rt.pairs), 20, "the first prices")

    # time each poll's hand-over of prices to the bots (diagnostics: how much work one poll is)
    inner: Callable[[Mapping[str, Decimal]], Awaitable[None]] | None = rt.feed._on_prices
    assert inner is not None

    async def timed_on_prices(prices: Mapping[str, Decimal]) -> None:
        t0 = time.perf_counter()
        await inner(prices)
        if meter.phase is not None:
            meter.phase.polls.append(time.perf_counter() - t0)

    rt.feed._on_prices = timed_on_prices
    await asyncio.sleep(2.0)  # warm-up: first chart and table paints, candle files loaded, caches filled

    meter.start()
    _reset_peak_rss()
    meter.enter(phases["idle"])
    await asyncio.sleep(args.idle)
    meter.leave()

    replay_start = rt.replay.now_ms() if rt.replay is not None else 0
    _reset_peak_rss()
    meter.enter(phases["creating"])
    per_pair = args.bots // len(PAIRS)
    for p, pair in enumerate(PAIRS):
        for i in range(per_pair):
            await rt.supervisor.create_dca_bot(f"DCA {pair} #{i + 1}", "paper", pair, bot_params(p, i))
    meter.leave()

    _reset_peak_rss()
    meter.enter(phases["bots"])
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    await asyncio.sleep(args.run)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    meter.leave()
    meter.stop()

    replayed_min = ((rt.replay.now_ms() if rt.replay is not None else 0) - replay_start) / 60_000
    closed = sum(1 for phase in deals.values() if phase == "closed")
    print(
        f"stall: {len(rt.supervisor.bots)} bots, {len(deals)} deals ({closed} closed), "
        f"{replayed_min:.0f} replayed minutes in the creating + bots phases",
        flush=True,
    )
    await c.shutdown()
    return phases


def report(phases: dict[str, Phase], idle_rss_start: int, hwm_resettable: bool) -> None:
    def line(label: str, p: Phase) -> str:
        polls = ""
        if p.polls:
            polls = (
                f"; {len(p.polls)} polls, on_prices mean {sum(p.polls) / len(p.polls) * 1000:.0f} ms, "
                f"max {max(p.polls) * 1000:.0f} ms"
            )
        return (
            f"stall: {label:<26} p50 {p.pct(50):6.1f} ms  p99 {p.pct(99):6.1f} ms  max {p.worst:7.1f} ms"
            f"  ({len(p.late_ms)} ticks in {p.seconds:.1f} s{polls})"
        )

    idle, creating, bots = phases["idle"], phases["creating"], phases["bots"]
    print(line("idle window (baseline)", idle))
    print(line("creating the bots", creating))
    print(line("bots at 100x", bots))

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}" if b > 0 else "inf"

    print(
        f"stall: ratios bots/idle: p50 {ratio(bots.pct(50), idle.pct(50))}, "
        f"p99 {ratio(bots.pct(99), idle.pct(99))}, max {ratio(bots.worst, idle.worst)}"
    )
    peak = max(creating.peak_rss_kib, bots.peak_rss_kib) if hwm_resettable else bots.peak_rss_kib
    note = "" if hwm_resettable else " (VmHWM could not be reset: the idle peak includes start-up)"
    print(
        f"rss: before the window {idle_rss_start / 1024:.0f} MiB; idle window peak "
        f"{idle.peak_rss_kib / 1024:.0f} MiB; with bots peak {peak / 1024:.0f} MiB; "
        f"ratio bots/idle {peak / idle.peak_rss_kib:.2f} (goal <= {GOAL_RSS_RATIO:g}){note}"
    )
    goals = [
        (f"p99 with bots <= {GOAL_P99_MS:g} ms", bots.pct(99) <= GOAL_P99_MS),
        (f"max with bots <= {GOAL_MAX_MS:g} ms", bots.worst <= GOAL_MAX_MS),
        (f"peak RSS with bots <= {GOAL_RSS_RATIO:g}x idle", peak / idle.peak_rss_kib <= GOAL_RSS_RATIO),
    ]
    for what, ok in goals:
        print(f"goal: {what}: {'met' if ok else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=15.0, help="seconds of the idle window (baseline)")
    parser.add_argument("--run", type=float, default=30.0, help="seconds the bots run at 100x")
    parser.add_argument("--bots", type=int, default=200, help="bots in all, shared among the 4 pairs")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the bots phase into FILE (slows it)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    with tempfile.TemporaryDirectory(prefix="cryptobots-stall-") as tmp:
        paths = app_paths(Path(tmp))
        paths.create()
        store = SettingsStore(paths.settings_file)
        settings = store.load().settings
        settings.paper.speed = ReplaySpeed.X100
        settings.paper.starting_balances = {"USDT": Decimal(1_000_000)}
        settings.window.page = 0
        settings.window.chart_pair = "BTC/USDT"
        settings.window.tray_hint_shown = True
        store.save(settings)

        app = QApplication.instance() or QApplication(sys.argv[:1])
        app.setQuitOnLastWindowClosed(False)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        controller = AppController(store, store.load(), paths, resources_dir())
        controller.window.resize(1280, 800)
        meter = StallMeter()
        idle_rss_start = _status_kib("VmRSS")
        hwm_resettable = _reset_peak_rss()
        with loop:
            phases = loop.run_until_complete(scenario(controller, meter, args))
        report(phases, idle_rss_start, hwm_resettable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
