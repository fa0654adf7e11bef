"""The least a Lambda function behind API Gateway can do to call Bedrock: parse the body, call Converse, dump JSON;
for a search (a path ending in ``/search``), Retrieve first and put the passages' text in the prompt.

The warm benchmark times it next to the real handler, with the same stubbed Converse (and Retrieve) calls, so that
the difference is what our code adds per request (routing, validation, prompts, output checks, citations, logging,
metrics, error handling).
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

MODEL_ID = json.loads(os.environ["MODEL_IDS"])["productivity"]
bedrock_client = boto3.client("bedrock-runtime")
agent_client = boto3.client("bedrock-agent-runtime")


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
