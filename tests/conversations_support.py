"""Helpers for the conversation tests: the conversations table as the construct defines it (synthesized once per
process, with cdk-nag, in a stack of its own), a DynamoDB table created from that definition, a clock. No fixtures.

tests/test_conversations.py runs the store against moto with the table created from the synthesized
``AWS::DynamoDB::Table`` properties, so the store is tested on the keys, index and TTL the stack deploys.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

STACK = "ConversationsTableTest"
TABLE_TYPE = "AWS::DynamoDB::Table"


@functools.cache
def table_assembly(*, retain: bool) -> Any:
    """A cloud assembly of one stack: the conversations table (``retain``: the production profile) and a role that
    is granted the store's access, with cdk-nag's AwsSolutions checks as app.py registers them."""
    from aws_cdk import App, RemovalPolicy, Stack, Validations
    from aws_cdk import aws_iam as iam
    from cdk_nag import AwsSolutionsChecks

    from stacks.components.conversations_table import ConversationsTable
    from stacks.conversations_config import DEFAULTS
    from tests.support import cdk_context

    app = App(context=cdk_context())  # cdk.json's feature flags, as the app synthesizes with
    stack = Stack(app, STACK)
    removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY  # AppConfig.data_removal_policy's two
    table = ConversationsTable(
        stack, "Conversations", removal_policy=removal, recovery_period_days=DEFAULTS.recovery_period_days
    )
    role = iam.Role(stack, "FunctionRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    table.grant_conversations(role)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app.synth()


def table_template(*, retain: bool = False) -> dict[str, Any]:
    template: dict[str, Any] = table_assembly(retain=retain).get_stack_by_name(STACK).template
    return template


def table_properties(template: dict[str, Any]) -> dict[str, Any]:
    (table,) = [r for r in template["Resources"].values() if r["Type"] == TABLE_TYPE]
    properties: dict[str, Any] = table["Properties"]
    return properties


def create_table(client: Any, name: str, properties: dict[str, Any]) -> None:
    """Create a table (in moto) with the key schema, index and TTL of a synthesized AWS::DynamoDB::Table."""
    client.create_table(
        TableName=name,
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        BillingMode=properties["BillingMode"],
        GlobalSecondaryIndexes=properties.get("GlobalSecondaryIndexes", []),
    )
    ttl = properties["TimeToLiveSpecification"]
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]}
    )


class Clock:
    """A clock for the store (epoch seconds) that moves only when told to."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextlib.contextmanager
def installed_stores(services: list[Any], client_factory: Any = None) -> Iterator[list[Any]]:
    """Give each service (a ``UseCaseService`` with conversation settings) a fresh store of its own settings, whose
    client is made on first use (inside ``mock_aws``, moto's) or by ``client_factory``; put back what was there."""
    from genai_core.conversations import ConversationStore

    saved = [service.__dict__.get("conversation_store") for service in services]
    stores = []
    for service in services:
        store = ConversationStore.from_settings(service.conversations)
        if client_factory is not None:
            store = ConversationStore(store.table_name, limits=store.limits, client_factory=client_factory)
        service.__dict__["conversation_store"] = store
        stores.append(store)
    try:
        yield stores
    finally:
        for service, previous in zip(services, saved, strict=True):
            if previous is None:
                service.__dict__.pop("conversation_store", None)
            else:
                service.__dict__["conversation_store"] = previous
