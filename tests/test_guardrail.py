"""The guardrails' path from the configuration to the Converse call: cdk.json's guardrailProfiles, the function's
GUARDRAILS variable (stacks/function_env.py), the function's settings, and the properties of each profile's
guardrail (stacks/components/guardrail.py). The synthesized template is checked in test_security and
test_infrastructure; the calls themselves in test_handler and test_use_cases."""

from __future__ import annotations

import json

import pytest

from genai_core.settings import Guardrail, GuardrailSettings, Settings
from stacks.components.guardrail import CONTENT_FILTERS, guardrail_properties
from stacks.config import FAMILIES, load_config
from stacks.function_env import function_environment, guardrails_variable, one_guardrail
from tests.support import FUNCTION_ENV
from tests.test_config import context_values

CONFIG = load_config(context_values())


def test_each_guarded_family_gets_the_guardrail_of_its_profile_through_the_environment():
    ids = {"full": ("grfull", "3"), "prompt-attack": ("grattack", "5")}

    settings = GuardrailSettings.from_variable(guardrails_variable(CONFIG, ids))

    assert settings is not None
    assert settings.by_family == {
        family: Guardrail(*ids[profile]) for family, profile in CONFIG.guardrail.profiles.items() if profile != "none"
    }


def test_a_family_whose_profile_is_none_gets_no_guardrail():
    config = load_config(
        context_values(guardrailProfiles=dict(zip(FAMILIES, ("full", "none", "prompt-attack"), strict=True)))
    )
    settings = GuardrailSettings.from_variable(
        guardrails_variable(config, {"full": ("a", "1"), "prompt-attack": ("b", "1")})
    )

    assert settings is not None and set(settings.families) == {FAMILIES[0], FAMILIES[2]}
    assert GuardrailSettings.from_variable(guardrails_variable(config, {})) is None  # no guardrail at all


def test_make_local_uses_one_deployed_guardrail_for_every_profile():
    environment = function_environment(CONFIG, guardrails=one_guardrail(CONFIG, ("gr123", "DRAFT")))
    settings = Settings.from_env(environment)

    assert settings.guardrail is not None
    assert set(settings.guardrail.by_family.values()) == {Guardrail("gr123", "DRAFT")}
    assert one_guardrail(CONFIG, None) == {}


def test_the_tests_environment_follows_the_same_profiles():
    settings = Settings.from_env(FUNCTION_ENV)
    assert settings.guardrail is not None
    assert set(settings.guardrail.families) == set(CONFIG.guardrail.families)


def test_the_profiles_differ_only_in_what_they_filter():
    full = guardrail_properties(CONFIG.guardrail, "full")
    attack = guardrail_properties(CONFIG.guardrail, "prompt-attack")

    kinds = [f["type"] for f in full["contentPolicyConfig"]["filtersConfig"]]
    assert kinds == [*CONTENT_FILTERS, "PROMPT_ATTACK"]
    assert [f["type"] for f in attack["contentPolicyConfig"]["filtersConfig"]] == ["PROMPT_ATTACK"]
    assert "sensitiveInformationPolicyConfig" in full and "sensitiveInformationPolicyConfig" not in attack
    assert {k: v for k, v in full.items() if k.startswith("blocked")} == {
        k: v for k, v in attack.items() if k.startswith("blocked")
    }
    with pytest.raises(ValueError, match="no guardrail"):
        guardrail_properties(CONFIG.guardrail, "none")
    assert json.loads(FUNCTION_ENV["GUARDRAILS"])  # the handler tests run guarded
