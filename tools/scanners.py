"""Run the two command-line scanners on synthesized templates: cfn-lint (from the project's virtualenv) and checkov
(from its own virtualenv, ``.venv-checkov``, which ``make test`` and ``make review`` create).

Used by ``make review`` and by the tests (tests/conftest.py runs each once per session). cdk-nag needs no runner: it
runs at every synth and writes ``validation-report.json`` into the cloud assembly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CFN_LINT_CONFIG = ROOT / ".cfnlintrc.yaml"
CHECKOV_ENV = {"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}


@dataclass(frozen=True)
class ScannerRun:
    """What a scanner printed: its parsed JSON output, exit code and standard error."""

    output: Any
    returncode: int
    stderr: str


def run_cfn_lint(template_files: Sequence[str]) -> ScannerRun:
    """cfn-lint with the project's configuration; ``output`` is its list of findings."""
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--config-file",
            str(CFN_LINT_CONFIG),
            "--format",
            "json",
            *template_files,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return ScannerRun(json.loads(result.stdout or "[]"), result.returncode, result.stderr)


def checkov_binary() -> Path:
    """checkov in its own virtualenv (``CHECKOV`` overrides the path)."""
    binary = Path(os.environ.get("CHECKOV") or ROOT / ".venv-checkov" / "bin" / "checkov")
    if not binary.exists():
        raise FileNotFoundError(
            f"checkov is not installed at {binary}: run `make test` or `make review`, which create .venv-checkov"
        )
    return binary


def run_checkov(template_files: Sequence[str]) -> ScannerRun:
    """checkov's CloudFormation checks, offline; ``output`` is a list of its reports (one per framework)."""
    result = subprocess.run(
        [
            str(checkov_binary()),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
            "--file",
            *template_files,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **CHECKOV_ENV},
    )
    report = json.loads(result.stdout)
    return ScannerRun(report if isinstance(report, list) else [report], result.returncode, result.stderr)


def checkov_checks(run: ScannerRun, outcome: str) -> list[dict[str, Any]]:
    """Every check of one outcome (``passed``, ``failed``, ``skipped``) across checkov's reports."""
    return [check for report in run.output for check in report["results"][f"{outcome}_checks"]]
