//! Remediations a deploy would undo. A restart, scale or rollback changes what
//! Terraform manages (a function's variables, its reserved concurrency, where
//! its `live` alias points, a service's desired count or task definition), so
//! the next plan puts Terraform's value back. Preview and deploy name each one,
//! from the remediation log (`remediations/{env}/remediation-log.json`) since
//! the last deploy, instead of letting it be undone in silence.
//!
//! [`reverted`] is pure; [`since_last_deploy`] reads the log.

use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::iac::plan::{Action, ChangeSummary};
use crate::vocabulary::RemediationAction;
use crate::vocabulary::resource::ServiceKind;
use crate::workspace::Workspace;

/// A remediation as the log records it (the fields read here).
#[derive(Debug, Clone, Deserialize)]
pub struct Remembered {
    pub at: String,
    pub plan: RememberedPlan,
    pub outcome: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RememberedPlan {
    pub service: String,
    pub resource_kind: ServiceKind,
    pub resource: String,
    pub action: RemediationAction,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

/// The remediations of `env` that succeeded since `since` (the last deploy's time, to the second: one in the same
/// second came after it; all of them when `None`).
pub fn since_last_deploy(ws: &Workspace, env: &str, since: Option<&str>) -> Result<Vec<Remembered>, Error> {
    let path = ws.path(&format!("remediations/{env}/remediation-log.json"))?;
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(Vec::new()) };
    // An unreadable log is remediate's to report (it moves it aside); here it only means nothing to name.
    let logged: Vec<Remembered> = serde_json::from_str(&text).unwrap_or_default();
    Ok(logged.into_iter().filter(|r| r.outcome == "succeeded" && since.is_none_or(|s| r.at.as_str() >= s)).collect())
}

/// The Terraform variables a kept remediation is written to (in the environment's variable file), keyed by the
/// generated function's Terraform name: the `live` alias's version, and the reserved concurrency.
pub const KEPT_VERSIONS: &str = "kept_live_versions";
pub const KEPT_CONCURRENCY: &str = "kept_reserved_concurrency";

/// A remediation the plan undoes: the line naming it, and how to keep it (variable, key, value) when the
/// generated configuration can.
#[derive(Debug, Clone, PartialEq)]
pub struct Revert {
    pub line: String,
    pub keep: Option<(&'static str, String, Value)>,
}

/// One line per remembered remediation that the plan undoes, naming the change that undoes it.
pub fn reverted(remembered: &[Remembered], plan: &ChangeSummary) -> Vec<String> {
    reverts(remembered, plan).into_iter().map(|r| r.line).collect()
}

/// The remembered remediations the plan undoes, each with how to keep it.
pub fn reverts(remembered: &[Remembered], plan: &ChangeSummary) -> Vec<Revert> {
    let mut out = Vec::new();
    for r in remembered {
        let p = &r.plan;
        let (kind, wanted): (&str, Undoes) = match (p.resource_kind, p.action) {
            (ServiceKind::Lambda, RemediationAction::Rollback) => ("aws_lambda_alias", |path, before, p| path == "function_version" && same(before, &p.to)),
            (ServiceKind::Lambda, RemediationAction::Scale) => {
                ("aws_lambda_function", |path, before, p| path == "reserved_concurrent_executions" && same(before, &p.to))
            }
            (ServiceKind::Lambda, RemediationAction::Restart) => ("aws_lambda_function", |path, _, _| path.ends_with("FABER_CLOUD_RESTARTED_AT")),
            (ServiceKind::EcsService, RemediationAction::Scale) => ("aws_ecs_service", |path, before, p| path == "desired_count" && same(before, &p.to)),
            (ServiceKind::EcsService, RemediationAction::Rollback) => ("aws_ecs_service", |path, before, p| {
                path == "task_definition" && p.to.as_deref().is_some_and(|to| before.as_str().is_some_and(|b| b.ends_with(to.rsplit('/').next().unwrap_or(to))))
            }),
            _ => continue,
        };
        let undone = plan
            .resources
            .iter()
            .filter(|c| c.kind == kind && c.action == Action::Update)
            .find_map(|c| c.changed.iter().find(|a| a.before.as_ref().is_some_and(|b| wanted(&a.path, b, p))).map(|a| (c.address.as_str(), a)));
        if let Some((address, attr)) = undone {
            let show = |v: &Option<Value>| v.as_ref().map_or_else(|| "null".to_string(), |v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
            let what = match (p.action, &p.from, &p.to) {
                (RemediationAction::Restart, _, _) => String::new(),
                (_, Some(from), Some(to)) => format!(" ({from} → {to})"),
                _ => String::new(),
            };
            let line = format!(
                "undoes the {} of {} made at {}{what}: {address} {} {} → {}",
                p.action.as_str(),
                p.service,
                r.at,
                attr.path,
                show(&attr.before),
                show(&attr.after)
            );
            let name = address.rsplit('.').next().unwrap_or(address).to_string();
            let keep = match (p.resource_kind, p.action, &attr.before) {
                (ServiceKind::Lambda, RemediationAction::Rollback, Some(v)) => Some((KEPT_VERSIONS, name, Value::String(show(&Some(v.clone()))))),
                (ServiceKind::Lambda, RemediationAction::Scale, Some(v)) if v.is_number() => Some((KEPT_CONCURRENCY, name, v.clone())),
                _ => None,
            };
            out.push(Revert { line, keep });
        }
    }
    out
}

/// Whether a changed attribute (path, value before the plan) undoes the remediation.
type Undoes = fn(&str, &Value, &RememberedPlan) -> bool;

/// A plan value equal to the remediation's value ("1" and 1 alike).
fn same(before: &Value, to: &Option<String>) -> bool {
    let Some(to) = to else { return false };
    match before {
        Value::String(s) => s == to,
        other => serde_json::from_str::<Value>(to).is_ok_and(|v| v == *other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remembered(kind: ServiceKind, action: RemediationAction, from: &str, to: &str) -> Remembered {
        Remembered {
            at: "2026-12-07T19:00:00Z".into(),
            outcome: "succeeded".into(),
            plan: RememberedPlan {
                service: "worker".into(),
                resource_kind: kind,
                resource: "shop-core-test-worker".into(),
                action,
                from: Some(from.into()),
                to: Some(to.into()),
            },
        }
    }

    fn plan(changes: serde_json::Value) -> ChangeSummary {
        crate::iac::plan::summarize(serde_json::json!({"format_version": "1.2", "resource_changes": changes}).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn names_the_remediations_a_plan_undoes_and_only_those() {
        let p = plan(serde_json::json!([
            {"address": "aws_lambda_alias.worker", "type": "aws_lambda_alias", "name": "worker",
             "change": {"actions": ["update"], "before": {"name": "live", "function_version": "1"}, "after": {"name": "live", "function_version": "2"}}},
            {"address": "aws_lambda_function.worker", "type": "aws_lambda_function", "name": "worker",
             "change": {"actions": ["update"], "before": {"reserved_concurrent_executions": 5}, "after": {"reserved_concurrent_executions": -1}}},
        ]));
        let rollback = remembered(ServiceKind::Lambda, RemediationAction::Rollback, "2", "1");
        let scale = remembered(ServiceKind::Lambda, RemediationAction::Scale, "-1", "5");
        let other_scale = remembered(ServiceKind::Lambda, RemediationAction::Scale, "-1", "7");
        let lines = reverted(&[rollback, scale, other_scale], &p);
        assert_eq!(
            lines,
            [
                "undoes the rollback of worker made at 2026-12-07T19:00:00Z (2 → 1): aws_lambda_alias.worker function_version 1 → 2",
                "undoes the scale of worker made at 2026-12-07T19:00:00Z (-1 → 5): aws_lambda_function.worker reserved_concurrent_executions 5 → -1",
            ]
        );
        assert!(reverted(&[remembered(ServiceKind::Lambda, RemediationAction::Rollback, "2", "1")], &plan(serde_json::json!([]))).is_empty());
        let kept: Vec<_> = reverts(
            &[remembered(ServiceKind::Lambda, RemediationAction::Rollback, "2", "1"), remembered(ServiceKind::Lambda, RemediationAction::Scale, "-1", "5")],
            &p,
        )
        .into_iter()
        .map(|r| r.keep.unwrap())
        .collect();
        assert_eq!(kept, [(KEPT_VERSIONS, "worker".to_string(), serde_json::json!("1")), (KEPT_CONCURRENCY, "worker".to_string(), serde_json::json!(5))]);
    }
}
