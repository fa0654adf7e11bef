"""What every benchmark shares: paths, the function's environment, summary statistics and budget verdicts."""

from __future__ import annotations

import math
import shutil
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stacks import FUNCTION_DIR
from tests.support import CDK_CONTEXT, FAKE_AWS_CREDENTIALS, FUNCTION_ENV, ROOT  # noqa: F401 (ROOT: re-exported)

# The environment the function runs with: the stack's variables (tests/support.py, checked against the template by
# test_infrastructure), a region and fake credentials (nothing reaches AWS), and what Lambda itself sets.
LAMBDA_ENV = {
    **FAKE_AWS_CREDENTIALS,
    **FUNCTION_ENV,
    "AWS_LAMBDA_FUNCTION_NAME": "GenAiReferenceApi-GenAiFunction",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(CDK_CONTEXT["lambdaMemoryMb"]),
}


def copy_function(destination: Path, source: Path | None = None) -> Path:
    """The function's code as the asset holds it (no ``__pycache__``): Lambda's /var/task is read-only and the
    asset ships no bytecode, so the runtime compiles our modules from source at every cold start."""
    target = destination / "task"
    shutil.copytree(source or FUNCTION_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


@dataclass(frozen=True)
class Summary:
    n: int
    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            raise ValueError("no values")
        return cls(len(values), min(values), statistics.median(values), max(values))

    def show(self, unit: str, digits: int = 1) -> str:
        return f"{self.min:.{digits}f} / {self.median:.{digits}f} / {self.max:.{digits}f} {unit}"


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Verdict:
    """One budget: what was measured, the limit, and whether it holds."""

    name: str
    measured: float
    limit: float
    unit: str

    @property
    def passed(self) -> bool:
        return self.measured <= self.limit

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.measured:.4g} {self.unit} (budget <= {self.limit:g} {self.unit})"
