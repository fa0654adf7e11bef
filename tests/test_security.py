"""Security hardening of the synthesized API stack: the edge (auth, validation, throttling, logs, tracing, WAF),
the Bedrock guardrail, and least privilege. Default context and the api-key + WAF variant are both checked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from endpoints import DISCOVERY_PATH, UPLOADS_PATH
from genai_core.catalog import load_catalog
from stacks.components.guardrail import CPF_PATTERN, NAMING, GenAiGuardrails
from stacks.components.rest_api import model_name
from tests.conftest import synthesize
from tests.support import API_STACK, CDK_CONTEXT, cdk_context
from tests.test_infrastructure import CONVERSATION_ROUTES, app_functions, resource_paths, resources, the_one
from tools.templates import render

ROUTES = list(load_catalog())


@pytest.fixture(scope="module")
def api_key_waf_template(variant_assembly: Any) -> dict[str, Any]:
    return dict(variant_assembly.get_stack_by_name(API_STACK).template)


def methods_by_path(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    paths = resource_paths(template)
    return {
        paths[m["Properties"]["ResourceId"]["Ref"]]: m["Properties"]
        for m in resources(template, "AWS::ApiGateway::Method").values()
    }


# --- the edge ---------------------------------------------------------------------------------------------------


def test_every_post_is_validated_against_its_catalog_model(templates):
    template = templates[API_STACK]
    ((validator_id, validator),) = resources(template, "AWS::ApiGateway::RequestValidator").items()
    assert validator["Properties"]["ValidateRequestBody"] is True
    models = {m["Properties"]["Name"]: m["Properties"] for m in resources(template, "AWS::ApiGateway::Model").values()}
    methods = methods_by_path(template)

    for route in ROUTES:
        method = methods[route.path]
        assert method["RequestValidatorId"] == {"Ref": validator_id}
        # Under any content type: API Gateway skips body validation for a content type without a model.
        model_ref = {"Ref": model_ids(template)[model_name(route)]}
        assert method["RequestModels"] == {"application/json": model_ref, "$default": model_ref}
        model = models[model_name(route)]
        assert model["ContentType"] == "application/json"
        schema = dict(model["Schema"])
        assert schema.pop("$schema") == "http://json-schema.org/draft-04/schema#"
        assert schema.pop("title") == model_name(route)
        assert schema == route.input_schema  # the catalog's schema, verbatim


def model_ids(template: dict[str, Any]) -> dict[str, str]:
    return {m["Properties"]["Name"]: key for key, m in resources(template, "AWS::ApiGateway::Model").items()}


def test_the_stage_logs_errors_and_json_access_logs_without_bodies_and_traces(templates):
    template = templates[API_STACK]
    stage = the_one(template, "AWS::ApiGateway::Stage")
    (settings,) = stage["MethodSettings"]

    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    assert stage["TracingEnabled"] is True
    destination = stage["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1]
    access_log_group = destination[-1]["Ref"]
    assert destination[-2] == ":log-group:"
    assert template["Resources"][access_log_group]["Properties"]["RetentionInDays"] == CDK_CONTEXT["logRetentionDays"]
    fields = json.loads(stage["AccessLogSetting"]["Format"])
    assert {"requestId", "ip", "userArn", "httpMethod", "resourcePath", "status", "integrationLatency"} <= set(fields)
    assert not any("body" in value.lower() for value in fields.values())


def test_every_log_group_has_a_retention(templates):
    for log_group in resources(templates[API_STACK], "AWS::Logs::LogGroup").values():
        assert log_group["Properties"]["RetentionInDays"] == CDK_CONTEXT["logRetentionDays"]


def test_api_gateway_gets_its_account_logging_role(templates):
    account = the_one(templates[API_STACK], "AWS::ApiGateway::Account")
    assert "CloudWatchRoleArn" in account


def test_iam_mode_has_no_api_key_and_no_waf(templates):
    template = templates[API_STACK]
    for resource_type in ("AWS::ApiGateway::ApiKey", "AWS::ApiGateway::UsagePlan", "AWS::WAFv2::WebACL"):
        assert resources(template, resource_type) == {}
    for method in methods_by_path(template).values():
        assert method["AuthorizationType"] == "AWS_IAM"
        assert method.get("ApiKeyRequired", False) is False


def test_api_key_mode_requires_a_key_on_every_method_with_a_throttled_metered_usage_plan(api_key_waf_template):
    template = api_key_waf_template
    methods = methods_by_path(template)
    assert set(methods) == {route.path for route in ROUTES} | {
        route.stream_path for route in ROUTES if route.streaming
    } | {DISCOVERY_PATH, UPLOADS_PATH} | {path for _, path in CONVERSATION_ROUTES}
    for method in resources(template, "AWS::ApiGateway::Method").values():
        assert method["Properties"]["ApiKeyRequired"] is True

    plan = the_one(template, "AWS::ApiGateway::UsagePlan")
    assert plan["Throttle"] == {
        "RateLimit": CDK_CONTEXT["throttlingRateLimit"],
        "BurstLimit": CDK_CONTEXT["throttlingBurstLimit"],
    }
    assert plan["Quota"] == {"Limit": CDK_CONTEXT["apiKeyQuotaPerDay"], "Period": "DAY"}
    (key_id,) = resources(template, "AWS::ApiGateway::ApiKey")
    link = the_one(template, "AWS::ApiGateway::UsagePlanKey")
    assert link["KeyId"] == {"Ref": key_id}
    assert template["Outputs"]["ApiKeyId"]["Value"] == {"Ref": key_id}  # the id, never the key's value


def test_waf_mode_puts_a_web_acl_with_the_common_rules_and_a_rate_limit_in_front_of_the_stage(api_key_waf_template):
    template = api_key_waf_template
    acl = the_one(template, "AWS::WAFv2::WebACL")
    rules = {rule["Name"]: rule for rule in acl["Rules"]}

    assert acl["Scope"] == "REGIONAL"
    common = rules["AwsCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert (common["VendorName"], common["Name"]) == ("AWS", "AWSManagedRulesCommonRuleSet")
    assert common["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    bad_inputs = rules["AwsKnownBadInputsRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert (bad_inputs["VendorName"], bad_inputs["Name"]) == ("AWS", "AWSManagedRulesKnownBadInputsRuleSet")
    assert [rule["Priority"] for rule in acl["Rules"]] == [0, 1, 2]
    rate = rules["RateLimitPerIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {"AggregateKeyType": "IP", "Limit": 300}
    (acl_id,) = resources(template, "AWS::WAFv2::WebACL")
    association = the_one(template, "AWS::WAFv2::WebACLAssociation")
    assert association["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert "stages/" in json.dumps(association["ResourceArn"])


# --- the guardrail ----------------------------------------------------------------------------------------------


def guardrail_of(template: dict[str, Any], profile: str) -> dict[str, Any]:
    """The properties of the stack's guardrail of ``profile`` (its name ends with the profile's suffix)."""
    (found,) = [
        guardrail["Properties"]
        for guardrail in resources(template, "AWS::Bedrock::Guardrail").values()
        if guardrail["Properties"]["Name"].endswith(f"-{NAMING[profile][2]}")
    ]
    return found


def test_the_full_guardrail_filters_content_prompt_attacks_and_sensitive_information(templates):
    guardrail = guardrail_of(templates[API_STACK], "full")
    filters = {f["Type"]: f for f in guardrail["ContentPolicyConfig"]["FiltersConfig"]}
    strength = CDK_CONTEXT["guardrailFilterStrength"]

    for name in ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT"):
        assert (filters[name]["InputStrength"], filters[name]["OutputStrength"]) == (strength, strength)
    assert filters["PROMPT_ATTACK"] == {
        "Type": "PROMPT_ATTACK",
        "InputStrength": CDK_CONTEXT["guardrailPromptAttackStrength"],
        "OutputStrength": "NONE",
    }
    sensitive = guardrail["SensitiveInformationPolicyConfig"]
    action = CDK_CONTEXT["guardrailPiiAction"]
    assert {(e["Type"], e["Action"]) for e in sensitive["PiiEntitiesConfig"]} == {
        ("EMAIL", action),
        ("PHONE", action),
        ("CREDIT_DEBIT_CARD_NUMBER", action),
    }
    (cpf,) = sensitive["RegexesConfig"]
    assert (cpf["Name"], cpf["Pattern"], cpf["Action"]) == ("BR_CPF", CPF_PATTERN, action)
    assert guardrail["BlockedInputMessaging"] and guardrail["BlockedOutputsMessaging"]


def test_the_prompt_attack_guardrail_filters_prompt_attacks_on_input_only(templates):
    """For data that may be harsh or personal by nature: no content filter to block it, no PII policy to mask it."""
    guardrail = guardrail_of(templates[API_STACK], "prompt-attack")

    assert guardrail["ContentPolicyConfig"]["FiltersConfig"] == [
        {
            "Type": "PROMPT_ATTACK",
            "InputStrength": CDK_CONTEXT["guardrailPromptAttackStrength"],
            "OutputStrength": "NONE",
        }
    ]
    assert "SensitiveInformationPolicyConfig" not in guardrail
    assert guardrail["BlockedInputMessaging"] and guardrail["BlockedOutputsMessaging"]


def test_every_family_that_takes_end_user_text_is_guarded_by_default(templates):
    for function in app_functions(templates[API_STACK]).values():
        guarded = json.loads(render(function["Properties"]["Environment"]["Variables"]["GUARDRAILS"]))
        assert set(guarded) == {use_case.family for use_case in load_catalog()}  # every task takes caller text


@pytest.mark.parametrize(
    ("profiles", "created"),
    [(("full", "full", "full"), ["full"]), (("none", "prompt-attack", "none"), ["prompt-attack"]), (("none",) * 3, [])],
)
def test_only_the_profiles_in_use_are_created_and_may_be_applied(profiles, created):
    from aws_cdk import App, Stack
    from aws_cdk import aws_iam as iam
    from aws_cdk.assertions import Template

    from stacks.config import FAMILIES, load_config
    from tests.test_config import context_values

    config = load_config(context_values(guardrailProfiles=dict(zip(FAMILIES, profiles, strict=True)))).guardrail
    stack = Stack(App(), "Guardrails")
    guardrails = GenAiGuardrails(stack, "Guardrail", config=config)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    guardrails.grant_apply(role)
    template = Template.from_stack(stack).to_json()

    names = sorted(g["Properties"]["Name"] for g in resources(template, "AWS::Bedrock::Guardrail").values())
    assert names == sorted(f"Guardrails-{NAMING[profile][2]}" for profile in created)
    assert sorted(guardrails.ids()) == sorted(created)
    assert ("bedrock:ApplyGuardrail" in json.dumps(template)) == bool(created)


def test_a_pinned_guardrail_version_follows_the_configuration(templates):
    template = templates[API_STACK]
    guardrails = resources(template, "AWS::Bedrock::Guardrail")
    versions = resources(template, "AWS::Bedrock::GuardrailVersion")
    assert sorted(v["Properties"]["GuardrailIdentifier"]["Fn::GetAtt"][0] for v in versions.values()) == sorted(
        guardrails
    )

    stricter = synthesize(cdk_context(guardrailFilterStrength="MEDIUM"))[API_STACK]
    changed = set(resources(stricter, "AWS::Bedrock::GuardrailVersion")) - set(versions)
    assert len(changed) == 1  # the full guardrail's policy changed: it publishes a new version; the other keeps its


def test_prompt_logging_is_off_in_both_functions(templates):
    for function in app_functions(templates[API_STACK]).values():
        assert function["Properties"]["Environment"]["Variables"]["LOG_PROMPTS"] == "false"  # privacy by default


# --- least privilege --------------------------------------------------------------------------------------------


def test_no_bedrock_statement_has_a_wildcard(templates, api_key_waf_template):
    for template in (templates[API_STACK], api_key_waf_template):
        for policy in resources(template, "AWS::IAM::Policy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if any(action.startswith("bedrock:") for action in actions):
                    assert "bedrock:*" not in actions
                    assert "*" not in json.dumps(statement["Resource"]), statement


def test_nothing_secret_is_in_any_functions_environment(templates):
    for function in resources(templates[API_STACK], "AWS::Lambda::Function").values():
        for name in function["Properties"].get("Environment", {}).get("Variables", {}):
            assert not any(word in name for word in ("SECRET", "PASSWORD", "TOKEN", "KEY")), name
