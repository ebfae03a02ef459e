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

use std::borrow::Cow;

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
    /// The kind of policy the denial names when it is not the caller's
    /// identity policy (`… with an explicit deny in a service control
    /// policy`, `… because no resource-based policy allows …`): a statement
    /// in an identity policy cannot fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<PolicyKind>,
    /// The role a service uses that lacks the permission, when the message
    /// says so instead of naming the caller (`The provided execution role
    /// does not have permissions to call …`): the deploy principal is not the
    /// one to fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_role: Option<String>,
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

/// A policy other than the caller's identity policy that decided a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// A policy on the resource (bucket, key, repository, queue, …).
    ResourcePolicy,
    /// A service control policy of the AWS Organization.
    ServiceControlPolicy,
    /// A resource control policy of the AWS Organization.
    ResourceControlPolicy,
    /// The permissions boundary of the caller.
    PermissionsBoundary,
    /// The session policy passed when the role was assumed.
    SessionPolicy,
    /// The policy of the VPC endpoint the call went through.
    VpcEndpointPolicy,
    /// An explicit deny whose policy the message does not name.
    ExplicitDeny,
}

impl PolicyKind {
    /// In words: `a service control policy`.
    pub fn describe(self) -> &'static str {
        match self {
            PolicyKind::ResourcePolicy => "a resource-based policy (the bucket, key, repository or queue policy)",
            PolicyKind::ServiceControlPolicy => "a service control policy of the AWS Organization",
            PolicyKind::ResourceControlPolicy => "a resource control policy of the AWS Organization",
            PolicyKind::PermissionsBoundary => "the caller's permissions boundary",
            PolicyKind::SessionPolicy => "the session policy of the assumed role",
            PolicyKind::VpcEndpointPolicy => "the VPC endpoint policy",
            PolicyKind::ExplicitDeny => "an explicit deny in a policy the message does not name",
        }
    }
}

/// `message` as the rules read it: without terminal colour codes (`ESC[31m`,
/// and the bare `[31m` a copy from a CI page leaves when it drops the ESC or
/// shows it as `�`), and with the escapes of a message logged inside a JSON
/// string undone (`\"`, `\n`, `\t`).
pub fn clean(message: &str) -> Cow<'_, str> {
    let json_escaped = message.contains("\\\"") || message.contains("\\n");
    if !json_escaped && !message.contains(['\x1b', '\u{fffd}']) && !message.match_indices('[').any(|(at, _)| csi_len(&message[at..], false).is_some()) {
        return Cow::Borrowed(message);
    }
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        match c {
            '\x1b' | '\u{fffd}' => {
                if let Some(n) = csi_len(after, c == '\x1b') {
                    rest = &after[n..];
                    continue;
                }
                if c == '\x1b' {
                    rest = after;
                    continue;
                }
            }
            '[' => {
                if let Some(n) = csi_len(rest, false) {
                    rest = &rest[n..];
                    continue;
                }
            }
            '\\' if json_escaped => {
                let unescaped = match after.as_bytes().first() {
                    Some(b'"') => Some('"'),
                    Some(b'n') => Some('\n'),
                    Some(b't') => Some('\t'),
                    Some(b'\\') => Some('\\'),
                    _ => None,
                };
                if let Some(u) = unescaped {
                    out.push(u);
                    rest = &after[1..];
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
        rest = after;
    }
    Cow::Owned(out)
}

/// The length of the control sequence at the start of `s`: `[31m`, `[0;1m`
/// (select graphic rendition), or, after an ESC (`any_final`), any CSI
/// sequence (`[2K`, `[1A`).
fn csi_len(s: &str, any_final: bool) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut i = 1;
    while i < b.len() && i <= 16 && (b[i].is_ascii_digit() || b[i] == b';') {
        i += 1;
    }
    let last = *b.get(i)?;
    let ok = if any_final { (0x40..=0x7e).contains(&last) } else { last == b'm' && i > 1 };
    ok.then_some(i + 1)
}

/// Reads everything [`Extracted`] holds out of `message`.
pub fn extract(message: &str) -> Extracted {
    let message = clean(message);
    let message = message.as_ref();
    let lower = message.to_ascii_lowercase();
    // Phrases are looked for with line breaks and runs of spaces as one space:
    // messages are wrapped and aligned (`not authorized\n│ to perform`).
    let flat = flat_lower(message);
    let (aws_error_code, other_error_codes) = error_codes(message, &lower);
    let operation = operation(message, &lower);
    let service_role = service_role(&flat);
    let denied_action = denied_action(message, &lower);
    let action = denied_action
        .clone()
        .or_else(|| operation.as_ref().and_then(|(service, op)| iam_prefix(service).map(|p| format!("{p}:{op}"))))
        .or_else(|| after_phrase(message, &lower, "error calling ").and_then(|a| normalise_action(&a)))
        .or_else(|| provider_action(message));
    let service = operation.map(|(service, _)| service).or_else(|| action.as_ref().and_then(|a| a.split(':').next()).map(str::to_string));
    let named_denial = flat.contains("not authorized to perform")
        || (service_role.is_some()
            && ["does not have permission", "not able to access", "access has been denied", "not authorized"].iter().any(|p| flat.contains(p)));
    let access_denied = named_denial || aws_error_code.iter().chain(&other_error_codes).any(|c| is_access_denied_code(c));
    let (resource_address, resource_type) = resource(message);
    Extracted {
        aws_error_code,
        other_error_codes,
        http_status: http_status(&lower),
        service,
        action_denied: denied_action.is_some(),
        action,
        access_denied,
        explicit_deny: flat.contains("explicit deny"),
        blocked_by: blocked_by(&flat),
        service_role,
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

/// `text` lower-cased, every run of whitespace (line breaks, alignment, the
/// `│` of Terraform's diagnostic frame at a line's start) as one space.
pub(super) fn flat_lower(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        for word in strip_decorations(line).split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&word.to_ascii_lowercase());
        }
    }
    out
}

/// The policy that decided a denial, when it is not the caller's identity
/// policy: the wording AWS uses in `… with an explicit deny in a <policy>`
/// and `… because no <policy> allows the x:Y action`.
fn blocked_by(lower: &str) -> Option<PolicyKind> {
    let kinds: [(&[&str], PolicyKind); 6] = [
        (&["service control policy"], PolicyKind::ServiceControlPolicy),
        (&["resource control policy"], PolicyKind::ResourceControlPolicy),
        (&["permissions boundary", "permission boundary"], PolicyKind::PermissionsBoundary),
        (&["session policy"], PolicyKind::SessionPolicy),
        (&["vpc endpoint policy"], PolicyKind::VpcEndpointPolicy),
        (&["resource-based policy", "resource based policy"], PolicyKind::ResourcePolicy),
    ];
    let denial = lower.contains("explicit deny") || lower.contains("no ") && lower.contains(" allows");
    if !denial {
        return None;
    }
    kinds
        .iter()
        .find(|(phrases, _)| phrases.iter().any(|p| lower.contains(&format!("explicit deny in a {p}")) || lower.contains(&format!("no {p} allows"))))
        .map(|(_, kind)| *kind)
        .or_else(|| lower.contains("explicit deny").then_some(PolicyKind::ExplicitDeny))
}

/// The service's role that lacks a permission, when the message blames it
/// rather than the caller: a Lambda function's execution role (`The provided
/// execution role does not have permissions to call …`, `Lambda was not able
/// to access EC2's API using the Lambda Execution Role`), an ECS task role.
fn service_role(lower: &str) -> Option<String> {
    let role = ["function execution role", "execution role", "task role"].iter().find(|p| lower.contains(*p))?;
    let whose = if lower.contains("lambda") || lower.contains("function") {
        "the Lambda function's execution role"
    } else if lower.contains("task") {
        "the ECS task's role"
    } else {
        return Some(format!("the service's {role}"));
    };
    Some(whose.to_string())
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

/// Where error bodies, headers and other SDKs put the code: `Error Code: X`
/// (SDK for Java), `"__type":"X"` and `"code":"X"` (JSON bodies),
/// `<Code>X</Code>` (XML bodies), `X-Amzn-Errortype: X` (headers, also as
/// `x_amzn_errortype=X` in Terraform's logs), `An error occurred (X)`
/// (botocore), `error='X'`. Matched in the lower-cased text.
const CODE_LABELS: &[&str] = &[
    "error code:",
    "\"__type\":\"",
    "\"__type\": \"",
    "\"code\":\"",
    "\"code\": \"",
    "\"errortype\":\"",
    "\"errortype\": \"",
    "<code>",
    "errortype:",
    "errortype=",
    "an error occurred (",
    "error='",
];

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
    for label in CODE_LABELS {
        for (at, l) in lower.match_indices(label) {
            let rest = &text[at + l.len()..];
            let start = at + l.len() + (rest.len() - rest.trim_start().len());
            let raw: String = text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '#' | ':')).collect();
            // `"__type":"com.amazon.coral.service#LimitExceededException"`, `…Exception:`.
            let word = raw.rsplit('#').next().unwrap_or("").trim_end_matches([':', '.']);
            if code_shaped(word) && !codes.iter().any(|(_, c)| c == word) {
                codes.push((start, word.to_string()));
            }
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

/// The action named as denied: `not authorized to perform: x:Y`; `… allows
/// the x:Y action` / `… deny … the x:Y action`; an action named beside the
/// word permission (`You don't have the kms:TagResource permission`, `An
/// additional permission "logs:TagResource" is required`); a service role's
/// missing call (`does not have permissions to call ReceiveMessage on SQS`,
/// `… have permission to CreateNetworkInterface. EC2 Error Code: …`); and
/// tagging on create (`not authorized to perform CreateLogGroup with Tags
/// (Service: CloudWatchLogs …`), which needs the service's `TagResource`.
fn denied_action(text: &str, lower: &str) -> Option<String> {
    if let Some(a) = after_phrase(text, lower, "not authorized to perform: ").and_then(|a| normalise_action(&a)) {
        return Some(a);
    }
    let named = lower.match_indices(" action").find_map(|(at, _)| {
        let before = text[..at].trim_end();
        let word = before.rsplit(|c: char| c.is_whitespace()).next()?;
        let lead = &lower[..at];
        let named = lead.ends_with(&format!("allows the {}", word.to_ascii_lowercase())) || lead.contains("deny");
        if named { normalise_action(word) } else { None }
    });
    named.or_else(|| beside_permission(text)).or_else(|| service_call(text, lower)).or_else(|| tagging_on_create(text, lower))
}

/// `the kms:TagResource permission`, `permission "logs:TagResource"`.
fn beside_permission(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, w)| {
        let action = normalise_action(w.trim_matches(|c: char| "\"'`,.;:()".contains(c)).trim_end_matches(['.', ',']))?;
        let next = words.get(i + 1).is_some_and(|n| n.to_ascii_lowercase().starts_with("permission"));
        let prev = i > 0 && words[i - 1].to_ascii_lowercase().starts_with("permission");
        (next || prev).then_some(action)
    })
}

/// `permissions to call ReceiveMessage on SQS`, `permission to
/// CreateNetworkInterface` with the service named elsewhere (`denied by
/// EC2`, `EC2 Error Code:`).
fn service_call(text: &str, lower: &str) -> Option<String> {
    for phrase in ["permissions to call ", "permission to call ", "permissions to ", "permission to "] {
        let Some(at) = lower.find(phrase) else { continue };
        let rest = &text[at + phrase.len()..];
        let op: String = rest.trim_start_matches(['*', '"']).chars().take_while(char::is_ascii_alphanumeric).collect();
        if !op.starts_with(|c: char| c.is_ascii_uppercase()) || !op.chars().any(|c| c.is_ascii_lowercase()) {
            continue;
        }
        let after = &rest[rest.find(&op).unwrap_or(0) + op.len()..];
        let service = after
            .trim_start_matches('*')
            .strip_prefix(" on ")
            .map(|s| s.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or(""))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| {
                let by = lower.find("denied by ").map(|i| &text[i + "denied by ".len()..]);
                let code = lower.find(" error code:").map(|i| text[..i].rsplit(|c: char| c.is_whitespace()).next().unwrap_or(""));
                by.map(|s| s.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or("").to_string()).or(code.map(str::to_string))
            })?;
        let prefix = known_service(&service)?;
        return Some(format!("{prefix}:{op}"));
    }
    None
}

/// `not authorized to perform CreateLogGroup with Tags (Service:
/// CloudWatchLogs` → `logs:TagResource`: tagging a resource while creating
/// it needs the tagging permission too.
fn tagging_on_create(text: &str, lower: &str) -> Option<String> {
    if !lower.contains("with tags") {
        return None;
    }
    let at = lower.find("(service: ")? + "(service: ".len();
    let service: String = text[at..].chars().take_while(char::is_ascii_alphanumeric).collect();
    Some(format!("{}:TagResource", known_service(&service)?))
}

/// The IAM prefix of a service as messages name it (`SQS`, `EC2`,
/// `CloudWatchLogs`, `AWSLambdaInternal`, `Amazon S3`), for the services a
/// deployment commonly touches; `None` for a word that is not one.
fn known_service(name: &str) -> Option<&'static str> {
    let key: String = name.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    let key = key.strip_prefix("amazon").or_else(|| key.strip_prefix("aws")).unwrap_or(&key).trim_end_matches("internal").to_string();
    Some(match key.as_str() {
        "ec2" => "ec2",
        "s3" => "s3",
        "sqs" => "sqs",
        "sns" => "sns",
        "lambda" => "lambda",
        "iam" => "iam",
        "kms" => "kms",
        "dynamodb" => "dynamodb",
        "kinesis" => "kinesis",
        "ecr" => "ecr",
        "ecs" => "ecs",
        "eks" => "eks",
        "rds" => "rds",
        "sts" => "sts",
        "ssm" => "ssm",
        "cloudwatchlogs" | "logs" => "logs",
        "cloudwatch" => "cloudwatch",
        "secretsmanager" => "secretsmanager",
        "xray" => "xray",
        "elasticfilesystem" | "efs" => "elasticfilesystem",
        _ => return None,
    })
}

/// The API call a provider message of the SDK v1 era names in words:
/// `Error creating Lambda Function: …` → `lambda:CreateFunction`, `Error
/// creating IAM Role app: …` → `iam:CreateRole`, `Error putting S3 ACL` →
/// `s3:PutBucketAcl`, `Error launching source instance` → `ec2:RunInstances`.
/// The service comes from the kind's first words, the operation from the
/// verb and the rest of the kind (AWS names its calls that way); a name after
/// the kind (mixed case, digits) ends it.
fn provider_action(text: &str) -> Option<String> {
    const VERBS: &[(&str, &str)] = &[
        ("creating ", "Create"),
        ("deleting ", "Delete"),
        ("updating ", "Update"),
        ("putting ", "Put"),
        ("attaching ", "Attach"),
        ("launching ", "Run"),
        ("revoking ", "Revoke"),
        ("authorizing ", "Authorize"),
    ];
    let lower = text.to_ascii_lowercase();
    for (verb, op) in VERBS {
        for (at, _) in lower.match_indices(verb) {
            let lead = lower[..at].trim_end();
            if !(lead.ends_with("error") || lead.ends_with("failed")) {
                continue;
            }
            let words: Vec<&str> = text[at + verb.len()..]
                .split(' ')
                .take(6)
                .map(|w| {
                    let bare = w.trim_end_matches([':', ',', '.']);
                    let ends = bare.len() != w.len();
                    (is_kind_word(bare).then_some(bare), ends)
                })
                .scan(false, |done, (word, ends)| {
                    if *done {
                        return None;
                    }
                    *done = ends;
                    word
                })
                .collect();
            if let Some(action) = action_from_words(op, &words) {
                return Some(action);
            }
        }
    }
    None
}

/// A word of a resource kind as the provider writes it: `function`,
/// `Function`, `IAM`, `ELBv2`, `S3`; not a resource's name (`AmazonVPCFlowLogs`,
/// `k8s-master`).
fn is_kind_word(w: &str) -> bool {
    let mut chars = w.chars();
    let Some(first) = chars.next() else { return false };
    let rest = chars.as_str();
    first.is_ascii_alphabetic()
        && w.chars().all(|c| c.is_ascii_alphanumeric())
        && (rest.chars().all(|c| c.is_ascii_lowercase())
            || (w.len() <= 5 && w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
            || matches!(w, "ELBv2" | "DynamoDB" | "CloudWatch" | "CloudFront" | "ElastiCache"))
}

/// The last word of the kinds the provider names in lower case (`instance
/// profile`, `launch configuration`): a word that is not one of these ends a
/// lower-case kind as the resource's name.
const KIND_NOUNS: &[&str] = &[
    "profile",
    "configuration",
    "group",
    "function",
    "bucket",
    "role",
    "policy",
    "table",
    "queue",
    "topic",
    "key",
    "repository",
    "instance",
    "cluster",
    "rule",
    "rules",
    "stream",
    "alias",
    "user",
    "secret",
    "parameter",
    "subnet",
    "gateway",
    "attachment",
    "mapping",
    "distribution",
    "certificate",
    "record",
    "zone",
    "volume",
    "snapshot",
    "layer",
    "permission",
    "version",
    "listener",
    "target",
    "acl",
    "code",
    "address",
    "interface",
    "endpoint",
    "template",
];

/// `("Create", ["Lambda", "Function"])` → `lambda:CreateFunction`.
fn action_from_words(op: &str, words: &[&str]) -> Option<String> {
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let joined = lower.join(" ");
    // Calls whose names do not follow the kind's words.
    let irregular = [
        ("Run", "source instance", "ec2:RunInstances"),
        ("Create", "ec2 instance", "ec2:RunInstances"),
        ("Delete", "ec2 instance", "ec2:TerminateInstances"),
        ("Create", "eip", "ec2:AllocateAddress"),
        ("Revoke", "default egress rule", "ec2:RevokeSecurityGroupEgress"),
        ("Authorize", "security group ingress", "ec2:AuthorizeSecurityGroupIngress"),
        ("Authorize", "security group egress", "ec2:AuthorizeSecurityGroupEgress"),
    ];
    if let Some((_, _, action)) = irregular.iter().find(|(o, kind, _)| *o == op && joined.starts_with(kind)) {
        return Some((*action).to_string());
    }
    if matches!(op, "Run" | "Revoke" | "Authorize") {
        return None;
    }
    // The service: its words, or a kind that implies it.
    let services: [(&str, &str); 24] = [
        ("cloudwatch logs", "logs"),
        ("cloudwatch log", "logs"),
        ("secrets manager", "secretsmanager"),
        ("api gateway", "apigateway"),
        ("route 53", "route53"),
        ("auto scaling", "autoscaling"),
        ("lambda", "lambda"),
        ("s3", "s3"),
        ("iam", "iam"),
        ("ec2", "ec2"),
        ("dynamodb", "dynamodb"),
        ("sns", "sns"),
        ("sqs", "sqs"),
        ("kms", "kms"),
        ("ecr", "ecr"),
        ("ecs", "ecs"),
        ("eks", "eks"),
        ("rds", "rds"),
        ("ssm", "ssm"),
        ("kinesis", "kinesis"),
        ("cloudfront", "cloudfront"),
        ("elasticache", "elasticache"),
        ("route53", "route53"),
        ("acm", "acm"),
    ];
    let implied: [(&str, &str); 5] =
        [("security group", "ec2"), ("launch configuration", "autoscaling"), ("vpc", "ec2"), ("subnet", "ec2"), ("internet gateway", "ec2")];
    let (prefix, rest): (&str, &[String]) =
        if let Some((name, prefix)) = services.iter().find(|(name, _)| joined == *name || joined.starts_with(&format!("{name} "))) {
            let n = name.split(' ').count();
            let rest = &lower[n..];
            // `CloudWatch Log Group`, `Auto Scaling Group`: the service's words are also the kind's.
            match *name {
                "cloudwatch log" => (*prefix, &lower[1..]),
                "auto scaling" => (*prefix, &lower[..]),
                _ => (*prefix, rest),
            }
        } else if let Some((_, prefix)) = implied.iter().find(|(kind, _)| joined.starts_with(kind)) {
            (*prefix, &lower[..])
        } else {
            return None;
        };
    // A name after the kind: a lower-case word after a capitalised kind
    // (`IAM Role app`), or the last of several lower-case words, before the
    // colon, that is not a kind's noun (`S3 bucket acme:`).
    let capitalised = |w: &str| w.starts_with(|c: char| c.is_ascii_uppercase());
    let nouns = &words[words.len() - rest.len()..];
    let mut keep = nouns.iter().take_while(|w| !capitalised(w)).count();
    if keep == 0 {
        keep = nouns.iter().take_while(|w| capitalised(w)).count();
    } else if keep == nouns.len() && keep >= 2 && !KIND_NOUNS.contains(&rest[keep - 1].as_str()) {
        keep -= 1;
    }
    let rest = &rest[..keep];
    if rest.is_empty() || rest.len() > 3 {
        return None;
    }
    let mut noun: String = rest
        .iter()
        .map(|w| {
            if prefix == "rds" && w == "db" {
                return "DB".to_string();
            }
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    let mut op = op.to_string();
    if let Some(base) = noun.strip_suffix("Attachment") {
        op = if op == "Delete" { "Detach".into() } else { "Attach".into() };
        noun = base.to_string();
    }
    // S3 names bucket sub-resources `PutBucketAcl`, `PutBucketPolicy`.
    if prefix == "s3" && !noun.starts_with("Bucket") && !noun.starts_with("Object") {
        noun = format!("Bucket{noun}");
    }
    let action = format!("{prefix}:{op}{noun}");
    is_iam_action(&action).then_some(action)
}

/// The token right after the first `phrase` (matched without case), cut at
/// whitespace or `,;()[]"'` and a trailing `.` or `:`.
fn after_phrase(text: &str, lower: &str, phrase: &str) -> Option<String> {
    let at = lower.find(phrase)? + phrase.len();
    let token = token_at(&text[at..]);
    (!token.is_empty()).then(|| token.to_string())
}

fn token_at(s: &str) -> &str {
    let s = s.trim_start_matches([' ', '\t', '[', '"', '\'']);
    let end = s.find(|c: char| c.is_whitespace() || ",;()[]\"'`".contains(c)).unwrap_or(s.len());
    s[..end].trim_end_matches(['.', ':'])
}

/// `User: <arn> is not authorized`. The ARN may carry a placeholder people
/// put in for the account (`arn:aws:sts::[account-id]:assumed-role/…`).
fn principal(text: &str) -> Option<String> {
    text.match_indices("User: ").find_map(|(at, l)| {
        let rest = &text[at + l.len()..];
        let end = rest.find(|c: char| c.is_whitespace() || ",;\"'`".contains(c)).unwrap_or(rest.len());
        let arn = rest[..end].trim_end_matches(['.', ':']);
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
