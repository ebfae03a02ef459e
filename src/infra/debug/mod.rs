//! `debug`: a deployment error message → a [`Diagnosis`] (category, what the
//! message says, a stable signature, an explanation and suggested solutions),
//! and the learning log that remembers which solution worked for which
//! signature.
//!
//! Pure: no I/O, no AWS call, no gate. Reading and writing
//! `deployments/issue-log.json`, applying a permission fix through the gate
//! (with the `discover` profile) and retrying the deploy belong to the
//! callers. `benches/debug_agreement.rs` measures agreement with the
//! hand-labelled messages in `../shared/fixtures/terraform-errors.jsonl` and
//! with `tests/fixtures/debug/messages.jsonl` (a tuning and a held-out test
//! half, with the permission fix each message should get);
//! `docs/debug-agreement.md` explains every borderline case.
//!
//! The parts:
//! - [`clean`] (`extract.rs`): a message is read without the colour codes of
//!   a raw CI log (`ESC[31m`, and the bare `[31m` a copied page leaves) and
//!   with the escapes of a message logged inside a JSON string undone.
//! - [`extract`] (`extract.rs`): hand-written scanners pull the AWS error code
//!   (also from error bodies and headers: `"__type":"…"`, `"code":"…"`,
//!   `<Code>…</Code>`, `X-Amzn-Errortype`, botocore's `An error occurred (…)`),
//!   HTTP status, service and IAM action (`operation error S3: CreateBucket` →
//!   `s3:CreateBucket`; a denied action in `not authorized to perform: x:Y`
//!   wins; an action named beside "permission"; a service role's missing
//!   call, `permissions to call ReceiveMessage on SQS` → `sqs:ReceiveMessage`;
//!   the SDK v1 provider's words, `Error creating Lambda Function` →
//!   `lambda:CreateFunction`, built from the kind's service and noun),
//!   principal, denied resource, the policy that denied when it is not the
//!   caller's identity policy ([`PolicyKind`]: resource policy, SCP,
//!   permissions boundary, session policy, …), the service role the message
//!   blames instead of the caller, Terraform resource address and type, ARNs,
//!   request id and state lock id.
//! - [`classify`] (`classify.rs`): the category, by the first rule that holds.
//! - [`signature`] (`signature.rs`): the message with everything that varies
//!   between occurrences masked, and [`signature_id`], a short hash of it.
//! - [`least_privilege`] (`fix.rs`): the IAM statement a permission error asks
//!   for, on the principal the message names (else the deploy principal), with
//!   resource ARNs in the forms IAM matches (a log group as `…:log-group:N`
//!   and `…:log-group:N:*`); [`why_no_fix`] says why there is none: the action
//!   is unknown, another policy denies it (an identity-policy Allow cannot
//!   help), or a service's role the message does not name lacks it.
//! - `learning.rs`: the learning log, and solutions ranked by the lower bound
//!   of the 95% Wilson score interval of their success rate.
//!
//! ## Precedence of the rules
//!
//! The rules are tried in this order; the first that holds decides.
//!
//! 1. **Context that overrides any code** (confidence high):
//!    1. *credentials*: a credential error code (`ExpiredToken`,
//!       `InvalidClientTokenId`, `SignatureDoesNotMatch`,
//!       `NoCredentialProviders`, …) or phrase (`no valid credential
//!       sources`). First, because a request without valid credentials fails
//!       whatever else the message says (a timeout reaching the instance
//!       metadata service ends in "no valid credential sources", and the fix is
//!       the profile, not the network).
//!    2. *network*: the request got no answer from AWS: `dial tcp`,
//!       `i/o timeout`, `no such host`, `connection reset`, TLS handshake,
//!       `StatusCode: 0`, HTTP 407 (a proxy answered). No AWS code that might
//!       also appear can be trusted then.
//!    3. *permission*: the message says `not authorized to perform` (with or
//!       without the action). AWS sometimes wraps it in a misleading code
//!       (`ValidationError: You are not authorized to perform this operation`).
//!       Likewise a service's role denied a call (`InvalidParameterValueException:
//!       The provided execution role does not have permissions to call …`).
//!    4. *state*: the Terraform state or its backend: the state lock, loading
//!       or saving the state, listing workspaces, a resource already managed.
//!       It outranks the codes that come with it (`ConditionalCheckFailed` on
//!       the lock table, a bare `AccessDenied` on the state bucket): the
//!       resolution is in the backend, and without a named action there is no
//!       statement to propose. Every wording of a denied state read is state:
//!       `Error loading state: AccessDenied`, `error accessing remote state:
//!       AccessDenied`, `Error refreshing state: AccessDenied` (when the code
//!       follows the phrase; a resource's error during the refresh stays that
//!       resource's), `error loading the remote state`, `Error downloading
//!       state: 403 Forbidden`. The suggested solution lists what the backend
//!       needs (bucket, key, lock table, KMS key) and that a wrong bucket name
//!       or region also answers AccessDenied.
//! 2. **AWS error codes** (confidence high), every code in the message, tried
//!    category by category: permission (`AccessDenied`,
//!    `UnauthorizedOperation`), quota (`*LimitExceeded`, `TooMany*`,
//!    `*QuotaExceeded*`, throttling codes), resource (`*AlreadyExists*`,
//!    `DependencyViolation`, `*NotFound`, `NoSuch*`, `*InUse`), configuration
//!    (`Invalid*`, `Malformed*`, `ValidationException`/`ValidationError`,
//!    `Missing*`, `Unsupported*`), network (`InternalError`,
//!    `ServiceUnavailable`, `RequestTimeout`: AWS failed, a retry may pass).
//!    Quota comes before configuration because EC2 throttling reaches Lambda
//!    as `InvalidParameterValueException: … RequestLimitExceeded`.
//! 3. **Phrases** (confidence medium): "Cannot assume IAM Role" first
//!    (*credentials*; its text lists causes such as "… is not valid" that
//!    would otherwise read as configuration), then permission, quota,
//!    Terraform's own configuration diagnostics (`Unsupported argument`,
//!    `Missing required argument`, …; confidence high), resource phrases
//!    (`already exists`, `not found`), generic configuration phrases (`is
//!    invalid`, `must be`), and waiter timeouts (`timeout while waiting for
//!    state to become`), which are *network*: the resolution the user guide
//!    gives that category, retrying, is the one that applies. A failed
//!    `sts:AssumeRole` or `sts:GetCallerIdentity` call with nothing else to
//!    go on is *credentials*.
//! 4. **HTTP status** alone (confidence low): 401 credentials, 403
//!    permission, 404, 409 and 412 resource, 429 quota, 400 and 422
//!    configuration, 5xx network.
//! 5. Otherwise *unknown*.
//!
//! **Throttling is quota.** `Throttling`, `RequestLimitExceeded`,
//! `TooManyRequestsException` and "Rate exceeded" are an API rate limit, which
//! is an account quota (some can be raised through Service Quotas). The
//! category's first suggested solution is still to retry with backoff and
//! lower Terraform's `-parallelism`; the quota increase comes second.

mod classify;
mod extract;
mod fix;
mod learning;
mod signature;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use classify::{Confidence, Diagnosis, SuggestedSolution, classify};
pub use extract::{Extracted, PolicyKind, clean, extract};
pub use fix::{PermissionFix, attachable, least_privilege, permission_fix, why_no_fix};
pub use learning::{
    Awaiting, ISSUE_LOG_VERSION, Issue, IssueLog, LastFailure, LearningError, MAX_EXAMPLES, MAX_FAILURE_CHARS, RankedSolution, Solution, SolutionKind,
    add_solution, last_failure, ranked_solutions, record_failure, record_occurrence, record_outcome, settle, wilson_lower_bound,
};
pub use signature::{redact, signature, signature_id};

/// What kind of problem an error message describes. The first six are the
/// user guide's categories, in its order; credentials are split from
/// permission because their fix is a profile, not a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Permission,
    Configuration,
    Resource,
    State,
    Network,
    Quota,
    Credentials,
    Unknown,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Permission,
        Category::Configuration,
        Category::Resource,
        Category::State,
        Category::Network,
        Category::Quota,
        Category::Credentials,
        Category::Unknown,
    ];

    /// The serde name: `permission`, `configuration`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Permission => "permission",
            Category::Configuration => "configuration",
            Category::Resource => "resource",
            Category::State => "state",
            Category::Network => "network",
            Category::Quota => "quota",
            Category::Credentials => "credentials",
            Category::Unknown => "unknown",
        }
    }

    /// The category named `name` (its serde name), if any.
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name.trim())
    }

    /// What the category means, in one sentence.
    pub fn meaning(self) -> &'static str {
        match self {
            Category::Permission => "The deploy principal is not allowed to make this call.",
            Category::Configuration => "The Terraform configuration or a value it sends to AWS is invalid.",
            Category::Resource => "A resource conflicts with one that already exists, is still in use, or is missing.",
            Category::State => "The Terraform state or its backend (lock, bucket, workspaces) is in the way.",
            Category::Network => "The request got no timely answer from AWS (connection, DNS, proxy, timeout).",
            Category::Quota => "An account limit or an API rate limit was reached.",
            Category::Credentials => "The AWS credentials are missing, expired or invalid.",
            Category::Unknown => "No rule recognised the message.",
        }
    }

    /// How the category is resolved: the user guide's words first, then what that means here.
    pub fn resolution(self) -> &'static str {
        match self {
            Category::Permission => {
                "Auto-fixable: the least-privilege IAM statement for the missing action is proposed for the deploy principal; applying it uses the discover profile, goes through the approval gate and is audited; then the deploy is retried."
            }
            Category::Configuration => "Manual fix: correct the Terraform code or variables, run validate-config, then deploy again.",
            Category::Resource => {
                "Resolution required: import or rename the existing resource, remove what still depends on it, or create what is missing, then deploy again."
            }
            Category::State => {
                "Guided resolution: check the backend (bucket, key, lock table, access to them); release a stale lock only when no other run holds it."
            }
            Category::Network => "Retry logic: retry with backoff; if it persists, check DNS, proxy, VPN and the configured endpoint.",
            Category::Quota => {
                "Manual resolution: request a quota increase or free unused capacity; for API rate limits, retry with backoff and lower parallelism first."
            }
            Category::Credentials => "Refresh or configure the environment's AWS profile (for example `aws sso login --profile <profile>`), then deploy again.",
            Category::Unknown => "Read the message by hand; its signature is logged so that a solution recorded now is offered next time.",
        }
    }
}
