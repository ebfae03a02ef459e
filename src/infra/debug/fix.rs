//! The least-privilege IAM statement a permission error asks for: the one
//! denied action, on the denied resource when the message names it, for the
//! principal that was denied. Applying it (discover profile, approval gate,
//! audit trail) belongs to the caller.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::extract::{Extracted, is_iam_action};

/// A statement to attach, where, and what to check before approving it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PermissionFix {
    /// The IAM user or role to attach the statement to; an assumed-role
    /// session (`arn:aws:sts::…:assumed-role/R/s`) becomes its role
    /// (`arn:aws:iam::…:role/R`). `None` when the message does not name an
    /// identity a policy can be attached to.
    pub principal: Option<String>,
    /// `{Sid, Effect: Allow, Action: [action], Resource: [arn or "*"]}`.
    pub statement: Value,
    /// What the reviewer should know (a `"*"` resource, a guessed action, …).
    pub notes: Vec<String>,
}

impl PermissionFix {
    /// The statement as a whole policy document.
    pub fn policy_document(&self) -> Value {
        json!({ "Version": "2012-10-17", "Statement": [self.statement.clone()] })
    }
}

/// The statement for a denied call whose action is known; `None` when no
/// statement on an identity would fix it ([`why_no_fix`] says why).
pub fn least_privilege(x: &Extracted) -> Option<PermissionFix> {
    permission_fix(x).ok()
}

/// Why [`least_privilege`] proposes nothing for `x`, in a sentence; `None`
/// when it proposes a statement.
pub fn why_no_fix(x: &Extracted) -> Option<String> {
    permission_fix(x).err()
}

/// The statement, or why there is none: access was not denied, the action is
/// unknown, a policy other than the caller's identity policy decided (an
/// explicit deny, a resource policy, an SCP, a permissions boundary: an
/// Allow in an identity policy cannot lift those), or the message blames a
/// service's role it does not name (granting the deploy principal would not
/// help).
pub fn permission_fix(x: &Extracted) -> Result<PermissionFix, String> {
    let action = x.action.as_deref().filter(|a| is_iam_action(a));
    let what = action.unwrap_or("the call");
    if let Some(kind) = x.blocked_by {
        return Err(format!("{what} is denied by {}; an Allow statement in an identity policy cannot change that, so none is proposed.", kind.describe()));
    }
    if x.explicit_deny {
        return Err(format!("{what} is explicitly denied, and no Allow statement overrides an explicit deny, so none is proposed."));
    }
    let Some(action) = action else {
        return Err(
            "The message names no IAM action (nor an API call it comes from), so there is no statement to propose: find the denied action in CloudTrail or with TF_LOG=debug."
                .into(),
        );
    };
    if !x.access_denied {
        return Err(format!("The message does not say that {action} was denied, so no statement is proposed."));
    }
    if let (Some(role), None) = (&x.service_role, &x.principal) {
        return Err(format!(
            "{role} lacks {action}, not the deploy principal, and the message does not name that role: add the statement to the role the resource is given (its `role` argument) rather than to the deploy principal."
        ));
    }
    let mut notes = Vec::new();
    if !x.action_denied {
        notes.push(format!(
            "AWS did not name the denied action; {action} is the API call that failed. A call can need more (kms:Decrypt for an encrypted resource, iam:PassRole for a role it is given)."
        ));
    }
    // S3 bucket ARNs need no account or region: the bucket Terraform was working on narrows the statement.
    let bucket = x
        .target
        .as_ref()
        .filter(|(kind, _)| kind == "S3 Bucket")
        .filter(|_| action.starts_with("s3:") && action.contains("Bucket"))
        .map(|(_, name)| format!("arn:aws:s3:::{name}"));
    let resources = match x.denied_resource.clone().or(bucket) {
        Some(arn) => statement_resources(&arn),
        None => {
            notes.push("The message names no resource, so Resource is \"*\": narrow it to the ARNs this deployment manages before approving.".into());
            vec!["*".to_string()]
        }
    };
    let resource = resources[0].clone();
    let name = action.split(':').nth(1).unwrap_or_default();
    if resource == "*" && (name.starts_with("Describe") || name.starts_with("List")) {
        notes.push(format!("{action} is a read-only listing call; such calls usually support only Resource \"*\"."));
    }
    if action == "iam:PassRole" {
        notes.push("Consider a Condition on iam:PassedToService naming the service that receives the role.".into());
    }
    let principal = match &x.principal {
        Some(p) => attachable(p, &mut notes),
        None => {
            notes.push("The message does not name the caller: attach the statement to the principal of the environment's deploy profile (`aws sts get-caller-identity`).".into());
            None
        }
    };
    let statement = json!({
        "Sid": sid(action),
        "Effect": "Allow",
        "Action": [action],
        "Resource": resources,
    });
    Ok(PermissionFix { principal, statement, notes })
}

/// The identity a policy can be attached to for `principal` (an assumed-role
/// session becomes its role); why not, in `notes`, when there is none.
pub fn attachable(principal: &str, notes: &mut Vec<String>) -> Option<String> {
    let parts: Vec<&str> = principal.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        notes.push(format!("{principal} is not an ARN: attach the statement to the deploy principal by hand."));
        return None;
    }
    let (partition, service, account, resource) = (parts[1], parts[2], parts[4], parts[5]);
    match (service, resource.split('/').next().unwrap_or_default()) {
        ("iam", "user" | "role") => Some(principal.to_string()),
        ("sts", "assumed-role") => {
            let role = resource.split('/').nth(1)?;
            notes.push(format!("{principal} is a session of role {role}; the statement goes on the role (if the role has a path, add it to the ARN)."));
            Some(format!("arn:{partition}:iam::{account}:role/{role}"))
        }
        _ => {
            notes.push(format!(
                "{principal} cannot carry an identity policy (root, federated user or service): grant the action where that identity gets its permissions."
            ));
            None
        }
    }
}

/// The `Resource` entries that match `arn` as IAM evaluates it. A CloudWatch
/// Logs log group is matched in two forms: `…:log-group:NAME` (the calls
/// that take the group's ARN, such as tagging) and `…:log-group:NAME:*` (the
/// form IAM compares for the group's own calls and every stream in it); a
/// denial names it `…:log-group:NAME:log-stream:`, which neither a bare
/// group ARN nor the name alone would match.
fn statement_resources(arn: &str) -> Vec<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6
        && parts[2] == "logs"
        && let Some(rest) = parts[5].strip_prefix("log-group:")
    {
        let name = rest.split(":log-stream").next().unwrap_or(rest).trim_end_matches(":*").trim_end_matches(':');
        if !name.is_empty() && name != "*" {
            let group = format!("{}:log-group:{name}", parts[..5].join(":"));
            return vec![group.clone(), format!("{group}:*")];
        }
    }
    vec![arn.to_string()]
}

/// `iam:PassRole` → `AllowIamPassRole` (a Sid is letters and digits only).
fn sid(action: &str) -> String {
    let mut out = String::from("Allow");
    for part in action.split(':') {
        let mut chars = part.chars().filter(|c| c.is_ascii_alphanumeric());
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}
