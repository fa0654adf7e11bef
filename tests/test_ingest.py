"""`make ingest`, offline: real s3, bedrock-agent and cloudformation clients answered by Stubbers (each request and
response validated against the service model), a temporary folder of documents, and an injected clock and sleeper
(no test waits). Every call the tool makes must be expected, in order, and every expected call must happen."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from stacks import outputs
from tests.sigv4_api import REGION, STACK
from tools import ingest

KB_ID, DS_ID, JOB_ID = "KB12345678", "DS12345678", "JOB1234567"
BUCKET = "genaireferenceapi-knowledgebasecorpusbucket-abc123"
TOKEN = "ingest-test-client-token-0000000000000001"
OUTPUTS = [
    {"OutputKey": "ApiUrl", "OutputValue": "https://abc123.execute-api.us-east-1.amazonaws.com/v1/"},
    {"OutputKey": outputs.KNOWLEDGE_BASE_ID, "OutputValue": KB_ID},
    {"OutputKey": outputs.KNOWLEDGE_BASE_DATA_SOURCE_ID, "OutputValue": DS_ID},
    {"OutputKey": outputs.CORPUS_BUCKET_NAME, "OutputValue": BUCKET},
]
JOB_KEYS = {"knowledgeBaseId": KB_ID, "dataSourceId": DS_ID}
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
EXAMPLE_CORPUS = Path(__file__).resolve().parent.parent / "examples" / "corpus"


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class FakeTime:
    """The clock the tool reads and the sleeper it calls: sleeping advances the clock, instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Aws:
    """The three stubbed clients and helpers that queue their answers."""

    def __init__(self) -> None:
        self.cloudformation = boto3.client("cloudformation", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.agent = boto3.client("bedrock-agent", region_name=REGION)
        self.stubs = [Stubber(client) for client in (self.cloudformation, self.s3, self.agent)]
        self.cf_stub, self.s3_stub, self.agent_stub = self.stubs

    def outputs(self, outputs: list[dict[str, str]] = OUTPUTS) -> None:
        stack = {"StackName": STACK, "CreationTime": NOW, "StackStatus": "CREATE_COMPLETE", "Outputs": outputs}
        self.cf_stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})

    def listing(self, objects: dict[str, str]) -> None:
        contents = [{"Key": key, "ETag": f'"{etag}"', "Size": 1, "LastModified": NOW} for key, etag in objects.items()]
        answer: dict[str, Any] = {"IsTruncated": False, "KeyCount": len(contents), "Name": BUCKET}
        if contents:
            answer["Contents"] = contents
        self.s3_stub.add_response("list_objects_v2", answer, {"Bucket": BUCKET})

    def upload(self, key: str, body: bytes, content_type: str) -> None:
        expected = {
            "Bucket": BUCKET,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
            "ContentMD5": base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode(),
        }
        self.s3_stub.add_response("put_object", {"ETag": f'"{md5(body)}"'}, expected)

    def start(self) -> None:
        self.agent_stub.add_response(
            "start_ingestion_job",
            {"ingestionJob": self.job("STARTING")},
            {**JOB_KEYS, "clientToken": TOKEN, "description": "make ingest"},
        )

    def job(self, status: str, failed: int = 0, **extra: Any) -> dict[str, Any]:
        statistics = {
            "numberOfDocumentsScanned": 3,
            "numberOfNewDocumentsIndexed": 2 if status == "COMPLETE" else 0,
            "numberOfModifiedDocumentsIndexed": 1 if status == "COMPLETE" else 0,
            "numberOfDocumentsDeleted": 0,
            "numberOfDocumentsFailed": failed,
        }
        return {
            **JOB_KEYS,
            "ingestionJobId": JOB_ID,
            "status": status,
            "statistics": statistics,
            "startedAt": NOW,
            "updatedAt": NOW,
            **extra,
        }

    def poll(self, status: str, failed: int = 0, **extra: Any) -> None:
        self.agent_stub.add_response(
            "get_ingestion_job",
            {"ingestionJob": self.job(status, failed, **extra)},
            {**JOB_KEYS, "ingestionJobId": JOB_ID},
        )


@pytest.fixture
def aws() -> Iterator[Aws]:
    fakes = Aws()
    for stub in fakes.stubs:
        stub.activate()
    yield fakes
    for stub in fakes.stubs:
        stub.assert_no_pending_responses()
        stub.deactivate()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    (folder / "policies").mkdir(parents=True)
    (folder / "faq.md").write_text("# FAQ\nShipping takes three days.\n", encoding="utf-8")
    (folder / "policies" / "ferias.txt").write_text("Política de férias: 30 dias por ano.\n", encoding="utf-8")
    (folder / "policies" / "ferias.txt.metadata.json").write_text('{"metadataAttributes": {"lang": "pt-BR"}}')
    return folder


def run(aws: Aws, folder: Path, fake_time: FakeTime | None = None, **kwargs: Any) -> tuple[int, list[str]]:
    out = io.StringIO()
    fake_time = fake_time or FakeTime()
    code = ingest.run(
        folder,
        stack_name=STACK,
        cloudformation=aws.cloudformation,
        s3=aws.s3,
        agent=aws.agent,
        client_token=TOKEN,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        out=out,
        **kwargs,
    )
    return code, out.getvalue().splitlines()


def body(folder: Path, key: str) -> bytes:
    return (folder / key).read_bytes()


# --- the whole run -----------------------------------------------------------------------------------------------


def test_new_and_changed_documents_are_uploaded_the_job_is_followed_and_its_counts_printed(aws, corpus):
    aws.outputs()
    aws.listing({"faq.md": md5(body(corpus, "faq.md")), "policies/ferias.txt": md5(b"an older version")})
    aws.upload("policies/ferias.txt", body(corpus, "policies/ferias.txt"), "text/plain; charset=utf-8")
    aws.upload(
        "policies/ferias.txt.metadata.json", body(corpus, "policies/ferias.txt.metadata.json"), "application/json"
    )
    aws.start()
    aws.poll("STARTING")
    aws.poll("IN_PROGRESS")
    aws.poll("IN_PROGRESS")  # unchanged: no new line
    aws.poll("COMPLETE")
    fake_time = FakeTime()

    code, lines = run(aws, corpus, fake_time)

    assert code == ingest.OK, lines
    assert f"ingest: {corpus} -> s3://{BUCKET} (knowledge base {KB_ID})" in lines
    assert "ingest: 2 to upload, 1 unchanged, 0 to delete" in lines
    assert f"ingest: started ingestion job {JOB_ID}" in lines
    progress = [line for line in lines if line.startswith("ingest: [")]
    assert [line.split("] ")[1].split(":")[0] for line in progress] == ["STARTING", "IN_PROGRESS", "COMPLETE"]
    assert fake_time.sleeps == [ingest.POLL_SECONDS] * 3
    assert lines[-1] == (
        f"ingest: job {JOB_ID} COMPLETE: scanned 3, new 2, modified 1, deleted 0, failed 0, skipped 0, "
        "metadata scanned 0, metadata modified 0"
    )


def test_an_unchanged_corpus_is_still_ingested_for_a_new_empty_index(aws, corpus):
    aws.outputs()
    aws.listing(
        {key: md5(body(corpus, key)) for key in ("faq.md", "policies/ferias.txt", "policies/ferias.txt.metadata.json")}
    )
    aws.start()
    aws.poll("COMPLETE")

    code, lines = run(aws, corpus)

    assert code == ingest.OK
    assert "ingest: 0 to upload, 3 unchanged, 0 to delete" in lines


def test_documents_missing_from_the_folder_stay_unless_delete_is_asked(aws, corpus):
    keys = {
        key: md5(body(corpus, key)) for key in ("faq.md", "policies/ferias.txt", "policies/ferias.txt.metadata.json")
    }
    aws.outputs()
    aws.listing({**keys, "old/retired-policy.md": md5(b"retired")})
    aws.start()
    aws.poll("COMPLETE")

    code, lines = run(aws, corpus)

    assert code == ingest.OK
    assert any(
        "1 document(s) in the bucket are not in the folder and stay" in line and "retired-policy" in line
        for line in lines
    )


def test_with_delete_the_bucket_mirrors_the_folder(aws, corpus):
    keys = {
        key: md5(body(corpus, key)) for key in ("faq.md", "policies/ferias.txt", "policies/ferias.txt.metadata.json")
    }
    aws.outputs()
    aws.listing({**keys, "old/a.md": "0" * 32, "old/b.pdf": "1" * 32})
    aws.s3_stub.add_response(
        "delete_objects",
        {"Deleted": [{"Key": "old/a.md"}, {"Key": "old/b.pdf"}]},
        {"Bucket": BUCKET, "Delete": {"Objects": [{"Key": "old/a.md"}, {"Key": "old/b.pdf"}], "Quiet": True}},
    )
    aws.start()
    aws.poll("COMPLETE")

    code, lines = run(aws, corpus, delete=True)

    assert code == ingest.OK
    assert "ingest: 0 to upload, 3 unchanged, 2 to delete" in lines
    assert [line for line in lines if line.startswith("ingest: deleted")] == [
        f"ingest: deleted old/a.md (its previous version stays {ingest.NONCURRENT_VERSION_DAYS} days)",
        f"ingest: deleted old/b.pdf (its previous version stays {ingest.NONCURRENT_VERSION_DAYS} days)",
    ]


def test_a_document_s3_refuses_to_delete_stops_before_the_job(aws, corpus):
    keys = {
        key: md5(body(corpus, key)) for key in ("faq.md", "policies/ferias.txt", "policies/ferias.txt.metadata.json")
    }
    aws.outputs()
    aws.listing({**keys, "locked.md": "0" * 32})
    aws.s3_stub.add_response(
        "delete_objects",
        {"Errors": [{"Key": "locked.md", "Code": "AccessDenied", "Message": "Access Denied"}]},
        {"Bucket": BUCKET, "Delete": {"Objects": [{"Key": "locked.md"}], "Quiet": True}},
    )

    code, lines = run(aws, corpus, delete=True)

    assert code == ingest.NOT_RUN
    assert lines[-1] == "ingest: could not delete 1 document(s): locked.md: AccessDenied Access Denied"


def test_a_dry_run_uploads_deletes_and_starts_nothing(aws, corpus):
    aws.outputs()
    aws.listing({"stale.md": "0" * 32})

    code, lines = run(aws, corpus, delete=True, dry_run=True)

    assert code == ingest.OK
    assert "ingest: 3 to upload, 0 unchanged, 1 to delete" in lines
    assert lines[-1] == "ingest: dry run: nothing uploaded, deleted or ingested"


# --- a job that does not fully succeed ---------------------------------------------------------------------------


def unchanged(aws: Aws, corpus: Path) -> None:
    aws.outputs()
    aws.listing(
        {key: md5(body(corpus, key)) for key in ("faq.md", "policies/ferias.txt", "policies/ferias.txt.metadata.json")}
    )
    aws.start()


def test_a_failed_job_exits_2_with_its_reasons(aws, corpus):
    unchanged(aws, corpus)
    reasons = ["Encountered error: Filterable metadata must have at most 2048 bytes", "The model timed out"]
    aws.poll("FAILED", failureReasons=reasons)

    code, lines = run(aws, corpus)

    assert code == ingest.NOT_CLEAN
    assert lines[-2:] == [f"ingest: failure: {reason}" for reason in reasons]


def test_a_complete_job_with_failed_documents_exits_2(aws, corpus):
    unchanged(aws, corpus)
    aws.poll("COMPLETE", failed=1, failureReasons=["policies/broken.pdf: the file could not be parsed"])

    code, lines = run(aws, corpus)

    assert code == ingest.NOT_CLEAN
    assert "failed 1" in lines[-2]
    assert lines[-1] == "ingest: failure: policies/broken.pdf: the file could not be parsed"


def test_a_stopped_job_exits_2(aws, corpus):
    unchanged(aws, corpus)
    aws.poll("STOPPING")
    aws.poll("STOPPED")

    code, _ = run(aws, corpus)

    assert code == ingest.NOT_CLEAN


def test_a_job_still_running_at_the_timeout_is_left_running_and_exits_2(aws, corpus):
    unchanged(aws, corpus)
    polls = 4  # at 0, 5, 10 and 15 s; the timeout is 15 s
    for _ in range(polls):
        aws.poll("IN_PROGRESS")
    fake_time = FakeTime()

    code, lines = run(aws, corpus, fake_time, timeout=3 * ingest.POLL_SECONDS)

    assert code == ingest.NOT_CLEAN
    assert fake_time.sleeps == [ingest.POLL_SECONDS] * (polls - 1)
    assert lines[-1].startswith("ingest: the job was still running after 15 s")


def test_losing_track_of_the_job_is_reported_not_raised(aws, corpus):
    unchanged(aws, corpus)
    aws.agent_stub.add_client_error("get_ingestion_job", service_error_code="ThrottlingException", http_status_code=429)

    code, lines = run(aws, corpus)

    assert code == ingest.NOT_CLEAN
    assert lines[-1].startswith(f"ingest: lost track of job {JOB_ID}: ")


# --- nothing can be ingested -------------------------------------------------------------------------------------


def test_a_running_job_is_named_as_the_reason_nothing_started(aws, corpus):
    aws.outputs()
    aws.listing(
        {key: md5(body(corpus, key)) for key in ("faq.md", "policies/ferias.txt", "policies/ferias.txt.metadata.json")}
    )
    aws.agent_stub.add_client_error("start_ingestion_job", service_error_code="ConflictException", http_status_code=409)

    code, lines = run(aws, corpus)

    assert code == ingest.NOT_RUN
    assert lines[-1] == (
        "ingest: an ingestion job is already running for this data source: wait for it to end, then run make ingest again"
    )


def test_another_start_error_is_reported_with_its_code(aws, corpus):
    aws.outputs()
    aws.listing(
        {key: md5(body(corpus, key)) for key in ("faq.md", "policies/ferias.txt", "policies/ferias.txt.metadata.json")}
    )
    aws.agent_stub.add_client_error(
        "start_ingestion_job", service_error_code="AccessDeniedException", http_status_code=403
    )

    code, lines = run(aws, corpus)

    assert code == ingest.NOT_RUN
    assert lines[-1].startswith("ingest: could not start the ingestion job: ") and "AccessDeniedException" in lines[-1]


def test_a_stack_without_the_knowledge_base_outputs_stops_with_a_message(aws, corpus):
    aws.outputs(OUTPUTS[:1])

    code, lines = run(aws, corpus)

    assert code == ingest.NOT_RUN
    assert lines == [
        f"ingest: stack {STACK!r} has no {outputs.KNOWLEDGE_BASE_ID}, {outputs.KNOWLEDGE_BASE_DATA_SOURCE_ID}, {outputs.CORPUS_BUCKET_NAME} "
        "output: is it deployed, with the knowledge base on (context key knowledgeBase)?"
    ]


def test_a_stack_that_does_not_exist_stops_with_a_message(aws, corpus):
    aws.cf_stub.add_client_error(
        "describe_stacks", service_error_code="ValidationError", service_message=f"Stack with id {STACK} does not exist"
    )

    code, lines = run(aws, corpus)

    assert code == ingest.NOT_RUN
    assert "does not exist" in lines[-1]


def test_a_bucket_it_may_not_list_stops_before_any_upload(aws, corpus):
    aws.outputs()
    aws.s3_stub.add_client_error("list_objects_v2", service_error_code="AccessDenied", http_status_code=403)

    code, lines = run(aws, corpus)

    assert code == ingest.NOT_RUN
    assert lines[-1].startswith(f"ingest: cannot sync s3://{BUCKET}: ") and "AccessDenied" in lines[-1]


def test_a_missing_folder_or_one_without_documents_calls_no_aws_at_all(aws, tmp_path):
    code, lines = run(aws, tmp_path / "nope")
    assert code == ingest.NOT_RUN
    assert lines == [f"ingest: {tmp_path / 'nope'} is not a folder (make ingest CORPUS=path/to/folder)"]

    (tmp_path / "notes.rtf").write_text("not a format a knowledge base reads")
    code, lines = run(aws, tmp_path)
    assert code == ingest.NOT_RUN
    assert lines[-1].startswith(f"ingest: {tmp_path} has no document a knowledge base can read")


# --- the folder --------------------------------------------------------------------------------------------------


def test_the_folder_scan_keeps_documents_and_sidecars_and_says_what_it_skips(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("hidden")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "guide.PDF").write_bytes(b"%PDF-1.4")
    (tmp_path / "guide.PDF.metadata.json").write_text("{}")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    (tmp_path / "README").write_text("no extension")
    (tmp_path / "huge.txt").write_text("x" * 2048)
    monkeypatch.setattr(ingest, "MAX_DOCUMENT_BYTES", 1024)

    documents, skipped = ingest.scan_folder(tmp_path)

    assert [(d.key, d.content_type) for d in documents] == [
        ("guide.PDF", "application/pdf"),
        ("guide.PDF.metadata.json", "application/json"),
    ]
    assert documents[0].md5 == md5(b"%PDF-1.4")
    assert skipped == [
        "README: a knowledge base does not read extensionless files",
        "huge.txt: 2,048 bytes, more than the 1,024 a knowledge base accepts",
        "photo.png: a knowledge base does not read .png files",
    ]


def test_the_plan_compares_content_not_dates():
    same = ingest.Document("a.md", Path("a.md"), md5(b"a"))
    changed = ingest.Document("b.md", Path("b.md"), md5(b"b2"))
    new = ingest.Document("c.md", Path("c.md"), md5(b"c"))
    remote = {"a.md": md5(b"a"), "b.md": md5(b"b1"), "gone.md": md5(b"g"), "multipart.md": "abc-2"}

    plan = ingest.plan_sync([same, changed, new], remote, delete=False)

    assert (plan.upload, plan.unchanged, plan.delete, plan.kept) == (
        (changed, new),
        ("a.md",),
        (),
        ("gone.md", "multipart.md"),
    )
    assert ingest.plan_sync([same], remote, delete=True).delete == ("b.md", "gone.md", "multipart.md")


def test_the_sample_corpus_is_read_whole_by_a_knowledge_base():
    documents, skipped = ingest.scan_folder(EXAMPLE_CORPUS)

    assert skipped == []
    assert len([d for d in documents if not d.key.endswith(ingest.METADATA_SUFFIX)]) >= 6


def test_every_sample_question_has_its_fact_in_its_source_document():
    """examples/corpus-questions.md: each expected fact is in the document that must be cited for it, and exactly one
    question has no source (the "nothing relevant" answer)."""
    lines = (EXAMPLE_CORPUS.parent / "corpus-questions.md").read_text(encoding="utf-8").splitlines()
    table = [line.strip().strip("|").split("|") for line in lines if line.startswith("|")][2:]  # header, separator
    rows = [[cell.strip() for cell in row] for row in table]
    files = {path.name for path in EXAMPLE_CORPUS.iterdir()}
    documents = {name for name in files if not name.endswith(".metadata.json")}
    # Each document has its metadata sidecar (its filterable attributes: language, kind, audience).
    assert files - documents == {f"{name}.metadata.json" for name in documents}

    assert {language for language, *_ in rows} == {"pt-BR", "en"}
    unanswerable = [row for row in rows if row[3] == "(none)"]
    assert len(unanswerable) == 1
    for _language, question, fact, source in (row for row in rows if row not in unanswerable):
        assert source in documents, question
        assert fact in (EXAMPLE_CORPUS / source).read_text(encoding="utf-8"), question
    cited = {row[3] for row in rows} - {"(none)"}
    assert cited == documents  # every document answers at least one question
