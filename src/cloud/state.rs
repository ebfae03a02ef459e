//! The S3 bucket that holds Terraform's state: whether it is there, and its
//! creation with the settings a state bucket needs (versioning to recover an
//! earlier state, encryption at rest, no public access).

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};

use crate::cloud::{Cloud, aws_error, is_not_found};
use crate::error::Error;

/// Whether `bucket` exists and these credentials can reach it (`s3:HeadBucket`).
pub async fn bucket_exists(cloud: &Cloud, bucket: &str) -> Result<bool, Error> {
    match cloud.s3().head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
        Err(e) => Err(aws_error("s3:HeadBucket", e)),
    }
}

/// Creates the state bucket in `region` with versioning, AES-256 encryption and every public access blocked.
/// Returns the calls made, in order.
pub async fn create_state_bucket(cloud: &Cloud, bucket: &str, region: &str) -> Result<Vec<String>, Error> {
    let s3 = cloud.s3();
    let mut create = s3.create_bucket().bucket(bucket);
    // us-east-1 is the one region that takes no location constraint.
    if region != "us-east-1" {
        create = create.create_bucket_configuration(CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build());
    }
    create.send().await.map_err(|e| aws_error("s3:CreateBucket", e))?;
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .map_err(|e| aws_error("s3:PutBucketVersioning", e))?;
    let by_default = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build().map_err(|e| Error::Failed(e.to_string()))?;
    let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).bucket_key_enabled(true).build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(ServerSideEncryptionConfiguration::builder().rules(rule).build().map_err(|e| Error::Failed(e.to_string()))?)
        .send()
        .await
        .map_err(|e| aws_error("s3:PutBucketEncryption", e))?;
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block().bucket(bucket).public_access_block_configuration(block).send().await.map_err(|e| aws_error("s3:PutPublicAccessBlock", e))?;
    Ok(["s3:CreateBucket", "s3:PutBucketVersioning", "s3:PutBucketEncryption", "s3:PutPublicAccessBlock"].map(String::from).to_vec())
}
