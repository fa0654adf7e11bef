"""tools/file_examples.py: one committed example with a small real file for every task that takes files, current
(what the module writes now), valid for its route, and its file accepted by the function's own checks."""

from __future__ import annotations

import base64
import json

from genai_core import file_contract, files
from genai_core.catalog import load_catalog
from tools import file_examples

CATALOG = load_catalog()


def test_the_committed_examples_are_what_the_module_writes():
    assert file_examples.stale() == [], "run make file-examples"
    assert file_examples.main(["--check"]) == 0


def test_every_task_that_takes_files_has_an_example_with_a_file():
    assert {e.use_case for e in file_examples.FILE_EXAMPLES} == {u.id for u in CATALOG if u.file_input is not None}


def test_each_example_is_a_valid_request_and_its_file_passes_the_functions_checks():
    formats = set()
    for example in file_examples.FILE_EXAMPLES:
        use_case = CATALOG.get(example.use_case)
        request = json.loads(example.path.read_text(encoding="utf-8"))
        assert use_case.check_input(request, "") is None, example.path
        assert use_case.input_rules_error(request) is None, example.path
        assert not set(use_case.file_input.replaces) & set(request)  # the file alone: the "summarize a PDF"
        (attachment,) = files.resolve(request["files"])  # decoded, sniffed as its declared format
        assert attachment.format == example.format and attachment.data == example.make()
        assert len(base64.b64encode(attachment.data)) < 16 * 1024  # small: a reviewer can read the example's diff
        formats.add(example.format)
    assert formats == {"pdf", "png", "docx"}
    assert all(file_contract.KIND_OF[fmt] for fmt in formats)


def test_a_stale_example_is_reported(tmp_path, monkeypatch, capsys):
    example = file_examples.FILE_EXAMPLES[0]
    moved = file_examples.FileExample(example.use_case, example.name, example.format, lambda: b"%PDF-1.4 other", {})
    monkeypatch.setattr(file_examples, "FILE_EXAMPLES", (moved,))

    assert file_examples.stale() == [moved.path]
    assert file_examples.main(["--check"]) == 1
    assert "is stale: run make file-examples" in capsys.readouterr().out
