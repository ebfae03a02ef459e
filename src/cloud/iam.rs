//! Applying a permission fix: an inline policy on the IAM user or role that
//! was denied. Called only with an `Approval` in hand and with the
//! `discover` profile's clients (the caller's concern).

use super::{Cloud, aws_error};
use crate::error::Error;

/// The kind and name of an attachable principal ARN
/// (`arn:aws:iam::123456789012:user/path/name` → `("user", "name")`).
pub fn principal_name(arn: &str) -> Option<(&str, &str)> {
    let resource = arn.strip_prefix("arn:")?.splitn(5, ':').nth(4)?;
    let (kind, rest) = resource.split_once('/')?;
    let name = rest.rsplit('/').next().filter(|n| !n.is_empty())?;
    matches!(kind, "user" | "role").then_some((kind, name))
}

/// Puts `document` as the inline policy `policy_name` on `principal_arn`.
pub async fn put_inline_policy(cloud: &Cloud, principal_arn: &str, policy_name: &str, document: &serde_json::Value) -> Result<(), Error> {
    let (kind, name) = principal_name(principal_arn)
        .ok_or_else(|| Error::Failed(format!("{principal_arn} is not an IAM user or role ARN; a policy cannot be attached to it")))?;
    let doc = document.to_string();
    match kind {
        "user" => {
            cloud
                .iam()
                .put_user_policy()
                .user_name(name)
                .policy_name(policy_name)
                .policy_document(doc)
                .send()
                .await
                .map_err(|e| aws_error("iam:PutUserPolicy", e))?;
        }
        _ => {
            cloud
                .iam()
                .put_role_policy()
                .role_name(name)
                .policy_name(policy_name)
                .policy_document(doc)
                .send()
                .await
                .map_err(|e| aws_error("iam:PutRolePolicy", e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::principal_name;

    #[test]
    fn principals() {
        for (arn, want) in [
            ("arn:aws:iam::123456789012:user/deployer", Some(("user", "deployer"))),
            ("arn:aws:iam::123456789012:user/ci/deployer", Some(("user", "deployer"))),
            ("arn:aws:iam::123456789012:role/deploy-role", Some(("role", "deploy-role"))),
            ("arn:aws:sts::123456789012:assumed-role/R/session", None),
            ("arn:aws:iam::123456789012:group/admins", None),
            ("deployer", None),
        ] {
            assert_eq!(principal_name(arn), want, "{arn}");
        }
    }
}
