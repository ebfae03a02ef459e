//! What an error message says, pulled out by hand-written scanners (no
//! regular expressions): Terraform diagnostics (`Error: …`, `with <address>,`,
//! `on main.tf line 12`), the AWS SDK for Go v1 (`Code: message\n\tstatus code:
//! 403, request id: …`) and v2 (`operation error S3: CreateBucket, https
//! response error StatusCode: 403, RequestID: …, api error AccessDenied: …`),
//! and IAM denials (`User: arn:… is not authorized to perform: x:Y on
//! resource: arn:…`).
//!
//! Everything is best effort: a field is `None` or empty when the message does
//! not say it, never a guess.

use serde::{Deserialize, Serialize};

/// The facts found in one error message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Extracted {
    /// The AWS error code the message is about: the one after `api error`
    /// (SDK v2), else the first code-shaped word followed by `: `
    /// (`AccessDenied: Access Denied`).
    pub aws_error_code: Option<String>,
    /// Further AWS error codes in the message, in order (a wrapped or quoted
    /// error: `EC2 Error Code: RequestLimitExceeded`).
    pub other_error_codes: Vec<String>,
    /// `status code: 403` (SDK v1) or `StatusCode: 403` (SDK v2); 0 means no
    /// HTTP answer at all.
    pub http_status: Option<u16>,
    /// The AWS service as the SDK names it in `operation error <service>:`
    /// (`S3`, `CloudWatch Logs`), else the prefix of the action.
    pub service: Option<String>,
    /// The IAM action in `service:Action` form: the denied one when the
    /// message names it (`not authorized to perform: iam:PassRole`), else the
    /// API call that failed (`operation error S3: CreateBucket` →
    /// `s3:CreateBucket`, `error calling sts:GetCallerIdentity`).
    pub action: Option<String>,
    /// The action is the one the denial names (`not authorized to perform:
    /// x:Y`), not merely the API call that failed.
    pub action_denied: bool,
    /// The message says access was denied: an access-denied code or "not
    /// authorized to perform".
    pub access_denied: bool,
    /// The denial is an explicit deny (service control policy, permissions
    /// boundary, resource policy): an Allow statement cannot lift it.
    pub explicit_deny: bool,
    /// The caller named in `User: <arn> is not authorized …`.
    pub principal: Option<String>,
    /// The resource named in `… on resource: <arn>`.
    pub denied_resource: Option<String>,
    /// The Terraform resource type (`aws_s3_bucket`).
    pub resource_type: Option<String>,
    /// The Terraform resource address (`module.site.aws_s3_bucket.logs[0]`).
    pub resource_address: Option<String>,
    /// Every ARN in the message, in order, without repeats.
    pub arns: Vec<String>,
    /// The AWS request id, when the message carries a real one.
    pub request_id: Option<String>,
    /// The state lock's `ID:` from Terraform's `Lock Info:` block.
    pub state_lock_id: Option<String>,
    /// The kind and name Terraform's provider was working on:
    /// `creating S3 Bucket (uploads): …` → `("S3 Bucket", "uploads")`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<(String, String)>,
}

/// Reads everything [`Extracted`] holds out of `message`.
pub fn extract(message: &str) -> Extracted {
    let lower = message.to_ascii_lowercase();
    let (aws_error_code, other_error_codes) = error_codes(message, &lower);
    let operation = operation(message, &lower);
    let denied_action = denied_action(message, &lower);
    let action = denied_action
        .clone()
        .or_else(|| operation.as_ref().and_then(|(service, op)| iam_prefix(service).map(|p| format!("{p}:{op}"))))
        .or_else(|| after_phrase(message, &lower, "error calling ").and_then(|a| normalise_action(&a)));
    let service = operation.map(|(service, _)| service).or_else(|| action.as_ref().and_then(|a| a.split(':').next()).map(str::to_string));
    let access_denied = lower.contains("not authorized to perform") || aws_error_code.iter().chain(&other_error_codes).any(|c| is_access_denied_code(c));
    let (resource_address, resource_type) = resource(message);
    Extracted {
        aws_error_code,
        other_error_codes,
        http_status: http_status(&lower),
        service,
        action_denied: denied_action.is_some(),
        action,
        access_denied,
        explicit_deny: lower.contains("explicit deny"),
        principal: principal(message),
        denied_resource: denied_resource(message, &lower),
        resource_type,
        resource_address,
        arns: arns(message),
        request_id: request_id(message, &lower),
        state_lock_id: lock_id(message),
        target: target(message),
    }
}

/// `creating S3 Bucket (uploads)` → `("S3 Bucket", "uploads")`: the provider's
/// `<verb> <Kind> (<name>)` phrase, for creating, updating, deleting and reading.
fn target(message: &str) -> Option<(String, String)> {
    ["creating ", "updating ", "deleting ", "reading "].iter().find_map(|verb| {
        let at = message.find(verb)? + verb.len();
        let rest = &message[at..];
        let open = rest.find(" (")?;
        let kind = &rest[..open];
        let after = &rest[open + 2..];
        let close = after.find(')')?;
        let name = &after[..close];
        let kind_ok = !kind.is_empty() && kind.len() <= 60 && kind.split(' ').all(|w| w.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit()));
        let name_ok = !name.is_empty() && name.len() <= 255 && !name.contains(char::is_whitespace);
        (kind_ok && name_ok).then(|| (kind.to_string(), name.to_string()))
    })
}

impl Extracted {
    /// The primary AWS error code, then the others.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.aws_error_code.iter().chain(&self.other_error_codes).map(String::as_str)
    }
}

/// `AccessDenied`, `AccessDeniedException`, `UnauthorizedOperation`, … : the
/// codes that say the caller may not do this.
pub(super) fn is_access_denied_code(code: &str) -> bool {
    code.ends_with("AccessDenied")
        || code.ends_with("AccessDeniedException")
        || matches!(
            code,
            "UnauthorizedOperation"
                | "UnauthorizedAccess"
                | "AuthorizationError"
                | "AuthorizationErrorException"
                | "AuthorizationFailure"
                | "Forbidden"
                | "ForbiddenException"
                | "AllAccessDisabled"
                | "InsufficientPermissionsException"
        )
}

/// `s3:CreateBucket`, `cognito-idp:AdminCreateUser`, `ec2:Describe*`.
pub(super) fn is_iam_action(s: &str) -> bool {
    let Some((prefix, name)) = s.split_once(':') else { return false };
    !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_uppercase() || c == '*')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*')
}

/// Words followed by `: ` that have the shape of an AWS code but are SDK
/// field labels.
const NOT_CODES: &[&str] = &["RequestID", "RequestId", "StatusCode", "HostID", "HostId", "ErrorCode", "ErrorMessage", "StatusReason"];

/// The primary code and the others. A code is a word starting with an
/// upper-case letter, in CamelCase or ending in `Exception` (dots allowed:
/// `InvalidGroup.NotFound`), followed by `: ` and text that is not a number
/// (`PoliciesPerRole: 15` is a quota name), not preceded by `operation error`
/// (that is the service) or by `:` (an IAM action). `Error Code: X` also
/// counts.
fn error_codes(text: &str, lower: &str) -> (Option<String>, Vec<String>) {
    let bytes = text.as_bytes();
    let mut codes: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_uppercase() && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || b":._-/".contains(&bytes[i - 1])));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'.') {
            j += 1;
        }
        let word = text[i..j].trim_end_matches('.');
        let end = i + word.len();
        // `Code: text`, not `svc:Action`, `Code:x` or `QuotaName: 15`.
        let followed = bytes.get(end) == Some(&b':')
            && !bytes.get(end + 1).is_some_and(|b| *b == b':' || b.is_ascii_alphanumeric())
            && !only_a_number(text[end + 1..].trim_start_matches([' ', '\t']));
        let by_operation = lower[..i].trim_end().ends_with("operation error");
        if followed && !by_operation && code_shaped(word) {
            codes.push((i, word.to_string()));
        }
        i = j.max(i + 1);
    }
    for (at, label) in lower.match_indices("error code:") {
        let rest = &text[at + label.len()..];
        let start = at + label.len() + (rest.len() - rest.trim_start().len());
        let word: String = text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
        let word = word.trim_end_matches('.');
        if code_shaped(word) && !codes.iter().any(|(_, c)| c == word) {
            codes.push((start, word.to_string()));
        }
    }
    codes.sort_by_key(|(at, _)| *at);
    let mut ordered: Vec<String> = Vec::new();
    for (_, c) in codes {
        if !ordered.contains(&c) {
            ordered.push(c);
        }
    }
    // SDK v2 names the code it is about after `api error`.
    if let Some(at) = lower.find("api error ") {
        let word: String = text[at + 10..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
        if let Some(pos) = ordered.iter().position(|c| *c == word) {
            let code = ordered.remove(pos);
            ordered.insert(0, code);
        }
    }
    let mut it = ordered.into_iter();
    (it.next(), it.collect())
}

/// `15` or `6144,` ending the line: a value, as in `PoliciesPerRole: 15`.
fn only_a_number(s: &str) -> bool {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && s[digits..].chars().next().is_none_or(|c| matches!(c, '\n' | '\r' | ',' | ')' | ';' | ']'))
}

fn code_shaped(word: &str) -> bool {
    if word.len() < 4 || NOT_CODES.contains(&word) || !word.starts_with(|c: char| c.is_ascii_uppercase()) {
        return false;
    }
    let b = word.as_bytes();
    let camel = b.windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    camel || word.ends_with("Exception") || matches!(word, "Throttling" | "Forbidden")
}

/// `operation error <Service>: <Operation>,` (SDK v2).
fn operation(text: &str, lower: &str) -> Option<(String, String)> {
    let at = lower.find("operation error ")? + "operation error ".len();
    let rest = &text[at..];
    let colon = rest.find(':')?;
    let service = rest[..colon].trim();
    if service.is_empty() || service.len() > 40 || !service.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') {
        return None;
    }
    let op: String = rest[colon + 1..].trim_start().chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    (op.starts_with(|c: char| c.is_ascii_uppercase())).then(|| (service.to_string(), op))
}

/// `SNS:Publish` → `sns:Publish`: IAM action prefixes are case-insensitive
/// and written in lower case.
fn normalise_action(s: &str) -> Option<String> {
    let (prefix, name) = s.split_once(':')?;
    let action = format!("{}:{name}", prefix.to_ascii_lowercase());
    is_iam_action(&action).then_some(action)
}

/// The IAM service prefix of an SDK service name: `CloudWatch Logs` → `logs`;
/// `None` for the SDK's clients that are not AWS services (`ec2imds`).
pub(super) fn iam_prefix(service: &str) -> Option<String> {
    let key: String = service.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    let known = match key.as_str() {
        "cloudwatchlogs" => "logs",
        "cloudwatchevents" | "eventbridge" => "events",
        "apigatewayv2" | "apigateway" => "apigateway",
        "elasticloadbalancingv2" | "elasticloadbalancing" | "elbv2" => "elasticloadbalancing",
        "sfn" => "states",
        "cognitoidentityprovider" => "cognito-idp",
        "cognitoidentity" => "cognito-identity",
        "efs" => "elasticfilesystem",
        "opensearch" | "elasticsearchservice" => "es",
        "s3control" => "s3",
        "route53domains" => "route53domains",
        "acmpca" => "acm-pca",
        "servicequotas" => "servicequotas",
        "applicationautoscaling" => "application-autoscaling",
        "ec2imds" | "imds" => return None,
        _ => "",
    };
    Some(if known.is_empty() { key } else { known.to_string() })
}

/// The action named as denied: `not authorized to perform: x:Y`, or `… allows
/// the x:Y action` / `… deny … the x:Y action`.
fn denied_action(text: &str, lower: &str) -> Option<String> {
    if let Some(a) = after_phrase(text, lower, "not authorized to perform: ").and_then(|a| normalise_action(&a)) {
        return Some(a);
    }
    lower.match_indices(" action").find_map(|(at, _)| {
        let before = text[..at].trim_end();
        let word = before.rsplit(|c: char| c.is_whitespace()).next()?;
        let lead = &lower[..at];
        let named = lead.ends_with(&format!("allows the {}", word.to_ascii_lowercase())) || lead.contains("deny");
        if named { normalise_action(word) } else { None }
    })
}

/// The token right after the first `phrase` (matched without case), cut at
/// whitespace or `,;()[]"'` and a trailing `.` or `:`.
fn after_phrase(text: &str, lower: &str, phrase: &str) -> Option<String> {
    let at = lower.find(phrase)? + phrase.len();
    let token = token_at(&text[at..]);
    (!token.is_empty()).then(|| token.to_string())
}

fn token_at(s: &str) -> &str {
    let s = s.trim_start_matches([' ', '\t', '[']);
    let end = s.find(|c: char| c.is_whitespace() || ",;()[]\"'`".contains(c)).unwrap_or(s.len());
    s[..end].trim_end_matches(['.', ':'])
}

/// `User: <arn> is not authorized`.
fn principal(text: &str) -> Option<String> {
    text.match_indices("User: ").find_map(|(at, l)| {
        let arn = token_at(&text[at + l.len()..]);
        (arn.starts_with("arn:") && text[at + l.len() + arn.len()..].trim_start().starts_with("is not authorized")).then(|| arn.to_string())
    })
}

/// `… on resource: <arn>` (also `on resource(s):`).
fn denied_resource(text: &str, lower: &str) -> Option<String> {
    ["on resource: ", "on resource(s): "].iter().find_map(|p| after_phrase(text, lower, p).filter(|a| a.starts_with("arn:")))
}

fn http_status(lower: &str) -> Option<u16> {
    ["status code", "statuscode"].iter().find_map(|label| {
        lower.match_indices(label).find_map(|(at, l)| {
            let rest = lower[at + l.len()..].trim_start_matches([':', ' ', '\t']);
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (!digits.is_empty() && digits.len() <= 3).then(|| digits.parse().ok()).flatten()
        })
    })
}

/// `request id: X` (v1), `RequestID: X` (v2), `x-amzn-RequestId: X`; not the
/// placeholders people paste (`<snip>`, `...`) nor an empty value.
fn request_id(text: &str, lower: &str) -> Option<String> {
    ["request id:", "requestid:"].iter().find_map(|label| {
        lower.match_indices(label).find_map(|(at, l)| {
            let id = token_at(&text[at + l.len()..]).trim_end_matches(']');
            let real = id.len() >= 8 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            real.then(|| id.to_string())
        })
    })
}

/// Terraform's `Lock Info:` block: `  ID:        f9763602-…`.
fn lock_id(text: &str) -> Option<String> {
    let at = text.find("Lock Info:")?;
    text[at..].lines().skip(1).take(8).find_map(|line| {
        let line = strip_decorations(line);
        let id = line.strip_prefix("ID:")?.trim();
        (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_string())
    })
}

/// Every `arn:partition:service:region:account:resource` in the message.
fn arns(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (at, _) in text.match_indices("arn:") {
        if at > 0 && text.as_bytes()[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        let arn = arn_at(&text[at..]);
        if arn.matches(':').count() >= 5 && !out.iter().any(|a| a == arn) {
            out.push(arn.to_string());
        }
    }
    out
}

/// The ARN at the start of `s`: up to whitespace or `,"'()[]{}` and without a
/// trailing `.` or `:`.
pub(super) fn arn_at(s: &str) -> &str {
    let end = s.find(|c: char| c.is_whitespace() || ",\"'()[]{}`".contains(c)).unwrap_or(s.len());
    s[..end].trim_end_matches(['.', ':'])
}

/// The resource address and type: Terraform's `with <address>,` line, the
/// old `* <address>: Error …` prefix, or `in resource "<type>" "<name>"`.
fn resource(text: &str) -> (Option<String>, Option<String>) {
    for line in text.lines() {
        let line = strip_decorations(line);
        let candidate = if let Some(rest) = line.strip_prefix("with ") {
            rest.split(',').next().unwrap_or("").trim()
        } else if let Some((head, _)) = line.split_once(": ") {
            head.trim()
        } else {
            continue;
        };
        if let Some(kind) = address_type(candidate) {
            return (Some(candidate.to_string()), Some(kind));
        }
    }
    let kind = text.find("in resource \"").and_then(|at| {
        let rest = &text[at + "in resource \"".len()..];
        let t = &rest[..rest.find('"')?];
        is_resource_type(t).then(|| t.to_string())
    });
    (None, kind)
}

/// The resource type of a Terraform address (`module.a["k"].aws_iam_role.r[0]`
/// → `aws_iam_role`), or `None` when `address` is not one.
pub(super) fn address_type(address: &str) -> Option<String> {
    if address.is_empty() || address.contains(char::is_whitespace) || address.starts_with("provider") {
        return None;
    }
    let segments = split_address(address);
    let mut i = 0;
    while i < segments.len() {
        let seg = segments[i];
        if seg == "module" {
            i += 2;
            continue;
        }
        if seg == "data" {
            i += 1;
            continue;
        }
        if is_resource_type(seg) && i + 1 < segments.len() && is_name(segments[i + 1]) {
            return Some(seg.to_string());
        }
        return None;
    }
    None
}

/// Splits an address on the dots outside `[...]`, dropping the index.
fn split_address(address: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in address.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                out.push(&address[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&address[start..]);
    out.into_iter().map(|s| s.split('[').next().unwrap_or(s)).collect()
}

/// `aws_s3_bucket`: a provider prefix, `_`, then lower-case words.
fn is_resource_type(s: &str) -> bool {
    s.contains('_') && s.starts_with(|c: char| c.is_ascii_lowercase()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A line without what surrounds Terraform's and CI logs' messages: the
/// diagnostic frame (`│ ╷ ╵`), leading clock times and `[timestamps]`, log
/// levels (`ERROR`, `ERRO[0020]`, `[ERROR]`) and `*` bullets.
pub(super) fn strip_decorations(line: &str) -> &str {
    let mut s = line;
    loop {
        let before = s.len();
        s = s.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '│' | '╷' | '╵' | '|' | '*'));
        if let Some(rest) = strip_clock(s) {
            s = rest;
        }
        if s.starts_with('[')
            && let Some(end) = s.find(']')
            && (s[1..end].bytes().any(|b| b.is_ascii_digit()) || matches!(&s[1..end], "ERROR" | "WARN" | "INFO" | "DEBUG" | "TRACE"))
        {
            s = &s[end + 1..];
        }
        for level in ["ERROR", "ERRO", "WARN", "INFO", "DEBUG"] {
            if let Some(rest) = s.strip_prefix(level) {
                if rest.starts_with(char::is_whitespace) {
                    s = rest;
                } else if rest.starts_with('[')
                    && let Some(end) = rest.find(']')
                {
                    s = &rest[end + 1..];
                }
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

/// `13:16:46 ` or `10:48:45.103 ` at the start.
fn strip_clock(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let clock = b.len() >= 8
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2] == b':'
        && b[3..5].iter().all(u8::is_ascii_digit)
        && b[5] == b':'
        && b[6..8].iter().all(u8::is_ascii_digit);
    if !clock {
        return None;
    }
    let rest = s[8..].trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    rest.starts_with(char::is_whitespace).then_some(rest)
}
