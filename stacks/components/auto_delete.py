"""The CDK's auto-delete-objects provider: the function that empties a bucket when ``cdk destroy`` deletes it
(``auto_delete_objects=True``, used in the sandbox profile only). One per stack, whatever the number of buckets.

``tidy_auto_delete_provider`` gives it what every function of the app has: its own log group with a retention
(deleted with the stack), a role that may write to that log group only (instead of the AWS managed
``AWSLambdaBasicExecutionRole``, which allows any log group of the account), no dependency that its role's GetAtt
already implies (cfn-lint W3005, fixed rather than ignored), and its checkov exceptions with their reasons. Its S3
permissions stay as the CDK writes them: in the bucket's own policy, for that bucket only. Call it after creating an
auto-deleted bucket; a second call for another bucket of the same stack changes nothing.
"""

from __future__ import annotations

from aws_cdk import CfnResource, RemovalPolicy, Stack
from constructs import Construct

from stacks.components.compliance import skip_checkov
from stacks.components.log_groups import log_group

AUTO_DELETE_PROVIDER = "Custom::S3AutoDeleteObjectsCustomResourceProvider"
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")  # what a function needs of an existing log group
CHECKOV_SKIPS = (
    ("CKV_AWS_115", "The CDK's auto-delete function runs only when CloudFormation deletes the bucket."),
    (
        "CKV_AWS_116",
        "Invoked synchronously by CloudFormation only: a dead-letter queue applies to asynchronous invocations.",
    ),
    (
        "CKV_AWS_117",
        "The CDK's auto-delete function only calls the S3 API over its TLS, SigV4-signed endpoint; a VPC would add "
        "NAT or endpoint costs.",
    ),
)


def tidy_auto_delete_provider(scope: Construct, *, log_retention_days: int) -> None:
    """Give the stack's auto-delete provider function its own log group, drop its redundant DependsOn, and record
    its checkov exceptions (once per stack)."""
    provider = Stack.of(scope).node.try_find_child(AUTO_DELETE_PROVIDER)
    handler = provider.node.try_find_child("Handler") if provider is not None else None
    role = provider.node.try_find_child("Role") if provider is not None else None
    if not isinstance(handler, CfnResource) or not isinstance(role, CfnResource):
        raise RuntimeError(f"the CDK's {AUTO_DELETE_PROVIDER} has changed shape: review this construct")
    if handler.node.try_find_child("LogGroup") is not None:
        return
    logs = log_group(handler, "LogGroup", retention_days=log_retention_days, removal_policy=RemovalPolicy.DESTROY)
    # The handler depends on its log group (by Ref): the group is created first and deleted last, after the
    # handler's final invocation (the one that empties the bucket).
    handler.add_property_override("LoggingConfig", {"LogGroup": logs.log_group_name})
    handler.add_deletion_override("DependsOn")  # only its role, which its GetAtt of the role's ARN implies
    role.add_property_deletion_override("ManagedPolicyArns")
    role.add_property_override(
        "Policies",
        [
            {
                "PolicyName": "WriteItsOwnLogGroupOnly",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "WriteItsOwnLogGroupOnly",
                            "Effect": "Allow",
                            "Action": list(LOG_ACTIONS),
                            "Resource": logs.log_group_arn,
                        }
                    ],
                },
            }
        ],
    )
    skip_checkov(
        logs,
        "CKV_AWS_158",
        "The CDK's auto-delete function logs only bucket names and CloudFormation events; CloudWatch Logs encrypts at "
        "rest with service-managed keys, and a customer managed key would add a fixed monthly cost.",
    )
    for check, reason in CHECKOV_SKIPS:
        skip_checkov(handler, check, reason)
