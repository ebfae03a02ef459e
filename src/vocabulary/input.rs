//! Values that come from people and become paths or API parameters, checked
//! and parsed once at the edge ([`EnvName`], [`ServiceName`], [`Timeframe`],
//! design names, free text, ids) and carried typed inside. Each failure is a
//! [`BadInput`] naming the field and what is accepted.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// An input field that is missing or not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadInput {
    pub field: String,
    pub message: String,
    pub accepted: Option<String>,
}

impl BadInput {
    pub fn new(field: impl Into<String>, message: impl Into<String>, accepted: Option<String>) -> BadInput {
        BadInput { field: field.into(), message: message.into(), accepted }
    }
}

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)?;
        if let Some(a) = &self.accepted {
            write!(f, " (accepted: {a})")?;
        }
        Ok(())
    }
}

impl std::error::Error for BadInput {}

/// Free text with a length bound and no control characters but newlines and tabs.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), BadInput> {
    if value.trim().is_empty() {
        return Err(BadInput::new(field, "must not be empty", None));
    }
    if value.chars().count() > max {
        return Err(BadInput::new(field, format!("is longer than {max} characters"), None));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(BadInput::new(field, "contains control characters", None));
    }
    Ok(())
}

/// A name that is safe as one path segment: lowercase letters, digits, '-' and '_', up to `max` characters.
pub fn is_slug(value: &str, max: usize) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
}

/// An environment name as devops.json spells it: lowercase letters, digits and '-'.
/// Whether it is configured is the configuration's question.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnvName(String);

impl EnvName {
    /// `field` names where the value came from (`env`, or a devops.json path).
    pub fn parse(field: &str, value: &str) -> Result<EnvName, BadInput> {
        if is_env_name(value) {
            Ok(EnvName(value.to_string()))
        } else {
            Err(BadInput::new(field, format!("\"{value}\" is not an environment name"), Some("a configured environment such as test or prod".into())))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lowercase letters, digits and '-', starting with a letter, up to 32 characters: environment
/// names double as directory names, so they are kept strict.
pub fn is_env_name(value: &str) -> bool {
    value.len() <= 32 && value.starts_with(|c: char| c.is_ascii_lowercase()) && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl std::ops::Deref for EnvName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for EnvName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A service as people name it: `api-lambda`, `orders_queue`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(value: &str) -> Result<ServiceName, BadInput> {
        if is_slug(value, 64) {
            Ok(ServiceName(value.to_string()))
        } else {
            Err(BadInput::new(
                "service",
                format!("\"{value}\" is not a service name"),
                Some("1 to 64 lowercase letters, digits, '-' or '_', e.g. api-lambda".into()),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for ServiceName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// A design document under designs/: `user-authentication` or `user-authentication.md`.
pub fn design_name(value: &str) -> Result<(), BadInput> {
    let stem = value.strip_suffix(".md").unwrap_or(value);
    if is_slug(stem, 80) {
        Ok(())
    } else {
        Err(BadInput::new(
            "design",
            format!("\"{value}\" is not a design name"),
            Some("a name under designs/, lowercase letters, digits and '-', e.g. user-authentication.md".into()),
        ))
    }
}

/// Ids the product hands out are canonical hyphenated UUIDs; nothing else may
/// become part of a path.
pub fn is_canonical_uuid(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|u| u.hyphenated().to_string() == id)
}

/// A Terraform resource address such as `aws_kms_key.data` or `aws_s3_bucket.logs[0]`.
pub fn is_tf_address(value: &str) -> bool {
    let ident =
        |s: &str, first: fn(char) -> bool| s.starts_with(first) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && s.len() <= 64;
    let head = match value.split_once('[') {
        Some((head, rest)) => match rest.strip_suffix(']') {
            Some(n) if !n.is_empty() && n.len() <= 4 && n.chars().all(|c| c.is_ascii_digit()) => head,
            _ => return false,
        },
        None => value,
    };
    match head.split_once('.') {
        Some((kind, name)) => ident(kind, |c| c.is_ascii_lowercase()) && !kind.contains('-') && ident(name, |c| c.is_ascii_alphabetic() || c == '_'),
        None => false,
    }
}

/// A Lambda handler `module.function`, where the module may sit in folders
/// (`src/app.handler`) but never leaves the function's own folder.
pub fn is_lambda_handler(value: &str) -> bool {
    let Some((module, function)) = value.rsplit_once('.') else { return false };
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && !s.starts_with('-');
    value.len() <= 128
        && function.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && word(function)
        && module.split('/').all(|segment| word(segment) && !segment.starts_with('.'))
}

/// A name that can be a file name inside a folder: no separators, no `..`,
/// no hidden or control characters.
pub fn is_safe_file_name(value: &str) -> bool {
    !value.is_empty() && value.len() <= 128 && !value.starts_with('.') && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// An `http://` or `https://` URL made of a host (name, IPv4 or `[IPv6]`),
/// an optional port and an optional plain path: nothing that could close a
/// string or start an interpolation in the Terraform it is written into.
pub fn is_http_url(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("http://").or_else(|| value.strip_prefix("https://")) else { return false };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((addr, "")) if is_v6(addr) => ("v6", None),
            Some((addr, after)) if is_v6(addr) => ("v6", Some(after.strip_prefix(':').unwrap_or("x"))),
            _ => return false,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    fn is_v6(addr: &str) -> bool {
        !addr.is_empty() && addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
    }
    let host_ok = host == "v6" || (!host.is_empty() && host.len() <= 253 && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| n <= 65535));
    let path_ok = path.chars().all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c));
    host_ok && port_ok && path_ok
}

/// How far back to look: the last `30m`, `2h`, `24h`, `7d` (at most 90 days),
/// or an ISO-8601 range `start/end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeframe {
    span: Span,
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    Last(Duration),
    Range(DateTime<Utc>, DateTime<Utc>),
}

impl Timeframe {
    pub fn parse(value: &str) -> Result<Timeframe, BadInput> {
        let accepted =
            || Some("a duration like 30m, 2h, 24h, 7d (at most 90d), or an ISO-8601 range such as 2026-11-01T00:00:00Z/2026-11-02T00:00:00Z".to_string());
        let text = value.to_string();
        if let Some((start, end)) = value.split_once('/') {
            let parse = |s: &str| DateTime::parse_from_rfc3339(s.trim()).map(|d| d.with_timezone(&Utc));
            return match (parse(start), parse(end)) {
                (Ok(a), Ok(b)) if a < b => Ok(Timeframe { span: Span::Range(a, b), text }),
                (Ok(_), Ok(_)) => Err(BadInput::new("timeframe", "the range must start before it ends", accepted())),
                _ => Err(BadInput::new("timeframe", format!("\"{value}\" is not an ISO-8601 range"), accepted())),
            };
        }
        let not_a_duration = || BadInput::new("timeframe", format!("\"{value}\" is not a duration"), accepted());
        // The unit is the last character, which may be any character: split on a char boundary.
        let Some(unit) = value.chars().last() else { return Err(not_a_duration()) };
        let digits = &value[..value.len() - unit.len_utf8()];
        let minutes_per: i64 = match unit {
            'm' => 1,
            'h' => 60,
            'd' => 1440,
            _ => return Err(not_a_duration()),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_a_duration());
        }
        match digits.parse::<i64>() {
            Ok(n) if n > 0 && n.saturating_mul(minutes_per) <= 90 * 1440 => Ok(Timeframe { span: Span::Last(Duration::minutes(n * minutes_per)), text }),
            _ => Err(not_a_duration()),
        }
    }

    /// The last `n` hours.
    pub fn hours(n: i64) -> Timeframe {
        Timeframe { span: Span::Last(Duration::hours(n)), text: format!("{n}h") }
    }

    /// `[start, end)` as of `now`.
    pub fn window(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        match self.span {
            Span::Last(d) => (now - d, now),
            Span::Range(a, b) => (a, b),
        }
    }

    /// The range `start/end`, as a timeframe.
    pub fn range(start: DateTime<Utc>, end: DateTime<Utc>) -> Timeframe {
        let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Timeframe { span: Span::Range(start, end), text: format!("{}/{}", fmt(start), fmt(end)) }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_handlers_file_names_and_urls_that_enter_generated_code() {
        for ok in ["aws_kms_key.data", "aws_s3_bucket.logs[0]", "aws_lambda_function.api-handler"] {
            assert!(is_tf_address(ok), "{ok}");
        }
        for bad in ["aws_kms_key.k[0", "aws_kms_key", "aws_kms_key.k[\"a\"]", "aws_kms_key.k}\"", "AWS.k", ".k", "aws_kms_key.k.arn", "aws_kms_key.${x}"] {
            assert!(!is_tf_address(bad), "{bad}");
        }
        for ok in ["index.handler", "src/app.handler", "app.main_handler"] {
            assert!(is_lambda_handler(ok), "{ok}");
        }
        for bad in ["../../x/X.handler", "/etc/x.handler", "a\nb.handler", "index", "a/./b.h", "a//b.h", ".hidden.h", "index.1h", "x.handler\nimport os"] {
            assert!(!is_lambda_handler(bad), "{bad:?}");
        }
        for ok in ["test.tfvars", "org-test.tfvars"] {
            assert!(is_safe_file_name(ok), "{ok}");
        }
        for bad in ["../test.tfvars", "/abs.tfvars", "a/b.tfvars", "..", ".x", "a b", ""] {
            assert!(!is_safe_file_name(bad), "{bad:?}");
        }
        for ok in ["http://127.0.0.1:5000", "https://s3.example.com", "http://localhost:4566/", "http://[::1]:5000", "http://moto/path/x"] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in ["http://127.0.0.1:5000\"x", "ftp://x", "http://", "http://a:99999", "http://a b", "http://x/${var.y}", "http://x:5000:6", "http://[zz]:1"] {
            assert!(!is_http_url(bad), "{bad:?}");
        }
    }

    #[test]
    fn names() {
        for ok in ["api-lambda", "orders_queue", "a1"] {
            assert!(ServiceName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../etc", "API Lambda", "-x", "a/b"] {
            assert!(ServiceName::parse(bad).is_err(), "{bad}");
        }
        for ok in ["user-authentication", "user-authentication.md"] {
            assert!(design_name(ok).is_ok(), "{ok}");
        }
        for bad in ["../x.md", "x/y", ".md", "X.md"] {
            assert!(design_name(bad).is_err(), "{bad}");
        }
        for ok in ["test", "prod", "staging-eu", "qa-2"] {
            assert!(EnvName::parse("env", ok).is_ok(), "{ok}");
        }
        for bad in ["", "Prod", "../x", "1test", "a b", "qa_2"] {
            assert_eq!(EnvName::parse("env", bad).unwrap_err().field, "env", "{bad}");
        }
    }

    #[test]
    fn timeframes() {
        for ok in ["30m", "2h", "24h", "7d", "90d", "2026-11-01T00:00:00Z/2026-11-02T00:00:00Z"] {
            assert!(Timeframe::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "h", "0h", "2w", "91d", "-1h", "+1h", "yesterday", "2026-11-02T00:00:00Z/2026-11-01T00:00:00Z", "é", "1é", "99999999999999999999d"] {
            let e = Timeframe::parse(bad).unwrap_err();
            assert_eq!(e.field, "timeframe", "{bad}");
        }
        let now = DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z").unwrap().with_timezone(&Utc);
        let w = |t: &str| Timeframe::parse(t).unwrap().window(now);
        assert_eq!(w("2h").0.to_rfc3339(), "2026-11-28T10:00:00+00:00");
        assert_eq!(w("7d").0.to_rfc3339(), "2026-11-21T12:00:00+00:00");
        let range = w("2026-11-01T00:00:00Z/2026-11-02T00:00:00Z");
        assert_eq!((range.0.to_rfc3339(), range.1.to_rfc3339()), ("2026-11-01T00:00:00+00:00".into(), "2026-11-02T00:00:00+00:00".into()));
        assert_eq!(Timeframe::parse("7d").unwrap().to_string(), "7d");
    }
}
