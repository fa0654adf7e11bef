"""Least-privilege IAM for Amazon Bedrock: invoke exactly the configured models, nothing else.

For a cross-region inference profile (``us.amazon.nova-2-lite-v1:0``) the caller needs ``bedrock:InvokeModel`` on
the profile ARN in its own region and on the foundation model in every region the profile routes to. The second
statement is conditioned on ``bedrock:InferenceProfileArn``: the foundation model is reachable only through the
configured profiles, never directly. There is no ``*`` model and no ``bedrock:*`` action.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Fn
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.components.compliance import acknowledge
from stacks.config import ModelTarget

INVOKE_ACTIONS = ["bedrock:InvokeModel"]  # Converse is authorized as bedrock:InvokeModel
STREAM_ACTIONS = ["bedrock:InvokeModelWithResponseStream"]  # ConverseStream


def profile_arn(model_id: str) -> str:
    return f"arn:{Aws.PARTITION}:bedrock:{Aws.REGION}:{Aws.ACCOUNT_ID}:inference-profile/{model_id}"


def foundation_model_arn(model_id: str, region: str = Aws.REGION) -> str:
    return f"arn:{Aws.PARTITION}:bedrock:{region}::foundation-model/{model_id}"


class BedrockModelAccess(Construct):
    """Holds the policy statements that allow invoking the configured models; ``grant_invoke`` attaches them."""

    def __init__(self, scope: Construct, construct_id: str, *, targets: Iterable[ModelTarget]) -> None:
        super().__init__(scope, construct_id)
        unique = {target.model_id: target for target in targets}
        self.targets = [unique[model_id] for model_id in sorted(unique)]
        self.statements = self._statements(INVOKE_ACTIONS, "")
        self.stream_statements = self._statements(STREAM_ACTIONS, "Stream")
        self._require_a_source_region_of_each_profile()

    def _require_a_source_region_of_each_profile(self) -> None:
        """A geographic profile (us., eu., ...) can only be invoked from a region of its geography: refuse to deploy
        elsewhere, with a message, rather than let every request fail later."""
        for target in self.targets:
            regions = list(target.profile_regions or ())
            if not regions or "*" in regions:
                continue  # a foundation model in the stack's region, or a global profile
            CfnRule(
                self,
                f"SourceRegionFor{''.join(c for c in target.model_id.title() if c.isalnum())}",
                assertions=[
                    CfnRuleAssertion(
                        assert_=Fn.condition_contains(regions, Aws.REGION),
                        assert_description=(
                            f"The model {target.model_id} is a cross-region inference profile that can only be called "
                            f"from one of {', '.join(regions)}. Deploy to one of them, or configure another model "
                            "(context key 'models')."
                        ),
                    )
                ],
            )

    def _statements(self, actions: list[str], suffix: str) -> list[iam.PolicyStatement]:
        statements: list[iam.PolicyStatement] = []
        direct = [t for t in self.targets if not t.is_profile]
        if direct:
            statements.append(
                iam.PolicyStatement(
                    sid=f"InvokeConfiguredFoundationModels{suffix}",
                    actions=actions,
                    resources=[foundation_model_arn(t.model_id) for t in direct],
                )
            )
        profiles = [t for t in self.targets if t.is_profile]
        if profiles:
            statements.append(
                iam.PolicyStatement(
                    sid=f"InvokeConfiguredInferenceProfiles{suffix}",
                    actions=actions,
                    resources=[profile_arn(t.model_id) for t in profiles],
                )
            )
            statements.append(
                iam.PolicyStatement(
                    sid=f"InvokeRoutedFoundationModelsThroughProfilesOnly{suffix}",
                    actions=actions,
                    resources=sorted(
                        {
                            foundation_model_arn(t.foundation_model, region)
                            for t in profiles
                            for region in t.profile_regions or ()
                        }
                    ),
                    conditions={
                        "StringEquals": {"bedrock:InferenceProfileArn": [profile_arn(t.model_id) for t in profiles]}
                    },
                )
            )
        return statements

    def grant_invoke(self, grantee: lambda_.IFunction) -> None:
        """Converse (``bedrock:InvokeModel``) on the configured models."""
        self._grant(grantee, self.statements)

    def grant_invoke_stream(self, grantee: lambda_.IFunction) -> None:
        """ConverseStream (``bedrock:InvokeModelWithResponseStream``) on the same models, and nothing else."""
        self._grant(grantee, self.stream_statements)

    def _grant(self, grantee: lambda_.IFunction, statements: list[iam.PolicyStatement]) -> None:
        for statement in statements:
            grantee.grant_principal.add_to_principal_policy(statement)
        # A global profile routes to any commercial region: its foundation-model ARN has "*" for the region. It is
        # reachable only through the profile (the statement's bedrock:InferenceProfileArn condition).
        for target in self.targets:
            if target.is_profile and "*" in (target.profile_regions or ()):
                role = grantee.role
                policy = role.node.try_find_child("DefaultPolicy") if role is not None else None
                if policy is not None:
                    acknowledge(
                        policy,
                        f"IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/{target.foundation_model}]",
                        f"{target.model_id} is a global cross-region inference profile: Bedrock may serve it from any "
                        "commercial region, so the foundation model's ARN has every region. The statement allows it only "
                        "through the configured profile (condition bedrock:InferenceProfileArn).",
                    )
