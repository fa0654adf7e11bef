"""An Amazon Bedrock Guardrail and a pinned version of it.

Content filters (hate, insults, sexual, violence, misconduct) on input and output, the prompt-attack filter on
input, and a sensitive-information policy for e-mail addresses, phone numbers, card numbers and the Brazilian CPF
(a regular expression). The version's logical id carries a hash of the guardrail's configuration, so a change to
the policies publishes a new version and the function moves to it in the same deployment.
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


def guardrail_properties(config: GuardrailConfig) -> dict[str, Any]:
    filters = [
        {"type": name, "inputStrength": config.filter_strength, "outputStrength": config.filter_strength}
        for name in CONTENT_FILTERS
    ]
    filters.append({"type": "PROMPT_ATTACK", "inputStrength": config.prompt_attack_strength, "outputStrength": "NONE"})
    return {
        "contentPolicyConfig": {"filtersConfig": filters},
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
        "blockedInputMessaging": BLOCKED_INPUT,
        "blockedOutputsMessaging": BLOCKED_OUTPUT,
    }


class GenAiGuardrail(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: GuardrailConfig) -> None:
        super().__init__(scope, construct_id)
        properties = guardrail_properties(config)
        self.guardrail = bedrock.CfnGuardrail(
            self,
            "Guardrail",
            name=f"{Stack.of(self).stack_name}-guardrail",
            description="Content, prompt-attack and sensitive-information filters for the generative AI API",
            content_policy_config=properties["contentPolicyConfig"],
            sensitive_information_policy_config=properties["sensitiveInformationPolicyConfig"],
            blocked_input_messaging=properties["blockedInputMessaging"],
            blocked_outputs_messaging=properties["blockedOutputsMessaging"],
        )
        digest = hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()[:8]
        self.version = bedrock.CfnGuardrailVersion(
            self,
            f"Version{digest}",
            guardrail_identifier=self.guardrail.attr_guardrail_id,
            description=f"Pinned by the stack (configuration {digest})",
        )

    @property
    def guardrail_id(self) -> str:
        return self.guardrail.attr_guardrail_id

    @property
    def version_number(self) -> str:
        return self.version.attr_version

    def grant_apply(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ApplyTheStacksGuardrailOnly",
                actions=["bedrock:ApplyGuardrail"],
                resources=[self.guardrail.attr_guardrail_arn],
            )
        )
