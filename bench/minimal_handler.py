"""The least a Lambda function behind API Gateway can do to call Bedrock: parse the body, call Converse, dump JSON;
for a search (a path ending in ``/search``), Retrieve first and put the passages' text in the prompt.

The warm benchmark times it next to the real handler, with the same stubbed Converse (and Retrieve) calls, so that
the difference is what our code adds per request (routing, validation, prompts, output checks, citations, logging,
metrics, error handling).

``remembered_handler`` is the least a function can do to remember a conversation: read the caller's item (one
consistent GetItem), send its messages and the new one to Converse, write the item back with the exchange added (one
PutItem). The warm benchmark times a remembered turn of the real handler against it, both DynamoDB clients answered
by the same Stubber, so that the difference is again what our code adds (the owner's hash, the id check, the
history's budget, trimming and size accounting, the conditional write, the logs and metrics), not botocore's share
of two DynamoDB calls.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from typing import Any

import boto3

MODEL_ID = json.loads(os.environ["MODEL_IDS"])["productivity"]
CHAT_MODEL_ID = json.loads(os.environ["MODEL_IDS"])["customer-experience"]
bedrock_client = boto3.client("bedrock-runtime")
agent_client = boto3.client("bedrock-agent-runtime")


@functools.cache
def dynamodb_client() -> Any:
    """Made on the first remembered turn, as the real handler makes its own."""
    return boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = json.loads(event["body"])
    text = json.dumps(body, ensure_ascii=False)
    if event["path"].endswith("/search"):
        found = agent_client.retrieve(
            knowledgeBaseId=os.environ["KNOWLEDGE_BASE_ID"], retrievalQuery={"text": body["question"]}
        )
        text += "".join(result["content"]["text"] for result in found["retrievalResults"])
    response = bedrock_client.converse(
        modelId=MODEL_ID,
        messages=[{"role": "user", "content": [{"text": text}]}],
    )
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"output": response["output"]["message"]["content"], "usage": response["usage"]}),
        "isBase64Encoded": False,
    }


def _stored(role: str, text: str) -> dict[str, Any]:
    return {"M": {"role": {"S": role}, "content": {"S": text}}}


def remembered_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = json.loads(event["body"])
    owner = event["requestContext"]["identity"]["userArn"]
    key = {"pk": {"S": hashlib.sha256(owner.encode()).hexdigest()}, "sk": {"S": body["conversationId"]}}
    table = os.environ["CONVERSATIONS_TABLE"]
    item = dynamodb_client().get_item(TableName=table, Key=key, ConsistentRead=True).get("Item") or {}
    stored = item.get("messages", {}).get("L", [])
    text = body["messages"][-1]["content"]
    messages = [{"role": m["M"]["role"]["S"], "content": [{"text": m["M"]["content"]["S"]}]} for m in stored] + [
        {"role": "user", "content": [{"text": text}]}
    ]
    response = bedrock_client.converse(modelId=CHAT_MODEL_ID, messages=messages)
    reply = response["output"]["message"]["content"][0]["text"]
    written = [*stored, _stored("user", text), _stored("assistant", reply)]
    dynamodb_client().put_item(TableName=table, Item={**key, "messages": {"L": written}})
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"output": {"reply": reply}, "conversationId": body["conversationId"]}),
        "isBase64Encoded": False,
    }
