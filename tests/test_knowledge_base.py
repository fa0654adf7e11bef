"""The knowledge base construct (stacks/components/knowledge_base.py), synthesized on its own in small test stacks:
every decision pinned by a template assertion, and the three scanners (cdk-nag, cfn-lint, checkov) clean, each
exception recorded with its reason.

One app, synthesized once per session, holds a stack per variant: the defaults in each profile, each chunking
strategy, and an embedding model with a single vector size. Expectations derive from the config each stack was built
with, never from restated numbers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from stacks.components.knowledge_base import (
    EMBED_ACTIONS,
    NON_FILTERABLE_METADATA_KEYS,
    RETRIEVE_ACTIONS,
    S3_VECTORS_ACTIONS,
    region_rule_message,
)
from stacks.knowledge_base_config import (
    CONTEXT_KEY,
    KNOWLEDGE_BASE_REGIONS,
    NONCURRENT_VERSION_DAYS,
    KnowledgeBaseConfig,
    load_knowledge_base_config,
)
from tests.scanner_support import (
    assert_cfn_lint_clean,
    assert_skips_explained,
    checkov,
    checkov_outcome,
    nag_report,
)
from tests.support import PRIVATE_BUCKET_PROPERTIES
from tests.test_scanners import (
    test_cdk_nag_passes_with_every_acknowledgment_explained_at_the_narrowest_scope as nag_passes_at_the_narrowest_scope,
)
from tools.scanners import run_cfn_lint

# The four resource types the construct creates: a region must have them all.
RESOURCE_TYPES = (
    "AWS::S3Vectors::VectorBucket",
    "AWS::S3Vectors::Index",
    "AWS::Bedrock::KnowledgeBase",
    "AWS::Bedrock::DataSource",
)
GRANTEE = "SearchFunctionRole"


@dataclass(frozen=True)
class Variant:
    stack: str
    context: Any  # the knowledgeBase context value
    profile: str  # sandbox or production

    @property
    def config(self) -> KnowledgeBaseConfig:
        return load_knowledge_base_config(self.context)


VARIANTS = (
    Variant("KbSandbox", None, "sandbox"),
    Variant("KbProduction", None, "production"),
    Variant("KbHierarchical", {"chunking": {"strategy": "HIERARCHICAL"}}, "sandbox"),
    Variant("KbSemantic", json.dumps({"chunking": {"strategy": "SEMANTIC", "maxTokens": 400}}), "sandbox"),
    Variant("KbSingleSize", {"embeddingModel": "cohere.embed-multilingual-v3"}, "sandbox"),
    Variant("KbSmallVectors", {"dimension": 256}, "production"),
)
DEFAULT = VARIANTS[0]


@pytest.fixture(scope="session")
def kb_assembly(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Every variant in one app with cdk-nag registered as app.py registers it, synthesized once."""
    from aws_cdk import App, RemovalPolicy, Stack, Validations
    from aws_cdk import aws_iam as iam
    from cdk_nag import AwsSolutionsChecks

    from stacks.components.knowledge_base import GenAiKnowledgeBase

    app = App(outdir=str(tmp_path_factory.mktemp("cdk.out.kb")))
    for variant in VARIANTS:
        stack = Stack(app, variant.stack)
        removal = RemovalPolicy.RETAIN if variant.profile == "production" else RemovalPolicy.DESTROY
        knowledge_base = GenAiKnowledgeBase(stack, "KnowledgeBase", config=variant.config, removal_policy=removal)
        grantee = iam.Role(stack, GRANTEE, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        knowledge_base.grant_retrieve(grantee)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app.synth()


@pytest.fixture(scope="session")
def kb_templates(kb_assembly: Any) -> dict[str, dict[str, Any]]:
    return {variant.stack: kb_assembly.get_stack_by_name(variant.stack).template for variant in VARIANTS}


@pytest.fixture(scope="session")
def kb_template_files(kb_assembly: Any) -> list[str]:
    return [str(Path(kb_assembly.directory) / stack.template_file) for stack in kb_assembly.stacks]


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def the_one(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    ((key, resource),) = of_type(template, resource_type).items()
    return key, resource


def get_att(template: dict[str, Any], resource_type: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [the_one(template, resource_type)[0], attribute]}


def pascal(value: Any) -> Any:
    """CloudFormation's property names for a dict written with the CDK's lower-camel-case keys."""
    if isinstance(value, dict):
        return {key[:1].upper() + key[1:]: pascal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [pascal(item) for item in value]
    return value


def foundation_model(model_id: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":bedrock:", {"Ref": "AWS::Region"}, f"::foundation-model/{model_id}"],
        ]
    }


def corpus_bucket(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return the_one(template, "AWS::S3::Bucket")


def service_role(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The role the knowledge base runs as (the one its RoleArn names)."""
    _, knowledge_base = the_one(template, "AWS::Bedrock::KnowledgeBase")
    key = knowledge_base["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    return key, template["Resources"][key]


def policies_of(template: dict[str, Any], role_key: str) -> dict[str, dict[str, Any]]:
    return {
        key: policy
        for key, policy in of_type(template, "AWS::IAM::Policy").items()
        if {"Ref": role_key} in policy["Properties"]["Roles"]
    }


# --- the corpus bucket -------------------------------------------------------------------------------------------


def test_the_corpus_bucket_is_private_encrypted_versioned_and_expires_replaced_versions(kb_templates):
    Template.from_json(kb_templates[DEFAULT.stack]).has_resource_properties(
        "AWS::S3::Bucket",
        {
            **PRIVATE_BUCKET_PROPERTIES,
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": [
                    Match.object_like(
                        {
                            "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_VERSION_DAYS},
                            "Status": "Enabled",
                        }
                    )
                ]
            },
        },
    )


def test_the_corpus_bucket_refuses_anything_but_tls_1_2_or_later(kb_templates):
    template = kb_templates[DEFAULT.stack]
    bucket_key, _ = corpus_bucket(template)
    _, policy = the_one(template, "AWS::S3::BucketPolicy")
    bucket_arn = {"Fn::GetAtt": [bucket_key, "Arn"]}
    both = [bucket_arn, {"Fn::Join": ["", [bucket_arn, "/*"]]}]
    denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]

    assert policy["Properties"]["Bucket"] == {"Ref": bucket_key}
    assert {
        json.dumps(s["Condition"], sort_keys=True)
        for s in denies
        if s["Action"] == "s3:*" and s["Principal"] == {"AWS": "*"} and s["Resource"] == both
    } == {
        json.dumps({"Bool": {"aws:SecureTransport": "false"}}),
        json.dumps({"NumericLessThan": {"s3:TlsVersion": 1.2}}),
    }


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.stack)
def test_the_profile_decides_whether_the_corpus_outlives_the_stack(kb_templates, variant):
    template = kb_templates[variant.stack]
    _, bucket = corpus_bucket(template)
    auto_delete = of_type(template, "Custom::S3AutoDeleteObjects")

    if variant.profile == "production":
        assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
        assert auto_delete == {}
    else:  # sandbox: `cdk destroy` empties the bucket (every version) and deletes it
        assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Delete", "Delete")
        ((_, emptier),) = auto_delete.items()
        assert emptier["Properties"]["BucketName"] == {"Ref": corpus_bucket(template)[0]}


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.profile == "sandbox"], ids=lambda v: v.stack)
def test_the_function_that_empties_the_corpus_logs_to_its_own_group_and_waits_for_nothing_redundant(
    kb_templates, variant
):
    template = kb_templates[variant.stack]
    ((_, emptier),) = of_type(template, "AWS::Lambda::Function").items()
    ((group_id, group),) = of_type(template, "AWS::Logs::LogGroup").items()

    assert emptier["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": group_id}}
    assert (group["DeletionPolicy"], group["Properties"]["RetentionInDays"]) == ("Delete", 14)
    # Its role is implied by the GetAtt of the role's ARN: no DependsOn (cfn-lint W3005 fixed, not ignored).
    assert "DependsOn" not in emptier and "cfn-lint" not in emptier.get("Metadata", {})


# --- the vector store --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.stack)
def test_the_index_has_the_models_dimension_cosine_float32_and_the_chunk_outside_filterable_metadata(
    kb_templates, variant
):
    template = kb_templates[variant.stack]
    config = variant.config
    _, index = the_one(template, "AWS::S3Vectors::Index")

    assert index["Properties"] == {
        "DataType": "float32",
        "Dimension": config.dimension,
        "DistanceMetric": "cosine",
        "IndexName": config.index_name,
        "MetadataConfiguration": {"NonFilterableMetadataKeys": list(NON_FILTERABLE_METADATA_KEYS)},
        "VectorBucketArn": get_att(template, "AWS::S3Vectors::VectorBucket", "VectorBucketArn"),
    }
    assert set(NON_FILTERABLE_METADATA_KEYS) == {"AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA"}


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.stack)
def test_the_vector_store_is_encrypted_and_always_deleted_with_the_stack(kb_templates, variant):
    template = kb_templates[variant.stack]
    _, vector_bucket = the_one(template, "AWS::S3Vectors::VectorBucket")
    _, index = the_one(template, "AWS::S3Vectors::Index")

    assert vector_bucket["Properties"] == {"EncryptionConfiguration": {"SseType": "AES256"}}
    for resource in (vector_bucket, index):  # derived data: make ingest rebuilds it from the corpus
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Delete", "Delete")


def test_each_variant_has_its_own_index_name_so_a_change_of_vectors_is_a_new_index(kb_templates):
    names = {the_one(kb_templates[v.stack], "AWS::S3Vectors::Index")[1]["Properties"]["IndexName"] for v in VARIANTS}

    assert len(names) == len({(v.config.embedding_model, v.config.dimension, v.config.chunking) for v in VARIANTS})


# --- the knowledge base and its data source -----------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.stack)
def test_the_knowledge_base_is_a_vector_store_on_the_index_embedding_with_the_configured_model(kb_templates, variant):
    template = kb_templates[variant.stack]
    config = variant.config
    role_key, _ = service_role(template)
    _, knowledge_base = the_one(template, "AWS::Bedrock::KnowledgeBase")
    vector: dict[str, Any] = {"EmbeddingModelArn": foundation_model(config.embedding_model)}
    if len(config.model.dimensions) > 1:
        vector["EmbeddingModelConfiguration"] = {
            "BedrockEmbeddingModelConfiguration": {"Dimensions": config.dimension, "EmbeddingDataType": "FLOAT32"}
        }

    properties = knowledge_base["Properties"]
    assert properties["KnowledgeBaseConfiguration"] == {"Type": "VECTOR", "VectorKnowledgeBaseConfiguration": vector}
    assert properties["StorageConfiguration"] == {
        "Type": "S3_VECTORS",
        "S3VectorsConfiguration": {"IndexArn": get_att(template, "AWS::S3Vectors::Index", "IndexArn")},
    }
    assert properties["RoleArn"] == {"Fn::GetAtt": [role_key, "Arn"]}
    assert properties["Name"] == f"{variant.stack}-knowledge-base"


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.stack)
def test_the_knowledge_base_is_never_created_before_its_roles_permissions(kb_templates, variant):
    template = kb_templates[variant.stack]
    role_key, _ = service_role(template)
    (policy_key,) = policies_of(template, role_key)
    _, knowledge_base = the_one(template, "AWS::Bedrock::KnowledgeBase")

    assert policy_key in knowledge_base["DependsOn"]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.stack)
def test_the_data_source_reads_the_corpus_bucket_with_the_configured_chunking(kb_templates, variant):
    template = kb_templates[variant.stack]
    _, data_source = the_one(template, "AWS::Bedrock::DataSource")
    properties = dict(data_source["Properties"])

    assert properties.pop("Description")
    assert properties == {
        "KnowledgeBaseId": get_att(template, "AWS::Bedrock::KnowledgeBase", "KnowledgeBaseId"),
        "Name": "corpus",
        "DataSourceConfiguration": {
            "Type": "S3",
            "S3Configuration": {"BucketArn": {"Fn::GetAtt": [corpus_bucket(template)[0], "Arn"]}},
        },
        "DataDeletionPolicy": "RETAIN",
        "VectorIngestionConfiguration": {"ChunkingConfiguration": pascal(variant.config.chunking.cfn())},
    }


def test_the_default_chunking_is_fixed_size_with_overlap(kb_templates):
    _, data_source = the_one(kb_templates[DEFAULT.stack], "AWS::Bedrock::DataSource")
    chunking = data_source["Properties"]["VectorIngestionConfiguration"]["ChunkingConfiguration"]

    assert chunking["ChunkingStrategy"] == "FIXED_SIZE"
    assert chunking["FixedSizeChunkingConfiguration"]["OverlapPercentage"] > 0


# --- IAM ---------------------------------------------------------------------------------------------------------


def test_only_bedrock_may_assume_the_role_and_only_for_a_knowledge_base_of_this_account_and_region(kb_templates):
    _, role = service_role(kb_templates[DEFAULT.stack])
    account = {"Ref": "AWS::AccountId"}

    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {
                    "aws:SourceArn": {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":bedrock:",
                                {"Ref": "AWS::Region"},
                                ":",
                                account,
                                ":knowledge-base/*",
                            ],
                        ]
                    }
                },
            },
        }
    ]
    assert "ManagedPolicyArns" not in role["Properties"] and "Policies" not in role["Properties"]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.stack)
def test_the_role_may_embed_with_its_model_read_its_corpus_and_use_its_index_and_nothing_else(kb_templates, variant):
    template = kb_templates[variant.stack]
    role_key, _ = service_role(template)
    (policy,) = policies_of(template, role_key).values()
    bucket_arn = {"Fn::GetAtt": [corpus_bucket(template)[0], "Arn"]}
    in_this_account = {"StringEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}}

    def one(actions: tuple[str, ...]) -> str | list[str]:
        return actions[0] if len(actions) == 1 else list(actions)

    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Sid": "EmbedWithTheConfiguredModelOnly",
            "Effect": "Allow",
            "Action": one(EMBED_ACTIONS),
            "Resource": foundation_model(variant.config.embedding_model),
        },
        {
            "Sid": "ListTheCorpusBucketOnly",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": in_this_account,
        },
        {
            "Sid": "ReadTheCorpusDocumentsOnly",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": {"Fn::Join": ["", [bucket_arn, "/*"]]},
            "Condition": in_this_account,
        },
        {
            "Sid": "UseTheVectorIndexOnly",
            "Effect": "Allow",
            "Action": one(S3_VECTORS_ACTIONS),
            "Resource": get_att(template, "AWS::S3Vectors::Index", "IndexArn"),
        },
    ]
    assert sorted(S3_VECTORS_ACTIONS) == sorted(  # the actions AWS documents for a knowledge base on S3 Vectors
        [
            "s3vectors:GetIndex",
            "s3vectors:QueryVectors",
            "s3vectors:PutVectors",
            "s3vectors:GetVectors",
            "s3vectors:DeleteVectors",
        ]
    )


def test_grant_retrieve_allows_retrieve_on_this_knowledge_base_only(kb_templates):
    template = kb_templates[DEFAULT.stack]
    (grantee_key,) = [key for key in of_type(template, "AWS::IAM::Role") if key.startswith(GRANTEE)]
    (policy,) = policies_of(template, grantee_key).values()

    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Sid": "RetrieveFromTheStacksKnowledgeBaseOnly",
            "Effect": "Allow",
            "Action": RETRIEVE_ACTIONS[0],
            "Resource": get_att(template, "AWS::Bedrock::KnowledgeBase", "KnowledgeBaseArn"),
        }
    ]
    assert RETRIEVE_ACTIONS == ("bedrock:Retrieve",)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.stack)
def test_no_statement_has_a_wildcard_resource_or_action(kb_templates, variant):
    template = kb_templates[variant.stack]
    statements = [
        statement
        for policy in of_type(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]

    assert statements
    for statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert "*" not in resources, statement
        assert not any(action.endswith("*") for action in actions), statement


# --- the region rule ---------------------------------------------------------------------------------------------


def test_a_region_without_the_resource_types_is_refused_with_a_message(kb_templates):
    rules = {
        key: rule
        for key, rule in kb_templates[DEFAULT.stack]["Rules"].items()
        if key.startswith("KnowledgeBaseRegionHasKnowledgeBasesOnS3Vectors")
    }
    ((_, rule),) = rules.items()

    assert rule == {
        "Assertions": [
            {
                "Assert": {"Fn::Contains": [list(KNOWLEDGE_BASE_REGIONS), {"Ref": "AWS::Region"}]},
                "AssertDescription": region_rule_message(),
            }
        ]
    }
    assert f"-c {CONTEXT_KEY}=false" in region_rule_message()
    assert all(region in region_rule_message() for region in KNOWLEDGE_BASE_REGIONS)


def test_the_region_list_is_the_commercial_regions_where_cloudformation_has_every_resource_type():
    """Derived from the resource provider schemas cfn-lint ships and botocore's partitions: a cfn-lint upgrade that
    adds (or drops) a region fails here, on purpose, until KNOWLEDGE_BASE_REGIONS follows."""
    import botocore.loaders
    import cfnlint

    providers = Path(cfnlint.__file__).parent / "data" / "schemas" / "providers"
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    (commercial,) = [p for p in endpoints["partitions"] if p["partition"] == "aws"]
    regions = re.compile(commercial["regionRegex"])

    expected = sorted(
        path.stem
        for path in providers.glob("*.json")
        if regions.match(path.stem) and all(t in json.loads(path.read_text()) for t in RESOURCE_TYPES)
    )
    assert list(KNOWLEDGE_BASE_REGIONS) == expected
    assert {"us-east-1", "sa-east-1"} <= set(expected)  # the project's usual regions (and Brazil's)


# --- what the stack wires ----------------------------------------------------------------------------------------


def test_the_attributes_for_the_outputs_and_the_function_resolve_to_the_resources():
    from aws_cdk import App, RemovalPolicy, Stack

    from stacks.components.knowledge_base import GenAiKnowledgeBase

    stack = Stack(App(), "Attributes")
    knowledge_base = GenAiKnowledgeBase(stack, "Kb", config=DEFAULT.config, removal_policy=RemovalPolicy.DESTROY)

    def logical_id(construct: Any) -> str:
        return stack.get_logical_id(construct)

    assert stack.resolve(knowledge_base.knowledge_base_id) == {
        "Fn::GetAtt": [logical_id(knowledge_base.knowledge_base), "KnowledgeBaseId"]
    }
    assert stack.resolve(knowledge_base.knowledge_base_arn) == {
        "Fn::GetAtt": [logical_id(knowledge_base.knowledge_base), "KnowledgeBaseArn"]
    }
    assert stack.resolve(knowledge_base.data_source_id) == {
        "Fn::GetAtt": [logical_id(knowledge_base.data_source), "DataSourceId"]
    }
    assert stack.resolve(knowledge_base.corpus_bucket_name) == {
        "Ref": logical_id(knowledge_base.corpus_bucket.node.default_child)
    }


# --- the scanners ------------------------------------------------------------------------------------------------


def test_cdk_nag_passes_and_each_acknowledgment_has_a_reason_at_the_narrowest_scope(kb_assembly):
    nag_passes_at_the_narrowest_scope(kb_assembly)  # the app's own rule for acknowledgments, on these stacks
    plugin = nag_report(kb_assembly)

    acknowledged = {re.sub(r"\[.*", "", v["ruleName"]) for v in plugin["suppressedViolations"]}
    assert acknowledged == {"AwsSolutions-S1", "AwsSolutions-IAM5"}  # server access logs; the corpus's objects


def test_cdk_nag_acknowledges_only_the_corpus_objects_wildcard_in_the_service_role(kb_assembly):
    plugin = nag_report(kb_assembly)
    wildcards = [v["ruleName"] for v in plugin["suppressedViolations"] if v["ruleName"].startswith("AwsSolutions-IAM5")]

    assert len(wildcards) == len(VARIANTS)
    assert all(
        re.fullmatch(r"AwsSolutions-IAM5\[Resource::<KnowledgeBaseCorpusBucket\w+\.Arn>/\*\]", w) for w in wildcards
    )


def test_cfn_lint_finds_nothing(kb_template_files):
    assert_cfn_lint_clean(run_cfn_lint(kb_template_files))


def test_checkov_fails_nothing_and_every_skip_has_a_reason(kb_template_files):
    run = checkov(kb_template_files)
    outcome = checkov_outcome(run)

    assert outcome.failed == []
    # it checked the bucket: public access, versioning, encryption
    assert {"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV_AWS_21", "CKV_AWS_19"} <= outcome.passed
    # The corpus bucket's access logs (CloudTrail instead), and the CDK's auto-delete function and its log group.
    assert {c["check_id"] for c in outcome.skipped} == {
        "CKV_AWS_18",
        "CKV_AWS_115",
        "CKV_AWS_116",
        "CKV_AWS_117",
        "CKV_AWS_158",
    }
    assert_skips_explained(outcome.skipped)
    assert run.returncode == 0
