"""The DynamoDB table of server-side conversations (``genai_core/conversations.py`` is the code that uses it; the
table's names and the actions on it are that code's, from ``genai_core/conversation_settings.py``).

- Keys: partition ``pk`` (the SHA-256 of the caller), sort ``sk`` (the conversation id): one item per conversation,
  so a turn, a read and an erasure each touch one item. One global secondary index, ``byUpdated`` (partition ``pk``,
  sort ``updatedAt``), projects only the times and the turn count: listing reads no messages, newest first.
- On demand: no capacity to plan, nothing billed while idle. Time to live on ``expiresAt``.
- Point-in-time recovery, with a recovery period chosen on purpose (default 7 days, not DynamoDB's 35): a deleted
  or expired conversation can be restored from continuous backups for that long, and no longer; the privacy page
  says so.
- Encryption at rest with the AWS managed key (``aws/dynamodb``): every use of it is logged in CloudTrail, it has no
  monthly key fee, needs no key policy or grant, and ``cdk destroy`` leaves no key behind. The AWS owned key (the
  default) is free too but invisible to the account; a customer managed key adds revocation (crypto-shredding) for
  a monthly fee and a key that outlives the stack in its deletion window: an option for production, not the
  default of a reference that a sandbox destroys.
- Removal per profile: the sandbox deletes the table with the stack; production retains it and turns on deletion
  protection (a replacement or a stray delete cannot erase every caller's conversations).

``grant_conversations`` gives exactly the actions the store calls: GetItem, PutItem and DeleteItem on the table,
Query on the index (the only Query the store makes): no Scan, no batch, no UpdateItem, nothing on ``index/*``.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from genai_core.conversation_settings import (
    INDEX_ACTIONS,
    INDEX_PROJECTION,
    PARTITION_KEY,
    SORT_KEY,
    TABLE_ACTIONS,
    TTL_ATTRIBUTE,
    UPDATED_ATTRIBUTE,
    UPDATED_INDEX,
)
from stacks.components.compliance import skip_checkov
from stacks.conversations_config import RECOVERY_PERIOD_RANGE


class ConversationsTable(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy,
        recovery_period_days: int,
    ) -> None:
        """``removal_policy``: the profile's (``AppConfig.data_removal_policy``); a table that is retained when the
        stack is deleted (production) is also protected against deletion."""
        super().__init__(scope, construct_id)
        low, high = RECOVERY_PERIOD_RANGE
        if not low <= recovery_period_days <= high:
            raise ValueError(f"recovery_period_days must be from {low} to {high}")
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True, recovery_period_in_days=recovery_period_days
            ),
            time_to_live_attribute=TTL_ATTRIBUTE,
            removal_policy=removal_policy,
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
        )
        self.table.add_global_secondary_index(
            index_name=UPDATED_INDEX,
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=UPDATED_ATTRIBUTE, type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=list(INDEX_PROJECTION),
        )
        skip_checkov(
            self.table,
            "CKV_AWS_119",
            "Encrypted at rest with the AWS managed key aws/dynamodb: its use is logged in CloudTrail, it has no monthly key fee and cdk destroy leaves no key behind. A customer managed key (revocation, crypto-shredding) is a production option with a monthly cost.",
        )

    @property
    def table_name(self) -> str:
        return self.table.table_name

    @property
    def index_arn(self) -> str:
        return f"{self.table.table_arn}/index/{UPDATED_INDEX}"

    def grant_conversations(self, grantee: iam.IGrantable) -> None:
        """Exactly what ``ConversationStore`` calls: GetItem, PutItem, DeleteItem on the table; Query on its index."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadWriteAndEraseConversations",
                actions=list(TABLE_ACTIONS),
                resources=[self.table.table_arn],
            )
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(sid="ListConversations", actions=list(INDEX_ACTIONS), resources=[self.index_arn])
        )
