"""The scanners, inside `make test`: cdk-nag (AwsSolutions), cfn-lint and checkov find nothing unexplained.

cfn-lint and checkov run once per session (tests/conftest.py, with tools/scanners.py); `make review` reports the same
runs.

Each exception is recorded where it applies, with its reason: cdk-nag acknowledgments on the violating construct
(stacks/components/compliance.py), checkov skips in the resource's metadata, cfn-lint ignores in .cfnlintrc.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_apigateway as apigw

from tests.support import API_STACK, cdk_context
from tools.scanners import checkov_checks

MIN_REASON = 40  # characters: a reason says why, not just "ok"


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
            assert construct["constructPath"] in (
                violation["acknowledgedAt"],
                f"{violation['acknowledgedAt']}/Resource",
            )


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


def test_cfn_lint_reports_no_errors_and_no_warnings(cfn_lint_run):
    assert "Traceback" not in cfn_lint_run.stderr, cfn_lint_run.stderr
    assert cfn_lint_run.output == [], json.dumps(cfn_lint_run.output, indent=2)
    assert cfn_lint_run.returncode == 0


# --- checkov ----------------------------------------------------------------------------------------------------


def test_checkov_passes_the_api_key_and_waf_variant_too(variant_checkov_run):
    failed = [(c["check_id"], c["resource"]) for c in checkov_checks(variant_checkov_run, "failed")]
    passed = {c["check_id"] for c in checkov_checks(variant_checkov_run, "passed")}

    assert failed == []
    assert {"CKV_AWS_192"} <= passed  # the web ACL protects against Log4j-style inputs
    assert variant_checkov_run.returncode == 0


def test_checkov_finds_no_failed_check_and_every_skip_has_a_reason(checkov_run):
    failed = [(c["check_id"], c["resource"]) for c in checkov_checks(checkov_run, "failed")]
    passed = checkov_checks(checkov_run, "passed")
    skipped = checkov_checks(checkov_run, "skipped")
    assert failed == []
    assert len(passed) > 20  # it really checked the templates
    assert skipped, "the recorded skips are visible to checkov"
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "")) >= MIN_REASON, check["check_id"]
    assert checkov_run.returncode == 0
