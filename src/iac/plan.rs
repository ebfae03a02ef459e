//! Plan JSON (`terraform show -json <planfile>`, format 0.1 to 1.2) → a
//! [`ChangeSummary`]: `+` create, `~` update, `-` destroy, `-/+` replace
//! (delete then create), `+/-` replace (create before destroy), `<=` read,
//! each with the attributes that change (sensitive values masked, unknown
//! ones shown as known after apply), the reason for a replacement, and drift.
//!
//! Streaming: the document is walked once with a serde visitor that keeps
//! only `resource_changes` and `resource_drift`, turning each entry into its
//! summary as it is read, so `planned_values`, `prior_state` and
//! `configuration` are skipped without being built in memory.
//!
//! Pure: bytes in, summary out.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most changed attributes listed per resource; the rest are counted.
pub const MAX_ATTRS: usize = 40;
/// Most attributes per resource in the text form.
pub const TEXT_ATTRS: usize = 8;
const SENSITIVE: &str = "(sensitive value)";
const UNKNOWN: &str = "(known after apply)";

/// What will happen to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Destroy, then create.
    Replace,
    /// Create the new one, then destroy the old.
    ReplaceCreateFirst,
    Read,
    NoOp,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Delete => "-",
            Action::Replace => "-/+",
            Action::ReplaceCreateFirst => "+/-",
            Action::Read => "<=",
            Action::NoOp => " ",
        }
    }

    /// Whether something existing goes away.
    pub fn destructive(self) -> bool {
        matches!(self, Action::Delete | Action::Replace | Action::ReplaceCreateFirst)
    }

    fn from_actions(actions: &[String]) -> Result<Action, String> {
        let a: Vec<&str> = actions.iter().map(String::as_str).collect();
        Ok(match a.as_slice() {
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete"] => Action::Delete,
            ["delete", "create"] => Action::Replace,
            ["create", "delete"] => Action::ReplaceCreateFirst,
            ["read"] => Action::Read,
            ["no-op"] | [] => Action::NoOp,
            other => return Err(format!("unknown actions {other:?}")),
        })
    }
}

/// One changed attribute.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AttrChange {
    /// `tags.Name`, `rule[0].id`
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// Changing it forces the replacement.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forces_replacement: bool,
}

/// One resource's change.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ResourceChange {
    pub address: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub action: Action,
    pub symbol: &'static str,
    pub destructive: bool,
    /// What is lost with it when it is deleted or replaced (a stateful resource: a bucket's objects, a table's
    /// items…); `None` when nothing but configuration goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_loss: Option<&'static str>,
    /// Terraform's reason (`replace_because_tainted`, `delete_because_no_resource_config`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub changed: Vec<AttrChange>,
    /// Changed attributes beyond [`MAX_ATTRS`].
    #[serde(skip_serializing_if = "is_zero")]
    pub more_changes: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The whole plan, summarised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ChangeSummary {
    pub format_version: Option<String>,
    pub terraform_version: Option<String>,
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    /// Replacements (each also counts once in add and once in destroy, as terraform counts them).
    pub replace: usize,
    pub read: usize,
    pub no_op: usize,
    /// Resources with an action other than no-op.
    pub resources: Vec<ResourceChange>,
    /// Changes made outside Terraform since the last apply.
    pub drift: Vec<ResourceChange>,
}

impl ChangeSummary {
    /// `+2 ~1 -0 (-/+ 1)`
    pub fn counts(&self) -> String {
        let mut s = format!("+{} ~{} -{}", self.add, self.change, self.destroy);
        if self.replace > 0 {
            s.push_str(&format!(" (-/+ {})", self.replace));
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        !self.resources.is_empty()
    }

    pub fn destructive(&self) -> impl Iterator<Item = &ResourceChange> {
        self.resources.iter().filter(|r| r.destructive)
    }

    /// The deletions and replacements that lose data, one line each: `aws_s3_bucket.uploads (-): its objects`.
    pub fn data_loss(&self) -> Vec<String> {
        self.resources.iter().filter_map(|r| r.data_loss.map(|what| format!("{} ({}): {what}", r.address, r.symbol))).collect()
    }

    /// Terraform-like text: one line per resource with its changed attributes, destructive ones marked.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for r in &self.resources {
            let warn = match (r.data_loss, r.destructive) {
                (Some(what), _) => format!("  ⚠ DATA LOSS: {what}"),
                (None, true) => "  ⚠ DESTRUCTIVE".to_string(),
                (None, false) => String::new(),
            };
            let reason = r.reason.as_deref().map(|x| format!(" ({x})")).unwrap_or_default();
            out.push_str(&format!("{:>3} {}{reason}{warn}\n", r.symbol, r.address));
            // A create's "known after apply" attributes say nothing a person needs here.
            let shown: Vec<&AttrChange> =
                r.changed.iter().filter(|a| !(r.action == Action::Create && a.after.as_ref().and_then(Value::as_str) == Some(UNKNOWN))).collect();
            for a in shown.iter().take(TEXT_ATTRS) {
                let show = |v: &Option<Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "null".into());
                let forces = if a.forces_replacement { " # forces replacement" } else { "" };
                out.push_str(&format!("      {}: {} → {}{forces}\n", a.path, show(&a.before), show(&a.after)));
            }
            let more = r.more_changes + shown.len().saturating_sub(TEXT_ATTRS);
            if more > 0 {
                out.push_str(&format!("      … and {more} more attribute(s)\n"));
            }
        }
        if !self.drift.is_empty() {
            out.push_str(&format!("Drift (changed outside Terraform): {}\n", self.drift.iter().map(|d| d.address.as_str()).collect::<Vec<_>>().join(", ")));
        }
        out.push_str(&format!("Plan: {} to add, {} to change, {} to destroy.", self.add, self.change, self.destroy));
        out
    }
}

/// Reads plan bytes: UTF-8 or UTF-16 (with or without BOM), with noise around the JSON.
pub fn summarize(bytes: &[u8]) -> Result<ChangeSummary, String> {
    let text = decode(bytes);
    let json = locate(&text).ok_or("no JSON object found (is this `terraform show -json` output?)")?;
    let mut de = serde_json::Deserializer::from_str(json);
    let summary = PlanSeed.deserialize(&mut de).map_err(|e| e.to_string())?;
    Ok(summary)
}

/// Plan bytes as text: UTF-8, or UTF-16 with or without a byte-order mark.
pub fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let utf16 = |b: &[u8], le: bool| {
        let units: Vec<u16> = b.chunks_exact(2).map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) }).collect();
        String::from_utf16_lossy(&units).into()
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [a, 0, ..] if *a != 0 => utf16(bytes, true),
        [0, b, ..] if *b != 0 => utf16(bytes, false),
        _ => String::from_utf8_lossy(bytes),
    }
}

/// The first `{` from which a whole JSON object parses (skipped, not built):
/// CI wrappers print lines of their own around the document.
pub fn locate(text: &str) -> Option<&str> {
    for (start, _) in text.match_indices('{').take(64) {
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<IgnoredAny>();
        if let Some(Ok(_)) = stream.next() {
            return Some(&text[start..start + stream.byte_offset()]);
        }
    }
    None
}

/// One `resource_changes` entry as read.
#[derive(Deserialize)]
struct RawChange {
    /// Absent in some 0.1-format drift entries: then built from the parts below.
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    module_address: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    index: Option<Value>,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    action_reason: Option<String>,
    change: RawInner,
}

#[derive(Deserialize)]
struct RawInner {
    actions: Vec<String>,
    #[serde(default)]
    before: Value,
    #[serde(default)]
    after: Value,
    #[serde(default)]
    after_unknown: Value,
    #[serde(default)]
    before_sensitive: Value,
    #[serde(default)]
    after_sensitive: Value,
    #[serde(default)]
    replace_paths: Option<Vec<Vec<Value>>>,
}

impl RawChange {
    fn address(&self) -> String {
        if let Some(a) = &self.address {
            return a.clone();
        }
        let mut a = String::new();
        if let Some(m) = &self.module_address {
            a.push_str(m);
            a.push('.');
        }
        if self.mode.as_deref() == Some("data") {
            a.push_str("data.");
        }
        a.push_str(&format!("{}.{}", self.kind, self.name));
        match &self.index {
            Some(Value::String(k)) => a.push_str(&format!("[{k:?}]")),
            Some(Value::Number(n)) => a.push_str(&format!("[{n}]")),
            _ => {}
        }
        a
    }

    fn summarize(self) -> Result<ResourceChange, String> {
        let address = self.address();
        let action = Action::from_actions(&self.change.actions).map_err(|e| format!("{address}: {e}"))?;
        let replace_paths: Vec<String> = self.change.replace_paths.unwrap_or_default().iter().map(|p| path_string(p)).collect();
        let mut changed = Vec::new();
        let mut total = 0;
        if action != Action::NoOp && action != Action::Read {
            diff(
                "",
                &self.change.before,
                &self.change.after,
                &self.change.after_unknown,
                &self.change.before_sensitive,
                &self.change.after_sensitive,
                &mut |path, before, after| {
                    total += 1;
                    if changed.len() < MAX_ATTRS {
                        let forces_replacement =
                            replace_paths.iter().any(|p| path == p || path.starts_with(&format!("{p}.")) || path.starts_with(&format!("{p}[")));
                        // A value under a secret name (`tags.DbPassword`, `environment.variables.API_TOKEN`) is
                        // masked like a sensitive one, even when the configuration did not mark it.
                        let mask = |v: Option<Value>| v.map(|v| if v.is_null() || v.as_str() == Some(UNKNOWN) { v } else { Value::from("<redacted>") });
                        let (before, after) = if crate::redact::is_secret_name(path) { (mask(before), mask(after)) } else { (before, after) };
                        changed.push(AttrChange { path: path.to_string(), before, after, forces_replacement });
                    }
                },
            );
        }
        // A create lists what it sets; keep it short: the set values are in the plan.
        let more_changes = total - changed.len();
        let reason = self.action_reason.or_else(|| (!replace_paths.is_empty()).then(|| format!("replace because of {}", replace_paths.join(", "))));
        let data_loss = if action.destructive() { lost_with(&self.kind) } else { None };
        Ok(ResourceChange {
            address,
            data_loss,
            kind: self.kind,
            action,
            symbol: action.symbol(),
            destructive: action.destructive(),
            reason,
            changed,
            more_changes,
        })
    }
}

/// The resource types that hold data, and what goes with one when Terraform deletes or replaces it. A replaced
/// bucket or table is a new, empty one: replacement loses the data as surely as deletion.
pub const STATEFUL: &[(&str, &str)] = &[
    ("aws_s3_bucket", "the bucket's objects are deleted with it"),
    ("aws_dynamodb_table", "the table's items are deleted with it"),
    ("aws_db_instance", "the database is deleted (a final snapshot only if configured)"),
    ("aws_rds_cluster", "the cluster's databases are deleted (a final snapshot only if configured)"),
    ("aws_rds_cluster_instance", "the cluster instance and its local storage are deleted"),
    ("aws_docdb_cluster", "the cluster's documents are deleted"),
    ("aws_neptune_cluster", "the graph is deleted"),
    ("aws_redshift_cluster", "the warehouse is deleted (a final snapshot only if configured)"),
    ("aws_elasticache_replication_group", "the cache's data is deleted"),
    ("aws_sqs_queue", "messages waiting in the queue are deleted"),
    ("aws_kinesis_stream", "records in the stream are deleted"),
    ("aws_efs_file_system", "the file system's files are deleted"),
    ("aws_ebs_volume", "the volume's data is deleted"),
    ("aws_cloudwatch_log_group", "the log group's events are deleted"),
    ("aws_kms_key", "the key is scheduled for deletion: data encrypted with it becomes unreadable"),
    ("aws_secretsmanager_secret", "the secret's value is scheduled for deletion"),
    ("aws_ecr_repository", "the repository's images are deleted"),
    ("aws_backup_vault", "the recovery points in the vault are deleted"),
];

/// What is lost when a resource of this type is deleted or replaced.
pub fn lost_with(kind: &str) -> Option<&'static str> {
    STATEFUL.iter().find(|(k, _)| *k == kind).map(|(_, what)| *what)
}

fn path_string(parts: &[Value]) -> String {
    let mut s = String::new();
    for p in parts {
        match p {
            Value::Number(n) => s.push_str(&format!("[{n}]")),
            Value::String(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            other => s.push_str(&other.to_string()),
        }
    }
    s
}

fn child<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

fn child_at(v: &Value, i: usize) -> &Value {
    v.get(i).unwrap_or(&Value::Null)
}

/// Receives (path, before, after) of each changed leaf.
type Emit<'a> = dyn FnMut(&str, Option<Value>, Option<Value>) + 'a;

/// Calls `emit(path, before, after)` for each leaf that differs, masking
/// sensitive values and marking unknown ones.
fn diff(path: &str, before: &Value, after: &Value, unknown: &Value, before_sens: &Value, after_sens: &Value, emit: &mut Emit<'_>) {
    if unknown == &Value::Bool(true) {
        let b = shown(before, before_sens);
        emit(path, b, Some(Value::String(UNKNOWN.into())));
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                diff(&p, child(before, k), child(after, k), child(unknown, k), child(before_sens, k), child(after_sens, k), emit);
            }
            // Attributes only known after apply that have no value yet.
            if let Value::Object(u) = unknown {
                for (k, v) in u {
                    if v == &Value::Bool(true) && !a.contains_key(k) && !b.contains_key(k) {
                        let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                        emit(&p, None, Some(Value::String(UNKNOWN.into())));
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
            for i in 0..a.len() {
                diff(&format!("{path}[{i}]"), &b[i], &a[i], child_at(unknown, i), child_at(before_sens, i), child_at(after_sens, i), emit);
            }
        }
        (Value::Null, Value::Object(_)) => diff(path, &Value::Object(Default::default()), after, unknown, before_sens, after_sens, emit),
        (Value::Object(_), Value::Null) => diff(path, before, &Value::Object(Default::default()), unknown, before_sens, after_sens, emit),
        _ => {
            let sensitive = before_sens == &Value::Bool(true) || after_sens == &Value::Bool(true);
            if before != after || (sensitive && before_sens != after_sens) {
                emit(path, shown(before, before_sens), shown(after, after_sens));
            } else if unknown.is_object() || unknown.is_array() {
                // Nested unknowns under an unchanged container.
                if let (Value::Object(_), _) | (_, Value::Object(_)) = (unknown, unknown) {
                    diff(path, before, after, &Value::Null, before_sens, after_sens, emit);
                }
            }
        }
    }
}

fn shown(v: &Value, sensitive: &Value) -> Option<Value> {
    if sensitive == &Value::Bool(true) {
        return Some(Value::String(SENSITIVE.into()));
    }
    match v {
        Value::Null => None,
        other => Some(other.clone()),
    }
}

/// The top level: keeps the versions and the two change lists, skips the rest.
struct PlanSeed;

impl<'de> DeserializeSeed<'de> for PlanSeed {
    type Value = ChangeSummary;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<ChangeSummary, D::Error> {
        d.deserialize_map(PlanVisitor)
    }
}

struct PlanVisitor;

impl<'de> Visitor<'de> for PlanVisitor {
    type Value = ChangeSummary;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Terraform plan JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ChangeSummary, A::Error> {
        let mut s = ChangeSummary::default();
        let mut saw_plan_key = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format_version" => s.format_version = Some(map.next_value()?),
                "terraform_version" => s.terraform_version = Some(map.next_value()?),
                "resource_changes" => {
                    saw_plan_key = true;
                    for r in map.next_value_seed(ChangesSeed)? {
                        match r.action {
                            Action::Create => s.add += 1,
                            Action::Update => s.change += 1,
                            Action::Delete => s.destroy += 1,
                            Action::Replace | Action::ReplaceCreateFirst => {
                                s.add += 1;
                                s.destroy += 1;
                                s.replace += 1;
                            }
                            Action::Read => s.read += 1,
                            Action::NoOp => s.no_op += 1,
                        }
                        if r.action != Action::NoOp {
                            s.resources.push(r);
                        }
                    }
                }
                "resource_drift" => {
                    saw_plan_key = true;
                    s.drift = map.next_value_seed(ChangesSeed)?.into_iter().filter(|r| r.action != Action::NoOp).collect();
                }
                "planned_values" | "prior_state" | "configuration" => {
                    saw_plan_key = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !saw_plan_key {
            return Err(de::Error::custom("no resource_changes or planned_values: not a plan in `terraform show -json` form"));
        }
        Ok(s)
    }
}

/// A list of resource changes, each summarised as soon as it is read.
struct ChangesSeed;

impl<'de> DeserializeSeed<'de> for ChangesSeed {
    type Value = Vec<ResourceChange>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(ChangesVisitor)
    }
}

struct ChangesVisitor;

impl<'de> Visitor<'de> for ChangesVisitor {
    type Value = Vec<ResourceChange>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of resource changes")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(raw) = seq.next_element::<RawChange>()? {
            out.push(raw.summarize().map_err(de::Error::custom)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
