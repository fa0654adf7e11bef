"""The conversations table construct (stacks/components/conversations_table.py), synthesized on its own in a
minimal stack (tests/conversations_support.py), once per session per profile: template assertions for every
decision, a snapshot, and the three scanners (cdk-nag as app.py registers it, cfn-lint, checkov), clean with every
exception explained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk.assertions import Match, Template
from syrupy.extensions.json import JSONSnapshotExtension

from genai_core import conversation_settings as conversations
from stacks.components.conversations_table import ConversationsTable
from stacks.conversations_config import DEFAULTS, RECOVERY_PERIOD_RANGE
from tests.conversations_support import STACK, TABLE_TYPE, table_assembly, table_properties, table_template
from tests.scanner_support import MIN_REASON, assert_cfn_lint_clean, assert_skips_explained, checkov, checkov_outcome
from tests.test_snapshots import normalise
from tools.scanners import run_cfn_lint

PROFILES = {"sandbox": False, "production": True}  # profile -> retain


@pytest.fixture(scope="session", params=sorted(PROFILES))
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def template_files() -> list[str]:
    return [
        str(Path(assembly.directory) / assembly.get_stack_by_name(STACK).template_file)
        for assembly in (table_assembly(retain=retain) for retain in PROFILES.values())
    ]


def template(profile: str) -> Template:
    return Template.from_json(table_template(retain=PROFILES[profile]))


def the_table(profile: str) -> dict[str, Any]:
    (resource,) = template(profile).find_resources(TABLE_TYPE).values()
    return dict(resource)


# --- the table --------------------------------------------------------------------------------------------------


def test_the_table_is_keyed_by_owner_hash_and_conversation_id_with_the_names_the_store_uses(profile):
    properties = table_properties(table_template(retain=PROFILES[profile]))

    assert properties["KeySchema"] == [
        {"AttributeName": conversations.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": conversations.SORT_KEY, "KeyType": "RANGE"},
    ]
    definitions = {d["AttributeName"]: d["AttributeType"] for d in properties["AttributeDefinitions"]}
    assert definitions == {
        conversations.PARTITION_KEY: "S",
        conversations.SORT_KEY: "S",
        conversations.UPDATED_ATTRIBUTE: "N",
    }


def test_one_index_lists_by_update_time_and_projects_no_message(profile):
    (index,) = table_properties(table_template(retain=PROFILES[profile]))["GlobalSecondaryIndexes"]

    assert index["IndexName"] == conversations.UPDATED_INDEX
    assert index["KeySchema"] == [
        {"AttributeName": conversations.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": conversations.UPDATED_ATTRIBUTE, "KeyType": "RANGE"},
    ]
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(index["Projection"]["NonKeyAttributes"]) == sorted(conversations.INDEX_PROJECTION)
    assert "messages" not in index["Projection"]["NonKeyAttributes"]


def test_the_table_is_on_demand_encrypted_with_the_aws_managed_key_with_ttl_and_pitr(profile):
    template(profile).has_resource_properties(
        TABLE_TYPE,
        {
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"SSEEnabled": True, "KMSMasterKeyId": Match.absent()},  # aws/dynamodb
            "TimeToLiveSpecification": {"AttributeName": conversations.TTL_ATTRIBUTE, "Enabled": True},
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": True,
                "RecoveryPeriodInDays": DEFAULTS.recovery_period_days,
            },
        },
    )
    template(profile).resource_count_is("AWS::KMS::Key", 0)  # no key of the stack's own to leave behind


def test_the_sandbox_deletes_the_table_with_the_stack_and_production_retains_and_protects_it(profile):
    retain = PROFILES[profile]
    table = the_table(profile)

    policy = "Retain" if retain else "Delete"
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == (policy, policy)
    assert table["Properties"]["DeletionProtectionEnabled"] is retain


def test_the_recovery_period_is_configurable_within_dynamodbs_range():
    from aws_cdk import App, Stack

    stack = Stack(App(), "RecoveryPeriod")
    ConversationsTable(stack, "Conversations", removal_policy=RemovalPolicy.DESTROY, recovery_period_days=1)
    Template.from_stack(stack).has_resource_properties(
        TABLE_TYPE, {"PointInTimeRecoverySpecification": {"RecoveryPeriodInDays": 1}}
    )
    low, high = RECOVERY_PERIOD_RANGE
    assert (low, high) == (1, 35)  # DynamoDB's RecoveryPeriodInDays
    for days in (low - 1, high + 1):
        with pytest.raises(ValueError, match="recovery_period_days"):
            ConversationsTable(stack, f"Bad{days}", removal_policy=RemovalPolicy.DESTROY, recovery_period_days=days)


# --- the grant ------------------------------------------------------------------------------------------------


def test_the_grant_is_exactly_the_stores_actions_on_the_table_and_query_on_its_index_only(profile):
    policies = template(profile).find_resources("AWS::IAM::Policy")
    (policy,) = policies.values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (table_id,) = template(profile).find_resources(TABLE_TYPE)
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}

    def actions(statement: dict[str, Any]) -> list[str]:
        return sorted([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])

    assert [(actions(s), s["Resource"], s["Effect"]) for s in statements] == [
        (sorted(conversations.TABLE_ACTIONS), table_arn, "Allow"),
        (
            sorted(conversations.INDEX_ACTIONS),
            {"Fn::Join": ["", [table_arn, f"/index/{conversations.UPDATED_INDEX}"]]},
            "Allow",
        ),
    ]
    assert all("Condition" not in statement for statement in statements)


def test_the_cdk_convenience_grant_would_give_more_than_the_store_needs():
    """Why the construct writes its own statements: ``grant_read_write_data`` adds Scan, batch and describe
    actions, and ``grant`` adds ``index/*`` once the table has an index."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_iam as iam

    stack = Stack(App(), "Convenience")
    table = ConversationsTable(
        stack, "Conversations", removal_policy=RemovalPolicy.DESTROY, recovery_period_days=7
    ).table
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    table.grant_read_write_data(role)
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    granted = {a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert {"dynamodb:Scan", "dynamodb:BatchWriteItem"} <= granted
    assert not granted <= set(conversations.TABLE_ACTIONS + conversations.INDEX_ACTIONS)


# --- snapshot -------------------------------------------------------------------------------------------------


def test_the_table_stack_matches_the_snapshot(profile, snapshot):
    assert normalise(table_template(retain=PROFILES[profile])) == snapshot.use_extension(JSONSnapshotExtension)


# --- scanners -------------------------------------------------------------------------------------------------


def test_cdk_nag_finds_nothing_in_the_table_stack(profile):
    report = json.loads(
        (Path(table_assembly(retain=PROFILES[profile]).directory) / "validation-report.json").read_text()
    )

    # The CDK lists a plugin in the report only when it found something (acknowledged or not).
    for plugin in report["pluginReports"]:
        assert (plugin["pluginName"], plugin["conclusion"], plugin["violations"]) == ("AwsSolutions", "success", [])
        for violation in plugin["suppressedViolations"]:
            assert len(violation["reason"]) >= MIN_REASON, violation["ruleName"]


def test_cdk_nag_does_check_the_table_it_stops_synth_without_point_in_time_recovery():
    """The clean report above means something: AwsSolutions-DDB3 evaluates this table (an AWS::DynamoDB::Table;
    it does not evaluate TableV2's AWS::DynamoDB::GlobalTable)."""
    from aws_cdk import App, Stack, Validations
    from aws_cdk import aws_dynamodb as dynamodb
    from cdk_nag import AwsSolutionsChecks

    from tests.support import cdk_context

    app = App(context=cdk_context())
    table = ConversationsTable(
        Stack(app, "NoRecovery"), "Conversations", removal_policy=RemovalPolicy.DESTROY, recovery_period_days=7
    ).table
    resource = table.node.default_child
    assert isinstance(resource, dynamodb.CfnTable)
    resource.point_in_time_recovery_specification = dynamodb.CfnTable.PointInTimeRecoverySpecificationProperty(
        point_in_time_recovery_enabled=False
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "AwsSolutions-DDB3" in str(failure.value)


def test_cfn_lint_finds_nothing_in_the_table_stack(template_files):
    assert_cfn_lint_clean(run_cfn_lint(template_files))


@pytest.fixture(scope="session")
def table_checkov_run(template_files: list[str]) -> Any:
    return checkov(template_files)


def test_checkov_passes_the_table_stack_with_its_one_skip_explained(table_checkov_run):
    outcome = checkov_outcome(table_checkov_run)

    assert outcome.failed == []
    assert "CKV_AWS_28" in outcome.passed  # point-in-time recovery
    # customer managed key: a choice, see above
    assert {check["check_id"] for check in outcome.skipped} == {"CKV_AWS_119"}
    assert_skips_explained(outcome.skipped)
    assert table_checkov_run.returncode == 0
