"""The knowledgeBase context key (stacks/knowledge_base_config.py): on by default, switched off or configured by
``-c knowledgeBase=...``, and every bad value refused at synth with a message that names the key.

Expectations derive from the model table and the defaults; the numbers here are the documented limits."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stacks.config import ConfigError
from stacks.knowledge_base_config import (
    CHUNKING_KEYS,
    CONTEXT_KEY,
    DEFAULTS,
    EMBEDDING_MODELS,
    INDEX_NAME,
    KNOWLEDGE_BASE_REGIONS,
    FixedSizeChunking,
    HierarchicalChunking,
    SemanticChunking,
    context_value,
    load_knowledge_base_config,
)
from tests.support import CDK_CONTEXT

MODELS = sorted(EMBEDDING_MODELS)


def refused(value: Any, *fragments: str, region: str | None = None) -> str:
    with pytest.raises(ConfigError) as error:
        load_knowledge_base_config(value, region)
    message = str(error.value)
    assert message.startswith(f"context key {CONTEXT_KEY!r}: "), message
    for fragment in fragments:
        assert fragment in message, message
    return message


# --- on, off, configured -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", True, "true", " TRUE ", {}, "{}", {"enabled": True}])
def test_absent_or_true_means_on_with_the_defaults(value):
    assert load_knowledge_base_config(value) == DEFAULTS
    assert DEFAULTS.enabled


@pytest.mark.parametrize("value", [False, "false", {"enabled": False}, '{"enabled": false}', {"enabled": "false"}])
def test_false_switches_it_off(value):
    config = load_knowledge_base_config(value)

    assert not config.enabled
    assert replace(config, enabled=True) == DEFAULTS


def test_a_json_string_and_an_object_mean_the_same():
    value = {"dimension": 512, "chunking": {"strategy": "FIXED_SIZE", "maxTokens": 500}}

    assert load_knowledge_base_config(json.dumps(value)) == load_knowledge_base_config(value)


def test_keys_left_out_keep_their_defaults():
    config = load_knowledge_base_config({"dimension": 256})

    assert config == replace(DEFAULTS, dimension=256)


def test_cdk_json_holds_the_defaults_in_full():
    """The configuration page shows cdk.json's value; the loader's defaults fill what a -c override leaves out."""
    assert CDK_CONTEXT[CONTEXT_KEY] == context_value(DEFAULTS)
    assert load_knowledge_base_config(CDK_CONTEXT[CONTEXT_KEY]) == DEFAULTS


@pytest.mark.parametrize("config", [DEFAULTS, replace(DEFAULTS, enabled=False, chunking=HierarchicalChunking(2000))])
def test_the_context_value_of_a_config_loads_back_to_it(config):
    assert load_knowledge_base_config(json.dumps(context_value(config))) == config


def test_the_default_model_reads_portuguese_and_english_and_needs_no_marketplace_subscription():
    assert DEFAULTS.embedding_model == "amazon.titan-embed-text-v2:0"
    assert "Portuguese" in DEFAULTS.model.note and "no AWS Marketplace" in DEFAULTS.model.note
    assert DEFAULTS.dimension == DEFAULTS.model.dimensions[0]


@pytest.mark.parametrize("value", ["maybe", 1, ["enabled"], '{"enabled": true', "{nope}"])
def test_anything_but_a_boolean_or_an_object_is_refused(value):
    refused(value, "true", "false")


def test_an_unknown_key_is_refused_with_the_keys_it_takes():
    refused({"embeddingModels": "x"}, "embeddingModels", "enabled, embeddingModel, dimension, chunking")


def test_the_number_of_passages_is_the_tasks_not_the_deployments():
    refused({"maxResults": 8}, "unknown key(s) 'maxResults'")


# --- the embedding model and its dimension -----------------------------------------------------------------------


@pytest.mark.parametrize("model_id", MODELS)
def test_every_known_model_loads_with_each_of_its_dimensions_and_defaults_to_its_first(model_id):
    model = EMBEDDING_MODELS[model_id]

    assert load_knowledge_base_config({"embeddingModel": model_id}).dimension == model.dimensions[0]
    for dimension in model.dimensions:
        config = load_knowledge_base_config({"embeddingModel": model_id, "dimension": dimension})
        assert (config.embedding_model, config.dimension) == (model_id, dimension)
        assert config.configurable_dimension == (len(model.dimensions) > 1)


@pytest.mark.parametrize("model_id", MODELS)
def test_a_dimension_the_model_does_not_produce_is_refused_at_synth(model_id):
    model = EMBEDDING_MODELS[model_id]

    for dimension in (max(model.dimensions) + 1, min(model.dimensions) - 1, str(model.dimensions[0]), True):
        message = refused({"embeddingModel": model_id, "dimension": dimension}, model_id)
        assert all(str(d) in message for d in model.dimensions)


def test_titan_v2_offers_the_three_documented_sizes():
    assert sorted(EMBEDDING_MODELS["amazon.titan-embed-text-v2:0"].dimensions) == [256, 512, 1024]
    assert EMBEDDING_MODELS["cohere.embed-multilingual-v3"].dimensions == (1024,)


def test_an_unknown_model_is_refused_with_the_known_ones():
    refused({"embeddingModel": "amazon.titan-embed-text-v9"}, *MODELS)


# --- chunking ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "kind"),
    [("FIXED_SIZE", FixedSizeChunking), ("HIERARCHICAL", HierarchicalChunking), ("SEMANTIC", SemanticChunking)],
)
def test_each_strategy_loads_with_its_defaults(strategy, kind):
    chunking = load_knowledge_base_config({"chunking": {"strategy": strategy}}).chunking

    assert chunking == kind()
    assert chunking.cfn()["chunkingStrategy"] == strategy == kind.strategy
    assert set(CHUNKING_KEYS[strategy].values()) == set(kind.__dataclass_fields__)


def test_the_cloudformation_shape_of_each_strategy():
    assert FixedSizeChunking(300, 20).cfn() == {
        "chunkingStrategy": "FIXED_SIZE",
        "fixedSizeChunkingConfiguration": {"maxTokens": 300, "overlapPercentage": 20},
    }
    assert HierarchicalChunking(1500, 300, 60).cfn() == {
        "chunkingStrategy": "HIERARCHICAL",
        "hierarchicalChunkingConfiguration": {
            "levelConfigurations": [{"maxTokens": 1500}, {"maxTokens": 300}],
            "overlapTokens": 60,
        },
    }
    assert SemanticChunking(300, 0, 95).cfn() == {
        "chunkingStrategy": "SEMANTIC",
        "semanticChunkingConfiguration": {"maxTokens": 300, "bufferSize": 0, "breakpointPercentileThreshold": 95},
    }


@pytest.mark.parametrize(
    ("chunking", "fragment"),
    [
        ({"strategy": "FIXED_SIZE", "overlapPercentage": 0}, "chunking.overlapPercentage"),
        ({"strategy": "FIXED_SIZE", "overlapPercentage": 100}, "chunking.overlapPercentage"),
        ({"strategy": "FIXED_SIZE", "maxTokens": 0}, "chunking.maxTokens"),
        ({"strategy": "FIXED_SIZE", "maxTokens": 300.0}, "chunking.maxTokens"),
        ({"strategy": "FIXED_SIZE", "maxTokens": "300"}, "chunking.maxTokens"),
        ({"strategy": "HIERARCHICAL", "parentMaxTokens": 300, "childMaxTokens": 300}, "chunking.childMaxTokens"),
        ({"strategy": "HIERARCHICAL", "parentMaxTokens": 8193}, "chunking.parentMaxTokens"),
        ({"strategy": "HIERARCHICAL", "childMaxTokens": 100, "overlapTokens": 100}, "chunking.overlapTokens"),
        ({"strategy": "SEMANTIC", "breakpointPercentileThreshold": 49}, "chunking.breakpointPercentileThreshold"),
        ({"strategy": "SEMANTIC", "bufferSize": 2}, "chunking.bufferSize"),
        ({"strategy": "SEMANTIC", "overlapPercentage": 20}, "unknown: 'overlapPercentage'"),
        ({"strategy": "RECURSIVE"}, "FIXED_SIZE, HIERARCHICAL, SEMANTIC"),
        ("FIXED_SIZE", "chunking must be an object"),
    ],
)
def test_chunking_outside_cloudformations_limits_is_refused(chunking, fragment):
    refused({"chunking": chunking}, fragment)


@pytest.mark.parametrize("model_id", MODELS)
def test_a_chunk_must_fit_what_the_embedding_model_reads_at_once(model_id):
    limit = min(EMBEDDING_MODELS[model_id].max_input_tokens, 8192)

    for strategy, key in (("FIXED_SIZE", "maxTokens"), ("SEMANTIC", "maxTokens"), ("HIERARCHICAL", "childMaxTokens")):
        fitting = {"strategy": strategy, key: limit}
        if strategy == "HIERARCHICAL":
            fitting["parentMaxTokens"] = 8192 if limit < 8192 else limit + 1
            if limit >= 8192:
                continue  # the child must be smaller than a parent of at most 8,192 tokens: checked above
        load_knowledge_base_config({"embeddingModel": model_id, "chunking": fitting})
        refused({"embeddingModel": model_id, "chunking": {**fitting, key: limit + 1}}, f"chunking.{key}")


# --- the region --------------------------------------------------------------------------------------------------


def test_a_pinned_region_without_the_resource_types_fails_at_synth_unless_the_knowledge_base_is_off():
    message = refused(None, "cannot be deployed to mx-central-1", f"-c {CONTEXT_KEY}=false", region="mx-central-1")
    assert all(region in message for region in KNOWLEDGE_BASE_REGIONS)

    assert not load_knowledge_base_config(False, region="mx-central-1").enabled
    for region in KNOWLEDGE_BASE_REGIONS:
        assert load_knowledge_base_config(None, region=region) == DEFAULTS


# --- the index's name --------------------------------------------------------------------------------------------


def every_vector_setting() -> list[Any]:
    chunkings = [FixedSizeChunking(), HierarchicalChunking(), SemanticChunking(), FixedSizeChunking(500, 10)]
    return [
        replace(DEFAULTS, embedding_model=model_id, dimension=dimension, chunking=chunking)
        for model_id in MODELS
        for dimension in EMBEDDING_MODELS[model_id].dimensions
        for chunking in chunkings
    ]


def test_the_index_name_is_valid_and_different_for_every_model_dimension_and_chunking():
    configs = every_vector_setting()
    names = [config.index_name for config in configs]

    assert all(INDEX_NAME.match(name) for name in names), names
    assert len(set(names)) == len(configs)


def test_the_index_name_ignores_what_does_not_decide_the_vectors():
    assert replace(DEFAULTS, enabled=False).index_name == DEFAULTS.index_name


# --- never a crash -----------------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10_000) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(["enabled", "embeddingModel", "dimension", "chunking", "strategy", *MODELS])


@given(
    st.one_of(
        JSON,
        st.dictionaries(KEYS, JSON, max_size=5),
        st.builds(
            lambda chunking: {"chunking": chunking},
            st.dictionaries(st.sampled_from(["strategy", "maxTokens", "overlapTokens", "bufferSize"]), JSON),
        ),
    )
)
def test_any_value_either_loads_or_is_refused_with_a_config_error(value):
    try:
        config = load_knowledge_base_config(value)
    except ConfigError as error:
        assert str(error).startswith(f"context key {CONTEXT_KEY!r}: ")
        return
    assert config.embedding_model in EMBEDDING_MODELS
    assert config.dimension in config.model.dimensions
    assert INDEX_NAME.match(config.index_name)
