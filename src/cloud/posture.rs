//! The live configuration an audit judges, read from AWS: per resource of the
//! deployed state, the settings that decide its security posture, in the
//! shape Terraform's state gives them (so the scanner's rules read both alike).
//!
//! List calls answer for every resource of a service where AWS has one
//! (IAM authorization details, security groups, log groups, functions, trails,
//! tags through the Resource Groups Tagging API in batches of 100 ARNs);
//! settings AWS only returns per resource (a bucket's policy, a function's
//! resource policy, a table's backups, a key's rotation) are read per resource,
//! eight at a time. A call that fails or that the backend does not offer is a
//! note in the reply, never the end of the audit.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use futures::stream::{self, StreamExt};

use aws_sdk_sts::error::ProvideErrorMetadata;

use super::{Cloud, is_not_found};

/// What to read: the names and ARNs of the deployed state, by kind.
#[derive(Debug, Default, Clone)]
pub struct Wanted {
    pub buckets: Vec<String>,
    pub functions: Vec<String>,
    pub tables: Vec<String>,
    pub kms_keys: Vec<String>,
    /// Every ARN of the state, for their tags.
    pub arns: Vec<String>,
}

/// A bucket's settings; `None` where the bucket has none (or the read failed, said in the notes).
#[derive(Debug, Default, Clone)]
pub struct Bucket {
    pub exists: bool,
    /// The four public access block flags, when there is a block.
    pub public_access_block: Option<[bool; 4]>,
    /// (grantee URI, permission) of grants to a group.
    pub group_grants: Vec<(String, String)>,
    pub policy: Option<String>,
    /// (algorithm, KMS key) of the default encryption.
    pub encryption: Option<(String, Option<String>)>,
    pub versioning: Option<String>,
    pub lifecycle_rules: Option<usize>,
    pub logging_target: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub arn: String,
    pub runtime: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_secs: Option<i32>,
    pub environment: BTreeMap<String, String>,
    pub kms_key_arn: Option<String>,
    pub tracing: Option<String>,
    pub dead_letter_target: Option<String>,
    /// The resource policy, when there is one.
    pub policy: Option<String>,
    /// The function URL's auth type (`NONE` or `AWS_IAM`), when it has a URL.
    pub url_auth: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LogGroup {
    pub name: String,
    pub arn: Option<String>,
    pub retention_days: Option<i32>,
    pub kms_key_id: Option<String>,
    pub stored_bytes: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub trust: String,
    /// (name, document) of inline policies.
    pub inline: Vec<(String, String)>,
    /// ARNs of attached managed policies.
    pub attached: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub document: String,
}

/// A user's access key from the credential report.
#[derive(Debug, Clone)]
pub struct AccessKey {
    pub user: String,
    pub user_arn: String,
    pub slot: u8,
    pub last_rotated: String,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub cidr_v4: Vec<String>,
    pub cidr_v6: Vec<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub arn: String,
    pub vpc_id: Option<String>,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub struct Trail {
    pub name: String,
    pub arn: Option<String>,
    pub multi_region: bool,
    pub log_file_validation: bool,
    pub kms_key_id: Option<String>,
    pub s3_bucket: Option<String>,
    pub logging: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub exists: bool,
    pub pitr: Option<bool>,
}

/// An EBS volume or snapshot, or a NAT gateway, carrying the environment's tags.
#[derive(Debug, Clone)]
pub struct Storage {
    pub id: String,
    pub size_gb: Option<i32>,
    pub state: Option<String>,
    pub created: Option<String>,
}

/// Everything read.
#[derive(Debug, Default)]
pub struct Live {
    pub buckets: BTreeMap<String, Bucket>,
    pub functions: BTreeMap<String, Function>,
    pub missing_functions: BTreeSet<String>,
    pub log_groups: BTreeMap<String, LogGroup>,
    /// Whether DescribeLogGroups answered (a group missing from its answer is gone).
    pub log_groups_read: bool,
    pub roles: BTreeMap<String, Role>,
    pub policies: BTreeMap<String, ManagedPolicy>,
    pub access_keys: Vec<AccessKey>,
    pub security_groups: Vec<SecurityGroup>,
    pub trails: Vec<Trail>,
    pub tables: BTreeMap<String, Table>,
    pub kms_rotation: BTreeMap<String, bool>,
    /// Tags per ARN; `None` when the tagging API could not be read.
    pub tags: Option<BTreeMap<String, BTreeMap<String, String>>>,
    pub volumes: Vec<Storage>,
    pub snapshots: Vec<Storage>,
    pub nat_gateways: Vec<Storage>,
    /// Calls that failed or that the backend does not offer.
    pub notes: Vec<String>,
    pub calls: u32,
}

/// Counts calls and gathers notes from concurrent readers.
struct Tally {
    calls: AtomicU32,
    notes: Mutex<Vec<String>>,
}

impl Tally {
    fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
    fn note(&self, text: String) {
        if let Ok(mut n) = self.notes.lock() {
            n.push(crate::redact::redact(&text));
        }
    }
}

const PARALLEL: usize = 8;

/// A call that failed, in one line: AWS's code and message, or that the answer could not be read
/// (a backend that does not offer the call answers with something else).
pub fn describe<E, R>(call: &str, e: &aws_sdk_sts::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        aws_sdk_sts::error::SdkError::ServiceError(_) | aws_sdk_sts::error::SdkError::ResponseError(_) if e.code().is_none() => {
            format!("{call}: the answer could not be read (the backend may not offer this call); left out")
        }
        _ => super::describe(call, e),
    }
}

/// Reads the security-relevant live configuration of what `wanted` names.
///
/// Boxed: the concurrent readers' stream futures are `Send` for each lifetime but the compiler cannot
/// prove it for all of them (rust-lang/rust#102211) once they sit inside the MCP handler's future.
pub fn read<'a>(cloud: &'a Cloud, wanted: &'a Wanted) -> futures::future::BoxFuture<'a, Live> {
    Box::pin(read_all(cloud, wanted))
}

async fn read_all(cloud: &Cloud, wanted: &Wanted) -> Live {
    let tally = Arc::new(Tally { calls: AtomicU32::new(0), notes: Mutex::new(Vec::new()) });
    let t = &tally;
    let (buckets, (functions, missing_functions), log_groups, (roles, policies), access_keys, security_groups, trails, tables, kms_rotation, tags) = futures::join!(
        read_buckets(cloud, &wanted.buckets, t),
        read_functions(cloud, &wanted.functions, t),
        read_log_groups(cloud, t),
        read_iam(cloud, t),
        read_access_keys(cloud, t),
        read_security_groups(cloud, t),
        read_trails(cloud, t),
        read_tables(cloud, &wanted.tables, t),
        read_kms(cloud, &wanted.kms_keys, t),
        read_tags(cloud, &wanted.arns, t),
    );
    let notes = tally.notes.lock().map(|n| n.clone()).unwrap_or_default();
    let log_groups_read = !notes.iter().any(|n| n.contains("DescribeLogGroups"));
    Live {
        buckets,
        functions,
        missing_functions,
        log_groups,
        log_groups_read,
        roles,
        policies,
        access_keys,
        security_groups,
        trails,
        tables,
        kms_rotation,
        tags,
        notes,
        calls: tally.calls.load(Ordering::Relaxed),
        ..Live::default()
    }
}

/// Unattached volumes, snapshots and NAT gateways carrying the environment's tags (for the cost audit).
pub async fn read_storage(cloud: &Cloud, tags: &[(String, String)], live: &mut Live) {
    use aws_sdk_ec2::types::Filter;
    let ec2 = cloud.ec2();
    let filters = || tags.iter().map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build()).collect::<Vec<_>>();
    live.calls += 1;
    match ec2.describe_volumes().set_filters(Some(filters())).send().await {
        Ok(out) => {
            live.volumes = out
                .volumes()
                .iter()
                .map(|v| Storage {
                    id: v.volume_id().unwrap_or_default().into(),
                    size_gb: v.size(),
                    state: v.state().map(|s| s.as_str().to_string()),
                    created: v.create_time().map(|t| t.to_string()),
                })
                .collect()
        }
        Err(e) => live.notes.push(describe("ec2:DescribeVolumes", &e)),
    }
    live.calls += 1;
    match ec2.describe_snapshots().owner_ids("self").set_filters(Some(filters())).send().await {
        Ok(out) => {
            live.snapshots = out
                .snapshots()
                .iter()
                .map(|s| Storage {
                    id: s.snapshot_id().unwrap_or_default().into(),
                    size_gb: s.volume_size(),
                    state: s.state().map(|s| s.as_str().to_string()),
                    created: s.start_time().map(|t| t.to_string()),
                })
                .collect()
        }
        Err(e) => live.notes.push(describe("ec2:DescribeSnapshots", &e)),
    }
    live.calls += 1;
    match ec2.describe_nat_gateways().set_filter(Some(filters())).send().await {
        Ok(out) => {
            live.nat_gateways = out
                .nat_gateways()
                .iter()
                .map(|n| Storage {
                    id: n.nat_gateway_id().unwrap_or_default().into(),
                    size_gb: None,
                    state: n.state().map(|s| s.as_str().to_string()),
                    created: n.create_time().map(|t| t.to_string()),
                })
                .collect()
        }
        Err(e) => live.notes.push(describe("ec2:DescribeNatGateways", &e)),
    }
}

async fn read_buckets(cloud: &Cloud, names: &[String], t: &Arc<Tally>) -> BTreeMap<String, Bucket> {
    let s3 = cloud.s3();
    stream::iter(names.iter().cloned())
        .map(|name| {
            let (s3, t) = (s3.clone(), t.clone());
            async move {
                let mut b = Bucket { exists: true, ..Bucket::default() };
                t.call();
                match s3.get_public_access_block().bucket(&name).send().await {
                    Ok(out) => {
                        b.public_access_block = out.public_access_block_configuration().map(|c| {
                            [
                                c.block_public_acls().unwrap_or(false),
                                c.block_public_policy().unwrap_or(false),
                                c.ignore_public_acls().unwrap_or(false),
                                c.restrict_public_buckets().unwrap_or(false),
                            ]
                        })
                    }
                    Err(e) if e.code() == Some("NoSuchBucket") => {
                        b.exists = false;
                        return (name, b);
                    }
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => t.note(describe("s3:GetPublicAccessBlock", &e)),
                }
                t.call();
                match s3.get_bucket_acl().bucket(&name).send().await {
                    Ok(out) => {
                        b.group_grants = out
                            .grants()
                            .iter()
                            .filter_map(|g| {
                                let uri = g.grantee()?.uri()?;
                                Some((uri.to_string(), g.permission().map(|p| p.as_str().to_string()).unwrap_or_default()))
                            })
                            .collect()
                    }
                    Err(e) => t.note(describe("s3:GetBucketAcl", &e)),
                }
                t.call();
                match s3.get_bucket_policy().bucket(&name).send().await {
                    Ok(out) => b.policy = out.policy().map(str::to_string),
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => t.note(describe("s3:GetBucketPolicy", &e)),
                }
                t.call();
                match s3.get_bucket_encryption().bucket(&name).send().await {
                    Ok(out) => {
                        b.encryption = out.server_side_encryption_configuration().and_then(|c| c.rules().first()).and_then(|r| {
                            let d = r.apply_server_side_encryption_by_default()?;
                            Some((d.sse_algorithm().as_str().to_string(), d.kms_master_key_id().map(str::to_string)))
                        })
                    }
                    Err(e) if is_not_found(&e) || e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") => {}
                    Err(e) => t.note(describe("s3:GetBucketEncryption", &e)),
                }
                t.call();
                match s3.get_bucket_versioning().bucket(&name).send().await {
                    Ok(out) => b.versioning = out.status().map(|s| s.as_str().to_string()),
                    Err(e) => t.note(describe("s3:GetBucketVersioning", &e)),
                }
                t.call();
                match s3.get_bucket_lifecycle_configuration().bucket(&name).send().await {
                    Ok(out) => b.lifecycle_rules = Some(out.rules().len()),
                    Err(e) if is_not_found(&e) => b.lifecycle_rules = Some(0),
                    Err(e) => t.note(describe("s3:GetBucketLifecycleConfiguration", &e)),
                }
                t.call();
                match s3.get_bucket_logging().bucket(&name).send().await {
                    Ok(out) => b.logging_target = out.logging_enabled().map(|l| l.target_bucket().to_string()),
                    Err(e) => t.note(describe("s3:GetBucketLogging", &e)),
                }
                (name, b)
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await
}

async fn read_functions(cloud: &Cloud, names: &[String], t: &Arc<Tally>) -> (BTreeMap<String, Function>, BTreeSet<String>) {
    let lambda = cloud.lambda();
    let mut all = BTreeMap::new();
    let mut marker: Option<String> = None;
    loop {
        t.call();
        match lambda.list_functions().set_marker(marker.clone()).send().await {
            Ok(out) => {
                for f in out.functions() {
                    let Some(name) = f.function_name() else { continue };
                    all.insert(
                        name.to_string(),
                        Function {
                            name: name.to_string(),
                            arn: f.function_arn().unwrap_or_default().to_string(),
                            runtime: f.runtime().map(|r| r.as_str().to_string()),
                            memory_mb: f.memory_size(),
                            timeout_secs: f.timeout(),
                            environment: f
                                .environment()
                                .and_then(|e| e.variables())
                                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                                .unwrap_or_default(),
                            kms_key_arn: f.kms_key_arn().map(str::to_string),
                            tracing: f.tracing_config().and_then(|c| c.mode()).map(|m| m.as_str().to_string()),
                            dead_letter_target: f.dead_letter_config().and_then(|d| d.target_arn()).map(str::to_string),
                            policy: None,
                            url_auth: None,
                        },
                    );
                }
                marker = out.next_marker().map(str::to_string);
                if marker.is_none() {
                    break;
                }
            }
            Err(e) => {
                t.note(describe("lambda:ListFunctions", &e));
                return (BTreeMap::new(), BTreeSet::new());
            }
        }
    }
    let missing: BTreeSet<String> = names.iter().filter(|n| !all.contains_key(*n)).cloned().collect();
    let mut wanted: Vec<Function> = names.iter().filter_map(|n| all.remove(n)).collect();
    let found: Vec<String> = wanted.iter().map(|f| f.name.clone()).collect();
    let extras: Vec<(Option<String>, Option<String>)> = stream::iter(found)
        .map(|name| {
            let (lambda, t) = (lambda.clone(), t.clone());
            async move {
                t.call();
                let policy = match lambda.get_policy().function_name(&name).send().await {
                    Ok(out) => out.policy().map(str::to_string),
                    Err(e) if is_not_found(&e) => None,
                    Err(e) => {
                        t.note(describe("lambda:GetPolicy", &e));
                        None
                    }
                };
                t.call();
                let url = match lambda.list_function_url_configs().function_name(&name).send().await {
                    Ok(out) => out.function_url_configs().first().map(|c| c.auth_type().as_str().to_string()),
                    Err(e) if is_not_found(&e) => None,
                    Err(e) => {
                        t.note(describe("lambda:ListFunctionUrlConfigs", &e));
                        None
                    }
                };
                (policy, url)
            }
        })
        .buffered(PARALLEL)
        .collect()
        .await;
    for (f, (policy, url)) in wanted.iter_mut().zip(extras) {
        f.policy = policy;
        f.url_auth = url;
    }
    (wanted.into_iter().map(|f| (f.name.clone(), f)).collect(), missing)
}

async fn read_log_groups(cloud: &Cloud, t: &Tally) -> BTreeMap<String, LogGroup> {
    let logs = cloud.logs();
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        t.call();
        match logs.describe_log_groups().set_next_token(token.clone()).send().await {
            Ok(page) => {
                for g in page.log_groups() {
                    let Some(name) = g.log_group_name() else { continue };
                    out.insert(
                        name.to_string(),
                        LogGroup {
                            name: name.to_string(),
                            arn: g.arn().map(|a| a.trim_end_matches(":*").to_string()),
                            retention_days: g.retention_in_days(),
                            kms_key_id: g.kms_key_id().map(str::to_string),
                            stored_bytes: g.stored_bytes(),
                        },
                    );
                }
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    return out;
                }
            }
            Err(e) => {
                t.note(describe("logs:DescribeLogGroups", &e));
                return out;
            }
        }
    }
}

/// IAM documents come URL-encoded.
fn document(raw: &str) -> String {
    if raw.trim_start().starts_with('{') {
        return raw.to_string();
    }
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

async fn read_iam(cloud: &Cloud, t: &Tally) -> (BTreeMap<String, Role>, BTreeMap<String, ManagedPolicy>) {
    use aws_sdk_iam::types::EntityType;
    let iam = cloud.iam();
    let (mut roles, mut policies) = (BTreeMap::new(), BTreeMap::new());
    let mut marker: Option<String> = None;
    loop {
        t.call();
        let page = match iam
            .get_account_authorization_details()
            .filter(EntityType::Role)
            .filter(EntityType::LocalManagedPolicy)
            .set_marker(marker.clone())
            .send()
            .await
        {
            Ok(page) => page,
            Err(e) => {
                t.note(describe("iam:GetAccountAuthorizationDetails", &e));
                break;
            }
        };
        for r in page.role_detail_list() {
            let Some(name) = r.role_name() else { continue };
            roles.insert(
                name.to_string(),
                Role {
                    name: name.to_string(),
                    arn: r.arn().unwrap_or_default().to_string(),
                    trust: r.assume_role_policy_document().map(document).unwrap_or_default(),
                    inline: r
                        .role_policy_list()
                        .iter()
                        .map(|p| (p.policy_name().unwrap_or_default().to_string(), document(p.policy_document().unwrap_or_default())))
                        .collect(),
                    attached: r.attached_managed_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect(),
                },
            );
        }
        for p in page.policies() {
            let Some(arn) = p.arn() else { continue };
            let doc = p.policy_version_list().iter().find(|v| v.is_default_version()).and_then(|v| v.document()).map(document).unwrap_or_default();
            policies.insert(arn.to_string(), ManagedPolicy { arn: arn.to_string(), name: p.policy_name().unwrap_or_default().to_string(), document: doc });
        }
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }
    (roles, policies)
}

/// Access keys from the credential report (one report for every user, not a call per user).
async fn read_access_keys(cloud: &Cloud, t: &Tally) -> Vec<AccessKey> {
    let iam = cloud.iam();
    for attempt in 0..5 {
        t.call();
        match iam.generate_credential_report().send().await {
            Ok(out) if out.state().is_some_and(|s| s.as_str() != "COMPLETE") && attempt < 4 => {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
            Ok(_) => break,
            Err(e) => {
                t.note(describe("iam:GenerateCredentialReport", &e));
                return Vec::new();
            }
        }
    }
    t.call();
    match iam.get_credential_report().send().await {
        Ok(out) => out.content().map(|c| credential_report(&String::from_utf8_lossy(c.as_ref()))).unwrap_or_default(),
        Err(e) => {
            t.note(describe("iam:GetCredentialReport", &e));
            Vec::new()
        }
    }
}

/// The active access keys of an IAM credential report (CSV). Pure.
pub fn credential_report(csv: &str) -> Vec<AccessKey> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (user, arn) = (col("user"), col("arn"));
    let mut out = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).copied().unwrap_or_default();
        for slot in [1u8, 2] {
            if cell(col(&format!("access_key_{slot}_active"))) == "true" {
                out.push(AccessKey {
                    user: cell(user).into(),
                    user_arn: cell(arn).into(),
                    slot,
                    last_rotated: cell(col(&format!("access_key_{slot}_last_rotated"))).into(),
                });
            }
        }
    }
    out
}

async fn read_security_groups(cloud: &Cloud, t: &Tally) -> Vec<SecurityGroup> {
    let ec2 = cloud.ec2();
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        t.call();
        let page = match ec2.describe_security_groups().set_next_token(token.clone()).send().await {
            Ok(page) => page,
            Err(e) => {
                t.note(describe("ec2:DescribeSecurityGroups", &e));
                return out;
            }
        };
        for g in page.security_groups() {
            let group_tags: BTreeMap<String, String> =
                g.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect();
            let rules = |perms: &[aws_sdk_ec2::types::IpPermission]| -> Vec<Rule> {
                perms
                    .iter()
                    .map(|p| Rule {
                        protocol: p.ip_protocol().unwrap_or("-1").to_string(),
                        from_port: p.from_port(),
                        to_port: p.to_port(),
                        cidr_v4: p.ip_ranges().iter().filter_map(|r| r.cidr_ip().map(str::to_string)).collect(),
                        cidr_v6: p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6().map(str::to_string)).collect(),
                        description: p.ip_ranges().iter().find_map(|r| r.description().map(str::to_string)),
                    })
                    .collect()
            };
            let id = g.group_id().unwrap_or_default().to_string();
            out.push(SecurityGroup {
                arn: format!("arn:aws:ec2:{}:{}:security-group/{id}", cloud.target.region, g.owner_id().unwrap_or_default()),
                id,
                name: g.group_name().unwrap_or_default().into(),
                vpc_id: g.vpc_id().map(str::to_string),
                description: g.description().map(str::to_string),
                ingress: rules(g.ip_permissions()),
                egress: rules(g.ip_permissions_egress()),
                tags: group_tags,
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return out;
        }
    }
}

async fn read_trails(cloud: &Cloud, t: &Tally) -> Vec<Trail> {
    let ct = aws_sdk_cloudtrail::Client::new(&cloud.sdk);
    t.call();
    let trails: Vec<Trail> = match ct.describe_trails().send().await {
        Ok(out) => out
            .trail_list()
            .iter()
            .map(|tr| Trail {
                name: tr.name().unwrap_or_default().into(),
                arn: tr.trail_arn().map(str::to_string),
                multi_region: tr.is_multi_region_trail().unwrap_or(false),
                log_file_validation: tr.log_file_validation_enabled().unwrap_or(false),
                kms_key_id: tr.kms_key_id().map(str::to_string),
                s3_bucket: tr.s3_bucket_name().map(str::to_string),
                logging: None,
            })
            .collect(),
        Err(e) => {
            t.note(describe("cloudtrail:DescribeTrails", &e));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for mut trail in trails {
        t.call();
        match ct.get_trail_status().name(trail.arn.clone().unwrap_or_else(|| trail.name.clone())).send().await {
            Ok(s) => trail.logging = s.is_logging(),
            Err(e) => t.note(describe("cloudtrail:GetTrailStatus", &e)),
        }
        out.push(trail);
    }
    out
}

async fn read_tables(cloud: &Cloud, names: &[String], t: &Arc<Tally>) -> BTreeMap<String, Table> {
    let ddb = cloud.dynamodb();
    stream::iter(names.iter().cloned())
        .map(|name| {
            let (ddb, t) = (ddb.clone(), t.clone());
            async move {
                t.call();
                let table = match ddb.describe_continuous_backups().table_name(&name).send().await {
                    Ok(out) => Table {
                        exists: true,
                        pitr: out
                            .continuous_backups_description()
                            .and_then(|d| d.point_in_time_recovery_description())
                            .and_then(|p| p.point_in_time_recovery_status())
                            .map(|s| s.as_str() == "ENABLED"),
                    },
                    Err(e) if is_not_found(&e) || e.code() == Some("TableNotFoundException") => Table { exists: false, pitr: None },
                    Err(e) => {
                        t.note(describe("dynamodb:DescribeContinuousBackups", &e));
                        Table { exists: true, pitr: None }
                    }
                };
                (name, table)
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await
}

async fn read_kms(cloud: &Cloud, keys: &[String], t: &Arc<Tally>) -> BTreeMap<String, bool> {
    let kms = aws_sdk_kms::Client::new(&cloud.sdk);
    stream::iter(keys.iter().cloned())
        .map(|key| {
            let (kms, t) = (kms.clone(), t.clone());
            async move {
                t.call();
                match kms.get_key_rotation_status().key_id(&key).send().await {
                    Ok(out) => Some((key, out.key_rotation_enabled())),
                    Err(e) => {
                        t.note(describe("kms:GetKeyRotationStatus", &e));
                        None
                    }
                }
            }
        })
        .buffer_unordered(PARALLEL)
        .collect::<Vec<Option<(String, bool)>>>()
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Tags of the ARNs, 100 a call; an ARN the answer leaves out has no tags.
async fn read_tags(cloud: &Cloud, arns: &[String], t: &Tally) -> Option<BTreeMap<String, BTreeMap<String, String>>> {
    let api = aws_sdk_resourcegroupstagging::Client::new(&cloud.sdk);
    let mut out = BTreeMap::new();
    for chunk in arns.chunks(100) {
        let mut token: Option<String> = None;
        loop {
            t.call();
            match api.get_resources().set_resource_arn_list(Some(chunk.to_vec())).set_pagination_token(token.clone()).send().await {
                Ok(page) => {
                    for m in page.resource_tag_mapping_list() {
                        let Some(arn) = m.resource_arn() else { continue };
                        out.insert(arn.to_string(), m.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect());
                    }
                    token = page.pagination_token().filter(|t| !t.is_empty()).map(str::to_string);
                    if token.is_none() {
                        break;
                    }
                }
                Err(e) => {
                    t.note(describe("tag:GetResources", &e));
                    return None;
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn credential_report_lists_active_keys_only() {
        let csv = "user,arn,user_creation_time,password_enabled,access_key_1_active,access_key_1_last_rotated,access_key_2_active,access_key_2_last_rotated\n\
                   <root_account>,arn:aws:iam::1:root,2020-01-01T00:00:00+00:00,not_supported,false,N/A,false,N/A\n\
                   ci,arn:aws:iam::1:user/ci,2020-01-01T00:00:00+00:00,false,true,2026-01-02T03:04:05+00:00,false,N/A\n";
        let keys = super::credential_report(csv);
        assert_eq!(keys.len(), 1);
        assert_eq!((keys[0].user.as_str(), keys[0].slot, keys[0].last_rotated.as_str()), ("ci", 1, "2026-01-02T03:04:05+00:00"));
    }
}
