//! The signature of an error message: the message with everything that varies
//! from one occurrence of the same problem to the next replaced by a
//! placeholder, so that the learning log can recognise the problem again.
//!
//! In order:
//! 1. secrets are redacted ([`redact`]);
//! 2. line decorations go (Terraform's `│` frame, CI timestamps, log levels),
//!    and so do the lines that only say *where* (`with aws_s3_bucket.b,`,
//!    `on main.tf line 3, in resource …`, the source excerpt `3: resource …`),
//!    everything from `Lock Info:` on, the `<address>: ` prefix of old
//!    Terraform and a leading `Error: `;
//! 3. request and host ids are dropped with their labels;
//! 4. each remaining word is masked by its shape: ARNs → `<arn>`, UUIDs →
//!    `<uuid>`, dates and clock times → `<time>`, IPv4 addresses → `<ip>`,
//!    12-digit numbers → `<account>`, other numbers → `<n>` (but an HTTP status
//!    after `status code:` stays), AWS ids (`i-0abc…`, `sg-…`) and long hex →
//!    `<id>`, and names → `<name>`: quoted or parenthesised words that are not
//!    plain words, words mixing letters with digits and separators
//!    (`app-logs-123`, `t3.micro`), paths, words with `_` or several `-`, and
//!    the word after `name`, `role`, `bucket`, … unless it is a plain
//!    lower-case word. AWS codes, IAM actions (`s3:CreateBucket`), resource
//!    types (`aws_iam_role`) and plain words stay;
//! 5. whitespace collapses; the result is cut at [`MAX_SIGNATURE_CHARS`].
//!
//! [`signature_id`] is the first 12 hex digits of its SHA-256.

use sha2::{Digest, Sha256};

use super::extract::{address_type, arn_at, is_iam_action, strip_decorations};
pub use crate::redact::redact;

/// Signatures are cut here (at a character boundary).
pub const MAX_SIGNATURE_CHARS: usize = 400;

/// The normalised message; the same for two occurrences of the same problem.
pub fn signature(message: &str) -> String {
    let redacted = redact(message);
    let mut parts: Vec<String> = Vec::new();
    for raw in redacted.lines() {
        let line = strip_decorations(raw);
        let (line, last) = match line.find("Lock Info:") {
            Some(at) => (&line[..at], true),
            None => (line, false),
        };
        if !is_location_line(line) {
            let line = strip_prefixes(line).trim();
            if !line.is_empty() {
                parts.push(mask_line(line));
            }
        }
        if last {
            break;
        }
    }
    let joined = parts.join(" ");
    let mut out = joined.split_whitespace().collect::<Vec<_>>().join(" ");
    while out.ends_with([',', ';']) {
        out.pop();
    }
    match out.char_indices().nth(MAX_SIGNATURE_CHARS) {
        Some((at, _)) => out[..at].to_string(),
        None => out,
    }
}

/// A short stable id for a signature: 12 hex digits of its SHA-256.
pub fn signature_id(signature: &str) -> String {
    let digest = Sha256::digest(signature.as_bytes());
    hex::encode(&digest[..6])
}

/// Lines that only say where the error is: `with <address>,`, `on <file> line
/// N, in …`, and the source excerpt `12: resource "…" "…" {`.
fn is_location_line(line: &str) -> bool {
    if let Some(rest) = line.strip_prefix("with ") {
        let head = rest.split(',').next().unwrap_or("").trim();
        return head.starts_with("provider[") || address_type(head).is_some();
    }
    if line.starts_with("on ") && line.contains(" line ") {
        return true;
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && line[digits..].starts_with(':') && line[digits + 1..].starts_with([' ', '\t'])
}

/// Drops `<address>: `, `provider.aws: `, `Error: ` and `[ERROR] ` at the start.
fn strip_prefixes(line: &str) -> &str {
    let mut s = line.trim_start();
    loop {
        let before = s.len();
        if let Some((head, rest)) = s.split_once(": ")
            && (address_type(head).is_some() || head.starts_with("provider."))
        {
            s = rest.trim_start();
        }
        for prefix in ["Error: ", "error: ", "[ERROR] "] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest.trim_start();
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

/// Masks each word of one line (see the module doc).
fn mask_line(line: &str) -> String {
    let quoted = mask_quotes(line);
    let tokens: Vec<&str> = quoted.split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let here = tokens[i].to_ascii_lowercase();
        let next = tokens.get(i + 1).map(|t| t.to_ascii_lowercase());
        // `request id: X`, `host id: X` (v1) and `RequestID: X`, `HostID: X` (v2) go, value included.
        if matches!(here.as_str(), "request" | "host") && next.as_deref() == Some("id:") {
            i += 3;
            continue;
        }
        if matches!(here.as_str(), "requestid:" | "hostid:" | "x-amzn-requestid:") {
            i += 2;
            continue;
        }
        let prev = if i > 0 { tokens[i - 1] } else { "" };
        out.push(mask_token(tokens[i], prev));
        i += 1;
    }
    out.join(" ")
}

/// Quoted words that are not plain words become `"<name>"` (quotes kept):
/// `"app_logs-1"`, `'/aws/lambda/x'`. Text in quotes with spaces stays.
fn mask_quotes(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let opens = (c == '"' || c == '\'') && (i == 0 || !chars[i - 1].is_alphanumeric());
        if opens && let Some(len) = chars[i + 1..].iter().take(200).position(|d| *d == c) {
            let content = &chars[i + 1..i + 1 + len];
            let close = i + 1 + len;
            let closes = chars.get(close + 1).is_none_or(|d| !d.is_alphanumeric());
            if closes && !content.is_empty() && !content.iter().any(|d| d.is_whitespace()) {
                let plain = content.iter().all(|d| d.is_alphabetic());
                let placeholder = content[0] == '<' && content[content.len() - 1] == '>';
                out.push(c);
                if plain || placeholder {
                    out.extend(content);
                } else {
                    out.push_str("<name>");
                }
                out.push(c);
                i = close + 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Words after which a name usually follows (`Role with name X`, `IAM Role X`).
const NAME_INTRODUCERS: &[&str] = &[
    "name",
    "named",
    "role",
    "bucket",
    "function",
    "user",
    "group",
    "profile",
    "table",
    "topic",
    "queue",
    "cluster",
    "repository",
    "stack",
    "domain",
    "secret",
    "alias",
    "key",
    "layer",
    "policy",
    "configuration",
    "distribution",
    "vault",
    "workspace",
];

fn mask_token(token: &str, prev: &str) -> String {
    let lead_len = token.len() - token.trim_start_matches(['(', '[', '{', '"', '\'']).len();
    let rest = &token[lead_len..];
    let core = rest.trim_end_matches([')', ']', '}', '"', '\'', ',', '.', ';', ':', '!', '?']);
    let (lead, trail) = (&token[..lead_len], &rest[core.len()..]);
    if core.is_empty() || (core.starts_with('<') && core.ends_with('>')) {
        return token.to_string();
    }
    let parenthesised = lead.ends_with('(') && trail.starts_with(')');
    let masked = mask_core(core, prev, parenthesised);
    format!("{lead}{masked}{trail}")
}

fn mask_core(core: &str, prev: &str, parenthesised: bool) -> String {
    // `10.0.0.5:5353->10.0.0.1:53`: each side alone.
    if let Some((a, b)) = core.split_once("->") {
        return format!("{}->{}", mask_core(a, "", false), mask_core(b, "", false));
    }
    // `Engine=mysql`, `DBInstanceClass=db.t3.micro`: the key stays, the value is masked.
    if let Some((key, value)) = core.split_once('=')
        && !key.is_empty()
        && !value.is_empty()
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        let value = value.trim_start_matches(['[', '(', '"', '\'']).trim_end_matches([']', ')', '"', '\'']);
        return format!("{key}={}", mask_core(value, "", false));
    }
    if core.starts_with("arn:") && arn_at(core).matches(':').count() >= 5 {
        return "<arn>".into();
    }
    if let Some((scheme, rest)) = core.split_once("://") {
        let host = rest.split('/').next().unwrap_or("");
        let host = if is_ip(host) { "<ip>".to_string() } else { host.to_string() };
        return format!("{scheme}://{host}");
    }
    if is_uuid(core) {
        return "<uuid>".into();
    }
    if is_time(core) {
        return "<time>".into();
    }
    if is_ip(core) {
        return "<ip>".into();
    }
    if core.contains('@') && core.split('@').all(|p| !p.is_empty()) {
        return "<name>".into();
    }
    if core.bytes().all(|b| b.is_ascii_digit()) {
        let status_label = matches!(prev.to_ascii_lowercase().as_str(), "code:" | "statuscode:");
        return if status_label {
            core.into()
        } else if core.len() == 12 {
            "<account>".into()
        } else {
            "<n>".into()
        };
    }
    if core.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+') && core.bytes().any(|b| b.is_ascii_digit()) {
        return "<n>".into();
    }
    // A duration: `10s`, `250ms`, `5m`.
    let digits = core.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && matches!(&core[digits..], "ms" | "s" | "m" | "h" | "min") {
        return format!("<n>{}", &core[digits..]);
    }
    if is_aws_id(core) || is_long_hex(core) {
        return "<id>".into();
    }
    if is_iam_action(core) || is_plain_resource_type(core) {
        return core.into();
    }
    if let Some(kind) = address_type(core) {
        return format!("{kind}.<name>");
    }
    if parenthesised || is_name_shaped(core) || follows_introducer(core, prev) {
        return "<name>".into();
    }
    core.into()
}

/// `aws_s3_bucket`: kept, it says what kind of resource failed.
fn is_plain_resource_type(s: &str) -> bool {
    s.starts_with("aws_") && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Letters with digits and a separator (`app-logs-2`, `t3.micro`), a long
/// letters-and-digits word with several digits (`h7rD1XcGWxHMDCG7`), a path,
/// or a word with `_` or several `-` (`orders_api`, `blue-green-prod`).
fn is_name_shaped(s: &str) -> bool {
    let alpha = s.bytes().any(|b| b.is_ascii_alphabetic());
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let hyphens = s.matches('-').count();
    let seps = s.bytes().filter(|b| b"-_./\\".contains(b)).count();
    if alpha && digits > 0 && seps > 0 {
        return true;
    }
    if seps == 0 {
        return s.len() >= 8 && digits >= 3 && alpha;
    }
    s.starts_with('/') || s.matches('/').count() >= 2 || s.contains('\\') || s.contains('_') || hyphens >= 2
}

/// A word right after `name`, `role`, `bucket`, … (without punctuation in
/// between) that is neither a plain word (`with`, `Configuration`) nor a short
/// acronym: `Role with name MyServiceRole`.
fn follows_introducer(core: &str, prev: &str) -> bool {
    let introduced = NAME_INTRODUCERS.contains(&prev.to_ascii_lowercase().as_str());
    let b = core.as_bytes();
    // `with`, `Configuration`: words, not names.
    let plain = b[1..].iter().all(u8::is_ascii_lowercase) && b[0].is_ascii_alphabetic();
    let acronym = core.len() <= 5 && core.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    introduced && !plain && !acronym && core.len() >= 3
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5 && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `2024-03-20`, `2024-03-20T10:48:45.103Z`, `10:48:45`, `10:48:45.1`.
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    let date = b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[5..7].iter().all(u8::is_ascii_digit) && b[7] == b'-';
    let clock = b.len() >= 8 && b[..2].iter().all(u8::is_ascii_digit) && b[2] == b':' && b[3..5].iter().all(u8::is_ascii_digit) && b[5] == b':';
    date || clock
}

/// `10.0.1.5`, `10.0.1.5:443`.
fn is_ip(s: &str) -> bool {
    let host = match s.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => s,
    };
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `i-0abc1234def567890`, `sg-cd40e2b6`, `vpc-…`, `ami-…`: a short lower-case
/// prefix, `-`, then 8 or 17 hex digits with at least one digit.
fn is_aws_id(s: &str) -> bool {
    let Some((prefix, hex)) = s.split_once('-') else { return false };
    (1..=12).contains(&prefix.len())
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && matches!(hex.len(), 8 | 17)
        && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && hex.bytes().any(|b| b.is_ascii_digit())
}

fn is_long_hex(s: &str) -> bool {
    s.len() >= 12 && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic())
}
