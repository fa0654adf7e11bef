"""The Amazon Bedrock guardrails of the stack: one per profile some family uses, each with a pinned version.

- ``full`` (end-customer text): content filters (hate, insults, sexual, violence, misconduct) on input and output,
  the prompt-attack filter on input, and a sensitive-information policy for e-mail addresses, phone numbers, card
  numbers and the Brazilian CPF (a regular expression).
- ``prompt-attack`` (data to process): the prompt-attack filter on input, nothing else. A complaint to classify may
  be insulting and an invoice to extract holds an e-mail address by nature: content filters or PII masking there
  would block or corrupt the task, and the structured answers are tool calls, which no guardrail policy assesses.

The function tags only the caller's text for assessment (``guardContent`` blocks, ``genai_core.prompts``), so our
own instructions are neither flagged as an attack nor billed as text units. Costs and the reasoning: ADR 0005.
A version's logical id carries a hash of its guardrail's configuration, so a change to the policies publishes a new
version and the function moves to it in the same deployment.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.config import GuardrailConfig

CONTENT_FILTERS = ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT")
PII_ENTITIES = ("EMAIL", "PHONE", "CREDIT_DEBIT_CARD_NUMBER")
# CPF: 11 digits, usually written 000.000.000-00.
CPF_PATTERN = r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b"
BLOCKED_INPUT = "Sorry, I can't help with that request. / Desculpe, não posso ajudar com essa solicitação."
BLOCKED_OUTPUT = "Sorry, I can't provide that answer. / Desculpe, não posso fornecer essa resposta."
# profile -> (construct id, version id prefix, name suffix, description). The "full" guardrail keeps the ids it had
# when it was the only one, so that a deployed stack keeps it.
NAMING = {
    "full": ("Guardrail", "Version", "guardrail-full", "Content, prompt-attack and sensitive-information filters"),
    "prompt-attack": (
        "PromptAttack",
        "PromptAttackVersion",
        "guardrail-prompt-attack",
        "Prompt-attack filter on the caller's input",
    ),
}


def _prompt_attack(config: GuardrailConfig) -> dict[str, Any]:
    return {"type": "PROMPT_ATTACK", "inputStrength": config.prompt_attack_strength, "outputStrength": "NONE"}


def guardrail_properties(config: GuardrailConfig, profile: str = "full") -> dict[str, Any]:
    """The CloudFormation properties (camelCase, as the CDK takes them) of the guardrail of ``profile``."""
    messaging = {"blockedInputMessaging": BLOCKED_INPUT, "blockedOutputsMessaging": BLOCKED_OUTPUT}
    if profile == "prompt-attack":
        return {"contentPolicyConfig": {"filtersConfig": [_prompt_attack(config)]}, **messaging}
    if profile != "full":
        raise ValueError(f"no guardrail for the profile {profile!r}")
    filters = [
        {"type": name, "inputStrength": config.filter_strength, "outputStrength": config.filter_strength}
        for name in CONTENT_FILTERS
    ]
    return {
        "contentPolicyConfig": {"filtersConfig": [*filters, _prompt_attack(config)]},
        "sensitiveInformationPolicyConfig": {
            "piiEntitiesConfig": [{"type": name, "action": config.pii_action} for name in PII_ENTITIES],
            "regexesConfig": [
                {
                    "name": "BR_CPF",
                    "description": "Brazilian individual taxpayer id (CPF)",
                    "pattern": CPF_PATTERN,
                    "action": config.pii_action,
                }
            ],
        },
        **messaging,
    }


class GenAiGuardrails(Construct):
    """One guardrail and a pinned version per profile in use (``GuardrailConfig.profiles_in_use``)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: GuardrailConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.guardrails: dict[str, bedrock.CfnGuardrail] = {}
        self.versions: dict[str, bedrock.CfnGuardrailVersion] = {}
        stack_name = Stack.of(self).stack_name
        for profile in config.profiles_in_use:
            child, version_prefix, suffix, description = NAMING[profile]
            properties = guardrail_properties(config, profile)
            guardrail = bedrock.CfnGuardrail(
                self,
                child,
                name=f"{stack_name}-{suffix}",
                description=f"{description} for the generative AI API",
                content_policy_config=properties["contentPolicyConfig"],
                sensitive_information_policy_config=properties.get("sensitiveInformationPolicyConfig"),
                blocked_input_messaging=properties["blockedInputMessaging"],
                blocked_outputs_messaging=properties["blockedOutputsMessaging"],
            )
            digest = hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()[:8]
            self.guardrails[profile] = guardrail
            self.versions[profile] = bedrock.CfnGuardrailVersion(
                self,
                f"{version_prefix}{digest}",
                guardrail_identifier=guardrail.attr_guardrail_id,
                description=f"Pinned by the stack (configuration {digest})",
            )

    def ids(self) -> dict[str, tuple[str, str]]:
        """profile -> (guardrail id, pinned version), for the function's environment (``stacks/function_env.py``)."""
        return {
            profile: (guardrail.attr_guardrail_id, self.versions[profile].attr_version)
            for profile, guardrail in self.guardrails.items()
        }

    def grant_apply(self, grantee: iam.IGrantable) -> None:
        if not self.guardrails:
            return
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ApplyTheStacksGuardrailsOnly",
                actions=["bedrock:ApplyGuardrail"],
                resources=[guardrail.attr_guardrail_arn for guardrail in self.guardrails.values()],
            )
        )
