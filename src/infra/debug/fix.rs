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

/// The statement for a denied call whose action is known; `None` when access
/// was not denied, the action is unknown, or the denial is an explicit deny
/// (an Allow cannot lift it).
pub fn least_privilege(x: &Extracted) -> Option<PermissionFix> {
    if !x.access_denied || x.explicit_deny {
        return None;
    }
    let action = x.action.as_deref().filter(|a| is_iam_action(a))?;
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
    let resource = match x.denied_resource.clone().or(bucket) {
        Some(arn) => arn,
        None => {
            notes.push("The message names no resource, so Resource is \"*\": narrow it to the ARNs this deployment manages before approving.".into());
            "*".into()
        }
    };
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
        "Resource": [resource],
    });
    Some(PermissionFix { principal, statement, notes })
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
