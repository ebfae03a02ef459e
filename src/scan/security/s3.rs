//! S3 buckets. Every bucket-level setting is read both inline (provider v3:
//! `versioning {}` inside `aws_s3_bucket`) and from the provider-v4 split
//! resources that point at the bucket (`aws_s3_bucket_versioning`,
//! `aws_s3_bucket_server_side_encryption_configuration`,
//! `aws_s3_bucket_public_access_block`, `aws_s3_bucket_logging`,
//! `aws_s3_bucket_acl`, `aws_s3_bucket_policy`), so a bucket configured the
//! v4 way is not reported as lacking what it has.

use super::policy::{self, Statement};
use super::{Hit, Links, Module, Resource, Rule, Setting, Severity, hit, links, setting, setting_in, strip_index};
use crate::tf::Val;

pub static ENCRYPTION: Rule = Rule {
    id: "FC_S3_001",
    severity: Severity::Medium,
    title: "S3 bucket encryption configuration names no valid algorithm",
    // A bucket with no configuration at all passes, as in Checkov: since January 2023 S3
    // encrypts every new object with SSE-S3 whatever the configuration says. Whether the
    // key is KMS is FC_S3_008's question.
    checkov_id: Some("CKV_AWS_19"),
    fix: "Set sse_algorithm = \"aws:kms\" (or \"AES256\") in the bucket's server-side encryption configuration.",
    check: encryption,
};

pub static PUBLIC_ACCESS_BLOCK: Rule = Rule {
    id: "FC_S3_002",
    severity: Severity::High,
    title: "S3 bucket has no complete public access block",
    // Checkov requires block_public_acls and block_public_policy; we also
    // require ignore_public_acls and restrict_public_buckets (CKV_AWS_55/56),
    // and accept an account-wide aws_s3_account_public_access_block.
    checkov_id: Some("CKV2_AWS_6"),
    fix: "Add an aws_s3_bucket_public_access_block for the bucket with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets all true.",
    check: public_access_block,
};

pub static VERSIONING: Rule = Rule {
    id: "FC_S3_003",
    severity: Severity::Medium,
    title: "S3 bucket versioning is not enabled",
    checkov_id: Some("CKV_AWS_21"),
    fix: "Add an aws_s3_bucket_versioning for the bucket with versioning_configuration { status = \"Enabled\" }.",
    check: versioning,
};

pub static ACCESS_LOGGING: Rule = Rule {
    id: "FC_S3_004",
    severity: Severity::Low,
    title: "S3 bucket access logging is not enabled",
    // Unlike Checkov, a bucket that receives logs (the target of S3, ALB,
    // CloudFront, CloudTrail or flow logs, or with acl log-delivery-write) is
    // not asked to log itself.
    checkov_id: Some("CKV_AWS_18"),
    fix: "Add an aws_s3_bucket_logging for the bucket with a target_bucket that collects access logs.",
    check: access_logging,
};

pub static PUBLIC_READ_ACL: Rule = Rule {
    id: "FC_S3_005",
    severity: Severity::High,
    title: "S3 bucket ACL allows public read access",
    checkov_id: Some("CKV_AWS_20"),
    fix: "Use acl = \"private\" (or no ACL with object_ownership = \"BucketOwnerEnforced\") and serve public content through CloudFront.",
    check: public_read,
};

pub static PUBLIC_WRITE_ACL: Rule = Rule {
    id: "FC_S3_006",
    severity: Severity::Critical,
    title: "S3 bucket ACL allows public write access",
    checkov_id: Some("CKV_AWS_57"),
    fix: "Remove public-read-write and any WRITE/FULL_CONTROL grant to AllUsers or AuthenticatedUsers; use acl = \"private\".",
    check: public_write,
};

pub static POLICY_ANY_PRINCIPAL: Rule = Rule {
    id: "FC_S3_007",
    severity: Severity::Critical,
    title: "S3 bucket policy allows any principal",
    checkov_id: Some("CKV_AWS_70"),
    fix: "Name the principals in the bucket policy, or narrow the statement with a condition such as aws:SourceVpce, aws:PrincipalOrgID or aws:SourceArn.",
    check: policy_any_principal,
};

pub static KMS_ENCRYPTION: Rule = Rule {
    id: "FC_S3_008",
    severity: Severity::Low,
    title: "S3 bucket default encryption uses SSE-S3 rather than KMS",
    // A bucket with no configuration gets SSE-S3, so it is reported too, as in Checkov.
    checkov_id: Some("CKV_AWS_145"),
    fix: "Set sse_algorithm = \"aws:kms\" with a customer managed kms_master_key_id (and bucket_key_enabled = true to limit KMS costs).",
    check: kms_encryption,
};

pub static SECURE_TRANSPORT: Rule = Rule {
    id: "FC_S3_009",
    severity: Severity::Low,
    title: "S3 bucket policy does not require TLS",
    checkov_id: None,
    fix: "Add a bucket policy statement that denies s3:* when aws:SecureTransport is false.",
    check: secure_transport,
};

const IDS: &[&str] = &["bucket", "id"];
const SSE_PATH: &str = "rule.apply_server_side_encryption_by_default.sse_algorithm";
const SSE_ALGORITHMS: &[&str] = &["AES256", "aws:kms", "aws:kms:dsse"];
const PAB_FLAGS: [&str; 4] = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];

fn buckets(m: &Module) -> impl Iterator<Item = &Resource> {
    m.of_kind("aws_s3_bucket")
}

fn attached<'m>(m: &'m Module, kind: &str, bucket: &Resource) -> Links<'m> {
    links(m, kind, "bucket", bucket, IDS)
}

/// The bucket's default-encryption algorithms: inline and from attached resources.
fn algorithms<'m>(m: &'m Module, b: &'m Resource) -> (Vec<Setting<'m>>, Links<'m>) {
    let attached = attached(m, "aws_s3_bucket_server_side_encryption_configuration", b);
    let mut algos = vec![setting(b, &format!("server_side_encryption_configuration.{SSE_PATH}"))];
    algos.extend(attached.found.iter().map(|r| setting(r, SSE_PATH)));
    algos.retain(|s| !s.is_absent());
    (algos, attached)
}

fn encryption(m: &Module) -> Vec<Hit<'_>> {
    buckets(m)
        .filter_map(|b| {
            let (algos, attached) = algorithms(m, b);
            if algos.iter().any(|s| matches!(s, Setting::Unknown) || s.as_str().is_some_and(|a| SSE_ALGORITHMS.contains(&a))) {
                return None;
            }
            if let Some(bad) = algos.iter().find_map(|s| s.as_str()) {
                return Some(hit(b, "", format!("sse_algorithm = \"{bad}\" is not an S3 encryption algorithm")));
            }
            attached.found.first().map(|r| hit(b, "", format!("{} sets no sse_algorithm", r.address)))
        })
        .collect()
}

fn kms_encryption(m: &Module) -> Vec<Hit<'_>> {
    buckets(m)
        .filter_map(|b| {
            let (algos, attached) = algorithms(m, b);
            if algos.is_empty() {
                return attached.none().then(|| hit(b, "", "no encryption configuration: S3 applies SSE-S3, not aws:kms"));
            }
            let known: Vec<&str> = algos.iter().filter_map(|s| s.as_str()).collect();
            let sse_s3 = algos.len() == known.len() && known.contains(&"AES256") && !known.iter().any(|a| a.starts_with("aws:kms"));
            sse_s3.then(|| hit(b, "", "default encryption is AES256 (SSE-S3), not aws:kms"))
        })
        .collect()
}

fn public_access_block(m: &Module) -> Vec<Hit<'_>> {
    let account_wide = m.of_kind("aws_s3_account_public_access_block").any(|r| PAB_FLAGS.iter().all(|f| setting(r, f).as_bool() == Some(true)));
    if account_wide {
        return Vec::new();
    }
    buckets(m)
        .filter_map(|b| {
            let pabs = attached(m, "aws_s3_bucket_public_access_block", b);
            if pabs.none() {
                return Some(hit(b, "", "no aws_s3_bucket_public_access_block for this bucket"));
            }
            if pabs.found.is_empty() {
                return None;
            }
            let gaps: Vec<Vec<&str>> = pabs.found.iter().map(|p| PAB_FLAGS.iter().copied().filter(|f| setting(p, f).absent_or_false()).collect()).collect();
            let best = gaps.into_iter().min_by_key(Vec::len).unwrap_or_default();
            (!best.is_empty()).then(|| hit(b, "", format!("the public access block leaves {} off", best.join(", "))))
        })
        .collect()
}

fn versioning(m: &Module) -> Vec<Hit<'_>> {
    buckets(m)
        .filter_map(|b| {
            let inline = setting(b, "versioning.enabled");
            if matches!(inline, Setting::Unknown) || inline.as_bool() == Some(true) {
                return None;
            }
            let attached = attached(m, "aws_s3_bucket_versioning", b);
            let statuses: Vec<Setting> = attached.found.iter().map(|r| setting(r, "versioning_configuration.status")).collect();
            if statuses.iter().any(|s| matches!(s, Setting::Unknown) || s.as_str() == Some("Enabled")) {
                return None;
            }
            if let Some(status) = statuses.iter().find_map(|s| s.as_str()) {
                return Some(hit(b, "", format!("versioning_configuration.status = \"{status}\"")));
            }
            if inline.as_bool() == Some(false) {
                return Some(hit(b, "versioning", "versioning.enabled = false"));
            }
            attached.none().then(|| hit(b, "", "no versioning block and no aws_s3_bucket_versioning for this bucket"))
        })
        .collect()
}

fn access_logging(m: &Module) -> Vec<Hit<'_>> {
    let destinations = LogDestinations::of(m);
    buckets(m)
        .filter_map(|b| {
            if !setting(b, "logging").is_absent() || !attached(m, "aws_s3_bucket_logging", b).none() || destinations.include(b) {
                return None;
            }
            Some(hit(b, "", "no logging block and no aws_s3_bucket_logging for this bucket"))
        })
        .collect()
}

/// The buckets some service writes its logs to, read once per scan: by reference, or by a name, an ARN
/// (`arn:aws:s3:::name` or `…:::name/prefix`) or a domain name (`name.s3.amazonaws.com`).
struct LogDestinations {
    refs: std::collections::HashSet<String>,
    names: std::collections::HashSet<String>,
}

impl LogDestinations {
    fn of(m: &Module) -> LogDestinations {
        // (type, where it names the bucket, the flag that turns that logging off when known false)
        let destinations: &[(&str, &str, Option<&str>)] = &[
            ("aws_s3_bucket_logging", "target_bucket", None),
            ("aws_s3_bucket", "logging.target_bucket", None),
            ("aws_cloudtrail", "s3_bucket_name", Some("enable_logging")),
            ("aws_lb", "access_logs.bucket", Some("access_logs.enabled")),
            ("aws_alb", "access_logs.bucket", Some("access_logs.enabled")),
            ("aws_elb", "access_logs.bucket", Some("access_logs.enabled")),
            ("aws_cloudfront_distribution", "logging_config.bucket", None),
            ("aws_flow_log", "log_destination", None),
        ];
        let mut out = LogDestinations { refs: Default::default(), names: Default::default() };
        for (kind, path, enabled) in destinations {
            for r in m.of_kind(kind) {
                if enabled.is_some_and(|flag| path_value(&r.attrs, flag).and_then(Val::as_bool) == Some(false)) {
                    continue;
                }
                match path_value(&r.attrs, path) {
                    Some(Val::Ref(a)) => {
                        out.refs.insert(strip_index(a));
                    }
                    Some(Val::Str(s)) => {
                        out.names.insert(s.clone());
                        if let Some((_, arn_tail)) = s.split_once(":::") {
                            out.names.insert(arn_tail.split('/').next().unwrap_or_default().to_string());
                        }
                        if let Some((name, _)) = s.split_once(".s3.") {
                            out.names.insert(name.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Whether `b` receives logs: its ACL says so, or a destination names it.
    fn include(&self, b: &Resource) -> bool {
        b.get("acl").and_then(Val::as_str) == Some("log-delivery-write")
            || self.refs.contains(&strip_index(&b.address))
            || IDS.iter().filter_map(|k| b.get(k).and_then(Val::as_str)).filter(|n| !n.is_empty()).any(|n| self.names.contains(n))
    }
}

fn path_value<'a>(attrs: &'a std::collections::BTreeMap<String, Val>, path: &str) -> Option<&'a Val> {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    let v = attrs.get(head)?;
    if rest.is_empty() { Some(v) } else { path_value(v.first_block()?, rest) }
}

/// (grants read to everyone, grants write to everyone), from canned ACLs and grants.
fn public_acl(m: &Module, b: &Resource) -> (Option<String>, Option<String>) {
    let attached = attached(m, "aws_s3_bucket_acl", b);
    let mut read = None;
    let mut write = None;
    let acls = std::iter::once(b).chain(attached.found.iter().copied()).filter_map(|r| r.get("acl").and_then(Val::as_str).map(|a| (r, a)));
    for (r, acl) in acls {
        if matches!(acl, "public-read" | "public-read-write" | "authenticated-read") {
            read.get_or_insert(format!("{} sets acl = \"{acl}\"", r.address));
        }
        if acl == "public-read-write" {
            write.get_or_insert(format!("{} sets acl = \"{acl}\"", r.address));
        }
    }
    let mut grants: Vec<(String, Vec<&str>)> = b
        .get("grant")
        .map(Val::blocks)
        .unwrap_or_default()
        .into_iter()
        .map(|g| (g.get("uri").and_then(Val::as_str).unwrap_or("").to_string(), super::strings(g.get("permissions"))))
        .collect();
    for r in &attached.found {
        for g in r.path("access_control_policy").and_then(|p| p.first_block()).and_then(|p| p.get("grant")).map(Val::blocks).unwrap_or_default() {
            let uri = setting_in(g, "grantee.uri").as_str().unwrap_or("").to_string();
            grants.push((uri, super::strings(g.get("permission"))));
        }
    }
    for (uri, perms) in grants {
        if !(uri.ends_with("/global/AllUsers") || uri.ends_with("/global/AuthenticatedUsers")) {
            continue;
        }
        let who = uri.rsplit('/').next().unwrap_or("everyone").to_string();
        if perms.iter().any(|p| matches!(*p, "READ" | "FULL_CONTROL")) {
            read.get_or_insert(format!("a grant gives {who} {}", perms.join("/")));
        }
        if perms.iter().any(|p| matches!(*p, "WRITE" | "WRITE_ACP" | "FULL_CONTROL")) {
            write.get_or_insert(format!("a grant gives {who} {}", perms.join("/")));
        }
    }
    (read, write)
}

fn public_read(m: &Module) -> Vec<Hit<'_>> {
    buckets(m).filter_map(|b| public_acl(m, b).0.map(|msg| hit(b, "acl", msg))).collect()
}

fn public_write(m: &Module) -> Vec<Hit<'_>> {
    buckets(m).filter_map(|b| public_acl(m, b).1.map(|msg| hit(b, "acl", msg))).collect()
}

fn policy_any_principal(m: &Module) -> Vec<Hit<'_>> {
    m.resources
        .iter()
        .filter(|r| !r.data && (r.kind == "aws_s3_bucket_policy" || r.kind == "aws_s3_bucket"))
        .filter_map(|r| {
            let stmts = policy::statements(m, r.get("policy"))?;
            let (i, s) = stmts.iter().enumerate().find(|(_, s)| s.is_public())?;
            Some(hit(r, "policy", format!("statement {} allows {} to any principal without a narrowing condition", i + 1, actions(s))))
        })
        .collect()
}

fn actions(s: &Statement) -> String {
    if s.actions.is_empty() { "its actions".into() } else { s.actions.join(", ") }
}

fn secure_transport(m: &Module) -> Vec<Hit<'_>> {
    buckets(m)
        .filter_map(|b| {
            let attached = attached(m, "aws_s3_bucket_policy", b);
            if attached.unresolved {
                return None;
            }
            let mut docs = vec![b.get("policy")];
            docs.extend(attached.found.iter().map(|p| p.get("policy")));
            let mut statements = Vec::new();
            for doc in docs.into_iter().flatten() {
                match policy::statements(m, Some(doc)) {
                    Some(s) => statements.extend(s),
                    // A policy we cannot read may well require TLS.
                    None if !matches!(doc, Val::Null) => return None,
                    None => {}
                }
            }
            let requires_tls = statements.iter().any(|s| {
                s.conditions.iter().any(|c| {
                    c.operator.to_ascii_lowercase().starts_with("bool")
                        && c.key.eq_ignore_ascii_case("aws:SecureTransport")
                        && c.values.iter().any(|v| v.eq_ignore_ascii_case(if s.allow { "true" } else { "false" }))
                })
            });
            (!requires_tls).then(|| hit(b, "", "no bucket policy denies requests made without TLS (aws:SecureTransport = false)"))
        })
        .collect()
}

pub static LIFECYCLE: Rule = Rule {
    id: "FC_S3_010",
    severity: Severity::Low,
    title: "S3 bucket has no lifecycle configuration",
    checkov_id: Some("CKV2_AWS_61"),
    fix: "Add an aws_s3_bucket_lifecycle_configuration that expires or transitions old objects and versions and aborts incomplete multipart uploads.",
    check: lifecycle,
};

pub static REPLICATION: Rule = Rule {
    id: "FC_S3_011",
    severity: Severity::Low,
    title: "S3 bucket is not replicated to another region",
    checkov_id: Some("CKV_AWS_144"),
    fix: "Add an aws_s3_bucket_replication_configuration to a bucket in another region for data that must survive a regional outage (versioning is required).",
    check: replication,
};

pub static NOTIFICATIONS: Rule = Rule {
    id: "FC_S3_012",
    severity: Severity::Info,
    title: "S3 bucket sends no event notifications",
    checkov_id: Some("CKV2_AWS_62"),
    fix: "Add an aws_s3_bucket_notification (to SQS, SNS, Lambda or EventBridge) where changes to the bucket must be seen.",
    check: notifications,
};

super::simple_rule!(
    PAB_BLOCK_ACLS,
    "FC_S3_013",
    Medium,
    "S3 public access block leaves block_public_acls off",
    Some("CKV_AWS_53"),
    ["aws_s3_bucket_public_access_block"],
    "block_public_acls",
    |r| super::require_flag(r, "block_public_acls", true, false),
    "Set block_public_acls = true.",
);

super::simple_rule!(
    PAB_BLOCK_POLICY,
    "FC_S3_014",
    Medium,
    "S3 public access block leaves block_public_policy off",
    Some("CKV_AWS_54"),
    ["aws_s3_bucket_public_access_block"],
    "block_public_policy",
    |r| super::require_flag(r, "block_public_policy", true, false),
    "Set block_public_policy = true.",
);

super::simple_rule!(
    PAB_IGNORE_ACLS,
    "FC_S3_015",
    Medium,
    "S3 public access block leaves ignore_public_acls off",
    Some("CKV_AWS_55"),
    ["aws_s3_bucket_public_access_block"],
    "ignore_public_acls",
    |r| super::require_flag(r, "ignore_public_acls", true, false),
    "Set ignore_public_acls = true.",
);

super::simple_rule!(
    PAB_RESTRICT_BUCKETS,
    "FC_S3_016",
    Medium,
    "S3 public access block leaves restrict_public_buckets off",
    Some("CKV_AWS_56"),
    ["aws_s3_bucket_public_access_block"],
    "restrict_public_buckets",
    |r| super::require_flag(r, "restrict_public_buckets", true, false),
    "Set restrict_public_buckets = true.",
);

/// Buckets with neither the inline block (`inline`, provider v3; "" for none) nor an attached `split` resource.
fn lacking<'m>(m: &'m Module, inline: &str, split: &str, what: &str) -> Vec<Hit<'m>> {
    buckets(m)
        .filter(|b| inline.is_empty() || setting(b, inline).is_absent())
        .filter(|b| attached(m, split, b).none())
        .map(|b| hit(b, "", format!("no {what} for this bucket")))
        .collect()
}

fn lifecycle(m: &Module) -> Vec<Hit<'_>> {
    lacking(m, "lifecycle_rule", "aws_s3_bucket_lifecycle_configuration", "lifecycle rule")
}

fn replication(m: &Module) -> Vec<Hit<'_>> {
    lacking(m, "replication_configuration", "aws_s3_bucket_replication_configuration", "replication configuration")
}

fn notifications(m: &Module) -> Vec<Hit<'_>> {
    lacking(m, "", "aws_s3_bucket_notification", "aws_s3_bucket_notification")
}

super::simple_rule!(
    OBJECT_CMK,
    "FC_S3_017",
    Low,
    "S3 object uploaded by Terraform is not encrypted with a customer managed key",
    Some("CKV_AWS_186"),
    ["aws_s3_object", "aws_s3_bucket_object"],
    "kms_key_id",
    |r| super::require_set(r, "kms_key_id"),
    "Set kms_key_id = aws_kms_key.data.arn (server_side_encryption = \"aws:kms\").",
);

super::simple_rule!(
    ACLS_ENABLED,
    "FC_S3_018",
    Low,
    "S3 bucket ownership controls keep ACLs enabled",
    Some("CKV2_AWS_65"),
    ["aws_s3_bucket_ownership_controls"],
    "rule",
    |r| super::require_one_of(r, "rule.object_ownership", &["BucketOwnerEnforced"], false),
    "Set rule { object_ownership = \"BucketOwnerEnforced\" } so access is decided by policies alone.",
);

super::simple_rule!(
    ABORT_UPLOADS,
    "FC_S3_019",
    Info,
    "S3 lifecycle configuration never aborts incomplete multipart uploads",
    Some("CKV_AWS_300"),
    ["aws_s3_bucket_lifecycle_configuration"],
    "rule",
    |r| {
        // Unknown parts elsewhere in a rule (a variable number of days) do not hide the answer;
        // an unknown rule list or an abort setting present with an unknown value counts as set.
        let Some(Val::List(rules)) = r.get("rule") else { return None };
        let known = rules.iter().all(|b| matches!(b, Val::Map(_)));
        let aborts = rules.iter().filter_map(|b| b.first_block()).any(|b| !super::setting_in(b, "abort_incomplete_multipart_upload").is_absent());
        (known && !aborts).then(|| "no rule sets abort_incomplete_multipart_upload".into())
    },
    "Add abort_incomplete_multipart_upload { days_after_initiation = 7 } to a rule (unfinished uploads are billed until removed).",
);
