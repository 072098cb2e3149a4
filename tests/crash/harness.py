"""Starting the engine (``tests.crash.engine_process``) again and again, and SIGKILLing it.

Shared by the paper and the live crash tests: the kills (at a random moment, or aimed by the engine itself
at a point of the order path), the tally of where each run died and of what the next start's reconciliation
found, and the last run to the end.

Two ways to start a run:

- plain (the paper test): the engine starts; the kill comes a random delay after its first line
  (``boot``: imports done, nothing opened);
- gated (the live test): each engine is started one run ahead, imports everything (~1 s with ccxt), says
  ``boot`` and waits on its stdin; the run begins with ``go`` (and the aimed point, if any) written there,
  and the kill comes a random delay after that. Nothing is opened before ``go``, so the next engine
  waiting is not a second engine at work.
"""

from __future__ import annotations

import os
import random
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


@dataclass(frozen=True)
class KillPlan:
    timed: int  # kills at a random moment
    aimed: int  # kills the engine does itself at a chosen point of the order path
    delay_s: tuple[float, float]  # from the run's start (first line, or ``go``) to the SIGKILL
    seed: int
    final_timeout_s: float = 60.0  # for each clean run at the end
    leg_minutes: int | None = None  # the runs to the end stop cleanly ("paused") after this many minutes


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
    """One engine process, its stdout/stderr in ``logs``."""

    def __init__(
        self, command: Sequence[str], logs: Path, n: int, *, gated: bool, env: dict[str, str] | None = None
    ) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CRASH_")}
        environment.update(env or {})
        self.out = logs / f"run{n:03d}.out"
        self.gated = gated
        with self.out.open("wb") as stdout, self.out.with_suffix(".err").open("wb") as stderr:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.crash.engine_process",
                    *command,
                    *(["--gate"] if gated else []),
                ],
                cwd=ROOT,
                env=environment,
                stdin=subprocess.PIPE if gated else subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )

    def errors(self) -> str:
        return self.out.with_suffix(".err").read_text()

    def wait_for_first_line(self) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while not self.out.read_bytes().endswith(b"\n"):
            assert self.proc.poll() is None, f"the engine exited at start: {self.errors()}"
            assert time.monotonic() < deadline, "the engine printed nothing"
            time.sleep(0.002)

    def go(self, crash: tuple[str, int] | None) -> None:
        """Let a gated engine start its run (armed to kill itself at ``crash``, if given)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write((f"go {crash[0]} {crash[1]}\n" if crash else "go\n").encode())
        self.proc.stdin.flush()

    def lines(self) -> list[str]:
        return self.out.read_text().splitlines()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdin is not None:
            self.proc.stdin.close()


def read_ready(lines: list[str], tally: Tally) -> None:
    """Add what this start's reconciliation found (the previous kill's leftovers) to the tally."""
    for line in lines:
        if line.startswith("ready "):
            for item in line.split()[1:]:
                key, value = item.split("=")
                if key in ("adopted", "caught_up", "not_placed", "unresolved"):
                    tally.found[key] += int(value)


def kill_again_and_again(
    command: Sequence[str],
    logs: Path,
    plan: KillPlan,
    *,
    gated: bool = False,
    after_run: Callable[[], None] | None = None,
) -> Tally:
    """Start the engine, kill it, again and again (every other run also armed to kill itself at one of
    the POINTS, and the run after a kill at "intent" at its first "state"), then run it to the end.
    ``after_run`` is called once each engine has exited (killed or not), before the next one starts."""
    started: list[Engine] = []
    tally = Tally()

    def spawn(crash: tuple[str, int] | None = None, extra: Sequence[str] = ()) -> Engine:
        env = {"CRASH_POINT": crash[0], "CRASH_AFTER": str(crash[1])} if crash else None
        engine = Engine([*command, *extra], logs, len(started), gated=gated, env=env)
        started.append(engine)
        return engine

    try:
        rng = random.Random(plan.seed)
        last = ["boot"]
        spare = spawn() if gated else None
        while tally.timed < plan.timed or tally.aimed < plan.aimed:
            armed = tally.runs % 2 == 1 and tally.aimed < plan.aimed
            crash = (POINTS[(tally.runs // 2) % len(POINTS)], rng.randint(1, 6)) if armed else None
            if last == ["crash", "intent"]:  # its reconciliation marks the intent NOT_PLACED: die right then
                crash = ("state", 1)
            delay = rng.uniform(*plan.delay_s)
            if spare is not None:
                engine = spare
                engine.wait_for_first_line()
                engine.go(crash)
                spare = spawn()  # imports while this run runs
            else:
                engine = spawn(crash)
                engine.wait_for_first_line()
            tally.runs += 1
            time.sleep(delay)
            if engine.proc.poll() is None:
                os.kill(engine.proc.pid, signal.SIGKILL)
            code = engine.proc.wait(timeout=10)
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
        if spare is not None:
            spare.stop()
        leg = ["--stop-after", str(plan.leg_minutes)] if plan.leg_minutes else []
        while True:  # the last run, to the end (in clean legs, if the plan says so)
            engine = spawn(extra=leg)
            if gated:
                engine.wait_for_first_line()
                engine.go(None)
            assert engine.proc.wait(timeout=plan.final_timeout_s) == 0, engine.errors()
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
            engine.stop()
    return tally
