"""The one way the app makes an S3 bucket for data (the knowledge base's corpus, the callers' uploads): no public
access and no ACLs (the bucket owner owns every object), SSE-S3, TLS only and at least TLS 1.2, one lifecycle rule,
and the profile's removal (sandbox: deleted with its objects, by the CDK's auto-delete function; production: retained).

SSE-S3, not a customer managed key: the readers (Bedrock's knowledge base role, the function) need no key policy,
there is no key to pay for while idle, and a single-part upload's ETag stays its MD5 (``tools/ingest.py`` relies on
it). Each caller adds what is its own: versioning, the rule's expiry, the bucket policy's denies, its grants.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    versioned: bool,
    lifecycle_rule: s3.LifecycleRule,
    removal_policy: RemovalPolicy,
) -> s3.Bucket:
    """A private SSE-S3 bucket with ``lifecycle_rule``, removed as ``removal_policy`` says."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=versioned,
        lifecycle_rules=[lifecycle_rule],
        removal_policy=removal_policy,
        auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,  # then tidy_auto_delete_provider (auto_delete.py)
    )
