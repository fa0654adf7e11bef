"""The scanners, inside `make test`: cdk-nag (AwsSolutions), cfn-lint and checkov find nothing unexplained.

cfn-lint and checkov run once per session (tests/conftest.py, with tools/scanners.py); `make review` reports the same
runs.

Each exception is recorded where it applies, with its reason: cdk-nag acknowledgments on the violating construct
(stacks/components/compliance.py), checkov skips in the resource's metadata, cfn-lint ignores in .cfnlintrc.yaml.
"""

from __future__ import annotations

import pytest
from aws_cdk import aws_apigateway as apigw

from tests.scanner_support import (
    MIN_REASON,
    assert_cfn_lint_clean,
    assert_skips_explained,
    checkov_outcome,
    nag_report,
)
from tests.support import API_STACK, cdk_context
from tools.scanners import checkov_checks

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
    assert_cfn_lint_clean(cfn_lint_run)


# --- checkov ----------------------------------------------------------------------------------------------------


def test_checkov_passes_the_api_key_and_waf_variant_too(variant_checkov_run):
    outcome = checkov_outcome(variant_checkov_run)

    assert outcome.failed == []
    assert {"CKV_AWS_192"} <= outcome.passed  # the web ACL protects against Log4j-style inputs
    assert variant_checkov_run.returncode == 0


def test_checkov_finds_no_failed_check_and_every_skip_has_a_reason(checkov_run):
    failed = [(c["check_id"], c["resource"]) for c in checkov_checks(checkov_run, "failed")]
    passed = checkov_checks(checkov_run, "passed")
    skipped = checkov_checks(checkov_run, "skipped")
    assert failed == []
    assert len(passed) > 20  # it really checked the templates
    assert skipped, "the recorded skips are visible to checkov"
    assert_skips_explained(skipped)
    assert checkov_run.returncode == 0
