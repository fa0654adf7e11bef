"""The knowledge base's configuration (context key ``knowledgeBase``): a frozen dataclass and its loader.

On by default. ``-c knowledgeBase=false`` switches it off; ``-c knowledgeBase='{...}'`` (a JSON object, or the same
object in cdk.json) changes any of these keys, the others keep their defaults::

    {"enabled": true,
     "embeddingModel": "amazon.titan-embed-text-v2:0",   # a model of EMBEDDING_MODELS
     "dimension": 1024,                                  # one the model supports; default: the model's first
     "chunking": {"strategy": "FIXED_SIZE", "maxTokens": 300, "overlapPercentage": 20}}

cdk.json holds these defaults in full (``DEFAULTS``, which a test keeps equal to it), so that the configuration page
shows them. How many passages a search retrieves is the task's own (``retrieval.defaultResults`` in its use-case
file, bounded by its input schema), not the deployment's.

Chunking is one of::

    {"strategy": "FIXED_SIZE",   "maxTokens": 300, "overlapPercentage": 20}
    {"strategy": "HIERARCHICAL", "parentMaxTokens": 1500, "childMaxTokens": 300, "overlapTokens": 60}
    {"strategy": "SEMANTIC",     "maxTokens": 300, "bufferSize": 0, "breakpointPercentileThreshold": 95}

**Changing the embedding model, the dimension or the chunking replaces the vector index, the knowledge base and its
data source, and needs a re-ingest** (``make ingest``). The index's properties (data type, dimension, distance metric,
metadata configuration) are create-only in CloudFormation, and so are the knowledge base's embedding configuration
and the data source's chunking. The index is named after everything that decides its vectors
(``KnowledgeBaseConfig.index_name``), so any such change creates a new, empty index instead of mixing two embedding
spaces or two chunkings in one; CloudFormation deletes the old index once the new one exists (vectors are derived
data, rebuilt from the corpus bucket, so the vector store is never retained). The deployment that applies such a
change leaves search answering "nothing relevant" until the corpus is ingested again.

This module imports no CDK. The stack's output names are in ``stacks/outputs.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stacks.config import ConfigError

CONTEXT_KEY = "knowledgeBase"

# The corpus bucket is versioned: an overwritten or deleted document stays recoverable this many days.
NONCURRENT_VERSION_DAYS = 30

# Regions of the commercial partition where CloudFormation has all four resource types the construct creates
# (AWS::S3Vectors::VectorBucket and ::Index, AWS::Bedrock::KnowledgeBase and ::DataSource), per the resource
# provider schemas cfn-lint 1.58.0 ships (tests/test_knowledge_base.py derives the same list from them). The stack's
# CfnRule refuses any other region with a message. That a region has the resource types does not prove that a
# knowledge base there accepts S3_VECTORS storage: that, and the embedding model's availability, are checked by
# Bedrock at deploy time (not verified here against live AWS).
KNOWLEDGE_BASE_REGIONS = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-2",
)


@dataclass(frozen=True)
class EmbeddingModel:
    """A Bedrock embedding model a knowledge base can use: the vector sizes it can produce (the first is the
    default) and the most tokens it embeds at once (a chunk must fit)."""

    model_id: str
    dimensions: tuple[int, ...]
    max_input_tokens: int
    note: str


# Known embedding models. Dimensions and input limits from the Bedrock user guide: Titan Text Embeddings
# (titan-embedding-models.html: V2 outputs 1,024, 512 or 256 dimensions, takes up to 8,192 tokens; G1 outputs 1,536)
# and Cohere Embed v3 (model-parameters-embed-v3.html: 1,024 dimensions; texts should stay under 512 tokens).
# Cohere Embed v4 and Nova Multimodal Embeddings are left out until their knowledge-base support with S3 Vectors is
# verified; add a row here to allow another model (nothing else changes).
EMBEDDING_MODELS: dict[str, EmbeddingModel] = {
    model.model_id: model
    for model in (
        EmbeddingModel(
            "amazon.titan-embed-text-v2:0",
            (1024, 512, 256),
            8192,
            "Amazon's own model: 100+ languages, Portuguese included; no AWS Marketplace subscription",
        ),
        EmbeddingModel("amazon.titan-embed-text-v1", (1536,), 8192, "Titan Embeddings G1 - Text (previous generation)"),
        EmbeddingModel(
            "cohere.embed-multilingual-v3",
            (1024,),
            512,
            "built for cross-lingual retrieval; a Marketplace model: its first use needs aws-marketplace:Subscribe",
        ),
        EmbeddingModel("cohere.embed-english-v3", (1024,), 512, "English only; a Marketplace model"),
    )
}
DEFAULT_EMBEDDING_MODEL = "amazon.titan-embed-text-v2:0"
# CloudFormation's limits on AWS::Bedrock::DataSource chunking (its resource schema)
LEVEL_MAX_TOKENS = 8192
SEMANTIC_BREAKPOINT_RANGE = (50, 99)
INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class FixedSizeChunking:
    """Chunks of at most ``max_tokens``, each repeating ``overlap_percentage`` of the one before."""

    max_tokens: int = 300
    overlap_percentage: int = 20

    strategy = "FIXED_SIZE"

    def cfn(self) -> dict[str, Any]:
        """The data source's ``ChunkingConfiguration`` (CloudFormation property names, lower camel case)."""
        return {
            "chunkingStrategy": self.strategy,
            "fixedSizeChunkingConfiguration": {
                "maxTokens": self.max_tokens,
                "overlapPercentage": self.overlap_percentage,
            },
        }


@dataclass(frozen=True)
class HierarchicalChunking:
    """Child chunks are searched; the parent chunk around a match is what Retrieve returns."""

    parent_max_tokens: int = 1500
    child_max_tokens: int = 300
    overlap_tokens: int = 60

    strategy = "HIERARCHICAL"

    def cfn(self) -> dict[str, Any]:
        return {
            "chunkingStrategy": self.strategy,
            "hierarchicalChunkingConfiguration": {
                "levelConfigurations": [{"maxTokens": self.parent_max_tokens}, {"maxTokens": self.child_max_tokens}],
                "overlapTokens": self.overlap_tokens,
            },
        }


@dataclass(frozen=True)
class SemanticChunking:
    """Chunks split where consecutive sentences stop being similar (the embedding model is called to decide)."""

    max_tokens: int = 300
    buffer_size: int = 0
    breakpoint_percentile_threshold: int = 95

    strategy = "SEMANTIC"

    def cfn(self) -> dict[str, Any]:
        return {
            "chunkingStrategy": self.strategy,
            "semanticChunkingConfiguration": {
                "maxTokens": self.max_tokens,
                "bufferSize": self.buffer_size,
                "breakpointPercentileThreshold": self.breakpoint_percentile_threshold,
            },
        }


Chunking = FixedSizeChunking | HierarchicalChunking | SemanticChunking
CHUNKING_KEYS: dict[str, dict[str, str]] = {  # strategy -> JSON key -> dataclass field
    "FIXED_SIZE": {"maxTokens": "max_tokens", "overlapPercentage": "overlap_percentage"},
    "HIERARCHICAL": {
        "parentMaxTokens": "parent_max_tokens",
        "childMaxTokens": "child_max_tokens",
        "overlapTokens": "overlap_tokens",
    },
    "SEMANTIC": {
        "maxTokens": "max_tokens",
        "bufferSize": "buffer_size",
        "breakpointPercentileThreshold": "breakpoint_percentile_threshold",
    },
}
CHUNKING_TYPES: dict[str, type[FixedSizeChunking] | type[HierarchicalChunking] | type[SemanticChunking]] = {
    "FIXED_SIZE": FixedSizeChunking,
    "HIERARCHICAL": HierarchicalChunking,
    "SEMANTIC": SemanticChunking,
}


@dataclass(frozen=True)
class KnowledgeBaseConfig:
    """The knowledge base: whether there is one, its embedding model and vector size, and how documents are chunked.

    ``embedding_model``, ``dimension`` and ``chunking`` decide the vectors: changing any of them replaces the index
    (create-only properties), the knowledge base and the data source, and the corpus must be ingested again."""

    enabled: bool
    embedding_model: str
    dimension: int
    chunking: Chunking

    @property
    def model(self) -> EmbeddingModel:
        return EMBEDDING_MODELS[self.embedding_model]

    @property
    def configurable_dimension(self) -> bool:
        """Whether the model produces more than one vector size (then the knowledge base must be told which)."""
        return len(self.model.dimensions) > 1

    @property
    def index_name(self) -> str:
        """The vector index's name: the model, the dimension and a digest of the chunking, so that a change to any
        of them is a new index (CloudFormation replaces a resource whose create-only name changes)."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.embedding_model.lower()).strip("-")
        digest = hashlib.sha256(json.dumps(self.chunking.cfn(), sort_keys=True).encode()).hexdigest()[:8]
        return f"{slug[:40].strip('-')}-{self.dimension}-{digest}"  # 3-63 of a-z, 0-9, hyphens (INDEX_NAME)


DEFAULTS = KnowledgeBaseConfig(
    enabled=True,
    embedding_model=DEFAULT_EMBEDDING_MODEL,
    dimension=EMBEDDING_MODELS[DEFAULT_EMBEDDING_MODEL].dimensions[0],
    chunking=FixedSizeChunking(),
)
TOP_LEVEL_KEYS = ("enabled", "embeddingModel", "dimension", "chunking")


def _fail(detail: str) -> ConfigError:
    return ConfigError(f"context key {CONTEXT_KEY!r}: {detail}")


def _integer(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(f"{what} must be an integer from {low} to {high}, got {value!r}")
    return value


def _boolean(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _fail(f"{what} must be true or false, got {value!r}")


def _chunking(value: Any, model: EmbeddingModel) -> Chunking:
    if not isinstance(value, Mapping):
        raise _fail(f"chunking must be an object with a strategy, got {value!r}")
    strategy = value.get("strategy", DEFAULTS.chunking.strategy)
    if not isinstance(strategy, str) or strategy not in CHUNKING_KEYS:
        raise _fail(f"chunking.strategy must be one of {', '.join(CHUNKING_KEYS)}; got {strategy!r}")
    keys = CHUNKING_KEYS[strategy]
    unknown = sorted(set(value) - {"strategy", *keys})
    if unknown:
        raise _fail(f"chunking ({strategy}) takes {', '.join(keys)}; unknown: {', '.join(map(repr, unknown))}")
    fields = {keys[key]: value[key] for key in keys if key in value}
    chunking = CHUNKING_TYPES[strategy](**fields)
    limit = min(model.max_input_tokens, LEVEL_MAX_TOKENS)
    if isinstance(chunking, FixedSizeChunking):
        _integer(chunking.max_tokens, "chunking.maxTokens", 1, limit)
        _integer(chunking.overlap_percentage, "chunking.overlapPercentage", 1, 99)
    elif isinstance(chunking, HierarchicalChunking):
        _integer(chunking.parent_max_tokens, "chunking.parentMaxTokens", 2, LEVEL_MAX_TOKENS)
        _integer(chunking.child_max_tokens, "chunking.childMaxTokens", 1, min(limit, chunking.parent_max_tokens - 1))
        _integer(chunking.overlap_tokens, "chunking.overlapTokens", 1, chunking.child_max_tokens - 1)
    else:
        _integer(chunking.max_tokens, "chunking.maxTokens", 1, limit)
        _integer(chunking.buffer_size, "chunking.bufferSize", 0, 1)
        _integer(
            chunking.breakpoint_percentile_threshold,
            "chunking.breakpointPercentileThreshold",
            *SEMANTIC_BREAKPOINT_RANGE,
        )
    return chunking


def load_knowledge_base_config(value: Any, region: str | None = None) -> KnowledgeBaseConfig:
    """The knowledge base's config from the context value: absent or ``true`` (the defaults), ``false`` (off), or a
    JSON object (a string, as ``-c`` passes it, or an object, as cdk.json holds it) over the defaults.

    ``region`` is the stack's region when the app pins one: a region without the resource types fails here, at synth,
    rather than at the CloudFormation rule."""
    if value is None or (isinstance(value, str) and not value.strip()):
        value = True
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise _fail(f"must be true, false or a JSON object; got {value!r}") from None
    if not isinstance(value, Mapping):
        value = {"enabled": _boolean(value, "the value")}
    unknown = sorted(set(value) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise _fail(f"unknown key(s) {', '.join(map(repr, unknown))}; it takes {', '.join(TOP_LEVEL_KEYS)}")
    enabled = _boolean(value.get("enabled", True), "enabled")
    model_id = value.get("embeddingModel", DEFAULTS.embedding_model)
    if not isinstance(model_id, str) or model_id not in EMBEDDING_MODELS:
        raise _fail(f"embeddingModel must be one of {', '.join(EMBEDDING_MODELS)}; got {model_id!r}")
    model = EMBEDDING_MODELS[model_id]
    dimension = value.get("dimension", model.dimensions[0])
    if isinstance(dimension, bool) or dimension not in model.dimensions:
        shown = ", ".join(str(d) for d in model.dimensions)
        raise _fail(f"{model_id} produces vectors of {shown} dimensions; dimension {dimension!r} is not one of them")
    chunking = _chunking(value.get("chunking", {}), model)
    if enabled and region is not None and region not in KNOWLEDGE_BASE_REGIONS:
        raise _fail(
            f"a knowledge base on S3 Vectors cannot be deployed to {region} (it can to {', '.join(KNOWLEDGE_BASE_REGIONS)}); "
            f"deploy to one of them or switch it off with -c {CONTEXT_KEY}=false"
        )
    return KnowledgeBaseConfig(enabled, model_id, dimension, chunking)


def context_value(config: KnowledgeBaseConfig) -> dict[str, Any]:
    """The context value that gives ``config`` (what cdk.json holds for the defaults)."""
    keys = {field: key for key, field in CHUNKING_KEYS[config.chunking.strategy].items()}
    return {
        "enabled": config.enabled,
        "embeddingModel": config.embedding_model,
        "dimension": config.dimension,
        "chunking": {"strategy": config.chunking.strategy}
        | {key: getattr(config.chunking, field) for field, key in keys.items()},
    }
