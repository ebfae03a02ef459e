//! Usage assumptions: how much a usage-priced resource is used in a month.
//!
//! The price table carries a default for every usage key; a usage file
//! overrides them, per resource or per type. [`Usage::load`] is the only I/O
//! of the cost estimate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::Basis;
use super::table::{PriceTable, usage_kind};

/// A usage file, in JSON:
///
/// ```json
/// {
///   "resource_usage": {
///     "aws_lambda_function.api": { "monthly_requests": 5000000, "average_duration_ms": 120 },
///     "module.web.aws_s3_bucket.assets": { "storage_gb": 250 }
///   },
///   "defaults": {
///     "aws_lambda_function": { "average_duration_ms": 80 }
///   }
/// }
/// ```
///
/// - `resource_usage`: resource address → usage key → number. An address
///   without an index (`aws_instance.web`) also applies to each of its
///   instances (`aws_instance.web[0]`, `aws_instance.web["a"]`); an exact
///   address wins over it.
/// - `defaults`: resource type → usage key → number, for every resource of
///   that type that `resource_usage` does not cover.
/// - Keys not given fall back to the price table's defaults
///   (`data/prices/aws-us-east-1.json`, section `usage`), which also lists
///   every accepted key with its meaning. Numbers are 0 or more; an unknown
///   top-level field, type or usage key is an error naming its JSON path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    #[serde(default)]
    pub resource_usage: BTreeMap<String, BTreeMap<String, f64>>,
    #[serde(default)]
    pub defaults: BTreeMap<String, BTreeMap<String, f64>>,
}

#[derive(Debug, Error)]
pub enum UsageError {
    #[error("usage file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("usage file {file}: {json_path}: {message}{}", accepted.as_ref().map(|a| format!(" (accepted: {a})")).unwrap_or_default())]
    Invalid { file: String, json_path: String, message: String, accepted: Option<String> },
}

impl From<UsageError> for crate::error::Error {
    fn from(e: UsageError) -> Self {
        match e {
            UsageError::Io { path, source } => crate::error::Error::bad_input("usage_file", format!("{}: {source}", path.display()), None),
            UsageError::Invalid { file, json_path, message, accepted } => {
                crate::error::Error::bad_input(format!("usage_file {file}: {json_path}"), message, accepted)
            }
        }
    }
}

impl Usage {
    /// Reads and checks a usage file against the table's usage keys.
    pub fn load(path: &Path, table: &PriceTable) -> Result<Usage, UsageError> {
        let text = std::fs::read_to_string(path).map_err(|source| UsageError::Io { path: path.to_path_buf(), source })?;
        Usage::from_json(&text, &path.display().to_string(), table)
    }

    /// Parses and checks usage text; `file` is only for messages.
    pub fn from_json(text: &str, file: &str, table: &PriceTable) -> Result<Usage, UsageError> {
        let invalid =
            |json_path: String, message: String, accepted: Option<String>| UsageError::Invalid { file: file.to_string(), json_path, message, accepted };
        let mut de = serde_json::Deserializer::from_str(text);
        let usage: Usage = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let json_path = render_path(e.path());
            let inner = e.into_inner();
            let message = strip_position(&inner.to_string());
            let accepted = message.contains("unknown field").then(|| "resource_usage, defaults".to_string());
            invalid(json_path, format!("{message} (line {}, column {})", inner.line(), inner.column()), accepted)
        })?;
        for (address, keys) in &usage.resource_usage {
            let here = format!("resource_usage{}", key_path(address));
            let Some(kind) = address_kind(address) else {
                return Err(invalid(here, "not a resource address (type.name, with module.x. in front inside modules)".into(), None));
            };
            check_keys(&here, kind, keys, table).map_err(|(p, m, a)| invalid(p, m, a))?;
        }
        for (kind, keys) in &usage.defaults {
            let here = format!("defaults{}", key_path(kind));
            check_keys(&here, kind, keys, table).map_err(|(p, m, a)| invalid(p, m, a))?;
        }
        Ok(usage)
    }

    /// The value of `key` for a resource, and where it came from.
    pub(super) fn value(&self, address: &str, kind: &str, key: &str, table: &PriceTable) -> Option<(f64, Basis)> {
        let by_address = self
            .resource_usage
            .get(address)
            .and_then(|keys| keys.get(key))
            .or_else(|| self.resource_usage.get(strip_index(address)?).and_then(|keys| keys.get(key)));
        if let Some(v) = by_address {
            return Some((*v, Basis::UsageFile));
        }
        let by_type = self.defaults.get(kind).or_else(|| self.defaults.get(usage_kind(kind))).and_then(|keys| keys.get(key));
        if let Some(v) = by_type {
            return Some((*v, Basis::UsageFile));
        }
        table.usage_keys(kind)?.get(key).map(|k| (k.default, Basis::UsageDefault))
    }
}

fn check_keys(here: &str, kind: &str, keys: &BTreeMap<String, f64>, table: &PriceTable) -> Result<(), (String, String, Option<String>)> {
    let Some(known) = table.usage_keys(kind) else {
        let accepted = table.usage.keys().cloned().collect::<Vec<_>>().join(", ");
        return Err((
            here.to_string(),
            format!("{kind} takes no usage keys (its cost comes from its configuration, or the price table does not know it)"),
            Some(accepted),
        ));
    };
    for (key, value) in keys {
        let path = format!("{here}.{key}");
        if !known.contains_key(key) {
            let accepted = known.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err((path, format!("unknown usage key for {kind}"), Some(accepted)));
        }
        if !(value.is_finite() && *value >= 0.0) {
            return Err((path, "must be a number, 0 or more".into(), None));
        }
    }
    Ok(())
}

/// The resource type in an address: `module.a["x"].aws_instance.web[0]` → `aws_instance`.
pub(super) fn address_kind(address: &str) -> Option<&str> {
    let parts = split_address(address);
    let mut i = 0;
    while parts.get(i) == Some(&"module") {
        i += 2;
    }
    if parts.get(i) == Some(&"data") {
        i += 1;
    }
    let kind = *parts.get(i)?;
    let name = parts.get(i + 1)?;
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (valid(kind) && !name.is_empty() && i + 2 == parts.len()).then_some(kind)
}

/// `aws_instance.web[0]` → `aws_instance.web`; `None` when there is no index.
fn strip_index(address: &str) -> Option<&str> {
    if !address.ends_with(']') {
        return None;
    }
    let mut depth = 0usize;
    let mut in_quotes = false;
    let mut start = None;
    for (i, c) in address.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '[' if !in_quotes => {
                if depth == 0 {
                    start = Some(i);
                }
                depth += 1;
            }
            ']' if !in_quotes => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    start.map(|s| &address[..s])
}

/// Splits on dots outside brackets and quotes.
fn split_address(address: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut in_quotes = false;
    let mut from = 0;
    for (i, c) in address.char_indices() {
        match c {
            '"' if depth > 0 => in_quotes = !in_quotes,
            '[' if !in_quotes => depth += 1,
            ']' if !in_quotes => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                parts.push(&address[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&address[from..]);
    parts
}

/// `.key`, or `["key"]` when the key is not a plain word.
fn key_path(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') { format!(".{key}") } else { format!("[{key:?}]") }
}

fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                let _ = write!(out, "[{index}]");
            }
            Segment::Map { key } => out.push_str(&key_path(key)),
            Segment::Enum { variant } => out.push_str(&key_path(variant)),
            Segment::Unknown => out.push_str(".?"),
        }
    }
    match out.strip_prefix('.') {
        Some(rest) => rest.to_string(),
        None if out.is_empty() => "(top level)".to_string(),
        None => out,
    }
}

/// serde_json appends " at line L column C"; the message carries them once.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}
