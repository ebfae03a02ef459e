//! Secret redaction for everything faber-cloud shows or stores: tool replies,
//! CLI output, reports, errors from child processes, the learning log
//! (DESIGN.md §6). Pure.

/// `text` with secrets replaced: AWS access key ids (`AKIA…`, `ASIA…`) →
/// `<access-key-id>`; the value after `password=`, `token=`, `secret:`,
/// `X-Amz-Security-Token=`, `Signature=`, … → `<redacted>`; a 40-character
/// mixed-case base64 word (a secret access key) → `<secret>`; a base64 word of
/// 100 characters or more (a session token) → `<token>`.
pub fn redact(text: &str) -> String {
    let keyed = redact_key_values(text);
    let keys = redact_access_key_ids(&keyed);
    redact_base64_words(&keys)
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
            if at > 0 && bytes[at - 1].is_ascii_alphanumeric() {
                continue;
            }
            let mut i = at + key.len();
            if bytes.get(i) == Some(&b'"') || bytes.get(i) == Some(&b'\'') {
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
