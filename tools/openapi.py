"""Generate ``docs/openapi.json`` (OpenAPI 3.0) from the use-case catalog, the error taxonomy and the examples.

    make openapi                  # or: .venv/bin/python -m tools.openapi [--check]

The document is committed; a test fails when it differs from what this module generates, so it is never stale.
Everything in it comes from code: routes, summaries and request schemas from the catalog (the same files the stack
and the function read), response schemas from each task's output (directives described in words), request
examples from ``examples/``, and error codes from ``genai_core.errors`` and ``genai_core.bedrock``.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from endpoints import API_KEY_HEADER, CONVERSATION_PARAMETER, CONVERSATIONS_PATH, DISCOVERY_PATH, UPLOADS_PATH
from genai_core import errors, file_contract, retrieval, sse
from genai_core.bedrock import FAULTS
from genai_core.catalog import Catalog, UseCase, directive_of, load_catalog
from genai_core.conversations import FAULTS as STORE_FAULTS
from genai_core.conversations import MAX_PAGE_SIZE
from genai_core.uploads import STORAGE_FAULTS
from stacks.config import cdk_json_context
from tools.generated import write_or_check

ROOT = Path(__file__).resolve().parent.parent

OUTPUT = ROOT / "docs" / "openapi.json"
EXAMPLES = ROOT / "examples"
FAMILY_DESCRIPTIONS = {
    "customer-experience": "Virtual assistant chat, conversation analytics and personalization.",
    "productivity": "Summarization, content drafting, code generation and question answering over your documents.",
    "process-optimization": "Document field extraction, classification, synthetic data and anomaly detection.",
}
# Errors that API Gateway answers itself, before the function, in the same envelope (code = its response type).
GATEWAY_ERRORS = {
    400: ["BAD_REQUEST_BODY (the body does not match the route's request model)"],
    403: ["MISSING_AUTHENTICATION_TOKEN", "INVALID_SIGNATURE", "ACCESS_DENIED", "INVALID_API_KEY", "WAF_FILTERED"],
    413: ["REQUEST_TOO_LARGE"],
    429: ["THROTTLED", "QUOTA_EXCEEDED"],
    504: ["INTEGRATION_TIMEOUT"],
}


# The errors of a request's files, and of reading its uploads (genai_core.files, genai_core.uploads).
FILE_ERRORS = (errors.FileFormatMismatch, errors.FileTooLarge, errors.UploadsNotConfigured)
UPLOAD_ERRORS = (errors.Forbidden, errors.UploadNotFound, errors.UploadExpired)
# A remembered turn's own errors (besides the store's fault map), and a conversation route's.
MEMORY_ERRORS = (errors.ConversationsDisabled, errors.ConversationTooLarge, errors.CallerIdentityMissing)
CONVERSATION_ROUTE_ERRORS = (
    errors.ValidationFailed,
    errors.ConversationNotFound,
    errors.CallerIdentityMissing,
    errors.ApiError,
)


def _store_errors(by_status: dict[int, set[str]], classes: tuple[type[errors.ApiError], ...]) -> None:
    for error_class in classes:
        by_status[error_class.status].add(error_class.code)
    for status, code, _ in STORE_FAULTS:
        by_status[status].add(code)


def _by_status(error_classes: Any, faults: Any = ()) -> dict[int, set[str]]:
    by_status: dict[int, set[str]] = defaultdict(set)
    for error_class in error_classes:
        by_status[error_class.status].add(error_class.code)
    for status, code, _ in faults:
        by_status[status].add(code)
    return by_status


def _function_errors(
    *, calls_bedrock: bool = True, takes_files: bool = False, retrieves: bool = False, remembers: bool = False
) -> dict[int, set[str]]:
    """The function's error codes by status: its own errors, those of files and uploads if the route takes files,
    the Bedrock fault map's if the route calls it, the knowledge base's if it searches one, and the conversation
    store's if it may remember a conversation."""
    own = (
        errors.InvalidJson,
        errors.InvalidEncoding,
        errors.ValidationFailed,
        errors.PayloadTooLarge,
        errors.PromptTooLarge,
        errors.UnsupportedMediaType,
        errors.GuardrailIntervened,
        errors.ModelOutputInvalid,
        errors.DeadlineExceeded,
        errors.ApiError,
    )
    files = (*FILE_ERRORS, *UPLOAD_ERRORS) if takes_files else ()
    faults = (*FAULTS, *(STORAGE_FAULTS if takes_files else ())) if calls_bedrock else ()
    by_status = _by_status((*own, *files), (*faults, *(retrieval.FAULTS if retrieves else ())))
    if remembers:
        _store_errors(by_status, MEMORY_ERRORS)
    return by_status


def _upload_errors() -> dict[int, set[str]]:
    """POST /uploads's error codes by status: the body's, the caller's, a size over Bedrock's, the store's."""
    own = (errors.InvalidJson, errors.InvalidEncoding, errors.ValidationFailed, errors.PayloadTooLarge)
    own += (errors.UnsupportedMediaType, errors.UploadsNotConfigured, errors.FileTooLarge, errors.Forbidden)
    return _by_status((*own, errors.ApiError), STORAGE_FAULTS)


def _error_responses(
    statuses: list[int], *, calls_bedrock: bool = True, function_errors: dict[int, set[str]] | None = None
) -> dict[str, Any]:
    function_errors = function_errors if function_errors is not None else _function_errors(calls_bedrock=calls_bedrock)
    responses = {}
    for status in statuses:
        codes = sorted(function_errors.get(status, ())) + GATEWAY_ERRORS.get(status, [])
        responses[str(status)] = {
            "description": "Error codes: " + ", ".join(f"`{code}`" for code in codes) + ".",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return responses


def _operation_id(use_case: UseCase) -> str:
    words = f"{use_case.family}-{use_case.task}".split("-")
    return words[0] + "".join(word.capitalize() for word in words[1:])


def _schema_name(use_case: UseCase, suffix: str) -> str:
    return "".join(word.capitalize() for word in f"{use_case.family}-{use_case.task}".split("-")) + suffix


def _example(use_case: UseCase) -> Any:
    path = EXAMPLES / use_case.family / f"{use_case.task}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _use_case_operation(use_case: UseCase) -> dict[str, Any]:
    request_content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{_schema_name(use_case, 'Request')}"}}
    example = _example(use_case)
    if example is not None:
        request_content["example"] = example
    takes_files = use_case.file_input is not None
    statuses = [400, 403, *((404, 410) if takes_files else ()), 413, 415, 429, 500, 502, 503, 504]
    if use_case.structured:
        statuses.insert(statuses.index(429), 422)
    if use_case.memory:
        statuses.insert(statuses.index(413), 409)
    description = use_case.summary
    if use_case.structured:
        description += (
            " The model answers through a forced tool call whose input schema is the response's `output` schema, "
            "with the request's constraints resolved into it; an answer that breaks it is retried once, then 502 "
            "`model_output_invalid`."
        )
    if use_case.retrieval is not None:
        description += (
            " The question is first searched for in the deployment's knowledge base (Bedrock Retrieve); the passages "
            "found are the only material the model may answer from and cite, and each citation returns the "
            "passage's source (its S3 URI) and text. When the search finds nothing, the model is not called: the "
            "answer says so, with no citation, `answerable` false and `stopReason` `nothing_retrieved` (usage 0). "
            "Not served when the stack has no knowledge base (`-c knowledgeBase=false`): its route is not created."
        )
    if use_case.memory:
        description += MEMORY_DESCRIPTION
    return {
        "post": {
            "operationId": _operation_id(use_case),
            "tags": [use_case.family],
            "summary": use_case.summary,
            "description": description,
            "requestBody": {"required": True, "content": {"application/json": request_content}},
            "responses": {
                "200": {
                    "description": "The model's answer in the response envelope.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{_schema_name(use_case, 'Response')}"}
                        }
                    },
                },
                **_error_responses(
                    statuses,
                    function_errors=_function_errors(
                        takes_files=takes_files, retrieves=use_case.retrieval is not None, remembers=use_case.memory
                    ),
                ),
            },
        }
    }


def _uploads_operation() -> dict[str, Any]:
    return {
        "post": {
            "operationId": "createUpload",
            "tags": ["files"],
            "summary": "A presigned upload of one file, for a task that takes files.",
            "description": (
                "Answers a presigned S3 PUT (SigV4) for one file of exactly `size` bytes and the media type of its "
                "`format`, valid for minutes. PUT the bytes to `url` with `headers` (no other authorization: the URL "
                "is it), then give `uploadId` in a file item in place of `data`. The upload belongs to the caller "
                "that asked for it (its IAM principal, or its API key): another caller's `uploadId` is a 404. It can "
                "be used until the bucket's expiry (days), then 410."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/UploadRequest"},
                        "example": {"name": "contract-2026.pdf", "format": "pdf", "size": 5242880},
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Where and how to PUT the file.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UploadAnswer"}}},
                },
                **_error_responses([400, 403, 413, 415, 429, 500, 502, 503, 504], function_errors=_upload_errors()),
            },
        }
    }


MEMORY_DESCRIPTION = (
    " With `conversationId` (where the deployment keeps conversations, the default), the server remembers the "
    "conversation: `messages` holds only the new turn, the stored history of the caller's conversation of that id "
    "goes before it (its newest whole exchanges, within the deployment's limits), and once the model has answered the "
    "turn is stored; the answer carries `conversationId` and `remembered` (false when the guardrail intervened: that "
    "turn is not stored). A conversation belongs to the authenticated caller: another caller's id starts the "
    "caller's own conversation. A turn that cannot be stored fails (409, 429, 503 or 500): a 200 with `remembered: "
    "true` means it was."
)


STREAM_MEMORY_DESCRIPTION = (
    " With `conversationId` the conversation is remembered as on the buffered route: the history is loaded before "
    "the stream starts (a failure to load it is a JSON error), the turn is stored after the last delta and before "
    "`done`, which then carries `conversationId` and `remembered`; a turn that cannot be stored ends the stream with "
    "an `error` event, and a stream that fails or that the client leaves stores nothing."
)


def _conversation_paths() -> tuple[dict[str, Any], dict[str, Any]]:
    """The caller's conversations: the paths and their schemas."""
    by_status: dict[int, set[str]] = defaultdict(set)
    _store_errors(by_status, CONVERSATION_ROUTE_ERRORS)
    errors_of = _error_responses([400, 403, 404, 409, 429, 500, 503], calls_bedrock=False, function_errors=by_status)
    errors_of.pop("409")  # a lost race happens to a write of a turn only
    summary_properties = {
        "conversationId": {"type": "string"},
        "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"},
        "turns": {"type": "integer", "minimum": 0, "description": "How many messages are stored."},
    }
    schemas = {
        "ConversationSummary": {
            "type": "object",
            "required": list(summary_properties),
            "properties": summary_properties,
        },
        "ConversationList": {
            "type": "object",
            "required": ["conversations"],
            "properties": {
                "conversations": {"type": "array", "items": {"$ref": "#/components/schemas/ConversationSummary"}},
                "nextToken": {
                    "type": "string",
                    "description": "Present when there may be more: pass it back as nextToken for the next page (a "
                    "page may hold fewer than limit, expired conversations being left out).",
                },
            },
        },
        "Conversation": {
            "type": "object",
            "required": [*summary_properties, "messages"],
            "properties": {
                **summary_properties,
                "messages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["role", "content"],
                        "properties": {
                            "role": {"type": "string", "enum": ["user", "assistant"]},
                            "content": {"type": "string"},
                        },
                    },
                },
            },
        },
        "ConversationDeleted": {
            "type": "object",
            "required": ["conversationId", "deleted"],
            "properties": {"conversationId": {"type": "string"}, "deleted": {"type": "boolean", "enum": [True]}},
        },
    }
    id_parameter = {
        "name": CONVERSATION_PARAMETER,
        "in": "path",
        "required": True,
        "description": "Letters, digits, - and _; at most 64 characters.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    }

    def ok(description: str, schema: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }

    listing_errors = {key: value for key, value in errors_of.items() if key != "404"}
    paths = {
        CONVERSATIONS_PATH: {
            "get": {
                "operationId": "listConversations",
                "tags": ["conversations"],
                "summary": "The caller's own conversations, most recently updated first (no messages).",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 20},
                    },
                    {"name": "nextToken", "in": "query", "required": False, "schema": {"type": "string"}},
                ],
                "responses": {"200": ok("A page of the caller's conversations.", "ConversationList"), **listing_errors},
            }
        },
        f"{CONVERSATIONS_PATH}/{{{CONVERSATION_PARAMETER}}}": {
            "parameters": [id_parameter],
            "get": {
                "operationId": "getConversation",
                "tags": ["conversations"],
                "summary": "One of the caller's conversations, with its stored messages (another caller's: 404).",
                "responses": {"200": ok("The conversation.", "Conversation"), **errors_of},
            },
            "delete": {
                "operationId": "deleteConversation",
                "tags": ["conversations"],
                "summary": "Erase one of the caller's conversations (another caller's: 404).",
                "responses": {"200": ok("Erased from the table.", "ConversationDeleted"), **errors_of},
            },
        },
    }
    return paths, schemas


def _stream_operation(use_case: UseCase) -> dict[str, Any]:
    operation = _use_case_operation(use_case)["post"]
    return {
        "post": {
            **operation,
            "operationId": _operation_id(use_case) + "Stream",
            "summary": f"{use_case.summary} Streamed as Server-Sent Events.",
            "description": (
                "The same request as the buffered route. The answer is `text/event-stream`: one `delta` event per "
                'piece of text (`{"text": ...}`), in order, then one `done` event (`useCase`, `model`, `usage`, '
                "`stopReason`, `latencyMs`, `firstTokenMs`, and `guardrail` when the guardrail applies), or, if "
                'Bedrock fails after the stream started, one `error` event (`{"error": {"code", "message"}}`). '
                "Errors before the stream starts have the usual status and JSON body. Each event is an `event:` line "
                "and a `data:` line of JSON, then a blank line."
                + (STREAM_MEMORY_DESCRIPTION if use_case.memory else "")
            ),
            "responses": {
                "200": {
                    "description": "Server-Sent Events: `delta`..., then `done` or `error`.",
                    "content": {sse.MEDIA_TYPE: {"schema": {"type": "string"}, "example": STREAM_EXAMPLE}},
                },
                **{status: response for status, response in operation["responses"].items() if status != "200"},
            },
        }
    }


STREAM_EXAMPLE = (
    'event: delta\ndata: {"text":"Olá! "}\n\nevent: delta\ndata: {"text":"Vou verificar o seu pedido."}\n\n'
    'event: done\ndata: {"useCase":"customer-experience/chat","model":"us.amazon.nova-2-lite-v1:0",'
    '"usage":{"inputTokens":57,"outputTokens":14,"totalTokens":71},"stopReason":"end_turn","latencyMs":820,'
    '"firstTokenMs":310,"guardrail":{"action":"NONE"}}\n\n'
)


def _envelope(use_case: UseCase) -> dict[str, Any]:
    memory = (
        {
            "conversationId": {"type": "string", "description": "With a remembered conversation: its id."},
            "remembered": {
                "type": "boolean",
                "description": "With a remembered conversation: whether this turn was stored (false when the "
                "guardrail intervened).",
            },
        }
        if use_case.memory
        else {}
    )
    return {
        "type": "object",
        "required": ["useCase", "output", "model", "usage", "stopReason"],
        "properties": {
            **memory,
            "useCase": {"type": "string", "enum": [use_case.id]},
            "output": documented_output_schema(use_case),
            "model": {"type": "string", "description": "The model or inference profile id that answered."},
            "usage": {"$ref": "#/components/schemas/Usage"},
            "stopReason": {
                "type": "string",
                "description": "Bedrock's stop reason (end_turn, tool_use, max_tokens, guardrail_intervened...).",
            },
            "guardrail": {"$ref": "#/components/schemas/GuardrailResult"},
        },
    }


def _openapi_schema(node: Any) -> Any:
    """The catalog's draft-04 subset is valid OpenAPI 3.0 schema, less ``$schema``."""
    if isinstance(node, dict):
        return {key: _openapi_schema(value) for key, value in node.items() if key != "$schema"}
    if isinstance(node, list):
        return [_openapi_schema(item) for item in node]
    return node


def _discovery_schema() -> dict[str, Any]:
    use_case = {
        "type": "object",
        "required": ["family", "task", "path", "method", "summary", "input"],
        "properties": {
            "family": {"type": "string"},
            "task": {"type": "string"},
            "path": {"type": "string"},
            "method": {"type": "string", "enum": ["POST"]},
            "summary": {"type": "string"},
            "input": {"type": "object", "description": "The request body's JSON Schema (draft-04)."},
        },
    }
    return {
        "type": "object",
        "required": ["families"],
        "properties": {
            "families": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["family", "useCases"],
                    "properties": {"family": {"type": "string"}, "useCases": {"type": "array", "items": use_case}},
                },
            }
        },
    }


# --- the output schemas, for a reader --------------------------------------------------------------------------------


def documented_output_schema(use_case: UseCase) -> dict[str, Any]:
    """A use case's output schema for documentation: a keyword that a directive sets per request is left out and
    described instead (the resolved schemas exist only per request, in the function)."""
    if not use_case.structured:
        field_name = use_case.output["text"]
        return {
            "type": "object",
            "required": [field_name],
            "properties": {field_name: {"type": "string", "description": "The model's answer."}},
        }
    documented = _document(use_case.output["schema"])
    if not isinstance(documented, dict):
        raise TypeError(f"{use_case.id}: the output schema must be an object")
    if use_case.retrieval is not None:  # cited passage ids come back as citations, and answerable is the core's
        documented = use_case.retrieval.public_schema(documented)
    return documented


def _explain_reference(reference: str) -> str:
    name, _, rest = reference.partition("[].")
    if name == file_contract.FILES_INPUT and rest == "name":
        return "the neutral name of each attached file (`Document 1`, `Image 1`...)"
    return f"the `{rest}` of each item of the request's `{name}`" if rest else f"the request's `{name}`"


def _explain(node: Mapping[str, Any]) -> str:
    directive = directive_of(node)
    reference = node[directive] if directive else ""
    if directive == "$input":
        references = reference if isinstance(reference, list) else [reference]
        return ", and ".join(_explain_reference(one) for one in references)
    if directive == "$count":
        counted = " and ".join(f"`{name}`" for name in (reference if isinstance(reference, list) else [reference]))
        return f"the number of items in the request's {counted}" + (" together" if isinstance(reference, list) else "")
    if directive == "$lastIndex":
        return f"the last index of the request's `{reference}`"
    if directive == "$retrieved":
        return f"the `{reference}` of each passage retrieved for the request"
    return f"set from the request's `{reference}`"


def _document(node: Any) -> Any:
    """A schema with its directives replaced for a reader: a schema set by a directive becomes a described object,
    a ``$if`` an ``anyOf`` of both forms, and a keyword set by a directive a sentence in the description."""
    directive = directive_of(node)
    if directive == "$if":
        return {
            "anyOf": [_document(node["then"]), _document(node["else"])],
            "description": f"The first form when the request has `{node['$if']}`, the second otherwise.",
        }
    if directive is not None:  # a whole schema set by the caller (extract's fields, augment's rows)
        return {"type": "object", "description": f"An object that conforms to the JSON Schema in {_explain(node)}."}
    if not isinstance(node, dict):
        return node
    documented: dict[str, Any] = {}
    notes = []
    for key, value in node.items():
        if key == "properties":
            documented[key] = {name: _document(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            documented[key] = _document(value)
        elif directive_of(value) is not None:
            notes.append(f"`{key}`: {_explain(value)}.")
        else:
            documented[key] = value
    if notes:
        documented["description"] = " ".join([documented.get("description", ""), *notes]).strip()
    return documented


def generate(catalog: Catalog, stage_name: str) -> dict[str, Any]:
    use_cases = sorted(catalog, key=lambda use_case: use_case.id)
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {
                            "type": "string",
                            "description": "A stable code (snake_case from the function, UPPER_CASE from API Gateway).",
                        },
                        "message": {
                            "type": "string",
                            "description": "A human-readable explanation; never a stack trace.",
                        },
                    },
                }
            },
        },
        "Usage": {
            "type": "object",
            "required": ["inputTokens", "outputTokens", "totalTokens"],
            "properties": {
                name: {"type": "integer", "minimum": 0} for name in ("inputTokens", "outputTokens", "totalTokens")
            }
            | {
                name: {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Only with a prompt cache point (a remembered conversation on a model of the "
                    "deployment's promptCacheModels); inputTokens is then the uncached input alone.",
                }
                for name in ("cacheReadInputTokens", "cacheWriteInputTokens")
            },
        },
        "GuardrailResult": {
            "type": "object",
            "description": "Present when the Bedrock guardrail applies to the use case's family.",
            "required": ["action"],
            "properties": {"action": {"type": "string", "enum": ["NONE", "INTERVENED"]}},
        },
        "UseCaseCatalog": _discovery_schema(),
        "UploadRequest": _openapi_schema(file_contract.upload_request_schema()),
        "UploadAnswer": file_contract.upload_answer_schema(),
    }
    paths: dict[str, Any] = {
        DISCOVERY_PATH: {
            "get": {
                "operationId": "listUseCases",
                "tags": ["discovery"],
                "summary": "The catalog's public part: families, tasks, summaries and input schemas.",
                "responses": {
                    "200": {
                        "description": "Every use case, by family.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UseCaseCatalog"}}},
                    },
                    **_error_responses([403, 429, 500], calls_bedrock=False),
                },
            }
        }
    }
    paths[UPLOADS_PATH] = _uploads_operation()
    for use_case in use_cases:
        schemas[_schema_name(use_case, "Request")] = _openapi_schema(dict(use_case.input_schema))
        schemas[_schema_name(use_case, "Response")] = _envelope(use_case)
        paths[use_case.path] = _use_case_operation(use_case)
        if use_case.stream_path:
            paths[use_case.stream_path] = _stream_operation(use_case)
    remembers = any(use_case.memory for use_case in use_cases)
    if remembers:
        conversation_paths, conversation_schemas = _conversation_paths()
        paths.update(conversation_paths)
        schemas.update(conversation_schemas)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Generative AI on AWS: reference API",
            "version": "1.0.0",
            "description": (
                "Generative AI use cases on Amazon Bedrock (Converse API) behind an API Gateway REST API, in three "
                "families: customer experience, productivity and process optimization. Generated from the use-case "
                "catalog (lambda/genai_api/use_cases) by `make openapi`; do not edit by hand."
            ),
        },
        "servers": [
            {
                "url": "https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}",
                "description": "The deployed stage (the stack's ApiUrl output).",
                "variables": {
                    "restApiId": {"default": "abc123defg", "description": "The REST API's id."},
                    "region": {"default": "us-east-1"},
                    "stage": {"default": stage_name},
                },
            },
            {"url": "http://127.0.0.1:3000", "description": "A local server (make local), when there is one."},
        ],
        "tags": [{"name": family, "description": FAMILY_DESCRIPTIONS[family]} for family in FAMILY_DESCRIPTIONS]
        + [
            {"name": "discovery", "description": "What the API offers."},
            {
                "name": "files",
                "description": "Uploads of files too large to send inline, for the tasks that take files.",
            },
        ]
        + (
            [
                {
                    "name": "conversations",
                    "description": "The caller's own remembered conversations (where the deployment keeps them).",
                }
            ]
            if remembers
            else []
        ),
        "security": [{"sigv4": []}, {"apiKey": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "description": "AWS Signature Version 4 (service execute-api): the default authMode, iam.",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                },
                "apiKey": {
                    "type": "apiKey",
                    "name": API_KEY_HEADER,
                    "in": "header",
                    "description": "An API key bound to a usage plan: authMode api-key.",
                },
            },
            "schemas": schemas,
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def current_document() -> str:
    stage_name = cdk_json_context()["stageName"]
    return render(generate(load_catalog(), stage_name))


def main(argv: list[str] | None = None) -> int:
    return write_or_check(
        argv, description=__doc__.split("\n")[0], output=OUTPUT, generate=current_document, target="openapi"
    )


if __name__ == "__main__":
    sys.exit(main())
