//! Strict checks for user-given names and values that become paths or API
//! parameters. Each failure names the field and what is accepted.

use crate::error::Error;

/// Free text with a length bound and no control characters but newlines and tabs.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::bad_input(field, "must not be empty", None));
    }
    if value.chars().count() > max {
        return Err(Error::bad_input(field, format!("is longer than {max} characters"), None));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(Error::bad_input(field, "contains control characters", None));
    }
    Ok(())
}

/// A name that is safe as one path segment: lowercase letters, digits, '-' and '_', up to `max` characters.
pub fn is_slug_of(value: &str, max: usize) -> bool {
    is_slug(value, max)
}

fn is_slug(value: &str, max: usize) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
}

/// `api-lambda`, `orders_queue`: lowercase letters, digits, '-' and '_'.
pub fn service_name(value: &str) -> Result<(), Error> {
    if is_slug(value, 64) {
        Ok(())
    } else {
        Err(Error::bad_input(
            "service",
            format!("\"{value}\" is not a service name"),
            Some("1 to 64 lowercase letters, digits, '-' or '_', e.g. api-lambda".into()),
        ))
    }
}

/// A design document under designs/: `user-authentication` or `user-authentication.md`.
pub fn design_name(value: &str) -> Result<(), Error> {
    let stem = value.strip_suffix(".md").unwrap_or(value);
    if is_slug(stem, 80) {
        Ok(())
    } else {
        Err(Error::bad_input(
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

/// `30m`, `2h`, `24h`, `7d`, or an ISO-8601 range `start/end`.
pub fn timeframe(value: &str) -> Result<(), Error> {
    let accepted =
        || Some("a duration like 30m, 2h, 24h, 7d (at most 90d), or an ISO-8601 range such as 2026-11-01T00:00:00Z/2026-11-02T00:00:00Z".to_string());
    if let Some((start, end)) = value.split_once('/') {
        let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s.trim());
        return match (parse(start), parse(end)) {
            (Ok(a), Ok(b)) if a < b => Ok(()),
            (Ok(_), Ok(_)) => Err(Error::bad_input("timeframe", "the range must start before it ends", accepted())),
            _ => Err(Error::bad_input("timeframe", format!("\"{value}\" is not an ISO-8601 range"), accepted())),
        };
    }
    let (digits, unit) = value.split_at(value.len().saturating_sub(1));
    let minutes_per = match unit {
        "m" => 1,
        "h" => 60,
        "d" => 1440,
        _ => return Err(Error::bad_input("timeframe", format!("\"{value}\" is not a duration"), accepted())),
    };
    match digits.parse::<u64>() {
        Ok(n) if n > 0 && n * minutes_per <= 90 * 1440 => Ok(()),
        _ => Err(Error::bad_input("timeframe", format!("\"{value}\" is not a duration"), accepted())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_timeframes() {
        for ok in ["api-lambda", "orders_queue", "a1"] {
            assert!(service_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../etc", "API Lambda", "-x", "a/b"] {
            assert!(service_name(bad).is_err(), "{bad}");
        }
        for ok in ["user-authentication", "user-authentication.md"] {
            assert!(design_name(ok).is_ok(), "{ok}");
        }
        for bad in ["../x.md", "x/y", ".md", "X.md"] {
            assert!(design_name(bad).is_err(), "{bad}");
        }
        for ok in ["30m", "2h", "24h", "7d", "90d", "2026-11-01T00:00:00Z/2026-11-02T00:00:00Z"] {
            assert!(timeframe(ok).is_ok(), "{ok}");
        }
        for bad in ["", "h", "0h", "2w", "91d", "-1h", "yesterday", "2026-11-02T00:00:00Z/2026-11-01T00:00:00Z"] {
            assert!(timeframe(bad).is_err(), "{bad}");
        }
    }
}
