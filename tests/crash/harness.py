"""Starting the engine (``tests.crash.engine_process``) again and again, and SIGKILLing it.

Shared by the paper and the live crash tests: the kills (at a random moment, or aimed by the engine itself
at a point of the order path), the tally of where each run died and of what the next start's reconciliation
found, and the last run to the end.

Two ways to start an engine:

- a new Python process each time (the paper test);
- forked from the engine's fork server (``engine_process --fork-server``, the live test), which has
  imported everything once: ccxt's import (~1 s of CPU before every run, on a machine that is also running
  the local exchange) would otherwise eat most of the time between two kills. A forked engine has opened
  nothing before the fork: each one starts as fresh as a new process.

Either way the SIGKILL comes a random delay after the engine's first line (``boot``: imports done, nothing
opened).
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT

POINTS = ("intent", "answer", "fill", "deal")  # see tests.crash.engine_process; "state" follows "intent"
BOOT_TIMEOUT_S = 20.0
ENGINE = [sys.executable, "-m", "tests.crash.engine_process"]


@dataclass(frozen=True)
class KillPlan:
    timed: int  # kills at a random moment
    aimed: int  # kills the engine does itself at a chosen point of the order path
    delay_s: tuple[float, float]  # from the engine's first line to the SIGKILL
    seed: int
    final_timeout_s: float = 60.0  # for each clean run at the end
    leg_minutes: int | None = None  # the runs to the end stop cleanly ("paused") after this many minutes
    aimed_wait_s: float | None = None  # an armed run waits this long for its aimed kill (default: delay)


@dataclass
class Tally:
    timed: int = 0
    aimed: int = 0
    runs: int = 0
    legs: int = 0  # clean runs at the end (1 unless the plan has leg_minutes)
    killed_at: Counter[str] = field(default_factory=Counter)  # the child's last line when it died
    found: Counter[str] = field(default_factory=Counter)  # what the next start's reconciliation found
    final_minutes: int = 0

    @property
    def kills(self) -> int:
        return self.timed + self.aimed

    def summary(self) -> str:
        return (
            f"kills={self.kills} (timed {self.timed}, aimed {self.aimed}) runs={self.runs + self.legs} "
            f"(last {self.legs} clean, {self.final_minutes} minutes) "
            f"killed_at={dict(sorted(self.killed_at.items()))} found_at_restart={dict(self.found)}"
        )


class Engine:
    """One engine process, its stdout/stderr in files."""

    pid: int

    def __init__(self, out: Path) -> None:
        self.out = out

    def errors(self) -> str:
        return self.out.with_suffix(".err").read_text()

    def lines(self) -> list[str]:
        return self.out.read_text().splitlines()

    def wait_for_first_line(self) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while not self.out.read_bytes().endswith(b"\n"):
            assert self.running(), f"the engine exited at start: {self.errors()}"
            assert time.monotonic() < deadline, "the engine printed nothing"
            time.sleep(0.002)

    def kill(self) -> None:
        """SIGKILL (harmless if it has ended: it is not reaped before ``wait``)."""
        os.kill(self.pid, signal.SIGKILL)

    def running(self) -> bool:
        raise NotImplementedError

    def wait(self, timeout: float) -> int:
        """The exit code (-9: SIGKILLed)."""
        raise NotImplementedError


class ChildEngine(Engine):
    """A new Python process."""

    def __init__(self, argv: Sequence[str], out: Path, crash: tuple[str, int] | None) -> None:
        super().__init__(out)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRASH_")}
        if crash is not None:
            env["CRASH_POINT"], env["CRASH_AFTER"] = crash[0], str(crash[1])
        with out.open("wb") as stdout, out.with_suffix(".err").open("wb") as stderr:
            self.proc = subprocess.Popen(
                [*ENGINE, *argv], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
            )
        self.pid = self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)


class ForkServer:
    """``engine_process --fork-server``: forks engines on request, reports how they ended."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRASH_")}
        self.proc = subprocess.Popen(
            [*ENGINE, "--fork-server"], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.ask(None, BOOT_TIMEOUT_S) == "fork-server"

    def ask(self, request: dict[str, object] | None, timeout: float) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if request is not None:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"the fork server did not answer {request} in {timeout} s"
        return self.proc.stdout.readline().decode().strip()

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # it reaps what is left and ends
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class ForkedEngine(Engine):
    def __init__(
        self, server: ForkServer, argv: Sequence[str], out: Path, crash: tuple[str, int] | None
    ) -> None:
        super().__init__(out)
        self.server = server
        out.touch()  # (the engine opens it after the fork)
        request = {"start": list(argv), "out": str(out), "err": str(out.with_suffix(".err")), "crash": crash}
        answer = server.ask(request, BOOT_TIMEOUT_S).split()
        assert answer[0] == "pid", answer
        self.pid = int(answer[1])
        self.code: int | None = None

    def running(self) -> bool:
        return self.code is None  # (it printed nothing yet: wait_for_first_line times out if it never does)

    def wait(self, timeout: float) -> int:
        if self.code is None:
            answer = self.server.ask({"wait": self.pid}, timeout).split()
            assert answer[0] == "exit", answer
            self.code = int(answer[1])
        return self.code


def wait_for_aimed_kill(engine: Engine, timeout: float) -> None:
    """Until the engine says ``crash ...`` (it kills itself right after), or ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = engine.lines()
        if lines and lines[-1].startswith("crash "):
            return
        time.sleep(0.005)


def read_ready(lines: list[str], tally: Tally) -> None:
    """Add what this start's reconciliation found (the previous kill's leftovers) to the tally."""
    for line in lines:
        if line.startswith("ready "):
            for item in line.split()[1:]:
                key, value = item.split("=")
                if key in ("adopted", "caught_up", "not_placed", "unresolved"):
                    tally.found[key] += int(value)


def kill_again_and_again(
    argv: Sequence[str],
    logs: Path,
    plan: KillPlan,
    *,
    fork: bool = False,
    after_run: Callable[[], None] | None = None,
) -> Tally:
    """Start the engine, kill it, again and again (every other run also armed to kill itself at one of
    the POINTS, and the run after a kill at "intent" at its first "state"), then run it to the end.
    ``after_run`` is called once each engine has ended (killed or not), before the next one starts."""
    started: list[Engine] = []
    tally = Tally()
    server = ForkServer() if fork else None

    def start(crash: tuple[str, int] | None = None, extra: Sequence[str] = ()) -> Engine:
        out = logs / f"run{len(started):03d}.out"
        full = [*argv, *extra]
        engine = ForkedEngine(server, full, out, crash) if server else ChildEngine(full, out, crash)
        started.append(engine)
        return engine

    try:
        rng = random.Random(plan.seed)
        last = ["boot"]
        while tally.timed < plan.timed or tally.aimed < plan.aimed:
            armed = tally.runs % 2 == 1 and tally.aimed < plan.aimed
            crash = (POINTS[(tally.runs // 2) % len(POINTS)], rng.randint(1, 6)) if armed else None
            if last == ["crash", "intent"]:  # its reconciliation marks the intent NOT_PLACED: die right then
                crash = ("state", 1)
            delay = rng.uniform(*plan.delay_s)
            engine = start(crash)
            tally.runs += 1
            engine.wait_for_first_line()
            if crash is not None and plan.aimed_wait_s is not None:
                wait_for_aimed_kill(engine, plan.aimed_wait_s)
            else:
                time.sleep(delay)
            engine.kill()
            code = engine.wait(timeout=10)
            if after_run is not None:
                after_run()
            lines = engine.lines()
            read_ready(lines, tally)
            if code == 0:  # it reached the end on its own: no more kills would land mid-run
                break
            assert code == -signal.SIGKILL, engine.errors()
            last = lines[-1].split() if lines else ["nothing"]
            if last[0] == "crash":
                tally.aimed += 1
                tally.killed_at[f"crash:{last[1]}"] += 1
            else:
                tally.timed += 1
                tally.killed_at[last[0]] += 1
        leg = ["--stop-after", str(plan.leg_minutes)] if plan.leg_minutes else []
        while True:  # the last run, to the end (in clean legs, if the plan says so)
            engine = start(extra=leg)
            assert engine.wait(timeout=plan.final_timeout_s) == 0, engine.errors()
            if after_run is not None:
                after_run()
            lines = engine.lines()
            read_ready(lines, tally)
            tally.legs += 1
            tally.final_minutes += sum(1 for line in lines if line.startswith("minute "))
            if lines[-1] != "paused":
                break
        assert lines[-1] == "done", lines[-3:]
    finally:  # a failed assertion leaves no engine running
        for engine in started:
            if engine.running():
                engine.kill()
                engine.wait(timeout=10)
        if server is not None:
            server.stop()
    return tally
