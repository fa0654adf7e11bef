"""Helpers for the scanners' tests (cdk-nag's report, cfn-lint and checkov through tools/scanners.py): what every
scanned template must pass, in one place for the app's stacks and the constructs' own test stacks. No fixtures here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tools.scanners import ScannerRun, checkov_checks, run_checkov

MIN_REASON = 40  # characters: a reason says why, not just "ok"


def nag_report(assembly: Any) -> dict[str, Any]:
    """cdk-nag's AwsSolutions report, as the synth wrote it into the cloud assembly."""
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    (plugin,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    return plugin


def checkov(template_files: list[str]) -> ScannerRun:
    """checkov on ``template_files``; the test fails (with how to install it) where checkov is missing."""
    try:
        return run_checkov(template_files)
    except FileNotFoundError as missing:
        pytest.fail(str(missing))


def assert_cfn_lint_clean(run: ScannerRun) -> None:
    """cfn-lint ran (no traceback) and reported nothing, neither an error nor a warning."""
    assert "Traceback" not in run.stderr, run.stderr
    assert run.output == [], json.dumps(run.output, indent=2)
    assert run.returncode == 0


@dataclass(frozen=True)
class CheckovOutcome:
    failed: list[tuple[str, str]]  # (check id, resource)
    passed: set[str]  # check ids
    skipped: list[dict[str, Any]]  # the skipped checks, with their suppress comments


def checkov_outcome(run: ScannerRun) -> CheckovOutcome:
    return CheckovOutcome(
        failed=[(c["check_id"], c["resource"]) for c in checkov_checks(run, "failed")],
        passed={c["check_id"] for c in checkov_checks(run, "passed")},
        skipped=checkov_checks(run, "skipped"),
    )


def assert_skips_explained(skipped: list[dict[str, Any]]) -> None:
    """Every skipped check carries its reason in the resource's metadata."""
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "")) >= MIN_REASON, check["check_id"]
