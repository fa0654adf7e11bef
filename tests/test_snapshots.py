"""Snapshots of every stack's synthesized template (syrupy, JSON).

Asset hashes (64 hex digits) are normalised, so an edit under lambda/ does not churn a snapshot while any change to
the infrastructure does. Update on purpose with `make snapshot-update` and read the diff before committing it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.support import API_STACK, MONITORING_STACK

ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def normalise(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: normalise(value) for key, value in node.items()}
    if isinstance(node, list):
        return [normalise(item) for item in node]
    if isinstance(node, str):
        return ASSET_HASH.sub("<asset-hash>", node)
    return node


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", [API_STACK, MONITORING_STACK])
def test_template_matches_the_snapshot(templates, snapshot_json, stack):
    assert normalise(templates[stack]) == snapshot_json


def test_normalisation_removes_every_asset_hash_and_nothing_else(templates):
    template = templates[API_STACK]
    normalised = normalise(template)

    assert ASSET_HASH.search(str(normalised)) is None
    assert ASSET_HASH.search(str(template)) is not None  # the function's code asset is hashed
    assert normalise({"S3Key": "a" * 64 + ".zip", "Other": "a" * 63}) == {
        "S3Key": "<asset-hash>.zip",
        "Other": "a" * 63,
    }
