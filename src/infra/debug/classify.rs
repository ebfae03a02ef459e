//! The category of an error message, by the first rule that holds (the order
//! is explained in the module doc of `debug`), with the evidence, an
//! explanation and the solutions to suggest.

use serde::{Deserialize, Serialize};

use super::Category;
use super::extract::{Extracted, PolicyKind, clean, extract, flat_lower, is_access_denied_code};
use super::fix::{PermissionFix, permission_fix};
use super::learning::SolutionKind;
use super::signature::{redact, signature, signature_id};

/// Diagnoses keep at most this many characters of the (redacted) message.
pub const MAX_EXCERPT_CHARS: usize = 2000;

/// How much the deciding rule is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// An AWS error code, or a phrase that only one kind of failure produces.
    High,
    /// A phrase that usually, but not always, means this category.
    Medium,
    /// The HTTP status alone, or nothing at all.
    Low,
}

/// What `debug` says about one error message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Diagnosis {
    pub category: Category,
    pub confidence: Confidence,
    /// The rule that decided (`credentials-code`, `state-phrase`, …): stable
    /// ids, used by tests and the agreement report.
    pub rule: String,
    pub extracted: Extracted,
    /// The normalised message ([`signature`]) and its short id.
    pub signature: String,
    pub signature_id: String,
    /// Why this category, in a sentence or two, naming the evidence.
    pub explanation: String,
    /// What to try, best first before the learning log has any evidence.
    pub suggested_solutions: Vec<SuggestedSolution>,
    /// For a permission error without a statement to propose: why there is
    /// none (the action is unknown, another policy denies it, the role that
    /// lacks it is not the deploy principal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_fix_reason: Option<String>,
    /// The message with secrets redacted, cut at [`MAX_EXCERPT_CHARS`]: the
    /// only form of it that may be shown or stored.
    pub excerpt: String,
}

/// A solution `debug` proposes. Its `id` is stable per kind of problem, so that
/// the learning log counts attempts of the same solution across occurrences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SuggestedSolution {
    pub id: String,
    pub kind: SolutionKind,
    pub description: String,
    /// For `iam_policy`: the statement to attach and where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_fix: Option<PermissionFix>,
}

/// Categorises `message` and says why.
pub fn classify(message: &str) -> Diagnosis {
    // Colour codes of a raw CI log and JSON escapes are not part of the message.
    let cleaned = clean(message);
    let message = cleaned.as_ref();
    let extracted = extract(message);
    let lower = flat_lower(message);
    let verdict = decide(&lower, &extracted);
    let signature = signature(message);
    let no_fix_reason = match verdict.category {
        Category::Permission => permission_fix(&extracted).err(),
        _ => None,
    };
    let explanation = explain(&verdict, &extracted, no_fix_reason.as_deref());
    let suggested_solutions = solutions(&verdict, &lower, &extracted);
    let redacted = redact(message);
    let excerpt = match redacted.char_indices().nth(MAX_EXCERPT_CHARS) {
        Some((at, _)) => format!("{}…", &redacted[..at]),
        None => redacted,
    };
    Diagnosis {
        category: verdict.category,
        confidence: verdict.confidence,
        rule: verdict.rule.to_string(),
        signature_id: signature_id(&signature),
        signature,
        explanation,
        suggested_solutions,
        no_fix_reason,
        excerpt,
        extracted,
    }
}

struct Verdict {
    category: Category,
    confidence: Confidence,
    rule: &'static str,
    evidence: String,
}

fn verdict(category: Category, confidence: Confidence, rule: &'static str, evidence: String) -> Verdict {
    Verdict { category, confidence, rule, evidence }
}

// Phrases are matched in the lower-cased message.

const CREDENTIAL_PHRASES: &[&str] = &[
    "no valid credential sources",
    "no valid providers in chain",
    "security token included in the request is expired",
    "security token included in the request is invalid",
    "failed to refresh cached credentials",
    "failed to retrieve credentials",
    "unable to locate credentials",
    "failed to get shared config profile",
    "sso session has expired",
    "sso session associated with this profile",
    "token has expired and refresh failed",
    "error loading sso token",
    "the aws access key id you provided does not exist",
    "request signature we calculated does not match",
];

const TRANSPORT_PHRASES: &[&str] = &[
    "dial tcp",
    "dial udp",
    "i/o timeout",
    "no such host",
    "connection refused",
    "connection reset",
    "connection timed out",
    "tls handshake",
    "x509:",
    "certificate signed by unknown authority",
    "network is unreachable",
    "no route to host",
    "proxyconnect",
    "send request failed",
    "unexpected eof",
    "temporary failure in name resolution",
    "could not resolve host",
    "broken pipe",
    "client.timeout exceeded",
    "use of closed network connection",
];

const STATE_PHRASES: &[&str] = &[
    "state lock",
    "error locking state",
    "error loading state",
    "failed to load state",
    "error saving state",
    "failed to save state",
    "failed to persist state",
    "failed to upload state",
    "failed to write state",
    "failed to read state",
    "error reading state",
    "state snapshot",
    "state file format",
    "failed to get existing workspaces",
    "error inspecting states",
    "resource already managed by terraform",
    "backend initialization required",
    "backend configuration changed",
    "failed to decode current backend config",
    "state data in s3 does not have the expected content",
    "checksum calculated for the state",
    "saved plan is stale",
    "accessing remote state",
    "loading the remote state",
    "reloading remote state",
    "read remote state",
    "find remote state",
    "no stored state was found",
    "error downloading state",
    "failed to lock",
    "named states not supported",
    "state migration",
];

const PERMISSION_PHRASES: &[&str] = &[
    "access denied",
    "you do not have permission",
    "does not have permission",
    "insufficient permissions",
    "not have sufficient permissions",
    "not authorized",
];

const QUOTA_PHRASES: &[&str] = &[
    "limit exceeded",
    "cannot exceed quota",
    "quota exceeded",
    "exceeded quota",
    "exceeds quota",
    "service quota",
    "rate exceeded",
    "throttled",
    "throttling",
    "request limit",
    "than your current",
    "instance limit",
    "adjustment to this limit",
    "too many requests",
    "you have attempted to create more",
    "quota of",
    "quota allows",
    "your quota",
    "exceed the limit",
    "exceeds the limit",
    "exceeded your maximum",
    "exceeds the maximum number",
    "maximum number allowed",
    "limit increase",
    "you may only have",
];

/// Terraform's own configuration diagnostics: nothing else says these.
const TERRAFORM_CONFIG_PHRASES: &[&str] = &[
    "unsupported argument",
    "missing required argument",
    "unsupported block type",
    "unsupported attribute",
    "invalid reference",
    "reference to undeclared",
    "invalid value for",
    "incorrect attribute value type",
    "inappropriate value for attribute",
    "invalid resource type",
    "invalid function argument",
    "error in function call",
    "invalid expression",
    "argument or block definition required",
    "duplicate resource",
    "module not installed",
    "no value for required variable",
    "invalid count argument",
    "invalid for_each argument",
    "variables not allowed",
    "invalid provider configuration",
    "no configuration files",
];

const RESOURCE_PHRASES: &[&str] = &[
    "already exists",
    "has a dependent object",
    "not found",
    "no matching",
    "returned no results",
    "does not exist",
    "is in use",
    "currently in use",
    "already in use",
    "still in use",
    "is not empty",
    "pending deletion",
    "scheduled for deletion",
    "already associated",
    "already attached",
];

const CONFIG_PHRASES: &[&str] = &[
    "error validating",
    "validation error",
    "validation failed",
    "failed to satisfy constraint",
    "is not valid",
    "is invalid",
    "not a valid",
    "invalid parameter",
    "invalid value",
    "must be",
    "must match",
    "must contain",
    "only lowercase",
    "characters allowed",
    "to be one of",
    "malformed",
    "does not support",
    "not supported",
    "unsupported",
];

/// Waiting that ran out: the resource or AWS was slow; retrying is the remedy.
const WAIT_PHRASES: &[&str] =
    &["timeout while waiting", "exceeded max wait time", "context deadline exceeded", "deadline exceeded", "timed out", "timeout", "failed to unmarshal"];

const ASSUME_ROLE_PHRASES: &[&str] = &["cannot assume iam role", "failed to assume role", "error assuming role"];

fn is_credentials_code(code: &str) -> bool {
    matches!(
        code,
        "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "NoCredentialProviders"
            | "UnrecognizedClientException"
            | "InvalidAccessKeyId"
            | "AuthFailure"
            | "MissingAuthenticationToken"
            | "MissingAuthenticationTokenException"
            | "IncompleteSignature"
            | "IncompleteSignatureException"
            | "InvalidSignatureException"
            | "RequestExpired"
            | "TokenRefreshRequired"
            | "InvalidToken"
            | "InvalidIdentityToken"
            | "SharedCredsLoad"
            | "EC2RoleRequestError"
    )
}

fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "EC2ThrottledException"
            | "TooManyRequestsException"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "RequestLimitExceeded"
            | "ProvisionedThroughputExceededException"
    )
}

fn is_quota_code(code: &str) -> bool {
    is_throttling_code(code)
        || code.ends_with("LimitExceeded")
        || code.ends_with("LimitExceededException")
        || code.ends_with("CountExceeded")
        || code.contains("QuotaExceeded")
        || code.starts_with("TooMany")
}

fn is_resource_code(code: &str) -> bool {
    code.contains("AlreadyExists")
        || code.contains("AlreadyOwnedByYou")
        || code.ends_with("Duplicate")
        || code.ends_with("InUse")
        || code.ends_with("InUseException")
        || code.ends_with("NotFound")
        || code.ends_with("NotFoundException")
        || code.ends_with("NotFoundFault")
        || code.starts_with("NoSuch")
        || code.starts_with("IncorrectState")
        || code.starts_with("IncorrectInstanceState")
        || code.contains("InvalidState")
        || (code.starts_with("Invalid") && code.contains("State"))
        || code.starts_with("InsufficientInstanceCapacity")
        || code.starts_with("InsufficientCapacity")
        || matches!(
            code,
            "DependencyViolation"
                | "DeleteConflict"
                | "ResourceConflictException"
                | "ConflictException"
                | "ResourceExistsException"
                | "ResourceInUse"
                | "BucketNotEmpty"
                | "OperationAbortedException"
                | "ConcurrentModificationException"
                | "OperationNotPermitted"
        )
}

fn is_configuration_code(code: &str) -> bool {
    code.starts_with("Invalid")
        || code.starts_with("Malformed")
        || code.starts_with("Missing")
        || code.starts_with("Unsupported")
        || code.starts_with("Illegal")
        || matches!(
            code,
            "ValidationError" | "ValidationException" | "OptInRequired" | "BadRequest" | "BadRequestException" | "UnknownParameter" | "PermanentRedirect"
        )
}

/// AWS answered but failed, or the answer was not AWS's: a retry may pass.
fn is_service_failure_code(code: &str) -> bool {
    matches!(
        code,
        "InternalError"
            | "InternalFailure"
            | "InternalServerError"
            | "InternalServerErrorException"
            | "InternalServiceError"
            | "InternalServiceException"
            | "ServiceException"
            | "ServerException"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "Unavailable"
            | "RequestTimeout"
            | "RequestTimeoutException"
            | "RequestError"
            | "SerializationError"
    )
}

/// A category, the test its codes pass, and the rule id.
type CodeRule = (Category, fn(&str) -> bool, &'static str);

fn phrase(lower: &str, phrases: &[&'static str]) -> Option<&'static str> {
    phrases.iter().copied().find(|p| lower.contains(p))
}

/// "maximum number of X has been reached", but not "maximum number of attempts".
fn maximum_number_reached(lower: &str) -> bool {
    lower.match_indices("maximum number of ").any(|(at, p)| {
        let next = lower[at + p.len()..].split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
        !matches!(next, "attempts" | "retries" | "retry")
    })
}

/// `Error refreshing state: AccessDenied: …`: Terraform 0.11 printed the
/// backend's error right after the phrase, while a resource's error comes
/// after `1 error(s) occurred:` and an address.
fn state_refresh_failed(lower: &str) -> bool {
    lower.match_indices("error refreshing state: ").any(|(at, p)| {
        let next = &lower[at + p.len()..];
        !next.starts_with(|c: char| c.is_ascii_digit()) && !next.starts_with("error") && !next.starts_with('*') && !next.trim_start().is_empty()
    })
}

fn decide(lower: &str, x: &Extracted) -> Verdict {
    use Category::*;
    use Confidence::*;
    let codes: Vec<&str> = x.codes().collect();

    // 1. Context that overrides any code.
    if let Some(c) = codes.iter().find(|c| is_credentials_code(c)) {
        return verdict(Credentials, High, "credentials-code", format!("AWS error code {c}"));
    }
    if let Some(p) = phrase(lower, CREDENTIAL_PHRASES) {
        return verdict(Credentials, High, "credentials-phrase", format!("\"{p}\""));
    }
    if let Some(p) = phrase(lower, TRANSPORT_PHRASES) {
        return verdict(Network, High, "network-transport", format!("\"{p}\""));
    }
    match x.http_status {
        Some(0) => return verdict(Network, High, "network-no-answer", "HTTP status 0: no answer reached the client".into()),
        Some(407) => return verdict(Network, High, "network-proxy", "HTTP status 407: a proxy, not AWS, answered and wants authentication".into()),
        _ => {}
    }
    if lower.contains("not authorized to perform") {
        let what = x.action.as_ref().filter(|_| x.access_denied).map(|a| format!(" {a}")).unwrap_or_default();
        return verdict(Permission, High, "permission-denial", format!("\"not authorized to perform\"{what}"));
    }
    if x.access_denied && x.service_role.is_some() {
        let role = x.service_role.as_deref().unwrap_or_default();
        return verdict(Permission, High, "permission-service-role", format!("{role} is denied the call"));
    }
    if let Some(p) = phrase(lower, STATE_PHRASES) {
        return verdict(State, High, "state-phrase", format!("\"{p}\""));
    }
    if state_refresh_failed(lower) {
        return verdict(State, High, "state-phrase", "\"error refreshing state\" with the backend's own error".into());
    }

    // 2. AWS error codes, category by category.
    let by_code: [CodeRule; 5] = [
        (Permission, is_access_denied_code, "permission-code"),
        (Quota, is_quota_code, "quota-code"),
        (Resource, is_resource_code, "resource-code"),
        (Configuration, is_configuration_code, "configuration-code"),
        (Network, is_service_failure_code, "network-code"),
    ];
    for (category, test, rule) in by_code {
        if let Some(c) = codes.iter().find(|c| test(c)) {
            return verdict(category, High, rule, format!("AWS error code {c}"));
        }
    }

    // 3. Phrases. Terraform's "Cannot assume IAM Role" lists its possible
    // causes ("… are invalid", "… is not valid"), so it goes first.
    if let Some(p) = phrase(lower, ASSUME_ROLE_PHRASES) {
        return verdict(Credentials, Medium, "credentials-assume-role", format!("\"{p}\""));
    }
    if let Some(p) = phrase(lower, PERMISSION_PHRASES) {
        return verdict(Permission, Medium, "permission-phrase", format!("\"{p}\""));
    }
    if let Some(p) = phrase(lower, QUOTA_PHRASES) {
        return verdict(Quota, Medium, "quota-phrase", format!("\"{p}\""));
    }
    if maximum_number_reached(lower) {
        return verdict(Quota, Medium, "quota-phrase", "\"maximum number of\"".into());
    }
    if let Some(p) = phrase(lower, TERRAFORM_CONFIG_PHRASES) {
        return verdict(Configuration, High, "configuration-terraform", format!("Terraform diagnostic \"{p}\""));
    }
    if let Some(p) = phrase(lower, RESOURCE_PHRASES) {
        return verdict(Resource, Medium, "resource-phrase", format!("\"{p}\""));
    }
    if let Some(p) = phrase(lower, CONFIG_PHRASES) {
        return verdict(Configuration, Medium, "configuration-phrase", format!("\"{p}\""));
    }
    if let Some(p) = phrase(lower, WAIT_PHRASES) {
        return verdict(Network, Medium, "network-wait", format!("\"{p}\""));
    }
    if let Some(a) = x.action.as_deref().filter(|a| matches!(*a, "sts:AssumeRole" | "sts:GetCallerIdentity" | "sts:AssumeRoleWithWebIdentity")) {
        return verdict(Credentials, Medium, "credentials-sts-call", format!("the failed call is {a}"));
    }

    // 4. The HTTP status alone.
    if let Some(status) = x.http_status {
        let category = match status {
            401 => Some(Credentials),
            403 => Some(Permission),
            404 | 409 | 412 => Some(Resource),
            429 => Some(Quota),
            400 | 422 => Some(Configuration),
            500..=599 => Some(Network),
            _ => None,
        };
        if let Some(category) = category {
            return verdict(category, Low, "http-status", format!("HTTP status {status}"));
        }
    }
    verdict(Unknown, Low, "unknown", "no rule matched".into())
}

fn explain(v: &Verdict, x: &Extracted, no_fix_reason: Option<&str>) -> String {
    let mut out = format!("{} Evidence: {}.", v.category.meaning(), v.evidence);
    if v.category == Category::Permission {
        let who = x.principal.as_deref().or(x.service_role.as_deref());
        match (&x.action, who) {
            (Some(a), Some(p)) => out.push_str(&format!(" Missing action {a} for {p}.")),
            (Some(a), None) => out.push_str(&format!(" Action involved: {a}.")),
            _ => out.push_str(" The message does not name the action."),
        }
        if let Some(kind) = x.blocked_by {
            out.push_str(&format!(" Denied by {}.", kind.describe()));
        }
        if let Some(why) = no_fix_reason {
            out.push_str(&format!(" No fix is proposed: {why}"));
        }
    }
    if let Some(address) = &x.resource_address {
        out.push_str(&format!(" Resource: {address}."));
    }
    out
}

fn solution(id: &str, kind: SolutionKind, description: impl Into<String>) -> SuggestedSolution {
    SuggestedSolution { id: id.into(), kind, description: description.into(), permission_fix: None }
}

fn solutions(v: &Verdict, lower: &str, x: &Extracted) -> Vec<SuggestedSolution> {
    use SolutionKind::*;
    let category = v.category;
    let has_code = |pred: fn(&str) -> bool| x.codes().any(pred);
    let address = x.resource_address.as_deref().unwrap_or("<address>");
    let mut out = Vec::new();
    match category {
        Category::Permission => {
            if let Ok(fix) = permission_fix(x) {
                let action = x.action.as_deref().unwrap_or_default();
                let resource = x.denied_resource.as_deref().unwrap_or("\"*\"");
                let principal = fix.principal.clone().unwrap_or_else(|| "the deploy principal".into());
                out.push(SuggestedSolution {
                    description: format!(
                        "Attach a statement allowing {action} on {resource} to {principal} (through the approval gate), then retry the deploy."
                    ),
                    permission_fix: Some(fix),
                    ..solution("grant-least-privilege", IamPolicy, "")
                });
            }
            let action = x.action.as_deref().unwrap_or("the call");
            let resource = x.denied_resource.as_deref().unwrap_or("the resource");
            match x.blocked_by {
                Some(PolicyKind::ResourcePolicy) => out.push(solution(
                    "edit-resource-policy",
                    Manual,
                    format!(
                        "The policy on {resource} (bucket, key, repository or queue policy) does not allow {action} for this caller, or denies it: add the caller to that policy's Allow statement or narrow its Deny. For a call across accounts, the resource policy must allow it as well as the caller's own policy."
                    ),
                )),
                Some(PolicyKind::ServiceControlPolicy | PolicyKind::ResourceControlPolicy) => out.push(solution(
                    "ask-organization-admin",
                    Manual,
                    format!(
                        "A policy of the AWS Organization ({}) denies {action} in this account; nothing in the account can lift it. Ask the organization's administrators for an exception, or change the configuration so it does not need {action} (for example another region or resource type the policy allows).",
                        if x.blocked_by == Some(PolicyKind::ServiceControlPolicy) { "a service control policy" } else { "a resource control policy" }
                    ),
                )),
                Some(PolicyKind::PermissionsBoundary) => out.push(solution(
                    "check-permissions-boundary",
                    Manual,
                    format!(
                        "The caller's permissions boundary does not allow {action}: the boundary must allow it too (ask whoever manages it). When the denied call creates a role or user, the account may require new roles to carry a boundary: set `permissions_boundary` on the resource."
                    ),
                )),
                Some(PolicyKind::SessionPolicy) => out.push(solution(
                    "widen-session-policy",
                    Manual,
                    format!("The session policy passed when the deploy role was assumed does not allow {action}: widen it where the session is created (the CI's assume-role step)."),
                )),
                Some(PolicyKind::VpcEndpointPolicy) => out.push(solution(
                    "edit-endpoint-policy",
                    Manual,
                    format!("The policy of the VPC endpoint the call went through does not allow {action}: add it to that endpoint's policy."),
                )),
                Some(PolicyKind::ExplicitDeny) => out.push(solution(
                    "lift-explicit-deny",
                    Manual,
                    "An explicit deny (service control policy, permissions boundary or resource policy) blocks the call, and no Allow overrides it: ask the account's administrators to change that policy.",
                )),
                None => {}
            }
            if let (Some(role), None, Some(a)) = (&x.service_role, &x.principal, x.action.as_deref().filter(|_| x.blocked_by.is_none())) {
                out.push(solution(
                    "grant-service-role",
                    ConfigChange,
                    format!(
                        "Grant {a} to {role} in the Terraform code: a statement in the role's policy (for a Lambda function in a VPC, the managed policy AWSLambdaVPCAccessExecutionRole; for an SQS trigger, AWSLambdaSQSQueueExecutionRole), and make the resource depend on that policy so the grant exists before AWS checks it; then deploy again."
                    ),
                ));
            }
            if lower.contains("encoded authorization failure message") {
                out.push(solution(
                    "decode-authorization-message",
                    Manual,
                    "Decode the message with `aws sts decode-authorization-message --encoded-message <message>` to see the denied action and resource.",
                ));
            }
            if out.is_empty() || x.action.is_none() {
                out.push(solution(
                    "find-denied-action",
                    Manual,
                    "Find the denied action (the CloudTrail event for the request, or TF_LOG=debug) and grant it to the deploy principal.",
                ));
            }
        }
        Category::Credentials => {
            if lower.contains("expired") {
                out.push(solution(
                    "refresh-session",
                    RefreshCredentials,
                    "The session expired: log in again (`aws sso login --profile <profile>`) or get new temporary credentials for the environment's profile, then retry.",
                ));
            } else if lower.contains("no valid credential") || lower.contains("no valid providers") || lower.contains("unable to locate credentials") {
                out.push(solution(
                    "configure-profile",
                    RefreshCredentials,
                    "No credentials were found: check the environment's profile in devops.json exists in ~/.aws/config (or set AWS_PROFILE), then retry.",
                ));
            } else if lower.contains("signature") || has_code(|c| c == "RequestExpired") {
                out.push(solution(
                    "check-secret-and-clock",
                    RefreshCredentials,
                    "Check the profile's secret access key and the system clock (a skew of more than 5 minutes breaks request signatures).",
                ));
            } else if lower.contains("assume") {
                out.push(solution(
                    "check-assume-role",
                    Manual,
                    "Check that the role ARN is right, that its trust policy lets the calling principal assume it, and that the source credentials are valid.",
                ));
            }
            let invalid_key = has_code(|c| matches!(c, "InvalidClientTokenId" | "InvalidAccessKeyId" | "UnrecognizedClientException" | "AuthFailure"))
                || lower.contains("security token included in the request is invalid");
            if invalid_key || out.is_empty() {
                out.push(solution(
                    "check-access-key",
                    RefreshCredentials,
                    "Check that the profile's access key exists and is active, and that the region is enabled for the account (a disabled region also answers \"invalid token\").",
                ));
            }
        }
        Category::Network if v.rule == "network-proxy" => {
            out.push(solution(
                "check-proxy",
                Manual,
                "A proxy answered instead of AWS: give it credentials, or exempt the AWS endpoints with NO_PROXY; check the configured endpoint_url.",
            ));
            out.push(solution("retry-backoff", Retry, "Retry the deploy once the proxy lets the request through."));
        }
        Category::Network => {
            out.push(solution("retry-backoff", Retry, "Retry the deploy after a short wait: the failure is usually transient."));
            if v.rule == "network-wait" && ["while waiting", "max wait time", "deadline exceeded"].iter().any(|p| lower.contains(p)) {
                out.push(solution(
                    "raise-timeouts",
                    ConfigChange,
                    format!("If the resource is just slow to become ready, raise the `timeouts` block of {address}."),
                ));
            }
            out.push(solution(
                "check-connectivity",
                Manual,
                "If it persists: check DNS, the proxy (HTTPS_PROXY, NO_PROXY), VPN, and the configured endpoint_url.",
            ));
        }
        Category::Quota => {
            let throttled =
                has_code(is_throttling_code) || ["throttl", "rate exceeded", "request limit", "too many requests"].iter().any(|p| lower.contains(p));
            if throttled {
                out.push(solution("retry-backoff", Retry, "API rate limit: retry with backoff and lower Terraform's parallelism (`-parallelism=2`)."));
            }
            out.push(solution(
                "request-quota-increase",
                QuotaIncrease,
                "Request a higher quota in Service Quotas (or from AWS Support) for this account and region.",
            ));
            if !throttled {
                out.push(solution("free-capacity", Manual, "Delete unused resources of this kind to get under the limit."));
            }
        }
        Category::State => {
            if lower.contains("state lock") {
                let id = x.state_lock_id.as_deref().unwrap_or("<LOCK_ID>");
                out.push(solution("wait-for-lock", Retry, "Another run may hold the lock: wait for it to finish, then retry."));
                out.push(solution(
                    "force-unlock",
                    StateCommand,
                    format!("If no other run is active (the lock is stale), release it: `terraform force-unlock {id}`."),
                ));
            } else if lower.contains("already managed by terraform") {
                out.push(solution(
                    "drop-duplicate-import",
                    StateCommand,
                    "The resource is already in the state: remove the duplicate import, or `terraform state rm` the stale entry first.",
                ));
            } else if lower.contains("saved plan is stale") {
                out.push(solution("plan-again", Retry, "The state changed since the plan: preview again, then deploy the new plan."));
            }
            if x.access_denied || x.http_status == Some(403) || lower.contains("403 forbidden") {
                out.push(solution(
                    "check-backend-access",
                    Manual,
                    "The backend refused the deploy principal: it needs s3:ListBucket on the state bucket, s3:GetObject and s3:PutObject on the state key (kms:Decrypt and kms:GenerateDataKey when the bucket is encrypted with a KMS key) and dynamodb:GetItem, PutItem and DeleteItem on the lock table; also check the bucket name and region, which answer AccessDenied when they point at someone else's bucket.",
                ));
            }
            out.push(solution(
                "check-backend",
                Manual,
                "Check the backend settings (bucket, key, region, lock table) and the deploy principal's access to them, then `terraform init -reconfigure`.",
            ));
        }
        Category::Resource => {
            let exists = has_code(|c| c.contains("AlreadyExists") || c.ends_with("Duplicate")) || lower.contains("already exists");
            let global_name = has_code(|c| c == "BucketAlreadyExists");
            if exists && !global_name {
                out.push(solution(
                    "import-existing",
                    StateCommand,
                    format!("If the existing resource is yours, bring it under Terraform: `terraform import {address} <id>` (or an import block)."),
                ));
            }
            if exists {
                out.push(solution(
                    "choose-unique-name",
                    ConfigChange,
                    "Give the resource a unique name (the naming pattern adds project and environment); S3 bucket names are global across all accounts.",
                ));
            } else if has_code(|c| c == "DependencyViolation" || c == "DeleteConflict" || c.ends_with("InUse") || c.ends_with("InUseException"))
                || ["dependent object", "in use"].iter().any(|p| lower.contains(p))
            {
                out.push(solution(
                    "remove-dependents",
                    Manual,
                    "Something still uses it: find what depends on it (ENIs, instances, attachments), detach or delete that first, then retry.",
                ));
            } else if has_code(|c| c.contains("Capacity")) {
                out.push(solution("retry-other-zone", Retry, "AWS lacks capacity for it now: retry later, or use another availability zone or instance type."));
            } else if has_code(|c| c.ends_with("NotFound") || c.ends_with("NotFoundException") || c.ends_with("NotFoundFault") || c.starts_with("NoSuch"))
                || ["not found", "does not exist"].iter().any(|p| lower.contains(p))
            {
                out.push(solution(
                    "fix-reference",
                    ConfigChange,
                    "Something it refers to does not exist (yet): check the id or name, create it first, or add depends_on.",
                ));
            }
            out.push(solution("resolve-manually", Manual, "Inspect the resource in the console and resolve the conflict by hand, then retry."));
        }
        Category::Configuration => {
            out.push(solution(
                "fix-configuration",
                ConfigChange,
                format!("Correct the value the message names in the Terraform code for {address}, run validate-config, then deploy again."),
            ));
        }
        Category::Unknown => {
            out.push(solution(
                "inspect-manually",
                Manual,
                "Read the full message (TF_LOG=debug helps); record the fix you apply so that the next occurrence offers it.",
            ));
        }
    }
    out
}
