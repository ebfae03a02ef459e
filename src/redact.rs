//! Secret redaction for everything faber-cloud shows or stores: tool replies,
//! CLI output, reports, errors from child processes, the learning log, log
//! lines (DESIGN.md §6). Pure.

use std::sync::LazyLock;

use regex::Regex;

/// `text` with secrets replaced: private keys, GitHub and Slack tokens,
/// JWTs, bearer tokens, the password in a URL (`scheme://user:…@host`) and
/// Slack webhook paths by their kind in angle brackets; AWS access key ids
/// (`AKIA…`, `ASIA…`) → `<access-key-id>`; the value after `password=`,
/// `token =`, `secret:`, `X-Amz-Security-Token=`, `Signature=`, … →
/// `<redacted>`; a 40-character mixed-case base64 word (a secret access key)
/// → `<secret>`; a base64 word of 100 characters or more (a session token) →
/// `<token>`.
pub fn redact(text: &str) -> String {
    let mut out = std::borrow::Cow::Borrowed(text);
    for (pattern, with) in TOKENS.iter() {
        if pattern.is_match(&out) {
            out = std::borrow::Cow::Owned(pattern.replace_all(&out, *with).into_owned());
        }
    }
    let keyed = redact_key_values(&out);
    let keys = redact_access_key_ids(&keyed);
    redact_base64_words(&keys)
}

/// Secrets recognisable by their own shape, and what replaces them.
static TOKENS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)", "<private-key>"),
        (r"\bgithub_pat_[A-Za-z0-9_]{20,}", "<github-token>"),
        (r"\bgh[pousr]_[A-Za-z0-9]{20,}", "<github-token>"),
        (r"\bxox[abposre]-[A-Za-z0-9-]{10,}", "<slack-token>"),
        (r"hooks\.slack\.com/services/[A-Za-z0-9/_-]+", "hooks.slack.com/services/<redacted>"),
        (r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", "<jwt>"),
        (r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/-]{12,}=*", "$1 <redacted>"),
        (r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+):([^\s@/]+)@", "$1:<redacted>@"),
    ]
    .into_iter()
    .map(|(p, with)| (Regex::new(p).expect("redaction patterns compile"), with))
    .collect()
});

/// Whether a name (a JSON key, or the last segment of an attribute path such as
/// `tags.DbPassword`) names a secret (`password`, `db_password`, `api_key`, …).
pub fn is_secret_name(key: &str) -> bool {
    let k = key.rsplit(['.', '/']).next().unwrap_or(key).to_ascii_lowercase();
    let k = k.trim_end_matches(|c: char| c == ']' || c == '"' || c.is_ascii_digit() || c == '[');
    (["password", "passwd", "secret", "token", "api_key", "apikey", "private_key"].iter().any(|s| k.ends_with(s) || k.starts_with(s))
        || k.ends_with("_pass")
        || k.ends_with("pwd"))
        && !k.ends_with("_arn")
        && !k.ends_with("_name")
        && !k.ends_with("_id")
}

/// Redacts every string in a JSON value; a string under a key that names a
/// secret is replaced whole.
pub fn redact_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => *s = redact(s),
        Value::Array(a) => a.iter_mut().for_each(redact_json),
        Value::Object(m) => {
            // {path|name|key: "DB_PASSWORD", value|before|after: …}: a plan's attribute change, a
            // container's environment entry, a tag as a pair.
            let named_secret = ["path", "name", "key", "Name", "Key"].iter().any(|f| m.get(*f).and_then(Value::as_str).is_some_and(is_secret_name));
            for (k, v) in m.iter_mut() {
                let held = named_secret && matches!(k.as_str(), "value" | "before" | "after" | "Value");
                match v {
                    Value::String(s) if (is_secret_name(k) || held) && !s.is_empty() && !s.starts_with('<') => *s = "<redacted>".into(),
                    Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_) if held => *v = Value::String("<redacted>".into()),
                    _ => redact_json(v),
                }
            }
        }
        _ => {}
    }
}

/// Text for a terminal or a chat: control characters other than newline and
/// tab are shown escaped (`\u{1b}`), never sent raw.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return text.to_string();
    }
    text.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// Keys whose value is a secret, matched without case at a word start.
const SECRET_KEYS: &[&str] = &[
    "aws_secret_access_key",
    "secret_access_key",
    "aws_session_token",
    "session_token",
    "x-amz-security-token",
    "x-amz-signature",
    "signature",
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
];

fn redact_key_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for key in SECRET_KEYS {
        for (at, _) in lower.match_indices(key) {
            // The key may end a longer name (`dbpassword =`, `DbPassword:`); the separator check
            // below keeps it from starting one (`tokens`, `secretsmanager`).
            let mut i = at + key.len();
            if bytes.get(i) == Some(&b'"') || bytes.get(i) == Some(&b'\'') {
                i += 1;
            }
            while bytes.get(i) == Some(&b' ') {
                i += 1;
            }
            let sep = bytes.get(i).copied();
            if !matches!(sep, Some(b'=') | Some(b':')) {
                continue;
            }
            i += 1;
            while matches!(bytes.get(i), Some(b' ') | Some(b'"') | Some(b'\'')) {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"&\"',;)".contains(&bytes[i]) {
                i += 1;
            }
            // After `:` only a long value is a secret (`Token: abc…`), not prose.
            let long_enough = if sep == Some(b'=') { i > start } else { i - start >= 16 };
            if long_enough && !text[start..i].starts_with('<') {
                ranges.push((start, i));
            }
        }
    }
    replace_ranges(text, ranges, "<redacted>")
}

fn redact_access_key_ids(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i + 20 <= bytes.len() {
        let w = &bytes[i..i + 20];
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let after = bytes.get(i + 20).is_none_or(|b| !b.is_ascii_alphanumeric());
        if boundary && after && matches!(&w[..4], b"AKIA" | b"ASIA" | b"ABIA" | b"ACCA") && w[4..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            ranges.push((i, i + 20));
            i += 20;
        } else {
            i += 1;
        }
    }
    replace_ranges(text, ranges, "<access-key-id>")
}

fn redact_base64_words(text: &str) -> String {
    let bytes = text.as_bytes();
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'/' || b == b'+';
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_b64(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_b64(bytes[i]) {
            i += 1;
        }
        let word = &text[start..i];
        let padded = bytes.get(i) == Some(&b'=');
        let mixed = word.bytes().any(|b| b.is_ascii_lowercase())
            && word.bytes().any(|b| b.is_ascii_uppercase())
            && word.bytes().any(|b| b.is_ascii_digit() || b == b'/' || b == b'+');
        let replacement = if word.len() >= 100 {
            Some("<token>")
        } else if word.len() == 40 && mixed && !padded {
            Some("<secret>")
        } else {
            None
        };
        if let Some(r) = replacement {
            out.push_str(&text[last..start]);
            out.push_str(r);
            while i < bytes.len() && bytes[i] == b'=' {
                i += 1;
            }
            last = i;
        }
    }
    out.push_str(&text[last..]);
    out
}

fn replace_ranges(text: &str, mut ranges: Vec<(usize, usize)>, with: &str) -> String {
    ranges.sort();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in ranges {
        if start < last {
            continue;
        }
        out.push_str(&text[last..start]);
        out.push_str(with);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_secret_is_masked() {
        let secrets = [
            ("ghp_", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
            ("github_pat_", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghij"),
            ("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
            ("slack", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
            ("url password", "hunter2pass"),
            ("password pair", "s3cr3tvalue"),
            ("aws key id", "AKIAIOSFODNN7EXAMPLE"),
            ("aws secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            ("private key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
        ];
        let text = format!(
            "token {} and {} auth {} slack {} db postgres://app:hunter2pass@db.internal:5432/x password = \"s3cr3tvalue\" key {} secret {} \n-----BEGIN RSA PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END RSA PRIVATE KEY-----",
            secrets[0].1, secrets[1].1, secrets[2].1, secrets[3].1, secrets[6].1, secrets[7].1
        );
        let out = redact(&text);
        for (kind, secret) in secrets {
            assert!(!out.contains(secret), "{kind} survived: {out}");
        }
        assert!(out.contains("postgres://app:<redacted>@db.internal"), "{out}");
        let mut json = serde_json::json!({
            "db_password": "plain-words",
            "events": [{"message": format!("used {}", secrets[0].1)}],
            "role_arn": "arn:aws:iam::1:role/token",
            "changed": [{"path": "tags.DbPassword", "after": "hunter-two"}, {"path": "tags.Team", "after": "core"}],
            "environment": [{"name": "DB_PASS", "value": "hunter-three"}]
        });
        redact_json(&mut json);
        assert_eq!(json["db_password"], "<redacted>");
        assert_eq!(json["changed"][0]["after"], "<redacted>");
        assert_eq!(json["changed"][1]["after"], "core");
        assert_eq!(json["environment"][0]["value"], "<redacted>");
        assert_eq!(redact("tags.DbPassword = \"hunter-two\""), "tags.DbPassword = \"<redacted>\"");
        assert!(!json.to_string().contains(secrets[0].1));
        assert_eq!(json["role_arn"], "arn:aws:iam::1:role/token");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("a\u{1b}[31mred\u{7}\nnext\tcol"), "a\\u{1b}[31mred\\u{7}\nnext\tcol");
    }
}
