"""stacks/conversations_config.py: the ``conversations`` context key (on, off, configured), its ranges tied to the
function's ``Limits``, and what each setting does to the synthesized API stack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from genai_core.conversation_settings import Limits
from genai_core.settings import CONVERSATIONS_TABLE as ENV_TABLE
from genai_core.settings import conversation_settings
from stacks.config import ConfigError, load_config
from stacks.conversations_config import (
    DEFAULTS,
    KEYS,
    LIMIT_KEYS,
    RECOVERY_PERIOD_RANGE,
    context_value,
    load_conversations_config,
)
from tests.conftest import synthesize
from tests.support import API_STACK, CDK_CONTEXT, cdk_context
from tests.test_infrastructure import api_function, app_functions, resources


def test_cdk_json_holds_the_defaults_in_full():
    assert CDK_CONTEXT["conversations"] == context_value(DEFAULTS)
    assert list(CDK_CONTEXT["conversations"]) == list(KEYS)


@pytest.mark.parametrize("value", [None, True, "true", {}, "{}"])
def test_absent_true_or_an_empty_object_is_the_defaults(value):
    assert load_conversations_config(value) == DEFAULTS


@pytest.mark.parametrize("value", [False, "false", {"enabled": False}, '{"enabled": false}'])
def test_false_switches_them_off(value):
    assert load_conversations_config(value).enabled is False


def test_an_object_changes_its_keys_and_keeps_the_other_defaults():
    config = load_conversations_config('{"ttlDays": 7, "recoveryPeriodDays": 35, "promptCacheModels": []}')

    assert config.limits == Limits(ttl_days=7)
    assert (config.recovery_period_days, config.prompt_cache_models) == (35, ())
    assert config.enabled is True


@pytest.mark.parametrize("key", list(LIMIT_KEYS))
def test_each_limits_range_is_the_functions_own(key):
    """The loader accepts exactly what the function's Limits accepts, at both ends."""
    field, (low, high) = LIMIT_KEYS[key]
    for value in (low, high):
        assert getattr(load_conversations_config({key: value}).limits, field) == value
        assert getattr(Limits(**{field: value}), field) == value
    for value in (low - 1, high + 1):
        with pytest.raises(ConfigError, match=f"{key} must be an integer from {low} to {high}"):
            load_conversations_config({key: value})
        with pytest.raises(ValueError):
            Limits(**{field: value})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"ttlDays": "30"}, "ttlDays must be an integer"),
        ({"ttlDays": True}, "ttlDays must be an integer"),
        ({"recoveryPeriodDays": RECOVERY_PERIOD_RANGE[1] + 1}, "recoveryPeriodDays must be an integer from 1 to 35"),
        ({"recoveryPeriodDays": 0}, "recoveryPeriodDays"),
        ({"enabled": "yes"}, "enabled must be true or false"),
        ({"promptCacheModels": "amazon.nova-pro-v1:0"}, "promptCacheModels must be a list"),
        ({"promptCacheModels": ["us.amazon.nova-pro-v1:0"]}, "not an inference profile's"),
        ({"ttl": 30}, "unknown keys ['ttl']"),
        ("maybe", "must be true, false or a JSON object"),
        (7, "must be true, false or an object"),
    ],
)
def test_a_bad_value_names_the_key_and_what_it_allows(value, message):
    with pytest.raises(ConfigError, match="context key 'conversations'") as raised:
        load_conversations_config(value)

    assert message in str(raised.value)


def test_the_app_config_reads_the_key():
    assert load_config(cdk_context()).conversations == DEFAULTS
    assert load_config(cdk_context(conversations=False)).conversations.enabled is False


# --- what the settings do to the API stack ----------------------------------------------------------------------------


def dynamodb_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "dynamodb:" in json.dumps(statement["Action"])
    ]


@pytest.fixture(scope="module")
def switched_off() -> dict[str, Any]:
    return synthesize(cdk_context(conversations=False))[API_STACK]


def test_off_the_stack_has_no_table_no_grant_no_variable_no_route_and_no_output(switched_off):
    template = switched_off

    assert resources(template, "AWS::DynamoDB::Table") == {}
    assert dynamodb_statements(template) == []
    for function in resources(template, "AWS::Lambda::Function").values():  # the CDK's auto-delete one has none
        assert ENV_TABLE not in function["Properties"].get("Environment", {}).get("Variables", {})
    paths = {
        resource["Properties"]["PathPart"] for resource in resources(template, "AWS::ApiGateway::Resource").values()
    }
    assert "conversations" not in paths
    assert "ConversationsTableName" not in template["Outputs"]


def test_configured_limits_reach_both_functions_and_the_recovery_period_the_table(templates):
    custom = {**CDK_CONTEXT["conversations"], "ttlDays": 3, "historyMaxMessages": 10, "recoveryPeriodDays": 2}
    template = synthesize(cdk_context(conversations=custom, profile="production"))[API_STACK]

    for function in app_functions(template).values():
        variables = dict(function["Properties"]["Environment"]["Variables"])
        variables[ENV_TABLE] = "stand-in"  # the template's is a reference to the table
        settings = conversation_settings(variables)
        assert settings is not None
        assert (settings.limits.ttl_days, settings.limits.max_history_messages) == (3, 10)
    ((_, table),) = resources(template, "AWS::DynamoDB::Table").items()
    assert table["Properties"]["PointInTimeRecoverySpecification"]["RecoveryPeriodInDays"] == 2
    # Production keeps the table (and every caller's conversations) when the stack goes, and protects it.
    assert (table["DeletionPolicy"], table["Properties"]["DeletionProtectionEnabled"]) == ("Retain", True)
    assert api_function(template)["Environment"]["Variables"][ENV_TABLE] == {
        "Ref": next(iter(resources(template, "AWS::DynamoDB::Table")))
    }


def test_the_configuration_page_shows_each_keys_default_and_range():
    from tests.support import ROOT

    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = page.split("\n## Conversations\n", 1)[1].split("\n## ", 1)[0]
    rows = {
        cells[0].strip("`"): cells
        for line in section.splitlines()
        if line.startswith("| `") and (cells := [cell.strip() for cell in line.strip("|").split("|")])
    }
    defaults = context_value(DEFAULTS)

    assert set(rows) == set(KEYS)
    for key, (_, (low, high)) in LIMIT_KEYS.items():
        assert rows[key][1] == f"`{defaults[key]}`", key
        assert rows[key][2] == f"`{low}`–`{high}`", key
    assert rows["recoveryPeriodDays"][2] == "`{}`–`{}`".format(*RECOVERY_PERIOD_RANGE)
    assert rows["recoveryPeriodDays"][1] == f"`{defaults['recoveryPeriodDays']}`"
