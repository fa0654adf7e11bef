"""The SNS topic every alarm notifies: encrypted with its own KMS key, TLS-only, publishable by this app's alarms.

Why a customer managed key and not the AWS managed ``alias/aws/sns``: CloudWatch alarms cannot publish to a topic
encrypted with the AWS managed key, whose policy cannot grant CloudWatch ``kms:GenerateDataKey*``/``kms:Decrypt``
(the notification fails with KMS AccessDenied). The key rotates every year and costs about $1 a month; it is deleted
with the stack (after KMS's shortest waiting period, 7 days) in both profiles: it protects only notifications in
flight. Both the key and the topic trust CloudWatch only on behalf of this account's alarms named ``<prefix>*``.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

CLOUDWATCH = iam.ServicePrincipal("cloudwatch.amazonaws.com")


class AlarmTopic(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, alarm_name_prefix: str, email: str | None) -> None:
        super().__init__(scope, construct_id)
        conditions = {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {
                "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:{alarm_name_prefix}*"
            },
        }
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the alarm notifications of the generative AI API",
            enable_key_rotation=True,
            pending_window=Duration.days(7),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAppsAlarmsToPublishEncryptedNotifications",
                principals=[CLOUDWATCH],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=conditions,
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Generative AI API alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAppsAlarmsToPublish",
                principals=[CLOUDWATCH],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=conditions,
            )
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
