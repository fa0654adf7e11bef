"""Ingest a folder into the deployed knowledge base: sync it to the corpus bucket, start an ingestion job, follow it
to the end and print what it did.

    make ingest CORPUS=examples/corpus                 # after `make deploy`, with the same credentials and region
    python -m tools.ingest examples/corpus --delete    # also delete the bucket's documents that the folder lacks
    python -m tools.ingest examples/corpus --dry-run   # only say what would be uploaded and deleted

The knowledge base id, its data source id and the corpus bucket come from the API stack's outputs (CloudFormation).
A document is uploaded when it is new or its content changed (its MD5 differs from the object's ETag: the bucket is
SSE-S3 and uploads are single-part, so the ETag is the MD5); unchanged documents are left alone. Files that a
knowledge base cannot read (by extension), larger than it accepts, or hidden are skipped with a warning.

Deletion is opt-in (``--delete``), as with ``aws s3 sync``: by default a folder adds and updates documents and never
removes any, so that ingesting a partial folder (one new policy) cannot wipe the corpus. With ``--delete`` the bucket
mirrors the folder, and the ingestion job then removes the vectors of the deleted documents. The bucket is versioned:
a deleted or overwritten document stays recoverable for ``NONCURRENT_VERSION_DAYS`` (30) days either way.

An ingestion job always starts, even when nothing changed: after a change of embedding model, dimension or chunking
the index is new and empty, and the unchanged corpus must be ingested again.

Exit codes: 0 the job completed and no document failed; 1 nothing was ingested (bad folder, no stack outputs, no
credentials, an AWS error before the job started); 2 the job ran but did not fully succeed (FAILED, STOPPED, some
documents failed, or it was still running after ``--timeout`` seconds).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from stacks.knowledge_base_config import NONCURRENT_VERSION_DAYS
from stacks.outputs import CORPUS_BUCKET_NAME, KNOWLEDGE_BASE_DATA_SOURCE_ID, KNOWLEDGE_BASE_ID
from tools.smoke import DEFAULT_STACK, aws_session

# The document types a knowledge base reads from S3, and their content types (Bedrock user guide, "Connect to
# Amazon S3 for your knowledge base": .txt, .md, .html, .doc/.docx, .csv, .xls/.xlsx, .pdf, each at most 50 MB),
# plus the optional <document>.metadata.json sidecars that carry a document's filterable attributes.
CONTENT_TYPES = {
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
METADATA_SUFFIX = ".metadata.json"
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys
POLL_SECONDS = 5.0
TIMEOUT_SECONDS = 1800.0
FINAL = {"COMPLETE", "FAILED", "STOPPED"}
# (label, IngestionJobStatistics field), in the order they are printed
STATISTICS = (
    ("scanned", "numberOfDocumentsScanned"),
    ("new", "numberOfNewDocumentsIndexed"),
    ("modified", "numberOfModifiedDocumentsIndexed"),
    ("deleted", "numberOfDocumentsDeleted"),
    ("failed", "numberOfDocumentsFailed"),
    ("skipped", "numberOfDocumentsSkipped"),
    ("metadata scanned", "numberOfMetadataDocumentsScanned"),
    ("metadata modified", "numberOfMetadataDocumentsModified"),
)
OK, NOT_RUN, NOT_CLEAN = 0, 1, 2


class IngestError(Exception):
    """Nothing could be ingested (exit code 1)."""


@dataclass(frozen=True)
class Outputs:
    knowledge_base_id: str
    data_source_id: str
    corpus_bucket: str


@dataclass(frozen=True)
class Document:
    key: str  # the object key: the path relative to the folder, with forward slashes
    path: Path
    md5: str

    @property
    def content_type(self) -> str:
        if self.key.endswith(METADATA_SUFFIX):
            return "application/json"
        return CONTENT_TYPES[Path(self.key).suffix.lower()]


@dataclass(frozen=True)
class Plan:
    upload: tuple[Document, ...]
    unchanged: tuple[str, ...]
    delete: tuple[str, ...]
    kept: tuple[str, ...] = field(default=())  # in the bucket, not in the folder, not deleted (no --delete)


# --- the folder and the bucket -----------------------------------------------------------------------------------


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan_folder(folder: Path) -> tuple[list[Document], list[str]]:
    """The folder's documents (sorted by key) and a warning for each file skipped."""
    if not folder.is_dir():
        raise IngestError(f"{folder} is not a folder (make ingest CORPUS=path/to/folder)")
    documents: list[Document] = []
    skipped: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        key = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in Path(key).parts):
            continue  # hidden files and folders (.DS_Store, .git) are not documents
        if not key.endswith(METADATA_SUFFIX) and path.suffix.lower() not in CONTENT_TYPES:
            skipped.append(f"{key}: a knowledge base does not read {path.suffix or 'extensionless'} files")
        elif (size := path.stat().st_size) > MAX_DOCUMENT_BYTES:
            skipped.append(f"{key}: {size:,} bytes, more than the {MAX_DOCUMENT_BYTES:,} a knowledge base accepts")
        else:
            documents.append(Document(key, path, md5_of(path)))
    return documents, skipped


def remote_objects(s3: Any, bucket: str) -> dict[str, str]:
    """Every object of the bucket: key -> ETag without its quotes."""
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = item["ETag"].strip('"')
    return found


def plan_sync(documents: Sequence[Document], remote: dict[str, str], *, delete: bool) -> Plan:
    """What to upload (new or changed), what is unchanged, and what to delete (only with ``delete``)."""
    local = {document.key for document in documents}
    extra = tuple(sorted(set(remote) - local))
    return Plan(
        upload=tuple(d for d in documents if remote.get(d.key) != d.md5),
        unchanged=tuple(d.key for d in documents if remote.get(d.key) == d.md5),
        delete=extra if delete else (),
        kept=() if delete else extra,
    )


def apply_plan(s3: Any, bucket: str, plan: Plan, out: IO[str]) -> None:
    for document in plan.upload:
        body = document.path.read_bytes()
        s3.put_object(
            Bucket=bucket,
            Key=document.key,
            Body=body,
            ContentType=document.content_type,
            ContentMD5=base64.b64encode(bytes.fromhex(document.md5)).decode("ascii"),
        )
        print(f"ingest: uploaded {document.key} ({len(body):,} bytes)", file=out)
    for start in range(0, len(plan.delete), DELETE_BATCH):
        batch = plan.delete[start : start + DELETE_BATCH]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})
        errors = answer.get("Errors", [])
        if errors:
            shown = "; ".join(f"{e.get('Key')}: {e.get('Code')} {e.get('Message', '')}".strip() for e in errors)
            raise IngestError(f"could not delete {len(errors)} document(s): {shown}")
        for key in batch:
            print(f"ingest: deleted {key} (its previous version stays {NONCURRENT_VERSION_DAYS} days)", file=out)


def describe_plan(plan: Plan, skipped: Iterable[str], out: IO[str]) -> None:
    for warning in skipped:
        print(f"ingest: skipped {warning}", file=out)
    print(
        f"ingest: {len(plan.upload)} to upload, {len(plan.unchanged)} unchanged, {len(plan.delete)} to delete",
        file=out,
    )
    if plan.kept:
        print(
            f"ingest: {len(plan.kept)} document(s) in the bucket are not in the folder and stay (--delete removes them): "
            + ", ".join(plan.kept),
            file=out,
        )


# --- the stack and the ingestion job -----------------------------------------------------------------------------


def stack_outputs(cloudformation: Any, stack_name: str) -> Outputs:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as error:  # ClientError, NoCredentialsError, EndpointConnectionError...
        raise IngestError(f"cannot describe stack {stack_name!r}: {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stacks[0].get("Outputs", []) if stacks else [])}
    wanted = (KNOWLEDGE_BASE_ID, KNOWLEDGE_BASE_DATA_SOURCE_ID, CORPUS_BUCKET_NAME)
    missing = [key for key in wanted if key not in outputs]
    if missing:
        raise IngestError(
            f"stack {stack_name!r} has no {', '.join(missing)} output: is it deployed, with the knowledge base on "
            "(context key knowledgeBase)?"
        )
    return Outputs(*(str(outputs[key]) for key in wanted))


def statistics_line(job: dict[str, Any]) -> str:
    stats = job.get("statistics", {})
    return ", ".join(f"{label} {stats.get(name, 0)}" for label, name in STATISTICS)


def follow(
    agent: Any,
    outputs: Outputs,
    job_id: str,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    interval: float,
    timeout: float,
    out: IO[str],
) -> dict[str, Any] | None:
    """Poll the job until it ends; print a line whenever its status or counts change. None: still running at
    ``timeout``."""
    started = clock()
    shown = ""
    while True:
        job: dict[str, Any] = agent.get_ingestion_job(
            knowledgeBaseId=outputs.knowledge_base_id, dataSourceId=outputs.data_source_id, ingestionJobId=job_id
        )["ingestionJob"]
        line = f"{job['status']}: {statistics_line(job)}"
        if line != shown:
            print(f"ingest: [{clock() - started:4.0f} s] {line}", file=out)
            shown = line
        if job["status"] in FINAL:
            return job
        if clock() - started >= timeout:
            return None
        sleep(interval)


def start_job(agent: Any, outputs: Outputs, client_token: str) -> str:
    try:
        job = agent.start_ingestion_job(
            knowledgeBaseId=outputs.knowledge_base_id,
            dataSourceId=outputs.data_source_id,
            clientToken=client_token,
            description="make ingest",
        )["ingestionJob"]
    except Exception as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        if code == "ConflictException":
            raise IngestError(
                "an ingestion job is already running for this data source: wait for it to end, then run make ingest again"
            ) from error
        raise IngestError(f"could not start the ingestion job: {error}") from error
    return str(job["ingestionJobId"])


def verdict(job: dict[str, Any] | None, timeout: float, out: IO[str]) -> int:
    if job is None:
        print(
            f"ingest: the job was still running after {timeout:.0f} s; it goes on (see the Bedrock console)", file=out
        )
        return NOT_CLEAN
    print(f"ingest: job {job['ingestionJobId']} {job['status']}: {statistics_line(job)}", file=out)
    for reason in job.get("failureReasons", []):
        print(f"ingest: failure: {reason}", file=out)
    failed = job.get("statistics", {}).get("numberOfDocumentsFailed", 0)
    return OK if job["status"] == "COMPLETE" and not failed else NOT_CLEAN


def run(
    folder: Path,
    *,
    stack_name: str,
    cloudformation: Any,
    s3: Any,
    agent: Any,
    delete: bool = False,
    dry_run: bool = False,
    client_token: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    interval: float = POLL_SECONDS,
    timeout: float = TIMEOUT_SECONDS,
    out: IO[str] = sys.stdout,
) -> int:
    """The whole ingestion; returns the exit code."""
    try:
        documents, skipped = scan_folder(folder)
        if not documents:
            raise IngestError(f"{folder} has no document a knowledge base can read ({', '.join(CONTENT_TYPES)})")
        outputs = stack_outputs(cloudformation, stack_name)
        print(
            f"ingest: {folder} -> s3://{outputs.corpus_bucket} (knowledge base {outputs.knowledge_base_id})", file=out
        )
        try:
            plan = plan_sync(documents, remote_objects(s3, outputs.corpus_bucket), delete=delete)
            describe_plan(plan, skipped, out)
            if dry_run:
                print("ingest: dry run: nothing uploaded, deleted or ingested", file=out)
                return OK
            apply_plan(s3, outputs.corpus_bucket, plan, out)
        except IngestError:
            raise
        except Exception as error:  # ClientError (AccessDenied, NoSuchBucket), NoCredentialsError...
            raise IngestError(f"cannot sync s3://{outputs.corpus_bucket}: {error}") from error
        job_id = start_job(agent, outputs, client_token or str(uuid.uuid4()))
    except IngestError as error:
        print(f"ingest: {error}", file=out)
        return NOT_RUN
    print(f"ingest: started ingestion job {job_id}", file=out)
    try:
        job = follow(agent, outputs, job_id, sleep=sleep, clock=clock, interval=interval, timeout=timeout, out=out)
    except Exception as error:  # the job runs on; only following it failed
        print(f"ingest: lost track of job {job_id}: {error}", file=out)
        return NOT_CLEAN
    return verdict(job, timeout, out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the folder of documents (e.g. examples/corpus)")
    parser.add_argument("--stack-name", default=DEFAULT_STACK, help=f"the API stack (default: {DEFAULT_STACK})")
    parser.add_argument("--region", help="default: the region of your AWS configuration")
    parser.add_argument("--delete", action="store_true", help="delete the bucket's documents that the folder lacks")
    parser.add_argument("--dry-run", action="store_true", help="say what would change; upload and start nothing")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds to follow the job")
    args = parser.parse_args(argv)

    session = aws_session(args.region)
    if not session.region_name:
        print("ingest: no AWS region: set AWS_REGION (or a profile's region) or pass --region", file=sys.stderr)
        return NOT_RUN
    return run(
        args.folder,
        stack_name=args.stack_name,
        cloudformation=session.client("cloudformation"),
        s3=session.client("s3"),
        agent=session.client("bedrock-agent"),
        delete=args.delete,
        dry_run=args.dry_run,
        timeout=args.timeout,
    )


if __name__ == "__main__":
    sys.exit(main())
