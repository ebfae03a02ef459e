//! audit: what is deployed in one environment, judged on three counts.
//!
//! - **security**: the live configuration read from AWS ([`crate::cloud::posture`]),
//!   written over the Terraform state ([`overlay`]) and judged by the scanner's own
//!   rules, beside the same rules on the state itself; what differs between live and
//!   state is drift, each difference named; account-level checks (access keys,
//!   CloudTrail) come on top.
//! - **compliance**: naming and required tags on the live resources, and the
//!   logging, encryption, backup and least-privilege findings of the above, each
//!   with its AWS Foundational Security Best Practices / CIS control.
//! - **cost**: Cost Explorer's actual spend by month and service for the
//!   environment's tags, the trend and forecast, the offline estimate of what is
//!   deployed beside it, and savings found in the live configuration ([`spend`]).
//!
//! Every audit writes `logs/infrastructure/audits/{env}/{ts}-audit.json` (the
//! user guide's path) and says what is new, fixed and unchanged since the last
//! one. Reads only.

pub mod controls;
pub mod overlay;
pub mod spend;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cloud::Cloud;
use crate::cloud::posture::{self, Wanted};
use crate::config::Config;
use crate::error::Error;
use crate::iac::terraform::{self, Terraform};
use crate::infra::{registry, validate};
use crate::progress;
use crate::scan::{self, Finding, Severity, SeverityCounts};
use crate::vocabulary::{AuditFocus, Report};
use crate::workspace::Workspace;
use overlay::{kind, s};

/// Findings shown in the reply (the file has all of them).
const SHOWN: usize = 12;
/// How long an audit waits for the environment's Terraform lock.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// Access keys older than this are a finding (CIS 1.14).
const KEY_MAX_AGE_DAYS: i64 = 90;

/// One finding of an audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditFinding {
    /// The rule (`FC_S3_002`, `FC_TAG_001`, `FC_DRIFT_001`, …).
    pub id: String,
    /// `security`, `compliance` or `cost`.
    pub focus: String,
    pub severity: Severity,
    pub title: String,
    /// The resource's Terraform address, or `account` for account-wide checks.
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// What was seen.
    pub evidence: String,
    /// The Terraform change when Terraform manages the resource; otherwise the console or CLI step.
    pub fix: String,
    /// AWS Foundational Security Best Practices and CIS AWS Foundations controls of the same meaning.
    #[serde(default)]
    pub controls: Vec<String>,
    /// The compliance area (logging, encryption, backups, least privilege, naming, tags), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// `live` (AWS now), `state` (the Terraform state only), `live+state`, or `drift`.
    pub source: String,
    /// `new`, `unchanged` (since the last audit), or `first` when there was none.
    #[serde(default)]
    pub change: String,
}

impl AuditFinding {
    fn key(&self) -> String {
        format!("{}|{}", self.id, self.resource)
    }
}

/// What changed since the previous audit of the environment.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Comparison {
    pub previous: String,
    pub new: usize,
    pub unchanged: usize,
    /// `rule resource` of each finding of the previous audit that is gone.
    pub fixed: Vec<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AuditReport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub env: String,
    pub timestamp: String,
    pub focus: Vec<String>,
    /// Resources in the Terraform state.
    pub resources: usize,
    /// Per focus, 0–100: the mean over the audited resources of 100 less 25 per critical, 10 per high,
    /// 4 per medium and 1 per low finding (floored at 0); account-wide findings weigh on every resource.
    #[schemars(with = "serde_json::Value")]
    pub scores: BTreeMap<String, u32>,
    #[schemars(with = "serde_json::Value")]
    pub counts: SeverityCounts,
    pub findings_total: usize,
    /// The most severe findings (new ones first); the report file has all.
    #[schemars(with = "Vec<serde_json::Value>")]
    pub findings: Vec<AuditFinding>,
    /// Live configuration that differs from the Terraform state.
    #[schemars(with = "Vec<serde_json::Value>")]
    pub drift: Vec<overlay::Drift>,
    /// Findings of the scanner on the deployed state, and how many the live audit also found.
    pub state_findings: usize,
    #[schemars(with = "Option<serde_json::Value>")]
    pub agreement: Option<Agreement>,
    /// Findings of the scanner on the state that AWS does not show now (not scored).
    #[schemars(with = "Vec<serde_json::Value>")]
    pub state_only: Vec<AuditFinding>,
    /// The cost audit: months by service, drivers, forecast, estimate beside actual, savings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Value>")]
    pub cost: Option<spend::CostAudit>,
    /// New, fixed and unchanged findings since the previous audit of the same focus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Value>")]
    pub since_last: Option<Comparison>,
    pub notes: Vec<String>,
    pub aws_calls: u32,
    pub wall_ms: u128,
    pub report_path: PathBuf,
    #[serde(skip)]
    all: Vec<AuditFinding>,
}

/// How far the live audit and the scanner on the state agree.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Agreement {
    pub both: usize,
    pub live_only: usize,
    pub state_only: usize,
}

fn focuses(focus: Option<AuditFocus>) -> Vec<AuditFocus> {
    match focus {
        None | Some(AuditFocus::All) => vec![AuditFocus::Cost, AuditFocus::Security, AuditFocus::Compliance],
        Some(f) => vec![f],
    }
}

const STEPS: u32 = 4;

pub async fn run(ws: &Workspace, config: &Config, env: &str, focus: Option<AuditFocus>) -> Result<AuditReport, Error> {
    let started = Instant::now();
    let now = Utc::now();
    let focus = focuses(focus);
    let wants = |f: AuditFocus| focus.contains(&f);
    let cloud = Cloud::connect(config, env).await;
    let caller = cloud.checked_caller(config).await?;
    let mut calls = 1;
    progress::step(1, STEPS, &format!("reading the Terraform state of {env}"));
    let mut notes = Vec::new();
    let state = deployed_state(ws, config, env, &mut notes).await?;
    // Every managed resource, child modules included.
    let resources: Vec<Value> = crate::infra::resources::managed_entries(&state).into_iter().cloned().collect();
    let report_path = ws.project_dir().join(format!("logs/infrastructure/audits/{env}/{}-audit.json", now.format("%Y%m%dT%H%M%SZ")));
    let env_tags = vec![("Project".to_string(), config.project.name.clone()), ("Environment".to_string(), env.to_string())];

    let mut all: Vec<AuditFinding> = Vec::new();
    let mut drift = Vec::new();
    let mut agreement = None;
    let mut state_count = 0;
    let mut state_only = Vec::new();
    if resources.is_empty() {
        notes.push(format!("nothing is deployed in {env}: the Terraform state holds no resources (deploy first, then audit)"));
    }
    let mut live = posture::Live::default();
    // Every focus reads it: security and compliance judge it, cost looks for savings in it.
    if !resources.is_empty() {
        progress::step(2, STEPS, &format!("reading the live configuration of {} resource(s)", resources.len()));
        live = posture::read(&cloud, &wanted(&resources)).await;
        calls += live.calls;
        notes.extend(live.notes.iter().cloned());
    }
    if !resources.is_empty() && (wants(AuditFocus::Security) || wants(AuditFocus::Compliance)) {
        progress::step(3, STEPS, "judging live and state with the scanner's rules");
        let o = overlay::overlay(&resources, &live, &env_tags);
        let state_module = module(&resources);
        let live_module = module(&o.resources);
        let opts = scan::security::ScanOptions::default();
        let in_state = scan::security::scan(&state_module, &opts).findings;
        let in_live = scan::security::scan(&live_module, &opts).findings;
        let (mut merged, apart) = merge(&in_live, &in_state, &o.resources, &resources);
        state_only = apart;
        state_count = in_state.len();
        let live_keys: BTreeSet<(String, String)> = in_live.iter().map(|f| (f.rule_id.clone(), f.resource.clone())).collect();
        let state_keys: BTreeSet<(String, String)> = in_state.iter().map(|f| (f.rule_id.clone(), f.resource.clone())).collect();
        agreement = Some(Agreement {
            both: live_keys.intersection(&state_keys).count(),
            live_only: live_keys.difference(&state_keys).count(),
            state_only: state_keys.difference(&live_keys).count(),
        });
        // Compliance: naming and tags on the live resources.
        for f in scan::compliance::check(&live_module, config, env) {
            merged.push(from_scan(&f, "live", arn_of(&o.resources, &f.resource)));
        }
        merged.extend(account_findings(&live, now));
        merged.extend(drift_findings(&o.drift, &resources, env));
        for address in &o.unmanaged {
            merged.push(AuditFinding {
                id: "FC_AUDIT_003".into(),
                focus: "security".into(),
                severity: Severity::Low,
                title: "Resource carries the environment's tags but Terraform does not manage it".into(),
                resource: address.clone(),
                arn: arn_of(&o.resources, address),
                evidence: format!("tagged Project={}, Environment={env}, and not in the Terraform state", config.project.name),
                fix: "Import it into the Terraform configuration (terraform import) or delete it if nothing uses it".into(),
                controls: Vec::new(),
                area: None,
                source: "live".into(),
                change: String::new(),
            });
        }
        drift = o.drift;
        for f in merged {
            let f = controls::classify(f);
            let keep = focus.iter().any(|x| controls::answers(&f, x.as_str()));
            if keep {
                all.push(f);
            }
        }
    }
    let mut cost = None;
    if wants(AuditFocus::Cost) {
        progress::step(3, STEPS, "reading the spend from Cost Explorer");
        let c = spend::run(&cloud, config, env, &resources, &mut live, &env_tags, now).await;
        calls += c.calls;
        all.extend(c.findings.iter().cloned());
        cost = Some(c);
    }
    progress::step(4, STEPS, "comparing with the previous audit and writing the report");
    severity_sort(&mut all);
    let focus_names: Vec<String> = focus.iter().map(|f| f.as_str().to_string()).collect();
    let since_last = compare(&report_path, &mut all, &focus_names);
    let scores = focus.iter().map(|f| (f.as_str().to_string(), score(&all, f.as_str(), resources.len()))).collect();
    let counts = SeverityCounts::of(all.iter().map(as_scan).collect::<Vec<_>>().iter());
    let report = AuditReport {
        identity: Some(caller.arn),
        env: env.into(),
        timestamp: now.to_rfc3339(),
        focus: focus.iter().map(|f| f.as_str().to_string()).collect(),
        resources: resources.len(),
        scores,
        counts,
        findings_total: all.len(),
        findings: shown(&all),
        drift,
        state_findings: state_count,
        agreement,
        state_only,
        cost,
        since_last,
        notes,
        aws_calls: calls,
        wall_ms: started.elapsed().as_millis(),
        report_path: report_path.clone(),
        all,
    };
    let mut file = serde_json::to_value(&report).map_err(|e| Error::Failed(e.to_string()))?;
    file["findings"] = serde_json::to_value(&report.all).map_err(|e| Error::Failed(e.to_string()))?;
    ws.write_json(&report_path, &file)?;
    Ok(report)
}

/// The state Terraform holds for `env` (`terraform state pull`), or nothing (`Value::Null`) when there is no
/// Terraform directory, or nothing was deployed from here and the state cannot be read (no state bucket yet).
/// A state deployed from another machine is read as well: its backend is in the configuration.
async fn deployed_state(ws: &Workspace, config: &Config, env: &str, notes: &mut Vec<String>) -> Result<Value, Error> {
    let Ok(dir) = validate::directory(ws.project_dir(), config) else {
        return Ok(Value::Null);
    };
    let deployed_here = registry::load(ws, env)?.is_some();
    let tf = Terraform::for_env(config, &dir, env);
    let _lock = wait_for_lock(ws, env).await?;
    let read = async {
        tf.init_env(env).await?;
        tf.state().await
    };
    match read.await {
        Ok(state) => Ok(state),
        Err(e) if !deployed_here => {
            notes.push(format!("no Terraform state could be read for {env} ({})", e.to_string().chars().take(200).collect::<String>()));
            Ok(Value::Null)
        }
        Err(e) => Err(e),
    }
}

/// The environment's Terraform lock, waiting up to half a minute: another audit or a preview holds it for
/// seconds; a deploy longer, and then the reply names it.
async fn wait_for_lock(ws: &Workspace, env: &str) -> Result<crate::workspace::FileLock, Error> {
    let started = Instant::now();
    loop {
        match terraform::lock(ws, env) {
            Err(Error::Busy { .. }) if started.elapsed() < LOCK_WAIT => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
            other => return other,
        }
    }
}

/// What to read live: the names and ARNs in the state.
fn wanted(resources: &[Value]) -> Wanted {
    let mut w = Wanted::default();
    for r in resources {
        match kind(r) {
            "aws_s3_bucket" => w.buckets.push(s(r, "bucket").into()),
            "aws_lambda_function" => w.functions.push(s(r, "function_name").into()),
            "aws_dynamodb_table" => w.tables.push(s(r, "name").into()),
            "aws_kms_key" => w.kms_keys.push(s(r, "key_id").into()),
            _ => {}
        }
        let arn = s(r, "arn");
        if arn.starts_with("arn:") && !w.arns.iter().any(|a| a == arn) {
            w.arns.push(arn.into());
        }
    }
    w
}

fn module(resources: &[Value]) -> crate::tf::Module {
    crate::tf::load_state_value(&serde_json::json!({"values": {"root_module": {"resources": resources}}}), "terraform.tfstate")
}

fn arn_of(resources: &[Value], address: &str) -> Option<String> {
    resources.iter().find(|r| r.get("address").and_then(Value::as_str) == Some(address)).map(|r| s(r, "arn").to_string()).filter(|a| !a.is_empty())
}

fn from_scan(f: &Finding, source: &str, arn: Option<String>) -> AuditFinding {
    AuditFinding {
        id: f.rule_id.clone(),
        focus: String::new(),
        severity: f.severity,
        title: f.title.clone(),
        resource: f.resource.clone(),
        arn,
        evidence: f.message.clone(),
        fix: f.fix.clone(),
        controls: Vec::new(),
        area: None,
        source: source.into(),
        change: String::new(),
    }
}

/// Live and state findings as one list, a finding both have once (marked `live+state`); and apart, the findings
/// only the state has (AWS differs now: fixed by hand, or the state is older than AWS), which are not scored.
fn merge(live: &[Finding], state: &[Finding], live_resources: &[Value], state_resources: &[Value]) -> (Vec<AuditFinding>, Vec<AuditFinding>) {
    let in_state: BTreeSet<(&str, &str)> = state.iter().map(|f| (f.rule_id.as_str(), f.resource.as_str())).collect();
    let in_live: BTreeSet<(&str, &str)> = live.iter().map(|f| (f.rule_id.as_str(), f.resource.as_str())).collect();
    let out: Vec<AuditFinding> = live
        .iter()
        .map(|f| {
            let both = in_state.contains(&(f.rule_id.as_str(), f.resource.as_str()));
            let mut a = from_scan(f, if both { "live+state" } else { "live" }, arn_of(live_resources, &f.resource));
            if !both && state_resources.iter().any(|r| r.get("address").and_then(Value::as_str) == Some(f.resource.as_str())) {
                a.evidence = format!("{} (changed outside Terraform: the state does not have it)", a.evidence);
            }
            a
        })
        .collect();
    let state_only = state
        .iter()
        .filter(|f| !in_live.contains(&(f.rule_id.as_str(), f.resource.as_str())))
        .map(|f| {
            let mut a = from_scan(f, "state", arn_of(state_resources, &f.resource));
            a.evidence = format!("{} (in the Terraform state as of its last refresh; not so in AWS now)", a.evidence);
            controls::classify(a)
        })
        .collect();
    (out, state_only)
}

/// Account-wide checks: old access keys, CloudTrail.
fn account_findings(live: &posture::Live, now: chrono::DateTime<Utc>) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    for k in &live.access_keys {
        let Ok(rotated) = chrono::DateTime::parse_from_rfc3339(&k.last_rotated) else { continue };
        let age = (now - rotated.with_timezone(&Utc)).num_days();
        if age > KEY_MAX_AGE_DAYS {
            out.push(AuditFinding {
                id: "FC_AUDIT_001".into(),
                focus: "security".into(),
                severity: Severity::High,
                title: format!("IAM access key older than {KEY_MAX_AGE_DAYS} days"),
                resource: format!("iam user {}", k.user),
                arn: Some(k.user_arn.clone()),
                evidence: format!("access key {} of {} was last rotated {age} days ago ({})", k.slot, k.user, k.last_rotated),
                fix: format!(
                    "Create a new key, move its users to it, then deactivate and delete the old one (aws iam create-access-key --user-name {0}; aws iam update-access-key --user-name {0} --access-key-id <old> --status Inactive)",
                    k.user
                ),
                controls: Vec::new(),
                area: None,
                source: "live".into(),
                change: String::new(),
            });
        }
    }
    let read_trails = !live.notes.iter().any(|n| n.contains("DescribeTrails"));
    if read_trails && !live.trails.iter().any(|t| t.logging != Some(false)) {
        out.push(AuditFinding {
            id: "FC_AUDIT_002".into(),
            focus: "security".into(),
            severity: Severity::High,
            title: "No CloudTrail trail is logging in this region".into(),
            resource: "account".into(),
            arn: None,
            evidence: if live.trails.is_empty() { "DescribeTrails lists no trail".into() } else { format!("{} trail(s), none logging", live.trails.len()) },
            area: None,
            fix: "Create a multi-region trail with log file validation and KMS encryption (aws_cloudtrail with is_multi_region_trail = true, enable_log_file_validation = true, kms_key_id), or turn logging on (aws cloudtrail start-logging --name <trail>)".into(),
            controls: Vec::new(),
            source: "live".into(),
            change: String::new(),
        });
    }
    out
}

/// One finding per resource that drifted, naming each difference.
fn drift_findings(drift: &[overlay::Drift], state: &[Value], env: &str) -> Vec<AuditFinding> {
    let mut by: BTreeMap<&str, Vec<&overlay::Drift>> = BTreeMap::new();
    for d in drift {
        by.entry(d.resource.as_str()).or_default().push(d);
    }
    by.into_iter()
        .map(|(resource, ds)| {
            let said: Vec<String> = ds.iter().map(|d| format!("{}: {} → {}", d.attribute, d.in_state, d.live)).collect();
            AuditFinding {
                id: "FC_DRIFT_001".into(),
                focus: "security".into(),
                severity: Severity::Medium,
                title: "Changed outside Terraform (drift)".into(),
                resource: resource.into(),
                arn: arn_of(state, resource),
                evidence: said.join("; "),
                fix: format!(
                    "Deploy to put the Terraform configuration back (faber-cloud infra deploy --env {env}), or write the change into the .tf files if it should stay"
                ),
                controls: Vec::new(),
                area: None,
                source: "drift".into(),
                change: String::new(),
            }
        })
        .collect()
}

fn severity_sort(all: &mut [AuditFinding]) {
    all.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)).then(a.resource.cmp(&b.resource)));
}

fn as_scan(f: &AuditFinding) -> Finding {
    Finding {
        rule_id: f.id.clone(),
        severity: f.severity,
        title: f.title.clone(),
        checkov_id: None,
        resource: f.resource.clone(),
        file: String::new(),
        line: 0,
        message: f.evidence.clone(),
        fix: f.fix.clone(),
        source: f.source.clone(),
    }
}

fn weight(s: Severity) -> u32 {
    match s {
        Severity::Critical => 25,
        Severity::High => 10,
        Severity::Medium => 4,
        Severity::Low => 1,
        Severity::Info => 0,
    }
}

/// 0–100 for one focus (see [`AuditReport::scores`]).
fn score(all: &[AuditFinding], focus: &str, resources: usize) -> u32 {
    let mine: Vec<&AuditFinding> = all.iter().filter(|f| controls::answers(f, focus)).collect();
    let account: u32 = mine.iter().filter(|f| f.resource == "account" || f.resource.starts_with("iam user")).map(|f| weight(f.severity)).sum();
    let mut per: BTreeMap<&str, u32> = BTreeMap::new();
    for f in mine.iter().filter(|f| f.resource != "account" && !f.resource.starts_with("iam user")) {
        *per.entry(f.resource.as_str()).or_default() += weight(f.severity);
    }
    let n = resources.max(per.len()).max(1) as u32;
    let lost: u32 = per.values().map(|w| (*w + account).min(100)).sum::<u32>() + (n - per.len() as u32) * account.min(100);
    100 - lost / n
}

fn shown(all: &[AuditFinding]) -> Vec<AuditFinding> {
    let mut v: Vec<AuditFinding> = all.iter().filter(|f| f.change == "new").take(SHOWN).cloned().collect();
    for f in all {
        if v.len() >= SHOWN {
            break;
        }
        if !v.iter().any(|x| x.key() == f.key()) {
            v.push(f.clone());
        }
    }
    severity_sort(&mut v);
    v
}

/// Marks each finding new or unchanged against the latest earlier audit in the same directory.
fn compare(path: &Path, all: &mut [AuditFinding], focus: &[String]) -> Option<Comparison> {
    let dir = path.parent()?;
    let mut earlier: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.to_string_lossy().ends_with("-audit.json") && p.as_path() != path).collect())
        .unwrap_or_default();
    earlier.sort();
    // The latest earlier audit that looked at everything this one looks at.
    let covers = |doc: &Value| {
        let had: Vec<&str> = doc.get("focus").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        focus.iter().all(|f| had.contains(&f.as_str()))
    };
    let found = earlier.iter().rev().find_map(|p| {
        let doc: Value = std::fs::read(p).ok().and_then(|b| serde_json::from_slice(&b).ok())?;
        covers(&doc).then_some((p, doc))
    });
    let Some((previous, doc)) = found else {
        for f in all.iter_mut() {
            f.change = "first".into();
        }
        return None;
    };
    let before: Vec<AuditFinding> =
        doc.get("findings").and_then(Value::as_array).into_iter().flatten().filter_map(|f| serde_json::from_value::<AuditFinding>(f.clone()).ok()).collect();
    let before_keys: BTreeSet<String> = before.iter().map(AuditFinding::key).collect();
    let now_keys: BTreeSet<String> = all.iter().map(AuditFinding::key).collect();
    let (mut new, mut unchanged) = (0, 0);
    for f in all.iter_mut() {
        if before_keys.contains(&f.key()) {
            f.change = "unchanged".into();
            unchanged += 1;
        } else {
            f.change = "new".into();
            new += 1;
        }
    }
    let fixed = before
        .iter()
        .filter(|f| !now_keys.contains(&f.key()) && focus.iter().any(|x| controls::answers(f, x)))
        .map(|f| format!("{} {} ({})", f.id, f.resource, f.title))
        .collect();
    Some(Comparison { previous: previous.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), new, unchanged, fixed })
}

impl Report for AuditReport {
    fn text(&self) -> String {
        let scores: Vec<String> = self.scores.iter().map(|(f, s)| format!("{f} {s}/100")).collect();
        let c = &self.counts;
        let mut out = format!(
            "Audit of {} ({}): {} resource(s); {}. {} finding(s): {} critical, {} high, {} medium, {} low ({} AWS calls, {} ms).",
            self.env,
            self.focus.join(", "),
            self.resources,
            scores.join(", "),
            self.findings_total,
            c.critical,
            c.high,
            c.medium,
            c.low,
            self.aws_calls,
            self.wall_ms
        );
        if let Some(cmp) = &self.since_last {
            out.push_str(&format!("\nSince {}: {} new, {} fixed, {} unchanged.", cmp.previous, cmp.new, cmp.fixed.len(), cmp.unchanged));
            for f in cmp.fixed.iter().take(SHOWN) {
                out.push_str(&format!("\n  fixed: {f}"));
            }
        }
        for f in &self.findings {
            let controls = if f.controls.is_empty() { String::new() } else { format!(" [{}]", f.controls.join(", ")) };
            out.push_str(&format!("\n- {} {} {} — {}{controls}\n    {}\n    fix: {}", f.severity.as_str(), f.id, f.resource, f.title, f.evidence, f.fix));
        }
        if let Some(more) = crate::vocabulary::report::more(self.findings.len(), self.findings_total, "finding(s)") {
            out.push_str(&format!("\n{more}"));
        }
        if !self.drift.is_empty() {
            out.push_str(&format!("\n{} difference(s) between AWS and the Terraform state:", self.drift.len()));
            for d in self.drift.iter().take(SHOWN) {
                out.push_str(&format!("\n  {} {}: {} → {}", d.resource, d.attribute, d.in_state, d.live));
            }
        }
        if let Some(cost) = &self.cost {
            out.push_str(&format!("\n{}", cost.text()));
        }
        for n in &self.notes {
            out.push_str(&format!("\nNote: {n}"));
        }
        out.push_str(&format!("\nReport: {}", self.report_path.display()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::posture::{AccessKey, Live, Trail};

    fn finding(id: &str, resource: &str, severity: Severity) -> AuditFinding {
        controls::classify(AuditFinding {
            id: id.into(),
            focus: String::new(),
            severity,
            title: id.into(),
            resource: resource.into(),
            arn: None,
            evidence: String::new(),
            fix: String::new(),
            controls: Vec::new(),
            area: None,
            source: "live".into(),
            change: String::new(),
        })
    }

    #[test]
    fn old_access_keys_and_no_trail_are_account_findings() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T00:00:00Z").unwrap().with_timezone(&Utc);
        let key =
            |user: &str, rotated: &str| AccessKey { user: user.into(), user_arn: format!("arn:aws:iam::1:user/{user}"), slot: 1, last_rotated: rotated.into() };
        let live = Live { access_keys: vec![key("old", "2026-08-01T00:00:00+00:00"), key("new", "2026-11-30T00:00:00+00:00")], ..Live::default() };
        let found = account_findings(&live, now);
        let ids: Vec<(&str, &str)> = found.iter().map(|f| (f.id.as_str(), f.resource.as_str())).collect();
        assert_eq!(ids, [("FC_AUDIT_001", "iam user old"), ("FC_AUDIT_002", "account")]);
        assert!(found[0].evidence.contains("128 days"), "{}", found[0].evidence);
        let trail =
            Trail { name: "t".into(), arn: None, multi_region: true, log_file_validation: true, kms_key_id: None, s3_bucket: None, logging: Some(true) };
        let live = Live { trails: vec![trail], ..Live::default() };
        assert!(account_findings(&live, now).is_empty());
    }

    #[test]
    fn scores_are_per_resource_and_compliance_takes_areas() {
        let all = vec![finding("FC_S3_002", "aws_s3_bucket.a", Severity::High), finding("FC_LOG_001", "aws_cloudwatch_log_group.g", Severity::Medium)];
        assert!(controls::answers(&all[1], "compliance") && controls::answers(&all[1], "security"));
        assert!(!controls::answers(&all[0], "compliance"));
        // 4 resources: one lost 10, one lost 4: 100 - 14 / 4 (whole points).
        assert_eq!(score(&all, "security", 4), 97);
        assert_eq!(score(&all, "compliance", 4), 99);
        assert_eq!(score(&[], "security", 0), 100);
    }

    #[test]
    fn comparison_takes_the_last_audit_of_the_same_focus() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, focus: &[&str], findings: &[AuditFinding]| {
            let doc = serde_json::json!({"focus": focus, "findings": findings});
            std::fs::write(dir.path().join(name), serde_json::to_vec(&doc).unwrap()).unwrap();
        };
        write(
            "20261201T000000Z-audit.json",
            &["security"],
            &[finding("FC_S3_002", "aws_s3_bucket.a", Severity::High), finding("FC_NET_001", "sg", Severity::High)],
        );
        write("20261202T000000Z-audit.json", &["compliance"], &[finding("FC_TAG_001", "aws_s3_bucket.a", Severity::Medium)]);
        let mut now = vec![finding("FC_S3_002", "aws_s3_bucket.a", Severity::High), finding("FC_LOG_001", "g", Severity::Medium)];
        let cmp = compare(&dir.path().join("20261203T000000Z-audit.json"), &mut now, &["security".to_string()]).unwrap();
        assert_eq!(cmp.previous, "20261201T000000Z-audit.json");
        assert_eq!((cmp.new, cmp.unchanged), (1, 1));
        assert_eq!(cmp.fixed.len(), 1);
        assert!(cmp.fixed[0].starts_with("FC_NET_001 sg"), "{:?}", cmp.fixed);
        assert_eq!(now[1].change, "new");
    }
}
