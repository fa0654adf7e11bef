"""Recorded exceptions to the scanners, each with its reason, at the narrowest scope (one construct or resource).

- cdk-nag 3.x: ``Validations.of(construct).acknowledge(Acknowledgment(...))`` with the rule id cdk-nag prints
  (``AwsSolutions::AwsSolutions-COG4``, or with the finding in brackets for IAM rules).
- checkov: a ``checkov.skip`` entry in the CloudFormation resource's metadata, with a comment.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag AwsSolutions finding (``rule`` like ``COG4`` or ``IAM4[Policy::...]``) on ``scope``."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"AwsSolutions::AwsSolutions-{rule}", reason=reason))


def skip_checkov(resource: IConstruct, check_id: str, reason: str) -> None:
    """Skip a checkov check on one CloudFormation resource (the construct or its default child)."""
    cfn = resource if isinstance(resource, CfnResource) else resource.node.default_child
    if not isinstance(cfn, CfnResource):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource to annotate")
    metadata = cfn.get_metadata("checkov") or {"skip": []}
    metadata["skip"].append({"id": check_id, "comment": reason})
    cfn.add_metadata("checkov", metadata)
