"""Test time: the wall time of ``make test`` with its set-up already done, and the slowest tests (pytest's
``--durations``, passed through the Makefile's ``PYTEST_ARGS``)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.common import ROOT, Summary, Verdict

BUDGET_S = 90.0
SLOWEST = 10
COMMAND = ("make", "test", f"PYTEST_ARGS=--durations={SLOWEST}")
DURATION = re.compile(r"^\s*(?P<seconds>\d+(?:\.\d+)?)s\s+(?P<phase>setup|call|teardown)\s+(?P<test>\S.*?)\s*$")
SUMMARY = re.compile(r"=+ (?P<summary>.*\d+ passed.*) =+")


@dataclass(frozen=True)
class SlowTest:
    seconds: float
    phase: str
    test: str


@dataclass(frozen=True)
class TestTime:
    runs: int
    wall_s: Summary
    summary: str  # pytest's last line, e.g. "590 passed in 23.10s"
    slowest: list[SlowTest]

    def verdicts(self) -> list[Verdict]:
        return [Verdict("make test, wall time (median)", self.wall_s.median, BUDGET_S, "s")]


def slowest_tests(output: str) -> list[SlowTest]:
    """The ``--durations`` table of a pytest run, slowest first."""
    found = [DURATION.match(line) for line in output.splitlines()]
    return [SlowTest(float(m["seconds"]), m["phase"], m["test"]) for m in found if m]


def measure_tests(runs: int = 3, command: Sequence[str] = COMMAND) -> TestTime:
    walls: list[float] = []
    output = ""
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(list(command), cwd=ROOT, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - started)
        output = completed.stdout
        if completed.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({completed.returncode}):\n{output[-3000:]}{completed.stderr[-2000:]}"
            )
    summaries = SUMMARY.findall(output)
    return TestTime(runs, Summary.of(walls), summaries[-1] if summaries else "", slowest_tests(output))


if __name__ == "__main__":
    result = measure_tests(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    print(result.wall_s.show("s", 1), result.summary)
    for slow in result.slowest:
        print(f"{slow.seconds:6.2f}s {slow.phase:8} {slow.test}")
    for verdict in result.verdicts():
        print(verdict.line())
