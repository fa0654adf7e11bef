"""Helpers for tests: real-shaped API Gateway events and Bedrock Converse responses. No fixtures here."""

from __future__ import annotations

import base64
import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.config import API_STACK_SUFFIX, MONITORING_STACK_SUFFIX, cdk_json_context, load_config
from stacks.function_env import function_environment

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"
CDK_CONTEXT: dict[str, Any] = cdk_json_context()
MODEL_ID = CDK_CONTEXT["models"]["customer-experience"]
API_STACK = CDK_CONTEXT["stackName"] + API_STACK_SUFFIX
MONITORING_STACK = CDK_CONTEXT["stackName"] + MONITORING_STACK_SUFFIX

# A region and fake credentials, isolated from any local AWS configuration: nothing can reach AWS with them.
FAKE_AWS_CREDENTIALS = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_CONFIG_FILE": str(ROOT / "tests" / "no-such-aws-config"),
    "AWS_SHARED_CREDENTIALS_FILE": str(ROOT / "tests" / "no-such-aws-credentials"),
    "AWS_EC2_METADATA_DISABLED": "true",
}
# A stand-in for the name of the stack's conversation table (the template references the table).
TEST_CONVERSATIONS_TABLE = "GenAiReferenceConversationsTest"
# Stand-ins for the ids of the stack's guardrails, by profile (cdk.json's guardrailProfiles says which family has which).
TEST_GUARDRAILS = {"full": "gr0test0guard", "prompt-attack": "gr0test0attack"}
TEST_KNOWLEDGE_BASE_ID = "KBTEST0001"  # Retrieve's knowledgeBaseId: ten letters or digits
# A stand-in for the name of the stack's uploads bucket (the template references the bucket).
TEST_UPLOADS_BUCKET = "genai-uploads-test-bucket"
# What stacks/components/private_bucket.py gives every data bucket (the corpus's, the uploads'), as the template
# holds it: no public access, ACLs off, SSE-S3.
PRIVATE_BUCKET_PROPERTIES = {
    "PublicAccessBlockConfiguration": {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    },
    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    "BucketEncryption": {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    },
}
# The function's environment as the stack sets it from cdk.json, by the stack's own code (stacks/function_env.py),
# with these guardrails, this knowledge base, this conversation table and this uploads bucket (test_infrastructure
# checks it against the synthesized template).
FUNCTION_ENV = function_environment(
    load_config(CDK_CONTEXT),
    guardrails={profile: (guardrail, "1") for profile, guardrail in TEST_GUARDRAILS.items()},
    knowledge_base_id=TEST_KNOWLEDGE_BASE_ID,
    conversations_table=TEST_CONVERSATIONS_TABLE,
    uploads_bucket=TEST_UPLOADS_BUCKET,
)


def conversations_table_ref(template: dict[str, Any]) -> dict[str, str]:
    """What CONVERSATIONS_TABLE is in the template: a reference to its one conversation table."""
    (table,) = [key for key, value in template["Resources"].items() if value["Type"] == "AWS::DynamoDB::Table"]
    return {"Ref": table}


# requestContext.identity as API Gateway fills it in (its $context.identity variables), on top of the SAM sample's
# (events/, which has neither): a SigV4-signed request from an assumed role (authMode iam), and a request that
# carries an API key (authMode api-key: the key itself, a secret, and its id).
IAM_IDENTITY = {
    "accountId": "123456789012",
    "caller": "AROA3EXAMPLEROLEID0001:alice",
    "accessKey": "ASIA3EXAMPLEACCESSKEY",
    "user": "AROA3EXAMPLEROLEID0001:alice",
    "userArn": "arn:aws:sts::123456789012:assumed-role/Developers/alice",
    "principalOrgId": "o-exampleorg1",
}
API_KEY_IDENTITY = {"apiKey": "Sup3rS3cretApiKeyValue0123456789abcdefgh", "apiKeyId": "a1b2c3d4e5"}


def guardrail_config(family: str) -> dict[str, str] | None:
    """The ``guardrailConfig`` the function sends for ``family`` with FUNCTION_ENV (None when it has no guardrail)."""
    profile = CDK_CONTEXT["guardrailProfiles"][family]
    if profile == "none":
        return None
    return {"guardrailIdentifier": TEST_GUARDRAILS[profile], "guardrailVersion": "1", "trace": "disabled"}


def cdk_context(**overrides: Any) -> dict[str, Any]:
    """cdk.json's context (App() in a test does not read cdk.json), with overrides."""
    return {**copy.deepcopy(CDK_CONTEXT), **overrides}


def api_event(
    path: str,
    body: Any = None,
    *,
    method: str = "POST",
    raw: str | bytes | None = None,
    base64_encoded: bool = False,
    headers: dict[str, str] | None = None,
    identity: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST proxy event as API Gateway sends it (from a SAM-generated sample), for ``path`` on our stage.

    ``body`` is JSON-encoded (and base64-encoded if ``base64_encoded``); ``raw`` is sent as is, and raw bytes are
    base64-encoded as API Gateway does for binary payloads. ``identity`` updates ``requestContext.identity``
    (``IAM_IDENTITY``, ``API_KEY_IDENTITY``; the sample's has no caller). ``query``: the query string's
    parameters; ``resource`` and ``path_parameters``: the API resource with a path parameter that ``path`` matched
    (``/conversations/{conversationId}``; default: ``path`` itself, without parameters).
    """
    event = json.loads((EVENTS / "apigw-rest-proxy.json").read_text())
    text: str | None
    if isinstance(raw, bytes):
        text, base64_encoded = base64.b64encode(raw).decode("ascii"), True
    elif raw is not None:
        text = raw
    elif body is None:
        text = None
    else:
        text = json.dumps(body, ensure_ascii=False)
        if base64_encoded:
            text = base64.b64encode(text.encode("utf-8")).decode("ascii")
    event.update(
        {
            "path": path,
            "resource": resource or path,
            "httpMethod": method,
            "body": text,
            "isBase64Encoded": base64_encoded,
            "pathParameters": path_parameters,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {key: [value] for key, value in query.items()} if query else None,
            "stageVariables": None,
        }
    )
    event["headers"] = {**event["headers"], "Content-Type": "application/json", **(headers or {})}
    event["multiValueHeaders"] = {key: [value] for key, value in event["headers"].items()}
    event["requestContext"].update(
        {"path": f"/v1{path}", "resourcePath": resource or path, "httpMethod": method, "stage": "v1"}
    )
    event["requestContext"]["identity"].update(identity or {})
    return event


@dataclass
class FakeLambdaContext:
    function_name: str = "GenAiReferenceApi-GenAiFunction"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:GenAiReferenceApi-GenAiFunction"
    aws_request_id: str = "5f1d0a52-36b3-4a0c-9d56-0f0c9bd0c001"
    log_group_name: str = "/aws/lambda/GenAiReferenceApi-GenAiFunction"
    log_stream_name: str = "2026/11/29/[$LATEST]0123456789abcdef"
    remaining_ms: int = CDK_CONTEXT["lambdaTimeoutSeconds"] * 1000 - 5  # a fresh invocation, 5 ms in

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": input_tokens + output_tokens}


def converse_text_response(
    text: str, *, stop_reason: str = "end_turn", tokens: tuple[int, int] = (31, 12)
) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop_reason,
        "usage": usage(*tokens),
        "metrics": {"latencyMs": 420},
    }


def converse_tool_response(name: str, tool_input: Any, *, tokens: tuple[int, int] = (210, 48)) -> dict[str, Any]:
    return {
        "output": {
            "message": {
                "role": "assistant",
                "content": [{"toolUse": {"toolUseId": "tooluse_0001", "name": name, "input": tool_input}}],
            }
        },
        "stopReason": "tool_use",
        "usage": usage(*tokens),
        "metrics": {"latencyMs": 880},
    }


@dataclass(frozen=True)
class UserTurn:
    """A rendered user turn parsed back by its real delimiters: the key, each caller block's text by name (and
    whether it was a guardContent block), and our instruction (the last block)."""

    key: str
    blocks: dict[str, str]
    guarded: dict[str, bool]
    instruction: str


def parse_user_turn(message: dict[str, Any]) -> UserTurn:
    """Parse the one user turn of a non-conversation task. Fails (AssertionError) unless every block but the last is
    exactly one ``<name_KEY>\\n...\\n</name_KEY>`` of the key the last block lists, and nothing else."""
    *caller, last = message["content"]
    instruction = last["text"]
    listed = re.fullmatch(
        r"(?s).*\n\nBlocks in this message: (<[A-Za-z0-9]+_[0-9a-f]{16}>(?:, <[^>]+>)*)\.", instruction
    )
    assert listed, instruction
    tags = re.findall(r"<([A-Za-z0-9]+)_([0-9a-f]{16})>", listed[1])
    (key,) = {key for _, key in tags}
    blocks: dict[str, str] = {}
    guarded: dict[str, bool] = {}
    for (name, _), block in zip(tags, caller, strict=True):
        text = block["guardContent"]["text"]["text"] if "guardContent" in block else block["text"]
        opening, closing = f"<{name}_{key}>\n", f"\n</{name}_{key}>"
        assert text.startswith(opening) and text.endswith(closing), text[:200]
        blocks[name] = text[len(opening) : -len(closing)]
        assert key not in blocks[name]  # so its closing tag cannot be inside
        guarded[name] = "guardContent" in block
    return UserTurn(key, blocks, guarded, instruction)


def retrieval_result(text: str, uri: str, score: float = 0.61) -> dict[str, Any]:
    """One result of a Retrieve response, as a knowledge base with an S3 data source returns it."""
    return {
        "content": {"type": "TEXT", "text": text},
        "location": {"type": "S3", "s3Location": {"uri": uri}},
        "score": score,
        "metadata": {"x-amz-bedrock-kb-source-uri": uri, "x-amz-bedrock-kb-data-source-id": "DSTEST0001"},
    }
