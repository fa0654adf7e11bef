"""An Amazon Bedrock knowledge base on Amazon S3 Vectors: the corpus bucket, the vector store, the knowledge base, its
S3 data source and its service role, each least-privileged and reviewable by synth alone.

- Corpus bucket: the company's documents, the source of truth. Public access blocked, SSE-S3, TLS 1.2+ only,
  versioned (noncurrent versions expire after ``NONCURRENT_VERSION_DAYS``). The profile decides whether it outlives
  the stack (sandbox: emptied and deleted; production: retained).
- Vector bucket and index: derived data (``make ingest`` rebuilds it from the corpus), so always deleted with the
  stack. float32, cosine, the embedding model's dimension; ``AMAZON_BEDROCK_TEXT`` (the chunk) and
  ``AMAZON_BEDROCK_METADATA`` are non-filterable, because S3 Vectors allows 2 KB of filterable metadata per vector
  and a chunk alone exceeds it (ingestion then fails with "Filterable metadata must have at most 2048 bytes").
- Knowledge base (VECTOR, S3_VECTORS storage) and its S3 data source with the configured chunking. Why fixed-size
  chunking by default: see ``stacks/knowledge_base_config.py`` and the decision record in the docs.
- Service role: assumed only by Bedrock for a knowledge base of this account and region (aws:SourceAccount,
  aws:SourceArn); it may invoke the embedding model only, read the corpus bucket only, and use the five S3 Vectors
  actions ingestion and retrieval need on that index only. The knowledge base depends on the role's policy
  (DependsOn): Bedrock checks the role's access to the index when the knowledge base is created.
- A CloudFormation rule refuses a region without the resource types, with a message.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3vectors as s3vectors
from constructs import Construct

from genai_core.filters import NON_FILTERABLE_METADATA_KEYS  # the function refuses a filter on them
from stacks.components.auto_delete import tidy_auto_delete_provider
from stacks.components.bedrock_access import foundation_model_arn
from stacks.components.compliance import acknowledge, skip_checkov
from stacks.components.private_bucket import private_bucket
from stacks.knowledge_base_config import (
    CONTEXT_KEY,
    KNOWLEDGE_BASE_REGIONS,
    NONCURRENT_VERSION_DAYS,
    KnowledgeBaseConfig,
)

# What the knowledge base does with the index: GetIndex when it is created, PutVectors/DeleteVectors (and GetVectors)
# during ingestion, QueryVectors/GetVectors for Retrieve (GetVectors: metadata and filters). Bedrock user guide,
# "Create a service role for Amazon Bedrock Knowledge Bases" (kb-permissions.html), S3 Vectors section.
S3_VECTORS_ACTIONS = (
    "s3vectors:GetIndex",
    "s3vectors:QueryVectors",
    "s3vectors:PutVectors",
    "s3vectors:GetVectors",
    "s3vectors:DeleteVectors",
)
EMBED_ACTIONS = ("bedrock:InvokeModel",)
RETRIEVE_ACTIONS = ("bedrock:Retrieve",)


def region_rule_message(regions: tuple[str, ...] = KNOWLEDGE_BASE_REGIONS) -> str:
    return (
        "This region lacks Amazon S3 Vectors or Amazon Bedrock knowledge bases (CloudFormation resource types "
        "AWS::S3Vectors::Index and AWS::Bedrock::KnowledgeBase). Deploy to one of "
        f"{', '.join(regions)}, or switch the knowledge base off with -c {CONTEXT_KEY}=false."
    )


class GenAiKnowledgeBase(Construct):
    """The knowledge base and everything it needs. ``grant_retrieve`` lets a function search it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: KnowledgeBaseConfig,
        removal_policy: RemovalPolicy,
        log_retention_days: int = 14,
    ) -> None:
        """``removal_policy``: the corpus bucket's (the profile's); ``log_retention_days``: the retention of the log
        group of the CDK function that empties the bucket on ``cdk destroy`` (with ``RemovalPolicy.DESTROY``)."""
        super().__init__(scope, construct_id)
        self.config = config
        self.corpus_bucket = self._corpus_bucket(removal_policy, log_retention_days)
        self.vector_bucket, self.index = self._vector_store(config)
        self.role, self.policy = self._service_role(config)
        self.knowledge_base = self._knowledge_base(config)
        self.data_source = bedrock.CfnDataSource(
            self,
            "CorpusDataSource",
            knowledge_base_id=self.knowledge_base.attr_knowledge_base_id,
            name="corpus",
            description="Every document of the corpus bucket",
            data_source_configuration={"type": "S3", "s3Configuration": {"bucketArn": self.corpus_bucket.bucket_arn}},
            # RETAIN: deleting the data source leaves its vectors, because the index is deleted with them anyway (it
            # is replaced with the data source, and deleted with the stack). DELETE would have Bedrock delete them
            # one by one first: slower, and one more way for a stack deletion to fail.
            data_deletion_policy="RETAIN",
            vector_ingestion_configuration={"chunkingConfiguration": config.chunking.cfn()},
        )
        self._refuse_regions_without_the_resource_types()

    # --- the parts ------------------------------------------------------------------------------------------------

    def _corpus_bucket(self, removal_policy: RemovalPolicy, log_retention_days: int) -> s3.Bucket:
        # SSE-S3 (private_bucket.py): a single-part upload's ETag is its MD5, which is how tools/ingest.py tells a
        # changed document from an unchanged one.
        bucket = private_bucket(
            self,
            "CorpusBucket",
            versioned=True,
            lifecycle_rule=s3.LifecycleRule(
                id="ExpireReplacedDocumentVersions",
                noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            bucket,
            "S1",
            "No server access logs: the corpus is written by the builder (make ingest) and read by the knowledge base's "
            "role only; CloudTrail data events on this bucket record who read or wrote what, without a second bucket per "
            "deployment. Turn on server access logs or data events where an audit requires it.",
        )
        skip_checkov(
            bucket,
            "CKV_AWS_18",
            "No server access logs: CloudTrail data events record the corpus bucket's reads and writes (see the cdk-nag "
            "AwsSolutions-S1 acknowledgment on the same bucket).",
        )
        if removal_policy == RemovalPolicy.DESTROY:
            tidy_auto_delete_provider(self, log_retention_days=log_retention_days)
        return bucket

    def _vector_store(self, config: KnowledgeBaseConfig) -> tuple[s3vectors.CfnVectorBucket, s3vectors.CfnIndex]:
        vector_bucket = s3vectors.CfnVectorBucket(
            self,
            "VectorBucket",
            encryption_configuration=s3vectors.CfnVectorBucket.EncryptionConfigurationProperty(sse_type="AES256"),
        )
        index = s3vectors.CfnIndex(
            self,
            "VectorIndex",
            vector_bucket_arn=vector_bucket.attr_vector_bucket_arn,
            index_name=config.index_name,
            data_type="float32",
            dimension=config.dimension,
            distance_metric="cosine",
            metadata_configuration=s3vectors.CfnIndex.MetadataConfigurationProperty(
                non_filterable_metadata_keys=list(NON_FILTERABLE_METADATA_KEYS)
            ),
        )
        for resource in (vector_bucket, index):
            resource.apply_removal_policy(RemovalPolicy.DESTROY)
        return vector_bucket, index

    def _service_role(self, config: KnowledgeBaseConfig) -> tuple[iam.Role, iam.Policy]:
        partition, region, account = Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID
        role = iam.Role(
            self,
            "ServiceRole",
            description="Assumed by Amazon Bedrock for this stack's knowledge base: embed, read the corpus, use the index",
            # As the Bedrock user guide shows: only Bedrock, only for a knowledge base of this account and region.
            # (The knowledge base's own id is not known before the role exists, hence the ArnLike on the account's.)
            assumed_by=iam.ServicePrincipal(
                "bedrock.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:bedrock:{region}:{account}:knowledge-base/*"},
                },
            ),
        )
        in_this_account = {"StringEquals": {"aws:ResourceAccount": account}}
        bucket = self.corpus_bucket
        policy = iam.Policy(
            self,
            "ServiceRolePolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="EmbedWithTheConfiguredModelOnly",
                    actions=list(EMBED_ACTIONS),
                    resources=[foundation_model_arn(config.embedding_model)],
                ),
                iam.PolicyStatement(
                    sid="ListTheCorpusBucketOnly",
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions=in_this_account,
                ),
                iam.PolicyStatement(
                    sid="ReadTheCorpusDocumentsOnly",
                    actions=["s3:GetObject"],
                    resources=[bucket.arn_for_objects("*")],
                    conditions=in_this_account,
                ),
                iam.PolicyStatement(
                    sid="UseTheVectorIndexOnly",
                    actions=list(S3_VECTORS_ACTIONS),
                    resources=[self.index.attr_index_arn],
                ),
            ],
        )
        stack = Stack.of(self)
        acknowledge(
            policy,
            f"IAM5[Resource::<{stack.get_logical_id(bucket.node.default_child)}.Arn>/*]",  # type: ignore[arg-type]
            "The knowledge base reads every document of its own corpus bucket (s3:GetObject on that bucket's objects, "
            "in this account only); the bucket holds nothing else.",
        )
        return role, policy

    def _knowledge_base(self, config: KnowledgeBaseConfig) -> bedrock.CfnKnowledgeBase:
        vector: dict[str, Any] = {"embeddingModelArn": foundation_model_arn(config.embedding_model)}
        if config.configurable_dimension:  # a model with one vector size takes no dimension setting
            vector["embeddingModelConfiguration"] = {
                "bedrockEmbeddingModelConfiguration": {"dimensions": config.dimension, "embeddingDataType": "FLOAT32"}
            }
        knowledge_base = bedrock.CfnKnowledgeBase(
            self,
            "KnowledgeBase",
            name=f"{Stack.of(self).stack_name}-knowledge-base",
            description="Conversational search over the corpus bucket (Amazon S3 Vectors)",
            role_arn=self.role.role_arn,
            knowledge_base_configuration={"type": "VECTOR", "vectorKnowledgeBaseConfiguration": vector},
            storage_configuration={
                "type": "S3_VECTORS",
                "s3VectorsConfiguration": {"indexArn": self.index.attr_index_arn},
            },
        )
        # Bedrock checks the role's access to the index when it creates the knowledge base: never before its policy.
        knowledge_base.node.add_dependency(self.policy)
        return knowledge_base

    def _refuse_regions_without_the_resource_types(self) -> None:
        CfnRule(
            self,
            "RegionHasKnowledgeBasesOnS3Vectors",
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_contains(list(KNOWLEDGE_BASE_REGIONS), Aws.REGION),
                    assert_description=region_rule_message(),
                )
            ],
        )

    # --- what the stack wires -------------------------------------------------------------------------------------

    @property
    def knowledge_base_id(self) -> str:
        return self.knowledge_base.attr_knowledge_base_id

    @property
    def knowledge_base_arn(self) -> str:
        return self.knowledge_base.attr_knowledge_base_arn

    @property
    def data_source_id(self) -> str:
        return self.data_source.attr_data_source_id

    @property
    def corpus_bucket_name(self) -> str:
        return self.corpus_bucket.bucket_name

    def grant_retrieve(self, grantee: iam.IGrantable) -> None:
        """``bedrock:Retrieve`` on this knowledge base only (what a search function needs, and nothing else)."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RetrieveFromTheStacksKnowledgeBaseOnly",
                actions=list(RETRIEVE_ACTIONS),
                resources=[self.knowledge_base_arn],
            )
        )
