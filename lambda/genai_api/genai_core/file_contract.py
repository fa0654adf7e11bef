"""The contract of files as input: the formats, Bedrock's limits, the request's size budget, the JSON Schemas of a
file item, of a ``files`` property and of a ``POST /uploads`` body, and where uploads live.

Small and pure on purpose: the catalog imports it when it loads (a task that takes files gets its ``files`` input
schema from here, so the API Gateway request model, the OpenAPI document and ``GET /use-cases`` all show the same
one), the stack imports it (the uploads prefix, the upload request's schema), and the function's cold start pays only for this. The
machinery (decoding, sniffing, the Converse blocks: ``genai_core.files``) and the uploads store
(``genai_core.uploads``, with its S3 client) load on the first request that needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

FILES_INPUT = "files"  # the input property of a task that takes files (the contract)
UPLOADS_PREFIX = "uploads/"  # every upload's key starts with it; the function may read and write only below it


class Kind(NamedTuple):
    """A kind of Converse content block that files become, with Bedrock's limits for it per request. (A NamedTuple,
    not a dataclass: this module is imported at init, and a frozen dataclass costs half a millisecond to define.)"""

    block: str  # the ContentBlock member: "document" or "image"
    label: str  # the start of a neutral name: "Document 1"
    formats: tuple[str, ...]
    max_count: int
    max_bytes: int  # decimal megabytes, the safe reading of Bedrock's "4.5 MB" and "3.75 MB"


# Bedrock's Converse documentation (Message.content): "up to five documents. Each document's size must be no more
# than 4.5 MB", "up to 20 images. Each image's size ... no more than 3.75 MB".
DOCUMENT = Kind("document", "Document", ("pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"), 5, 4_500_000)
IMAGE = Kind("image", "Image", ("png", "jpeg", "gif", "webp"), 20, 3_750_000)
KINDS = (DOCUMENT, IMAGE)
KIND_OF: Mapping[str, Kind] = {name: kind for kind in KINDS for name in kind.formats}
FORMATS = tuple(KIND_OF)
TEXT_FORMATS = frozenset({"csv", "html", "txt", "md"})
MAX_FILES = sum(kind.max_count for kind in KINDS)
MAX_FILE_BYTES = max(kind.max_bytes for kind in KINDS)

# The media type a format is stored and uploaded with (the presigned PUT signs it).
MEDIA_TYPES: Mapping[str, str] = {
    "pdf": "application/pdf",
    "csv": "text/csv",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "txt": "text/plain",
    "md": "text/markdown",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}

# Lambda takes at most 6 MB (6,291,456 bytes) of synchronous request, and that covers the whole proxy event: headers,
# request context and the body, in which base64 makes 3 bytes of a file into 4 characters. 4 MiB of files in base64 is
# 5,592,408 characters, which leaves about 680 KiB for the request's other fields and the event. A larger request
# never reaches the function (Lambda refuses it first), so the function holds inline files to this budget and points
# larger ones to POST /uploads, whatever Bedrock would take.
MAX_INLINE_BYTES = 4 * 1024 * 1024
# The body limit for a task that takes files: whatever reaches the function fits in Lambda's request limit. Within
# it, the inline files are held to MAX_INLINE_BYTES (with the hint to upload) and the rest of the body to the limit
# of every other request (jsonbody.MAX_BODY_BYTES), so that files never make room for more text.
MAX_BODY_BYTES_WITH_FILES = 6 * 1024 * 1024
# Amazon Nova takes at most 25 MB per request, base64 included: about 18 MB of files sent as bytes. Holding to it
# here also bounds the function's memory (the bytes, then botocore's base64 and JSON copies of them).
MAX_MODEL_BYTES = 18_000_000

MAX_INLINE_CHARS = -(-MAX_INLINE_BYTES // 3) * 4  # the same budget in base64 characters (5,592,408)

# How long a presigned PUT may be valid. A URL signed with the function's temporary credentials stops working when they
# expire, whatever its own expiry: keep it to minutes (SigV4 itself allows 7 days).
UPLOAD_URL_SECONDS_MIN, UPLOAD_URL_SECONDS_MAX = 60, 3600

UPLOAD_ID_LENGTH = 43  # ten digits (the second it was issued), a hyphen, 32 hex digits (genai_core.files.UPLOAD_ID)
NAME_MAX_LENGTH = 255


def inline_chars(items: Any) -> int:
    """The characters of base64 that a request's ``files`` carry inline (what the body's own limit leaves out)."""
    if not isinstance(items, list):
        return 0
    return sum(len(item["data"]) for item in items if isinstance(item, dict) and isinstance(item.get("data"), str))


# --- the contract as JSON Schema (the subset genai_core.schema speaks, so API Gateway and the function agree) -------


def file_item_schema() -> dict[str, Any]:
    """The JSON Schema of one file item. "Exactly one of data or uploadId" is beyond the schema subset (no oneOf):
    ``files.resolve`` enforces it, and the description says it."""
    return {
        "type": "object",
        "description": (
            "A file: its name (for you; the model never sees it), its format, and exactly one of data (the file's "
            "bytes in standard base64, without line breaks) or uploadId (from POST /uploads, for files larger than "
            f"{MAX_INLINE_BYTES} bytes in total)."
        ),
        "required": ["name", "format"],
        "additionalProperties": False,
        "properties": {
            "name": {
                "type": "string",
                "description": "The file's name, such as invoice-0042.pdf. Never sent to the model.",
                "minLength": 1,
                "maxLength": NAME_MAX_LENGTH,
            },
            "format": {"type": "string", "description": "The file's format.", "enum": list(FORMATS)},
            "data": {
                "type": "string",
                "description": f"The file's bytes, base64-encoded: at most {MAX_INLINE_BYTES} bytes inline in all.",
                "minLength": 4,
                "maxLength": MAX_INLINE_CHARS,
            },
            "uploadId": {
                "type": "string",
                "description": "The uploadId that POST /uploads answered, once the file was PUT to its url.",
                "minLength": UPLOAD_ID_LENGTH,
                "maxLength": UPLOAD_ID_LENGTH,
            },
        },
    }


def files_schema(description: str | None = None) -> dict[str, Any]:
    """The JSON Schema of a ``files`` property, for the catalog to inject into a use case's input schema."""
    counts = ", ".join(
        f"at most {kind.max_count} {kind.block}s of at most {kind.max_bytes} bytes each" for kind in KINDS
    )
    return {
        "type": "array",
        "description": description
        or f"Files to work on: documents ({', '.join(DOCUMENT.formats)}) and images ({', '.join(IMAGE.formats)}); {counts}.",
        "minItems": 1,
        "maxItems": MAX_FILES,
        "items": file_item_schema(),
    }


def upload_request_schema() -> dict[str, Any]:
    """The JSON Schema of a ``POST /uploads`` body: the file's name, format and exact size in bytes."""
    item = file_item_schema()["properties"]
    return {
        "type": "object",
        "required": ["name", "format", "size"],
        "additionalProperties": False,
        "properties": {
            "name": item["name"],
            "format": item["format"],
            # No maximum here: the function answers a size over the kind's limit with a 413 that names the limit.
            "size": {
                "type": "integer",
                "description": (
                    "The file's exact size in bytes: the upload URL accepts a body of this size only. At most "
                    f"{DOCUMENT.max_bytes} for a document, {IMAGE.max_bytes} for an image."
                ),
                "minimum": 1,
            },
        },
    }


def upload_answer_schema() -> dict[str, Any]:
    """The JSON Schema of ``POST /uploads``'s answer (``genai_core.uploads.Uploads.create`` gives it)."""
    return {
        "type": "object",
        "required": ["uploadId", "url", "method", "headers", "expiresAt"],
        "additionalProperties": False,
        "properties": {
            "uploadId": {
                "type": "string",
                "description": "The upload's id: give it as uploadId in a file item once the file is PUT.",
                "minLength": UPLOAD_ID_LENGTH,
                "maxLength": UPLOAD_ID_LENGTH,
            },
            "url": {
                "type": "string",
                "description": "A presigned S3 URL (SigV4): PUT the file's bytes there, exactly size bytes, with headers.",
            },
            "method": {"type": "string", "enum": ["PUT"]},
            "headers": {
                "type": "object",
                "description": "The headers the PUT must carry, with these values (the URL signs them).",
                "additionalProperties": {"type": "string"},
            },
            "expiresAt": {"type": "string", "description": "When the URL stops working (UTC, ISO 8601)."},
        },
    }
