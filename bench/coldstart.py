"""Cold start: the CPU time of importing the handler in a fresh interpreter, against the floor that any Python
function calling Bedrock pays (``import boto3`` and creating the ``bedrock-runtime`` client).

Each run is a new interpreter with the function's environment (as the stack sets it, with ``LAMBDA_TASK_ROOT`` set as
Lambda sets it, so the tracer is on as deployed) and the function's code copied without bytecode, as the asset
holds it. The child measures its own CPU time (``time.process_time``) around the import, so interpreter start-up,
the same for both, is left out; the parent also records each child's whole CPU time (``RUSAGE_CHILDREN``). Floor
and handler runs alternate, and each round swaps which goes first.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import LAMBDA_ENV, Summary, Verdict, copy_function

BUDGET_RATIO = 1.3
# Runs of each kind. On this shared two-core VM, medians of 21 runs put the ratio anywhere from about 1.17 to 1.36
# for the same code (repeated by hand); a median's spread shrinks as one over the square root of the runs, so 41 runs
# narrow it by a quarter. The report prints the run's own bootstrap interval.
RUNS = 41
FLOOR = 'import boto3\nboto3.client("bedrock-runtime")\n'
# What the function does instead (genai_core/clients.py): the client from botocore alone, boto3 never imported.
BOTOCORE_FLOOR = 'import botocore.session\nbotocore.session.get_session().create_client("bedrock-runtime")\n'
GC_PAUSED = "import gc\ngc.disable()\n"  # as lambda/genai_api/init_gc.py does for the handler
LOGGER_METRICS = "from aws_lambda_powertools import Logger, Metrics\nLogger(); Metrics()\n"
RESOLVER = "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\nAPIGatewayRestResolver()\n"
TRACER = 'from aws_lambda_powertools import Tracer\nTracer(patch_modules=["botocore"])\n'
# The budget's two: the floor and the handler. The rest break the handler's init down (``breakdown=True``).
PAYLOADS = {"floor": FLOOR, "handler": "import handler\n"}
BREAKDOWN = {
    "floor, GC paused": GC_PAUSED + FLOOR,
    "botocore alone instead of boto3, GC paused": GC_PAUSED + BOTOCORE_FLOOR,
    "+ Powertools Logger, Metrics": GC_PAUSED + BOTOCORE_FLOOR + LOGGER_METRICS,
    "+ Powertools resolver (event_handler)": GC_PAUSED + BOTOCORE_FLOOR + LOGGER_METRICS + RESOLVER,
    "+ Tracer (X-Ray SDK, botocore patched)": GC_PAUSED + BOTOCORE_FLOOR + LOGGER_METRICS + RESOLVER + TRACER,
}
# Each row of the breakdown adds one thing to the row before it (the second replaces boto3 with botocore, as the
# function does); all of them run with the collector paused, as the handler's init does, so that the differences are
# the cost of what each row adds or saves.
CHILD = """\
import time
_cpu, _wall = time.process_time(), time.perf_counter()
{payload}
_cpu, _wall = time.process_time() - _cpu, time.perf_counter() - _wall
import resource
print("COLDSTART", _cpu, _wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@dataclass(frozen=True)
class ColdStart:
    runs: int
    cpu_ms: dict[str, Summary]  # inside the child, around the import
    process_cpu_ms: dict[str, Summary]  # the whole child process (RUSAGE_CHILDREN), interpreter start-up included
    wall_ms: dict[str, Summary]
    max_rss_mb: dict[str, Summary]  # the child's peak resident memory
    cpu_samples: dict[str, tuple[float, ...]] = field(default_factory=dict)  # every run's CPU ms, for the interval

    @property
    def ratio(self) -> float:
        return self.cpu_ms["handler"].median / self.cpu_ms["floor"].median

    def ratio_interval(self, resamples: int = 2000, confidence: float = 0.95) -> tuple[float, float] | None:
        """A bootstrap interval of ``ratio``: each kind's runs resampled with replacement, the ratio of the medians
        each time, the central ``confidence`` of them (a fixed seed: the same runs give the same interval). It says
        how far the budget's one figure could move on this machine from its noise alone; None without the runs."""
        handler, floor = self.cpu_samples.get("handler"), self.cpu_samples.get("floor")
        if not handler or not floor:
            return None
        rng = random.Random(0)
        ratios = sorted(
            statistics.median(rng.choices(handler, k=len(handler)))
            / statistics.median(rng.choices(floor, k=len(floor)))
            for _ in range(resamples)
        )
        tail = (1 - confidence) / 2
        return ratios[int(tail * (resamples - 1))], ratios[int((1 - tail) * (resamples - 1))]

    def added_ms(self, kind: str) -> float | None:
        """What a row of the breakdown adds to the row before it (median CPU ms), or None without a breakdown."""
        rows = list(BREAKDOWN)
        if kind not in self.cpu_ms or kind not in rows or rows.index(kind) == 0:
            return None
        return self.cpu_ms[kind].median - self.cpu_ms[rows[rows.index(kind) - 1]].median

    def verdicts(self) -> list[Verdict]:
        return [Verdict("cold start, handler import / floor (median CPU time)", self.ratio, BUDGET_RATIO, "x")]


def child_env(task_root: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_", "PYTHON"))}
    env.update(LAMBDA_ENV)
    env.update(
        {
            "PYTHONPATH": str(task_root),
            "LAMBDA_TASK_ROOT": str(task_root),
            "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only: nothing is cached between cold starts
            "PYTHONHASHSEED": "0",
        }
    )
    return env


def run_once(
    payload: str, task_root: Path, python: str = os.path.abspath(sys.executable)
) -> tuple[float, float, float, float]:
    """One fresh interpreter: (CPU ms around the import, CPU ms of the whole process, wall ms around the import,
    peak resident memory in MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(
        [python, "-c", CHILD.format(payload=payload)],
        cwd=task_root,
        env=child_env(task_root),
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("COLDSTART ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"cold start failed ({completed.returncode}): {completed.stderr[-2000:]}")
    _, cpu, wall, rss_kb = lines[-1].split()
    process = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return float(cpu) * 1000, process * 1000, float(wall) * 1000, int(rss_kb) / 1024


def measure(runs: int = RUNS, *, breakdown: bool = True, baseline: tuple[str, Path] | None = None) -> ColdStart:
    """``breakdown``: also the floor with the collector paused, then Powertools, then the Tracer, on top of it.
    ``baseline``: (label, folder) of another version of the function, measured in the same alternation."""
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as scratch:
        task_root = copy_function(Path(scratch))
        payloads = {
            kind: (payload, task_root) for kind, payload in {**PAYLOADS, **(BREAKDOWN if breakdown else {})}.items()
        }
        if baseline is not None:
            label, folder = baseline
            payloads[f"handler at {label}"] = (PAYLOADS["handler"], copy_function(Path(scratch) / "baseline", folder))
        cpu: dict[str, list[float]] = {kind: [] for kind in payloads}
        process: dict[str, list[float]] = {kind: [] for kind in payloads}
        wall: dict[str, list[float]] = {kind: [] for kind in payloads}
        rss: dict[str, list[float]] = {kind: [] for kind in payloads}
        for payload, root in payloads.values():
            run_once(payload, root)  # warm the OS file cache once; not counted
        for index in range(runs):
            order = list(payloads) if index % 2 == 0 else list(reversed(payloads))
            for kind in order:
                one_cpu, one_process, one_wall, one_rss = run_once(*payloads[kind])
                cpu[kind].append(one_cpu)
                process[kind].append(one_process)
                wall[kind].append(one_wall)
                rss[kind].append(one_rss)
    return ColdStart(
        runs=runs,
        cpu_ms={kind: Summary.of(values) for kind, values in cpu.items()},
        process_cpu_ms={kind: Summary.of(values) for kind, values in process.items()},
        wall_ms={kind: Summary.of(values) for kind, values in wall.items()},
        max_rss_mb={kind: Summary.of(values) for kind, values in rss.items()},
        cpu_samples={kind: tuple(values) for kind, values in cpu.items()},
    )


if __name__ == "__main__":
    result = measure(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS)
    for kind in result.cpu_ms:
        print(f"{kind:52} cpu {result.cpu_ms[kind].show('ms')}   process {result.process_cpu_ms[kind].show('ms')}")
    for verdict in result.verdicts():
        print(verdict.line())
