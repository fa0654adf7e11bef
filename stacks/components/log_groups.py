"""Every log group the app creates: an explicit retention from config, and a removal policy from the profile
(sandbox: deleted with the stack; production: retained)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import LOG_RETENTION


def log_group(
    scope: Construct, construct_id: str, *, retention_days: int, removal_policy: RemovalPolicy
) -> logs.LogGroup:
    """A log group that keeps its events ``retention_days`` (one of ``stacks.config.LOG_RETENTION_DAYS``)."""
    retention = logs.RetentionDays[LOG_RETENTION[retention_days]]
    return logs.LogGroup(scope, construct_id, retention=retention, removal_policy=removal_policy)
