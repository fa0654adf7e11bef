"""The least a Lambda function behind API Gateway can do to call Bedrock: parse the body, call Converse, dump JSON.

The warm benchmark times it next to the real handler, with the same stubbed Converse call, so that the difference
is what our code adds per request (routing, validation, prompts, output checks, logging, metrics, error handling).
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

MODEL_ID = json.loads(os.environ["MODEL_IDS"])["productivity"]
bedrock_client = boto3.client("bedrock-runtime")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = json.loads(event["body"])
    response = bedrock_client.converse(
        modelId=MODEL_ID,
        messages=[{"role": "user", "content": [{"text": json.dumps(body, ensure_ascii=False)}]}],
    )
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"output": response["output"]["message"]["content"], "usage": response["usage"]}),
        "isBase64Encoded": False,
    }
