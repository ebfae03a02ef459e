//! IAM: identity policies (`aws_iam_policy`, `aws_iam_*_policy`, a role's
//! `inline_policy`, SSO inline policies) read through [`super::policy`],
//! role trust policies, managed-policy attachments, users and access keys.

use super::actions::{self, Class};
use super::policy::{self, Statement, glob};
use super::{Hit, Module, Rule, Severity, each, hit, require_at_least, require_flag, setting, simple_rule, strings};
use crate::tf::Val;

pub static ADMIN: Rule = Rule {
    id: "FC_IAM_001",
    severity: Severity::Critical,
    title: "IAM policy grants full administrative access (\"*\" on \"*\")",
    checkov_id: Some("CKV_AWS_62"),
    fix: "List the actions and resources the principal needs; keep administrator access to break-glass roles with MFA.",
    check: admin,
};

pub static STAR_ACTION: Rule = Rule {
    id: "FC_IAM_002",
    severity: Severity::High,
    title: "IAM policy allows every action (\"Action\": \"*\")",
    checkov_id: Some("CKV_AWS_63"),
    fix: "Replace \"*\" with the specific actions needed (e.g. \"s3:GetObject\").",
    check: star_action,
};

pub static SERVICE_WILDCARD: Rule = Rule {
    id: "FC_IAM_003",
    severity: Severity::Medium,
    title: "IAM policy allows a whole service on every resource (\"svc:*\" on \"*\")",
    checkov_id: None,
    fix: "Name the actions (s3:GetObject, s3:PutObject) and the resource ARNs instead of \"service:*\" on \"*\".",
    check: service_wildcard,
};

pub static PRIVILEGE_ESCALATION: Rule = Rule {
    id: "FC_IAM_004",
    severity: Severity::High,
    title: "IAM policy allows privilege escalation",
    // Checkov uses Cloudsplaining's list. Ours is broader: policy versions, attach/put
    // policies, login profiles, access keys, updating function code, and PassRole with a
    // compute service's create action (Checkov also wants the invoke action for the
    // Lambda path). A policy allowing "*" is reported here too, as Checkov does.
    checkov_id: Some("CKV_AWS_286"),
    fix: "Remove IAM write actions (Attach*/Put*Policy, CreatePolicyVersion, CreateAccessKey, …) or restrict them to specific resources with a permissions boundary; scope iam:PassRole to named roles.",
    check: privilege_escalation,
};

pub static TRUST_ANY_PRINCIPAL: Rule = Rule {
    id: "FC_IAM_005",
    severity: Severity::Critical,
    title: "IAM role can be assumed by any AWS principal",
    // Unlike Checkov, a statement narrowed by aws:PrincipalOrgID / aws:PrincipalArn / aws:SourceAccount … passes.
    checkov_id: Some("CKV_AWS_60"),
    fix: "Name the accounts, roles or services in the trust policy's Principal, or add an aws:PrincipalOrgID condition.",
    check: trust_any_principal,
};

pub static USER_POLICY: Rule = Rule {
    id: "FC_IAM_006",
    severity: Severity::Low,
    title: "IAM policy attached directly to a user",
    checkov_id: Some("CKV_AWS_40"),
    fix: "Attach policies to groups or roles and put users in groups (or use IAM Identity Center).",
    check: user_policy,
};

pub static ADMIN_MANAGED_POLICY: Rule = Rule {
    id: "FC_IAM_007",
    severity: Severity::High,
    title: "AdministratorAccess managed policy attached",
    checkov_id: Some("CKV_AWS_274"),
    fix: "Attach a policy with only the permissions needed instead of arn:aws:iam::aws:policy/AdministratorAccess.",
    check: admin_managed_policy,
};

pub static NOT_ACTION: Rule = Rule {
    id: "FC_IAM_008",
    severity: Severity::Medium,
    title: "IAM policy allows everything except a list (Allow with NotAction)",
    checkov_id: None,
    fix: "Use Allow with an explicit Action list; NotAction with Allow grants every action not listed, including future ones.",
    check: not_action,
};

pub static ACCESS_KEY: Rule = Rule {
    id: "FC_IAM_009",
    severity: Severity::Medium,
    title: "Long-lived IAM access key created",
    checkov_id: None,
    fix: "Use roles (instance profiles, IRSA, OIDC federation for CI) instead of access keys; if a key is unavoidable, rotate it and keep it out of state.",
    check: access_key,
};

/// Escalation by one action alone.
const ESCALATING: &[&str] = &[
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
    "lambda:UpdateFunctionCode",
    "glue:UpdateDevEndpoint",
];

/// Escalation by passing a role to something that then runs with it.
const WITH_PASS_ROLE: &[&str] =
    &["ec2:RunInstances", "lambda:CreateFunction", "glue:CreateDevEndpoint", "cloudformation:CreateStack", "datapipeline:CreatePipeline"];

/// (resource position, attribute, statements) for every identity policy whose document is known;
/// parsed once per scan ([`Module::memo`]) and shared by the IAM rules.
fn parse_identity_policies(m: &Module) -> Vec<(usize, &'static str, Vec<Statement>)> {
    let mut out = Vec::new();
    for (i, r) in m.resources.iter().enumerate().filter(|(_, r)| !r.data) {
        match r.kind.as_str() {
            "aws_iam_policy" | "aws_iam_role_policy" | "aws_iam_user_policy" | "aws_iam_group_policy" => {
                if let Some(s) = policy::statements(m, r.get("policy")) {
                    out.push((i, "policy", s));
                }
            }
            "aws_iam_role" => {
                let docs = r.get("inline_policy").map(Val::blocks).unwrap_or_default();
                let statements: Vec<Statement> = docs.into_iter().filter_map(|b| policy::statements(m, b.get("policy"))).flatten().collect();
                if !statements.is_empty() {
                    out.push((i, "inline_policy", statements));
                }
            }
            "aws_ssoadmin_permission_set_inline_policy" => {
                if let Some(s) = policy::statements(m, r.get("inline_policy")) {
                    out.push((i, "inline_policy", s));
                }
            }
            _ => {}
        }
    }
    out
}

fn policy_rule<'m>(m: &'m Module, test: impl Fn(&[Statement]) -> Option<String>) -> Vec<Hit<'m>> {
    let all = m.memo("iam.identity_policies", || parse_identity_policies(m));
    all.iter().filter_map(|(i, attr, s)| test(s).map(|msg| hit(&m.resources[*i], attr, msg))).collect()
}

fn numbered(s: &[Statement], test: impl Fn(&Statement) -> bool) -> Option<(usize, &Statement)> {
    s.iter().enumerate().find(|(_, st)| test(st)).map(|(i, st)| (i + 1, st))
}

fn admin(m: &Module) -> Vec<Hit<'_>> {
    policy_rule(m, |s| numbered(s, |st| st.allows_star_action() && st.on_any_resource()).map(|(n, _)| format!("statement {n} allows \"*\" on \"*\"")))
}

fn star_action(m: &Module) -> Vec<Hit<'_>> {
    policy_rule(m, |s| numbered(s, Statement::allows_star_action).map(|(n, _)| format!("statement {n} allows Action \"*\"")))
}

fn service_wildcard(m: &Module) -> Vec<Hit<'_>> {
    policy_rule(m, |s| {
        let wide: Vec<&str> = s
            .iter()
            .filter(|st| st.allow && !st.not_action && st.on_any_resource())
            .flat_map(|st| st.actions.iter().map(String::as_str))
            .filter(|a| a.ends_with(":*") && *a != "*:*")
            .collect();
        (!wide.is_empty()).then(|| format!("{} allowed on Resource \"*\"", wide.join(", ")))
    })
}

fn privilege_escalation(m: &Module) -> Vec<Hit<'_>> {
    policy_rule(m, |s| {
        let granted = |action: &str| s.iter().any(|st| st.allow && !st.not_action && st.actions.iter().any(|p| glob(p, action))) && !denied(s, action);
        let mut paths: Vec<String> = ESCALATING.iter().filter(|a| granted(a)).map(|a| a.to_string()).collect();
        if granted("iam:PassRole") {
            paths.extend(WITH_PASS_ROLE.iter().filter(|a| granted(a)).map(|a| format!("iam:PassRole + {a}")));
        }
        paths.truncate(5);
        (!paths.is_empty()).then(|| format!("allows {}", paths.join(", ")))
    })
}

fn trust_any_principal(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_iam_role"], "assume_role_policy", |r| {
        let s = policy::statements(m, r.get("assume_role_policy"))?;
        numbered(&s, Statement::is_public).map(|(n, _)| format!("trust statement {n} lets any AWS principal assume the role"))
    })
}

fn user_policy(m: &Module) -> Vec<Hit<'_>> {
    let mut hits = each(m, &["aws_iam_user_policy", "aws_iam_user_policy_attachment"], "user", |_| Some("the policy is attached to a user".into()));
    hits.extend(each(m, &["aws_iam_policy_attachment"], "users", |r| (!setting(r, "users").is_absent()).then(|| "the attachment names users".into())));
    hits
}

fn is_admin_arn(arn: &str) -> bool {
    arn.starts_with("arn:aws") && arn.ends_with(":iam::aws:policy/AdministratorAccess")
}

fn admin_managed_policy(m: &Module) -> Vec<Hit<'_>> {
    let mut hits = each(m, &["aws_iam_role"], "managed_policy_arns", |r| {
        strings(r.get("managed_policy_arns")).into_iter().any(is_admin_arn).then(|| "managed_policy_arns includes AdministratorAccess".into())
    });
    let attachments = ["aws_iam_policy_attachment", "aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment"];
    hits.extend(each(m, &attachments, "policy_arn", |r| {
        setting(r, "policy_arn").as_str().filter(|a| is_admin_arn(a)).map(|_| "policy_arn is AdministratorAccess".into())
    }));
    hits
}

fn not_action(m: &Module) -> Vec<Hit<'_>> {
    policy_rule(m, |s| numbered(s, |st| st.allow && st.not_action).map(|(n, st)| format!("statement {n} allows every action except {}", st.actions.join(", "))))
}

fn access_key(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_iam_access_key"], "", |_| Some("an access key is created for the user (its secret also lands in Terraform state)".into()))
}

pub static CREDENTIALS_EXPOSURE: Rule = Rule {
    id: "FC_IAM_010",
    severity: Severity::High,
    title: "IAM policy allows actions that return credentials, on every resource",
    // Cloudsplaining's list, as Checkov uses it (ecr:GetAuthorizationToken excluded as Checkov
    // does: it cannot be scoped).
    checkov_id: Some("CKV_AWS_287"),
    fix: "Scope these actions to the users, clusters or databases they are for (Resource ARNs), or remove them.",
    check: credentials_exposure,
};

pub static DATA_EXFILTRATION: Rule = Rule {
    id: "FC_IAM_011",
    severity: Severity::Medium,
    title: "IAM policy allows reading objects or secrets on every resource",
    checkov_id: Some("CKV_AWS_288"),
    fix: "Name the buckets (arn:aws:s3:::bucket/*), parameters and secrets the principal reads instead of \"*\".",
    check: data_exfiltration,
};

pub static PERMISSIONS_MANAGEMENT: Rule = Rule {
    id: "FC_IAM_012",
    severity: Severity::High,
    title: "IAM policy allows changing permissions or resource policies on every resource",
    // The access level "Permissions management" of the Service Authorization Reference (aws_actions.txt).
    checkov_id: Some("CKV_AWS_289"),
    fix: "Scope permission changes to named resources (or a path and a permissions boundary), or remove them from workload roles.",
    check: permissions_management,
};

/// Actions whose responses carry credentials (Cloudsplaining's list, minus the ones that cannot be scoped).
const RETURN_CREDENTIALS: &[&str] = &[
    "airflow:CreateCliToken",
    "airflow:CreateWebLoginToken",
    "appsync:CreateApiKey",
    "cloud9:CreateEnvironmentToken",
    "codeartifact:GetAuthorizationToken",
    "codepipeline:PollForJobs",
    "cognito-identity:GetOpenIdToken",
    "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
    "cognito-identity:GetCredentialsForIdentity",
    "connect:GetFederationToken",
    "ec2:GetPasswordData",
    "ecr-public:GetAuthorizationToken",
    "gamelift:RequestUploadCredentials",
    "gamelift:GetInstanceAccess",
    "grafana:CreateWorkspaceApiKey",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "iam:UpdateAccessKey",
    "lightsail:GetInstanceAccessDetails",
    "lightsail:DownloadDefaultKeyPair",
    "lightsail:CreateBucketAccessKey",
    "lightsail:GetRelationalDatabaseMasterUserPassword",
    "rds-db:Connect",
    "redshift:GetClusterCredentials",
    "redshift:GetClusterCredentialsWithIAM",
    "redshift-serverless:GetCredentials",
    "sso:GetRoleCredentials",
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:GetFederationToken",
    "sts:GetSessionToken",
];

/// Reads that hand out data or secrets.
const EXFILTRATION: &[&str] = &["s3:GetObject", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "secretsmanager:GetSecretValue"];

/// The listed actions that an Allow grants on every resource (written out, or through patterns
/// such as `iam:*`, `s3:Get*` and `*`) and that no Deny on every resource takes back.
fn unconstrained<'a>(s: &[Statement], actions: &[&'a str]) -> Vec<&'a str> {
    actions
        .iter()
        .copied()
        .filter(|action| {
            let allowed = s.iter().any(|st| st.allow && !st.not_action && st.on_any_resource() && st.actions.iter().any(|p| glob(p, action)));
            allowed && !denied(s, action)
        })
        .collect()
}

/// The actions of a class (access level) that an Allow grants on every resource, minus those denied.
fn unconstrained_class(s: &[Statement], class: Class) -> std::borrow::Cow<'static, [&'static str]> {
    let patterns: Vec<&str> =
        s.iter().filter(|st| st.allow && !st.not_action && st.on_any_resource()).flat_map(|st| st.actions.iter().map(String::as_str)).collect();
    let any_deny = s.iter().any(|st| !st.allow && !st.not_action && st.on_any_resource());
    let mut found: Vec<&'static str> = if patterns.iter().any(|p| *p == "*" || *p == "*:*") {
        // Everything of the class (already sorted and unique): the common "Action": "*" costs no matching.
        if !any_deny {
            return std::borrow::Cow::Borrowed(actions::all(class));
        }
        actions::all(class).to_vec()
    } else {
        let mut found: Vec<&'static str> = patterns.iter().flat_map(|p| actions::matching(p, class)).collect();
        found.sort_unstable();
        found.dedup();
        found
    };
    if any_deny {
        found.retain(|a| !denied(s, a));
    }
    std::borrow::Cow::Owned(found)
}

fn denied(s: &[Statement], action: &str) -> bool {
    s.iter().any(|st| !st.allow && !st.not_action && st.on_any_resource() && st.actions.iter().any(|p| glob(p, action)))
}

fn listed(found: &[&str]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let more = found.len().saturating_sub(4);
    let shown = found.iter().take(4).copied().collect::<Vec<_>>().join(", ");
    Some(if more > 0 { format!("allows {shown} and {more} more on \"*\"") } else { format!("allows {shown} on \"*\"") })
}

fn credentials_exposure(m: &Module) -> Vec<Hit<'_>> {
    policy_rule(m, |s| listed(&unconstrained(s, RETURN_CREDENTIALS)))
}

fn data_exfiltration(m: &Module) -> Vec<Hit<'_>> {
    policy_rule(m, |s| listed(&unconstrained(s, EXFILTRATION)))
}

fn permissions_management(m: &Module) -> Vec<Hit<'_>> {
    policy_rule(m, |s| listed(&unconstrained_class(s, Class::PermissionsManagement)))
}

fn write_without_constraints(m: &Module) -> Vec<Hit<'_>> {
    policy_rule(m, |s| listed(&unconstrained_class(s, Class::RestrictableWrite)))
}

simple_rule!(
    PASSWORD_MAX_AGE,
    "FC_IAM_013",
    Low,
    "Account password policy lets passwords live longer than 90 days",
    Some("CKV_AWS_9"),
    ["aws_iam_account_password_policy"],
    "max_password_age",
    |r| match setting(r, "max_password_age") {
        super::Setting::Absent => Some("max_password_age is not set (passwords never expire)".into()),
        s => s.as_num().filter(|n| *n > 90.0 || *n == 0.0).map(|n| format!("max_password_age = {n}")),
    },
    "Set max_password_age = 90 (or less), or move people to SSO and drop IAM user passwords.",
);

simple_rule!(
    PASSWORD_LENGTH,
    "FC_IAM_014",
    Medium,
    "Account password policy allows passwords shorter than 14 characters",
    Some("CKV_AWS_10"),
    ["aws_iam_account_password_policy"],
    "minimum_password_length",
    |r| require_at_least(r, "minimum_password_length", 14.0, 6.0),
    "Set minimum_password_length = 14 (or more).",
);

simple_rule!(
    PASSWORD_LOWERCASE,
    "FC_IAM_015",
    Low,
    "Account password policy does not require a lowercase letter",
    Some("CKV_AWS_11"),
    ["aws_iam_account_password_policy"],
    "require_lowercase_characters",
    |r| require_flag(r, "require_lowercase_characters", true, false),
    "Set require_lowercase_characters = true.",
);

simple_rule!(
    PASSWORD_NUMBERS,
    "FC_IAM_016",
    Low,
    "Account password policy does not require a number",
    Some("CKV_AWS_12"),
    ["aws_iam_account_password_policy"],
    "require_numbers",
    |r| require_flag(r, "require_numbers", true, false),
    "Set require_numbers = true.",
);

simple_rule!(
    PASSWORD_REUSE,
    "FC_IAM_017",
    Low,
    "Account password policy lets old passwords be reused",
    Some("CKV_AWS_13"),
    ["aws_iam_account_password_policy"],
    "password_reuse_prevention",
    |r| require_at_least(r, "password_reuse_prevention", 24.0, 0.0),
    "Set password_reuse_prevention = 24.",
);

simple_rule!(
    PASSWORD_SYMBOLS,
    "FC_IAM_018",
    Low,
    "Account password policy does not require a symbol",
    Some("CKV_AWS_14"),
    ["aws_iam_account_password_policy"],
    "require_symbols",
    |r| require_flag(r, "require_symbols", true, false),
    "Set require_symbols = true.",
);

simple_rule!(
    PASSWORD_UPPERCASE,
    "FC_IAM_019",
    Low,
    "Account password policy does not require an uppercase letter",
    Some("CKV_AWS_15"),
    ["aws_iam_account_password_policy"],
    "require_uppercase_characters",
    |r| require_flag(r, "require_uppercase_characters", true, false),
    "Set require_uppercase_characters = true.",
);

pub static FULL_IAM: Rule = Rule {
    id: "FC_IAM_020",
    severity: Severity::High,
    title: "IAM policy allows every IAM action (\"iam:*\")",
    checkov_id: Some("CKV2_AWS_40"),
    fix: "Grant the specific IAM actions needed on named roles or policies; whoever holds iam:* can make themselves administrator.",
    check: full_iam,
};

simple_rule!(
    IAM_USER,
    "FC_IAM_021",
    Low,
    "IAM user defined (people should sign in through SSO)",
    Some("CKV_AWS_273"),
    ["aws_iam_user"],
    "",
    |_| Some("an IAM user with its own long-lived credentials".into()),
    "Give people access through IAM Identity Center (SSO) and workloads through roles; keep IAM users for the rare system that cannot assume a role.",
);

pub static CONSOLE_USER: Rule = Rule {
    id: "FC_IAM_022",
    severity: Severity::Medium,
    title: "IAM user has a console password",
    checkov_id: Some("CKV2_AWS_22"),
    fix: "Remove the aws_iam_user_login_profile and sign people in through IAM Identity Center (SSO) with MFA.",
    check: console_user,
};

pub static IAM_FULL_ACCESS_POLICY: Rule = Rule {
    id: "FC_IAM_023",
    severity: Severity::High,
    title: "AWS managed IAMFullAccess policy is attached",
    checkov_id: Some("CKV2_AWS_56"),
    fix: "Replace IAMFullAccess with a policy granting the specific IAM actions on named resources.",
    check: iam_full_access_policy,
};

fn full_iam(m: &Module) -> Vec<Hit<'_>> {
    policy_rule(m, |s| {
        numbered(s, |st| st.allow && !st.not_action && st.actions.iter().any(|a| ["iam:*", "*", "*:*"].iter().any(|w| a.eq_ignore_ascii_case(w))))
            .map(|(n, st)| format!("statement {n} allows every IAM action ({})", st.actions.join(", ")))
    })
}

fn console_user(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_iam_user"], "", |r| {
        (!super::links(m, "aws_iam_user_login_profile", "user", r, &["name"]).found.is_empty())
            .then(|| "an aws_iam_user_login_profile gives this user a console password".into())
    })
}

fn iam_full_access_policy(m: &Module) -> Vec<Hit<'_>> {
    let attachments = ["aws_iam_policy_attachment", "aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment"];
    let mut hits = each(m, &attachments, "policy_arn", |r| {
        setting(r, "policy_arn").as_str().filter(|a| a.ends_with(":iam::aws:policy/IAMFullAccess")).map(|_| "policy_arn is IAMFullAccess".into())
    });
    hits.extend(each(m, &["aws_iam_role"], "managed_policy_arns", |r| {
        strings(r.get("managed_policy_arns"))
            .into_iter()
            .any(|a| a.ends_with(":iam::aws:policy/IAMFullAccess"))
            .then(|| "managed_policy_arns includes IAMFullAccess".into())
    }));
    hits
}

pub static WRITE_WITHOUT_CONSTRAINTS: Rule = Rule {
    id: "FC_IAM_024",
    severity: Severity::Low,
    title: "IAM policy allows write actions on every resource where it could name them",
    // Write actions that accept resource ARNs (aws_actions.txt); actions that only take "*"
    // (cloudwatch:PutMetricData, xray:PutTraceSegments) are not reported.
    checkov_id: Some("CKV_AWS_290"),
    fix: "Replace \"Resource\": \"*\" with the ARNs the actions are for (the table, the queue, the log group).",
    check: write_without_constraints,
};
