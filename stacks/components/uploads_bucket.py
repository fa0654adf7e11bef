"""The uploads bucket: where ``POST /uploads`` lets a caller PUT one file, for the function to read back once the
caller names its uploadId.

- Private: all public access blocked, ACLs disabled (the bucket owner owns every object).
- Encrypted with S3-managed keys (SSE-S3). Why not KMS: the objects live a day at most and only the function reads
  them; a customer managed key would add $1 a month, a charge per request, ``kms:Decrypt`` grants for the function
  (and for Bedrock's reads when ``s3Location`` is on), and a key policy to review, for an audit trail that CloudTrail
  data events on the bucket give too.
- TLS only (``enforce_ssl``, TLS 1.2 at least), and uploads signed with SigV4 only: boto3 would presign with SigV2 in
  many regions, and SigV2 binds no Content-Length; the policy refuses such a PUT even if the code ever regressed.
- Objects expire after ``expiration_days`` (whole days: S3 rounds up to the next midnight UTC and deletes lazily, so
  the function enforces the same age itself, from the uploadId: ``config.UploadsConfig.max_age_seconds``, passed to
  it by ``function_env.uploads_environment``), and incomplete multipart uploads after one.
- No CORS: the project's clients (the CLI, ``make smoke``, curl) are not browsers. A browser front end would add a
  CORS rule for its origin, for PUT with the Content-Type header.
- ``removal_policy`` DESTROY (the sandbox profile): ``cdk destroy`` empties and deletes it (CDK's auto-delete custom
  resource, whose function logs to a log group of its own, deleted after it). RETAIN (production): no custom
  resource; the retained bucket empties itself through its lifecycle rule.

``grant_uploads`` lets a principal read and write the uploads prefix only: ``s3:PutObject`` (a presigned URL acts with
the signer's permissions) and ``s3:GetObject``; no ``s3:ListBucket`` (the function never lists: a missing key then
reads as AccessDenied, which the function maps to the same 404 as NoSuchKey), no ``s3:DeleteObject``.
"""

from __future__ import annotations

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from stacks.components.auto_delete import tidy_auto_delete_provider
from stacks.components.compliance import acknowledge, skip_checkov
from stacks.components.private_bucket import private_bucket

SIGV4 = "AWS4-HMAC-SHA256"


class UploadsBucket(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        expiration_days: int,
        removal_policy: RemovalPolicy,
        log_retention_days: int,
    ) -> None:
        """``prefix``: the key prefix of every upload (``genai_core.files.UPLOADS_PREFIX``), the only one granted."""
        super().__init__(scope, construct_id)
        if not prefix.endswith("/") or "*" in prefix:
            raise ValueError("the uploads prefix must end with '/' and hold no wildcard")
        if expiration_days < 1:
            raise ValueError("uploads expire after at least one day (S3 lifecycle rules count whole days)")
        self.prefix = prefix
        self.expiration_days = expiration_days
        destroy = removal_policy == RemovalPolicy.DESTROY
        self.bucket = private_bucket(
            self,
            "Bucket",
            versioned=False,
            lifecycle_rule=s3.LifecycleRule(
                id="ExpireUploads",
                expiration=Duration.days(expiration_days),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            ),
            removal_policy=removal_policy,
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyUploadsNotSignedWithSigV4",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={"StringNotEquals": {"s3:signatureversion": SIGV4}},
            )
        )
        self._record_bucket_exceptions()
        if destroy:
            tidy_auto_delete_provider(self, log_retention_days=log_retention_days)  # stacks/components/auto_delete.py

    def grant_uploads(self, grantee: iam.IGrantable, *, presign: bool = True) -> None:
        """Let ``grantee`` read the uploads prefix and, with ``presign`` (the function that answers POST /uploads),
        presign PUTs into it; nothing else. A function that only reads uploads (the streaming one) gets no PutObject."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadAndPresignUploads" if presign else "ReadUploads",
                actions=["s3:GetObject", "s3:PutObject"] if presign else ["s3:GetObject"],
                resources=[self.bucket.arn_for_objects(f"{self.prefix}*")],
            )
        )
        policy = _default_policy(grantee)
        if policy is not None:
            bucket = self.bucket.node.default_child
            assert isinstance(bucket, CfnResource)
            logical_id = Stack.of(self).resolve(bucket.logical_id)
            acknowledge(
                policy,
                f"IAM5[Resource::<{logical_id}.Arn>/{self.prefix}*]",
                "Each upload has its own key under the caller's hashed prefix, created per request, so the statement "
                "names the uploads prefix of this one bucket: the narrowest resource that covers every caller's uploads. "
                "Only s3:GetObject (reading a caller's upload back) and, for the function that presigns, s3:PutObject "
                "(a presigned PUT acts with the signer's permissions) are allowed; no listing, no deleting.",
            )

    def _record_bucket_exceptions(self) -> None:
        reason = (
            "The bucket holds transient uploads that expire after a day. Every write is a presigned PUT the function "
            "issued for one caller, and every read is the function's own, both logged per request (never the content); "
            "server access logs would need a second bucket for little gain. Turn on CloudTrail S3 data events for an "
            "audit trail."
        )
        acknowledge(self.bucket, "S1", reason)
        skip_checkov(self.bucket, "CKV_AWS_18", reason)
        skip_checkov(
            self.bucket,
            "CKV_AWS_21",
            "Uploads are transient: versioning would keep noncurrent copies of callers' documents after the lifecycle "
            "expiry (which only adds a delete marker in a versioned bucket), the opposite of the one-day retention the "
            "bucket promises. Each uploadId names a new key.",
        )


def _default_policy(grantee: iam.IGrantable) -> IConstruct | None:
    """The principal's default policy, where a grant's statement lands (for a role, or a function's role)."""
    principal = grantee.grant_principal
    if isinstance(principal, iam.Role):
        return principal.node.try_find_child("DefaultPolicy")
    return None
