"""The scanners, inside `make test`: cdk-nag (AwsSolutions), cfn-lint and checkov find nothing unexplained.

Each exception is recorded where it applies, with its reason: cdk-nag acknowledgments on the violating construct
(stacks/components/compliance.py), checkov skips in the resource's metadata, cfn-lint ignores in .cfnlintrc.yaml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_apigateway as apigw

from tests.support import API_STACK, ROOT, cdk_context

MIN_REASON = 40  # characters: a reason says why, not just "ok"


def template_files(assembly: Any) -> list[str]:
    return [str(Path(assembly.directory) / stack.template_file) for stack in assembly.stacks]


def nag_report(assembly: Any) -> dict[str, Any]:
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    (plugin,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    return plugin


# --- cdk-nag ----------------------------------------------------------------------------------------------------


def test_cdk_nag_passes_with_every_acknowledgment_explained_at_the_narrowest_scope(assembly):
    plugin = nag_report(assembly)

    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []
    assert plugin["suppressedViolations"], "cdk-nag ran: the known exceptions must show as acknowledged"
    for violation in plugin["suppressedViolations"]:
        assert len(violation["reason"]) >= MIN_REASON, violation["ruleName"]
        for construct in violation["violatingConstructs"]:
            # acknowledged on the construct itself (or its L2 wrapper of the CfnResource), never on a parent
            assert construct["constructPath"] in (violation["acknowledgedAt"], f"{violation['acknowledgedAt']}/Resource")


def test_cdk_nag_stops_synth_on_an_unacknowledged_finding():
    from app import build_app

    app = build_app(context=cdk_context())
    stack = app.node.find_child(API_STACK)
    unauthorized = apigw.RestApi(stack, "UnprotectedApi", cloud_watch_role=False)
    unauthorized.root.add_method("GET", apigw.MockIntegration())

    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "UnprotectedApi/Default/GET/Resource" in str(failure.value)
    assert "AwsSolutions-APIG4" in str(failure.value)  # "The API does not implement authorization."


# --- cfn-lint ---------------------------------------------------------------------------------------------------


def test_cfn_lint_reports_no_errors_and_no_warnings(assembly):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--config-file", str(ROOT / ".cfnlintrc.yaml"), "--format", "json", *template_files(assembly)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert "Traceback" not in result.stderr, result.stderr
    findings = json.loads(result.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=2)
    assert result.returncode == 0


# --- checkov ----------------------------------------------------------------------------------------------------


def checkov_binary() -> str:
    binary = os.environ.get("CHECKOV") or str(ROOT / ".venv-checkov" / "bin" / "checkov")
    if not Path(binary).exists():
        pytest.fail(f"checkov is not installed at {binary}: run `make test`, which creates .venv-checkov")
    return binary


def test_checkov_finds_no_failed_check_and_every_skip_has_a_reason(assembly):
    files = template_files(assembly)
    result = subprocess.run(
        [checkov_binary(), "--framework", "cloudformation", "--skip-download", "--output", "json", "--file", *files],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]

    failed = [(c["check_id"], c["resource"]) for r in reports for c in r["results"]["failed_checks"]]
    passed = [c for r in reports for c in r["results"]["passed_checks"]]
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    assert failed == []
    assert len(passed) > 20  # it really checked the templates
    assert skipped, "the recorded skips are visible to checkov"
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "")) >= MIN_REASON, check["check_id"]
    assert result.returncode == 0
