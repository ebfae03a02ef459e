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
