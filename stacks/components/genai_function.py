"""The Python function that serves every use case: arm64, the managed runtime, code straight from ``lambda/``.

boto3 comes from the runtime and Powertools from its AWS-managed layer, so the asset holds only our code and the
catalog (no Docker, no bundling step). Its log group is explicit, with a retention and the profile's removal policy
(sandbox: deleted with the stack; production: retained), and its role can write only to that log group; Bedrock
access is granted separately by ``BedrockModelAccess``. X-Ray tracing is active: the CDK adds the two X-Ray write
actions to the role (X-Ray has no resource-level permissions, so their resource is ``*``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Aws, CfnResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from genai_core.limits import ClientSettings
from stacks import FUNCTION_DIR
from stacks.components.log_groups import log_group
from stacks.config import FunctionConfig
from stacks.function_env import runtime_environment

RUNTIME = lambda_.Runtime.PYTHON_3_14
POWERTOOLS_LAYER = (
    "arn:{partition}:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:{version}"
)
ASSET_EXCLUDES = ["__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ruff_cache"]


class GenAiFunction(Construct):
    """A function over the asset in ``lambda/genai_api``. By default the buffered API's (``handler.lambda_handler``);
    ``handler``, ``timeout_seconds``, ``layers`` and ``description`` make the streaming one (see ``streaming``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: FunctionConfig,
        bedrock: ClientSettings,
        models: Mapping[str, str],
        environment: Mapping[str, str],
        log_removal_policy: RemovalPolicy,
        handler: str = "handler.lambda_handler",
        timeout_seconds: int | None = None,
        layers: Sequence[lambda_.ILayerVersion] = (),
        description: str = "Generative AI use cases on Amazon Bedrock (Converse)",
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = log_group(
            self, "LogGroup", retention_days=config.log_retention_days, removal_policy=log_removal_policy
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description}: writes its own logs and invokes the configured Bedrock models",
        )
        self.log_group.grant_write(self.role)
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            POWERTOOLS_LAYER.format(
                partition=Aws.PARTITION, region=Aws.REGION, version=config.powertools_layer_version
            ),
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=lambda_.Code.from_asset(str(FUNCTION_DIR), exclude=ASSET_EXCLUDES),
            memory_size=config.memory_mb,
            timeout=Duration.seconds(timeout_seconds or config.timeout_seconds),
            role=self.role,
            log_group=self.log_group,
            layers=[powertools, *layers],
            tracing=lambda_.Tracing.ACTIVE,
            environment={**runtime_environment(models, bedrock), **environment},
        )
        # The CDK makes the function depend on its role and the role's policy. The role dependency is already
        # implied by the function's reference to the role's ARN (cfn-lint W3005), so only the policy one is kept.
        function_resource = self.function.node.default_child
        policy = self.role.node.try_find_child("DefaultPolicy")
        policy_resource = policy.node.default_child if policy is not None else None
        if isinstance(function_resource, CfnResource) and isinstance(policy_resource, CfnResource):
            function_resource.add_override("DependsOn", [policy_resource.logical_id])
