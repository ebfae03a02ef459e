//! IAM-style policy documents as the rules read them: a JSON string
//! (`jsonencode(…)`, a heredoc, a plan value) or a reference to a
//! `data.aws_iam_policy_document` (its `statement` blocks in HCL, its `json`
//! in a plan). Unknown parts are left out, so an unknown action or principal
//! is never taken for `*`.

use serde_json::Value as J;

use super::{Resource, Val};
use crate::tf::Module;

/// One statement, normalised.
#[derive(Debug, Clone, Default)]
pub(crate) struct Statement {
    pub allow: bool,
    /// `Action` (or `NotAction` when `not_action`), as written.
    pub actions: Vec<String>,
    pub not_action: bool,
    /// `Resource`; `NotResource` counts as `*`.
    pub resources: Vec<String>,
    /// `Principal: "*"`, `{"AWS": "*"}`, or a `NotPrincipal` on an Allow.
    pub any_principal: bool,
    /// Condition keys (`aws:SourceVpce`), with operator and values.
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
pub(crate) struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

/// Condition keys that narrow who can use a statement with a `*` principal.
const NARROWING_KEYS: &[&str] = &[
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourceip",
    "aws:vpceaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:userid",
    "kms:calleraccount",
    "kms:viaservice",
    "lambda:functionarn",
];

impl Statement {
    /// An Allow of `*` (any action), written as `*` or `*:*`.
    pub(crate) fn allows_star_action(&self) -> bool {
        self.allow && !self.not_action && self.actions.iter().any(|a| a == "*" || a == "*:*")
    }

    pub(crate) fn on_any_resource(&self) -> bool {
        self.resources.iter().any(|r| r == "*")
    }

    /// An Allow to any principal that no condition narrows to known callers.
    pub(crate) fn is_public(&self) -> bool {
        self.allow && self.any_principal && !self.conditions.iter().any(|c| NARROWING_KEYS.contains(&c.key.to_ascii_lowercase().as_str()))
    }
}

/// The statements of a policy attribute; `None` when the document is not known.
pub(crate) fn statements(m: &Module, v: Option<&Val>) -> Option<Vec<Statement>> {
    match v? {
        Val::Str(text) => from_json_text(text),
        Val::Ref(address) if address.starts_with("data.aws_iam_policy_document.") => {
            let doc = m.resources.iter().find(|r| r.data && super::strip_index(&r.address) == *address)?;
            from_document(doc)
        }
        Val::Map(_) => from_json(&v?.to_json()),
        // A heredoc with an interpolation (`${aws_sqs_queue.q.arn}`) is not known as a whole, but its text is
        // JSON whose unknown parts sit inside strings, where they read as `${…}`: never as `*`.
        Val::Unknown(source) => heredoc_text(source).and_then(|text| from_json_text(&text)),
        _ => None,
    }
}

/// The message for a resource policy with a statement open to any principal, if it has one.
pub(crate) fn public_statement(m: &Module, v: Option<&Val>) -> Option<String> {
    let s = statements(m, v)?;
    s.iter().position(Statement::is_public).map(|n| format!("statement {} allows any principal without a narrowing condition", n + 1))
}

/// The body of a heredoc (`<<EOF … EOF` or `<<-EOF … EOF`) as written, when it has no template
/// directive (`%{ … }`); `$${` is the literal `${`. `None` for any other expression.
fn heredoc_text(source: &str) -> Option<String> {
    let rest = source.strip_prefix("<<")?;
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let (marker, body) = rest.split_once('\n')?;
    let marker = marker.trim();
    let body = body.trim_end();
    let body = body.strip_suffix(marker)?;
    if marker.is_empty() || body.contains("%{") {
        return None;
    }
    Some(body.replace("$${", "${"))
}

fn from_json_text(text: &str) -> Option<Vec<Statement>> {
    from_json(&serde_json::from_str(text).ok()?)
}

fn from_json(doc: &J) -> Option<Vec<Statement>> {
    let list = match doc.get("Statement")? {
        J::Array(items) => items.iter().collect(),
        one @ J::Object(_) => vec![one],
        _ => return None,
    };
    Some(list.into_iter().filter(|s| s.is_object()).map(json_statement).collect())
}

fn json_statement(s: &J) -> Statement {
    let (actions, not_action) = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), _) => (json_strings(a), false),
        (None, Some(a)) => (json_strings(a), true),
        _ => (Vec::new(), false),
    };
    let resources = match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), _) => json_strings(r),
        (None, Some(_)) => vec!["*".to_string()],
        _ => Vec::new(),
    };
    // An Effect known only at apply time (`${var.effect}`) is not taken for Allow.
    let allow = match s.get("Effect") {
        None => true,
        Some(J::String(e)) => e.eq_ignore_ascii_case("allow"),
        Some(_) => false,
    };
    let any_principal = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(p), _) => principal_is_any(p),
        (None, Some(_)) => allow,
        _ => false,
    };
    let mut conditions = Vec::new();
    if let Some(J::Object(ops)) = s.get("Condition") {
        for (operator, keys) in ops {
            if let J::Object(keys) = keys {
                for (key, values) in keys {
                    conditions.push(Condition { operator: operator.clone(), key: key.clone(), values: json_strings(values) });
                }
            }
        }
    }
    Statement { allow, actions, not_action, resources, any_principal, conditions }
}

fn principal_is_any(p: &J) -> bool {
    match p {
        J::String(s) => s == "*",
        J::Object(map) => map.get("AWS").is_some_and(|aws| json_strings(aws).iter().any(|a| a == "*")),
        _ => false,
    }
}

fn json_strings(v: &J) -> Vec<String> {
    match v {
        J::String(s) => vec![s.clone()],
        J::Bool(b) => vec![b.to_string()],
        J::Array(items) => items.iter().flat_map(json_strings).collect(),
        _ => Vec::new(),
    }
}

/// A `data "aws_iam_policy_document"`: its `statement` blocks (HCL) or its `json` (plan).
fn from_document(doc: &Resource) -> Option<Vec<Statement>> {
    if let Some(Val::Str(json)) = doc.get("json") {
        return from_json_text(json);
    }
    let blocks = doc.get("statement").map(Val::blocks).unwrap_or_default();
    Some(
        blocks
            .into_iter()
            .map(|b| {
                let strs = |k: &str| super::strings(b.get(k)).into_iter().map(str::to_string).collect::<Vec<_>>();
                let allow = match b.get("effect") {
                    None => true,
                    Some(Val::Str(e)) => e.eq_ignore_ascii_case("allow"),
                    Some(_) => false,
                };
                let (actions, not_action) =
                    if b.contains_key("actions") { (strs("actions"), false) } else { (strs("not_actions"), b.contains_key("not_actions")) };
                let resources = if b.contains_key("not_resources") && !b.contains_key("resources") { vec!["*".to_string()] } else { strs("resources") };
                let principal_any = |key: &str| {
                    b.get(key).map(Val::blocks).unwrap_or_default().iter().any(|p| {
                        let kind = p.get("type").and_then(Val::as_str).unwrap_or("");
                        let ids = super::strings(p.get("identifiers"));
                        kind == "*" || (kind == "AWS" && ids.contains(&"*"))
                    })
                };
                let any_principal = principal_any("principals") || (allow && b.get("not_principals").is_some_and(|p| !p.blocks().is_empty()));
                let conditions = b
                    .get("condition")
                    .map(Val::blocks)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| Condition {
                        operator: c.get("test").and_then(Val::as_str).unwrap_or("").to_string(),
                        key: c.get("variable").and_then(Val::as_str).unwrap_or("?").to_string(),
                        values: super::strings(c.get("values")).into_iter().map(str::to_string).collect(),
                    })
                    .collect();
                Statement { allow, actions, not_action, resources, any_principal, conditions }
            })
            .collect(),
    )
}

/// Case-insensitive glob with `*` and `?`, as IAM matches actions.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("iam:*", "iam:PassRole"));
        assert!(glob("IAM:Attach*Policy", "iam:AttachRolePolicy"));
        assert!(glob("*", "s3:GetObject"));
        assert!(glob("s3:Get?bject", "s3:GetObject"));
        assert!(!glob("s3:*", "iam:PassRole"));
        assert!(!glob("iam:Get*", "iam:PassRole"));
    }
}
