//! The native security scan: a fixed table of AWS rules ([`RULES`]), each a
//! static [`Rule`] (stable id, severity, title, the Checkov check it
//! corresponds to, a fix hint) and a small check function over a
//! [`Module`]. [`scan`] runs them all, applies inline (`# faber:ignore RULE
//! reason`) and configured suppressions, and returns the findings.
//!
//! One file per service family (`s3.rs`, `network.rs`, …); `policy.rs` reads
//! IAM-style policy documents and `secrets.rs` recognises hard-coded secrets
//! for the rules that need them. `plan_refs.rs` restores, for plan input, the
//! references that `terraform show -json` leaves out of `planned_values`.
//!
//! # Unknown values
//!
//! A value may be unknown statically ([`Val::Unknown`]: `each.value`, a
//! variable without default; [`Val::Ref`]: another resource's attribute). The
//! policy, which every rule follows through the [`Setting`] helper:
//!
//! - A rule about a **bad value** (`publicly_accessible = true`, a port open to
//!   `0.0.0.0/0`, `Action = "*"`) fires only when the value is known to be bad.
//!   An unknown value never produces such a finding.
//! - A rule about the **absence of a setting** (no retention, no encryption
//!   block, no public access block) fires when the setting is absent or
//!   explicitly null/empty, and also when it is known to hold the insecure
//!   value (`storage_encrypted = false`). A setting present with an unknown
//!   value counts as set: the finding would claim something we cannot know.
//! - For provider-v4 split resources (`aws_s3_bucket_versioning` …), one whose
//!   target bucket cannot be resolved might belong to any bucket, so no bucket
//!   is reported as lacking that setting.
//!
//! Pure: no I/O. Loading the configuration and running external scanners
//! happen in [`super::run_scan`].

mod actions;
mod apigw;
mod cache;
mod cloudfront;
mod compute;
mod data;
mod dynamodb;
mod ec2;
mod ecr;
mod eks;
mod iam;
mod kms;
mod lambda;
mod lb;
mod logs;
mod messaging;
mod neptune;
mod network;
pub mod plan_refs;
mod policy;
mod rds;
mod redshift;
mod s3;
mod search;
mod secrets;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Finding, Severity, Suppressed};
use crate::tf::{Ignore, Module, Resource, Val};

/// The name findings of this scan carry in `source`.
pub const SOURCE: &str = "faber-cloud";

/// One security rule.
pub struct Rule {
    /// Stable id: `FC_<SERVICE>_<NNN>`. Never reused for another meaning.
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// The Checkov check with the same meaning, if there is one; where ours
    /// differs in detail, the rule's definition says how in a comment.
    pub checkov_id: Option<&'static str>,
    /// How to fix it, in a sentence.
    pub fix: &'static str,
    /// Finds the violations in a module.
    pub check: fn(&Module) -> Vec<Hit<'_>>,
}

/// Where a rule found a violation, before it becomes a [`Finding`].
#[derive(Debug)]
pub struct Hit<'m> {
    pub address: String,
    pub file: &'m str,
    pub line: u32,
    pub ignores: &'m [Ignore],
    pub message: String,
}

/// Every rule, in report order. A new rule is added here and nowhere else.
pub static RULES: &[&Rule] = &[
    &s3::ENCRYPTION,
    &s3::PUBLIC_ACCESS_BLOCK,
    &s3::VERSIONING,
    &s3::ACCESS_LOGGING,
    &s3::PUBLIC_READ_ACL,
    &s3::PUBLIC_WRITE_ACL,
    &s3::POLICY_ANY_PRINCIPAL,
    &s3::KMS_ENCRYPTION,
    &s3::SECURE_TRANSPORT,
    &network::SSH_OPEN,
    &network::RDP_OPEN,
    &network::ALL_PORTS_OPEN,
    &network::DATA_PORTS_OPEN,
    &network::RULE_DESCRIPTION,
    &network::SUBNET_PUBLIC_IP,
    &network::VPC_FLOW_LOGS,
    &network::DEFAULT_SG_OPEN,
    &network::HTTP_OPEN,
    &network::LB_LISTENER_HTTP,
    &rds::INSTANCE_ENCRYPTION,
    &rds::CLUSTER_ENCRYPTION,
    &rds::PUBLIC,
    &rds::BACKUPS,
    &rds::INSTANCE_DELETION_PROTECTION,
    &rds::CLUSTER_DELETION_PROTECTION,
    &rds::IAM_AUTH,
    &rds::HARDCODED_PASSWORD,
    &lambda::TRACING,
    &lambda::DLQ,
    &lambda::CONCURRENCY,
    &lambda::ENV_SECRETS,
    &lambda::URL_AUTH,
    &lambda::ENV_KMS,
    &lambda::PUBLIC_PERMISSION,
    &lambda::DEPRECATED_RUNTIME,
    &iam::ADMIN,
    &iam::STAR_ACTION,
    &iam::SERVICE_WILDCARD,
    &iam::PRIVILEGE_ESCALATION,
    &iam::TRUST_ANY_PRINCIPAL,
    &iam::USER_POLICY,
    &iam::ADMIN_MANAGED_POLICY,
    &iam::NOT_ACTION,
    &iam::ACCESS_KEY,
    &logs::RETENTION,
    &logs::LOG_GROUP_KMS,
    &logs::TRAIL_VALIDATION,
    &logs::TRAIL_KMS,
    &logs::TRAIL_MULTI_REGION,
    &ec2::EBS_ENCRYPTION,
    &ec2::INSTANCE_DISK_ENCRYPTION,
    &ec2::IMDSV2,
    &ec2::PUBLIC_IP,
    &ec2::USER_DATA_SECRETS,
    &ec2::EBS_DEFAULT_ENCRYPTION,
    &kms::ROTATION,
    &kms::WILDCARD_PRINCIPAL,
    &messaging::SQS_ENCRYPTION,
    &messaging::SQS_PUBLIC,
    &messaging::SQS_ALL_ACTIONS,
    &messaging::SNS_ENCRYPTION,
    &messaging::SNS_PUBLIC,
    &dynamodb::PITR,
    &dynamodb::CMK,
    &apigw::ACCESS_LOGGING,
    &apigw::XRAY,
    &apigw::OPEN_METHOD,
    &apigw::DOMAIN_TLS,
    &apigw::CACHE_ENCRYPTION,
    &cloudfront::TLS,
    &cloudfront::VIEWER_HTTPS,
    &cloudfront::LOGGING,
    &cloudfront::WAF,
    &cloudfront::ORIGIN_HTTPS,
    &secrets::PROVIDER_CREDENTIALS,
    &secrets::SECRETS_MANAGER_CMK,
    &eks::PUBLIC_ENDPOINT,
    &eks::PUBLIC_ENDPOINT_ANY_CIDR,
    &eks::SECRETS_ENCRYPTION,
    &eks::CONTROL_PLANE_LOGGING,
    &eks::NODE_GROUP_SSH,
    &ecr::SCAN_ON_PUSH,
    &ecr::MUTABLE_TAGS,
    &ecr::KMS_ENCRYPTION,
    &ecr::PUBLIC_POLICY,
    &search::AT_REST,
    &search::NODE_TO_NODE,
    &search::HTTPS_NOT_ENFORCED,
    &search::TLS_POLICY,
    &search::LOGGING,
    &search::AUDIT_LOGGING,
    &search::OUTSIDE_VPC,
    &neptune::ENCRYPTION,
    &neptune::IAM_AUTH,
    &neptune::AUDIT_LOGS,
    &neptune::BACKUP_RETENTION,
    &neptune::COPY_TAGS,
    &neptune::PUBLIC_INSTANCE,
    &neptune::CMK,
    &redshift::ENCRYPTION,
    &redshift::PUBLIC,
    &redshift::LOGGING,
    &redshift::CMK,
    &redshift::ENHANCED_VPC_ROUTING,
    &redshift::VERSION_UPGRADE,
    &redshift::SNAPSHOTS,
    &redshift::REQUIRE_SSL,
    &lb::CLASSIC_PLAIN_LISTENER,
    &lb::CLASSIC_ACCESS_LOGS,
    &lb::ACCESS_LOGS,
    &lb::INVALID_HEADERS,
    &lb::DESYNC_MONITOR,
    &lb::DELETION_PROTECTION,
    &lb::LISTENER_TLS_POLICY,
    &rds::CLUSTER_IAM_AUTH,
    &rds::CLUSTER_LOG_EXPORTS,
    &rds::CLUSTER_COPY_TAGS,
    &rds::INSTANCE_LOG_EXPORTS,
    &rds::ENHANCED_MONITORING,
    &rds::MULTI_AZ,
    &rds::MINOR_UPGRADES,
    &rds::PERFORMANCE_INSIGHTS,
    &rds::CLUSTER_CMK,
    &rds::INSTANCE_COPY_TAGS,
    &cache::AT_REST,
    &cache::IN_TRANSIT,
    &cache::NO_AUTH,
    &cache::BACKUPS,
    &cache::MEMORYDB_TLS,
    &cache::DAX_AT_REST,
    &cache::DAX_TLS,
    &iam::CREDENTIALS_EXPOSURE,
    &iam::DATA_EXFILTRATION,
    &iam::PERMISSIONS_MANAGEMENT,
    &iam::PASSWORD_MAX_AGE,
    &iam::PASSWORD_LENGTH,
    &iam::PASSWORD_LOWERCASE,
    &iam::PASSWORD_NUMBERS,
    &iam::PASSWORD_REUSE,
    &iam::PASSWORD_SYMBOLS,
    &iam::PASSWORD_UPPERCASE,
    &data::DOCDB_ENCRYPTION,
    &data::DOCDB_LOGS,
    &data::DOCDB_BACKUPS,
    &data::EFS_ENCRYPTION,
    &data::KINESIS_ENCRYPTION,
    &data::FIREHOSE_ENCRYPTION,
    &data::MSK_ENCRYPTION,
    &data::MSK_LOGGING,
    &data::MSK_PUBLIC,
    &data::ATHENA_ENFORCE,
    &data::ATHENA_RESULTS_ENCRYPTION,
    &data::GLUE_CATALOG_ENCRYPTION,
    &compute::ECS_INSIGHTS,
    &compute::ECS_PRIVILEGED,
    &compute::ECS_WRITABLE_ROOT,
    &compute::ECS_PUBLIC_IP,
    &compute::CODEBUILD_ARTIFACTS,
    &compute::CODEBUILD_PRIVILEGED,
    &compute::NOTEBOOK_KMS,
    &compute::NOTEBOOK_INTERNET,
    &compute::NOTEBOOK_ROOT,
    &compute::SFN_LOGGING,
    &compute::SFN_TRACING,
    &s3::LIFECYCLE,
    &s3::REPLICATION,
    &s3::NOTIFICATIONS,
    &s3::PAB_BLOCK_ACLS,
    &s3::PAB_BLOCK_POLICY,
    &s3::PAB_IGNORE_ACLS,
    &s3::PAB_RESTRICT_BUCKETS,
    &network::EGRESS_ALL,
    &lambda::CODE_SIGNING,
    &ec2::DETAILED_MONITORING,
    &ec2::NO_INSTANCE_ROLE,
    &ec2::METADATA_HOP_LIMIT,
    &ec2::EBS_CMK,
    &kms::NO_KEY_POLICY,
    &logs::RETENTION_YEAR,
    &logs::TRAIL_CLOUDWATCH,
    &secrets::SSM_CMK,
    &secrets::SSM_PLAINTEXT_SECRET,
    &secrets::ROTATION,
    &iam::FULL_IAM,
    &iam::IAM_USER,
    &iam::CONSOLE_USER,
    &iam::IAM_FULL_ACCESS_POLICY,
    &s3::OBJECT_CMK,
    &s3::ACLS_ENABLED,
    &s3::ABORT_UPLOADS,
    &lb::NO_WAF,
    &compute::ECS_EFS_TRANSIT,
    &apigw::V2_ROUTE_AUTH,
    &iam::WRITE_WITHOUT_CONSTRAINTS,
    &apigw::REQUEST_VALIDATION,
];

pub use crate::config::{ConfigSuppression, ScanOptions};

/// What a scan found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScanResult {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub rules_run: usize,
}

/// Runs every rule over the module.
pub fn scan(module: &Module, opts: &ScanOptions) -> ScanResult {
    module.forget_links();
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    let mut seen = BTreeSet::new();
    let timing = tracing::enabled!(tracing::Level::DEBUG);
    let mut slowest: Vec<(std::time::Duration, &str)> = Vec::new();
    // Rules are independent: on a large tree they run on several threads, in table order.
    let per_thread = if module.resources.len() > 2_000 { 16 } else { usize::MAX };
    let results = crate::tf::par_map(RULES, per_thread, |rule| {
        let started = std::time::Instant::now();
        ((rule.check)(module), started.elapsed())
    });
    for (rule, (hits, took)) in RULES.iter().zip(results) {
        if timing {
            slowest.push((took, rule.id));
        }
        for hit in hits {
            if !seen.insert((rule.id, hit.address.clone())) {
                continue;
            }
            let inline = hit
                .ignores
                .iter()
                .find(|i| i.rule.eq_ignore_ascii_case(rule.id) || rule.checkov_id.is_some_and(|c| i.rule.eq_ignore_ascii_case(c)))
                .map(|i| ("inline", i.reason.clone()));
            let finding = finding(rule, hit);
            match inline.or_else(|| config_suppression(&finding, &opts.suppress).map(|s| ("config", s.reason.clone()))) {
                Some((by, reason)) => suppressed.push(Suppressed { finding, by: by.to_string(), reason }),
                None => findings.push(finding),
            }
        }
    }
    if timing {
        slowest.sort_unstable_by(|a, b| b.cmp(a));
        let top: Vec<String> = slowest.iter().take(8).map(|(d, id)| format!("{id} {} ms", d.as_millis())).collect();
        let total: std::time::Duration = slowest.iter().map(|(d, _)| *d).sum();
        tracing::debug!(total_ms = total.as_millis() as u64, slowest = %top.join(", "), "rule times");
    }
    sort(&mut findings);
    ScanResult { findings, suppressed, rules_run: RULES.len() }
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id.eq_ignore_ascii_case(id))
}

/// Applies inline and configured suppressions to findings from another tool:
/// an inline `# faber:ignore <their id>` on the resource, or a configured one.
pub fn suppress_external(module: &Module, opts: &ScanOptions, findings: Vec<Finding>) -> (Vec<Finding>, Vec<Suppressed>) {
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    for f in findings {
        let inline = module.resources.iter().find(|r| r.address == f.resource).and_then(|r| r.ignored(&f.rule_id)).map(|i| ("inline", i.reason.clone()));
        match inline.or_else(|| config_suppression(&f, &opts.suppress).map(|s| ("config", s.reason.clone()))) {
            Some((by, reason)) => suppressed.push(Suppressed { finding: f, by: by.to_string(), reason }),
            None => kept.push(f),
        }
    }
    (kept, suppressed)
}

/// Most severe first, then by place.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.file.cmp(&b.file))
            .then(a.line.cmp(&b.line))
            .then_with(|| a.rule_id.cmp(&b.rule_id))
            .then_with(|| a.resource.cmp(&b.resource))
    });
}

fn finding(rule: &Rule, hit: Hit<'_>) -> Finding {
    Finding {
        rule_id: rule.id.to_string(),
        severity: rule.severity,
        title: rule.title.to_string(),
        checkov_id: rule.checkov_id.map(str::to_string),
        resource: hit.address,
        file: hit.file.to_string(),
        line: hit.line,
        message: hit.message,
        fix: rule.fix.to_string(),
        source: SOURCE.to_string(),
    }
}

fn config_suppression<'a>(f: &Finding, list: &'a [ConfigSuppression]) -> Option<&'a ConfigSuppression> {
    list.iter().find(|s| {
        let rule = s.rule.trim();
        let rule_ok = rule == "*" || rule.eq_ignore_ascii_case(&f.rule_id) || f.checkov_id.as_deref().is_some_and(|c| rule.eq_ignore_ascii_case(c));
        rule_ok && s.resource.as_deref().is_none_or(|p| address_matches(p.trim(), &f.resource))
    })
}

/// `prefix` equals the address or is a prefix ending at a `.` or `[` boundary.
fn address_matches(prefix: &str, address: &str) -> bool {
    if prefix.is_empty() {
        return false;
    }
    match address.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => prefix.ends_with('.') || rest.starts_with('.') || rest.starts_with('['),
        None => false,
    }
}

// ---------------------------------------------------------------------------
// Helpers shared by the rule files.

/// An attribute as a rule sees it (see the module doc for the policy).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Setting<'a> {
    /// Not written, null, `""` or an empty block list.
    Absent,
    /// Written, but its value is not known statically.
    Unknown,
    Known(&'a Val),
}

impl<'a> Setting<'a> {
    pub(crate) fn is_absent(self) -> bool {
        matches!(self, Setting::Absent)
    }

    pub(crate) fn as_bool(self) -> Option<bool> {
        match self {
            Setting::Known(v) => v.as_bool(),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> Option<&'a str> {
        match self {
            Setting::Known(v) => v.as_str(),
            _ => None,
        }
    }

    pub(crate) fn as_num(self) -> Option<f64> {
        match self {
            Setting::Known(v) => v.as_num(),
            _ => None,
        }
    }

    /// A string attribute's value, numbers and bools converted as Terraform does ([`Val::as_text`]).
    pub(crate) fn as_text(self) -> Option<std::borrow::Cow<'a, str>> {
        match self {
            Setting::Known(v) => v.as_text(),
            _ => None,
        }
    }

    /// Absent, or known to be `false`: how a required flag fails.
    pub(crate) fn absent_or_false(self) -> bool {
        self.is_absent() || self.as_bool() == Some(false)
    }
}

/// The attribute at a dotted path, through maps and (first) nested blocks.
pub(crate) fn setting<'a>(r: &'a Resource, path: &str) -> Setting<'a> {
    setting_in(&r.attrs, path)
}

/// [`setting`] inside one block's map.
pub(crate) fn setting_in<'a>(map: &'a BTreeMap<String, Val>, path: &str) -> Setting<'a> {
    let mut parts = path.split('.');
    let Some(first) = parts.next() else { return Setting::Absent };
    let Some(mut current) = map.get(first) else { return Setting::Absent };
    for part in parts {
        let block = match current {
            Val::Ref(_) | Val::Unknown(_) => return Setting::Unknown,
            Val::Map(m) => m,
            Val::List(items) => match items.first() {
                None => return Setting::Absent,
                Some(Val::Map(m)) => m,
                Some(Val::Ref(_) | Val::Unknown(_)) => return Setting::Unknown,
                Some(_) => return Setting::Absent,
            },
            _ => return Setting::Absent,
        };
        match block.get(part) {
            Some(v) => current = v,
            None => return Setting::Absent,
        }
    }
    classify(current)
}

fn classify(v: &Val) -> Setting<'_> {
    match v {
        Val::Null => Setting::Absent,
        Val::Str(s) if s.is_empty() => Setting::Absent,
        Val::List(items) if items.is_empty() => Setting::Absent,
        Val::Ref(_) | Val::Unknown(_) => Setting::Unknown,
        _ => Setting::Known(v),
    }
}

/// A finding at a resource's attribute (its line), or at the block when `attr` is "".
pub(crate) fn hit<'m>(r: &'m Resource, attr: &str, message: impl Into<String>) -> Hit<'m> {
    let top = attr.split('.').next().unwrap_or("");
    let line = if top.is_empty() { r.line } else { r.line_of(top) };
    Hit { address: r.address.clone(), file: &r.file, line, ignores: &r.ignores, message: message.into() }
}

/// Hits for every resource of `kinds` where `test` returns a message.
pub(crate) fn each<'m>(m: &'m Module, kinds: &[&str], attr: &str, test: impl Fn(&'m Resource) -> Option<String>) -> Vec<Hit<'m>> {
    m.of_kinds(kinds).filter_map(|r| test(r).map(|msg| hit(r, attr, msg))).collect()
}

/// Message for a flag that must be `true` and defaults to `false`.
pub(crate) fn require_true(r: &Resource, path: &str) -> Option<String> {
    match setting(r, path) {
        Setting::Absent => Some(format!("{path} is not set (the default is false)")),
        s if s.as_bool() == Some(false) => Some(format!("{path} = false")),
        _ => None,
    }
}

/// Message for a setting that must be present.
pub(crate) fn require_set(r: &Resource, path: &str) -> Option<String> {
    setting(r, path).is_absent().then(|| format!("{path} is not set"))
}

/// Message for a flag with an AWS default: fails when the effective value
/// (`default` when absent) is not `want`; an unknown value passes.
pub(crate) fn require_flag(r: &Resource, path: &str, want: bool, default: bool) -> Option<String> {
    match setting(r, path) {
        Setting::Absent => (default != want).then(|| format!("{path} is not set (the default is {default})")),
        s => match s.as_bool() {
            Some(v) if v != want => Some(format!("{path} = {v}")),
            _ => None,
        },
    }
}

/// Message for a list setting that must include every one of `wanted`; absent fails, an
/// unknown value passes.
pub(crate) fn require_listed(r: &Resource, path: &str, wanted: &[&str]) -> Option<String> {
    match setting(r, path) {
        Setting::Absent => Some(format!("{path} is not set (expected {})", wanted.join(", "))),
        Setting::Known(v) => {
            let on = strings(Some(v));
            let missing: Vec<&str> = wanted.iter().copied().filter(|w| !on.contains(w)).collect();
            (!missing.is_empty()).then(|| format!("{path} lacks {}", missing.join(", ")))
        }
        Setting::Unknown => None,
    }
}

/// Message for a string setting that must be one of `ok` (compared without
/// case); absent fails unless `absent_ok`. An unknown value passes.
pub(crate) fn require_one_of(r: &Resource, path: &str, ok: &[&str], absent_ok: bool) -> Option<String> {
    match setting(r, path) {
        Setting::Absent => (!absent_ok).then(|| format!("{path} is not set (expected {})", ok.join(" or "))),
        s => match s.as_text() {
            Some(v) if !ok.iter().any(|o| o.eq_ignore_ascii_case(&v)) => Some(format!("{path} = \"{v}\" (expected {})", ok.join(" or "))),
            _ => None,
        },
    }
}

/// Message for a setting known to hold one of the `bad` values (compared
/// without case, numbers and bools as text); absent and unknown pass.
pub(crate) fn forbid_value(r: &Resource, path: &str, bad: &[&str]) -> Option<String> {
    let v = setting(r, path).as_text()?;
    bad.iter().any(|b| b.eq_ignore_ascii_case(&v)).then(|| format!("{path} = {v}"))
}

/// Message for a number that must be at least `min`; absent counts as `default`.
pub(crate) fn require_at_least(r: &Resource, path: &str, min: f64, default: f64) -> Option<String> {
    match setting(r, path) {
        Setting::Absent => (default < min).then(|| format!("{path} is not set (the default is {default}; at least {min} is expected)")),
        s => match s.as_num() {
            Some(v) if v < min => Some(format!("{path} = {v} (at least {min} is expected)")),
            _ => None,
        },
    }
}

/// Declares a [`Rule`] whose check is one test per resource of some kinds
/// (through [`each`]): `simple_rule!(NAME, "FC_X_001", High, "title",
/// Some("CKV_AWS_1"), ["aws_kind"], "attr", |r| test(r), "fix.")`.
/// `attr` is the attribute whose line the finding points at ("" for the block).
macro_rules! simple_rule {
    ($name:ident, $id:literal, $sev:ident, $title:literal, $ckv:expr, [$($kind:literal),+ $(,)?], $attr:literal, $test:expr, $fix:literal $(,)?) => {
        pub static $name: $crate::scan::security::Rule = $crate::scan::security::Rule {
            id: $id,
            severity: $crate::scan::Severity::$sev,
            title: $title,
            checkov_id: $ckv,
            fix: $fix,
            check: {
                fn check(m: &$crate::tf::Module) -> Vec<$crate::scan::security::Hit<'_>> {
                    $crate::scan::security::each(m, &[$($kind),+], $attr, $test)
                }
                check
            },
        };
    };
}
pub(crate) use simple_rule;

/// Whether a resource came from plan JSON (which has no line numbers): plan
/// values are fully resolved, so "written literally in the code" is not knowable.
pub(crate) fn from_plan(r: &Resource) -> bool {
    r.line == 0
}

/// An address without instance keys: `module.a["x"].aws_s3_bucket.b[0]` → `module.a.aws_s3_bucket.b`.
pub(crate) fn strip_index(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    let mut quoted = false;
    for c in address.chars() {
        match (c, depth, quoted) {
            ('"', d, q) if d > 0 => quoted = !q,
            ('[', _, false) => depth += 1,
            (']', d, false) if d > 0 => depth -= 1,
            (c, 0, _) => out.push(c),
            _ => {}
        }
    }
    out
}

/// Resources of `kind` attached to `target` through their attribute `key`.
pub(crate) struct Links<'m> {
    pub found: Vec<&'m Resource>,
    /// Some resource of `kind` points at a target we cannot resolve: it may be this one.
    pub unresolved: bool,
}

impl Links<'_> {
    /// Nothing is attached, and nothing unresolved might be.
    pub(crate) fn none(&self) -> bool {
        self.found.is_empty() && !self.unresolved
    }
}

/// Finds the split resources (`aws_s3_bucket_versioning.bucket`) or related
/// ones (`aws_flow_log.vpc_id`) pointing at `target`: by reference (HCL, and
/// plan JSON after [`plan_refs`]) or by an equal known value of one of the
/// target's `ids` (`bucket`, `id`: plan JSON of existing resources, literal names).
pub(crate) fn links<'m>(m: &'m Module, kind: &str, key: &str, target: &Resource, ids: &[&str]) -> Links<'m> {
    let index = m.link_index(kind, key, strip_index);
    let target_ids: Vec<&str> = ids.iter().filter_map(|k| target.get(k).and_then(Val::as_str)).filter(|s| !s.is_empty()).collect();
    let mut found: Vec<usize> = index.by_ref.get(&strip_index(&target.address)).cloned().unwrap_or_default();
    for id in &target_ids {
        found.extend(index.by_str.get(*id).into_iter().flatten());
        if id.contains(':') {
            let suffix = format!(":{id}");
            found.extend(index.strings.iter().filter(|(s, _)| s.ends_with(&suffix)).map(|(_, i)| *i));
        } else {
            found.extend(index.by_suffix.get(*id).into_iter().flatten());
        }
    }
    found.sort_unstable();
    found.dedup();
    // A literal that could name this target, whose name is not known.
    let unresolved = index.unresolved || (target_ids.is_empty() && !index.strings.is_empty());
    Links { found: found.into_iter().map(|i| &m.resources[i]).collect(), unresolved }
}

/// Known strings of a list (or of a single string); unknown items are skipped.
pub(crate) fn strings(v: Option<&Val>) -> Vec<&str> {
    match v {
        Some(Val::Str(s)) => vec![s.as_str()],
        Some(Val::List(items)) => items.iter().filter_map(Val::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
