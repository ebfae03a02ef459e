//! The deployment registry (`deployments/{env}/registry.json`) and its
//! human-readable twin `DEPLOYED.md`: what is deployed, with IDs, ARNs,
//! console links, tags, and when each resource was created and last changed.
//!
//! [`merge`] and [`render_markdown`] are pure; [`load`], [`save`] and [`record`] (merge and save after an apply) do
//! the I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::infra::resources::{self, StateResource};
use crate::workspace::Workspace;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Registry {
    pub version: u32,
    pub project: String,
    pub env: String,
    pub account: Option<String>,
    pub region: String,
    pub updated_at: String,
    /// The AWS caller that ran the last deploy.
    pub deployed_by: Option<String>,
    pub resource_count: usize,
    pub resources: Vec<Entry>,
    /// A multi-region environment: its regions, the primary first (each entry names its own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Entry {
    pub address: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub id: Option<String>,
    pub arn: Option<String>,
    pub region: String,
    pub console_url: Option<String>,
    pub created: String,
    pub updated: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub configuration: serde_json::Map<String, Value>,
}

/// Who and where, for a new registry.
pub struct Context<'a> {
    pub project: &'a str,
    pub env: &'a str,
    pub account: Option<&'a str>,
    pub region: &'a str,
    pub caller: Option<&'a str>,
    pub now: &'a str,
}

/// The registry after a deploy: every resource of the state; `created` kept
/// from the previous registry, `updated` set to now for resources the apply
/// touched (`changed`) or that are new.
pub fn merge(previous: Option<&Registry>, state: &[StateResource<'_>], changed: &[String], ctx: &Context<'_>) -> Registry {
    let before: BTreeMap<&str, &Entry> = previous.map(|p| p.resources.iter().map(|e| (e.address.as_str(), e)).collect()).unwrap_or_default();
    let resources: Vec<Entry> = state
        .iter()
        .map(|r| {
            let shown = resources::describe(r, ctx.region);
            let old = before.get(r.address);
            let touched = changed.iter().any(|c| c == r.address);
            let tags = r
                .values
                .get("tags_all")
                .or_else(|| r.values.get("tags"))
                .and_then(Value::as_object)
                .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
                .unwrap_or_default();
            Entry {
                address: shown.address,
                kind: shown.kind,
                name: shown.name,
                id: shown.id,
                arn: shown.arn,
                region: ctx.region.to_string(),
                console_url: shown.console_url,
                created: old.map_or_else(|| ctx.now.to_string(), |o| o.created.clone()),
                updated: match old {
                    Some(o) if !touched => o.updated.clone(),
                    _ => ctx.now.to_string(),
                },
                tags,
                configuration: shown.configuration,
            }
        })
        .collect();
    Registry {
        version: VERSION,
        project: ctx.project.into(),
        env: ctx.env.into(),
        account: ctx.account.map(str::to_string),
        region: ctx.region.into(),
        updated_at: ctx.now.into(),
        deployed_by: ctx.caller.map(str::to_string),
        resource_count: resources.len(),
        resources,
        regions: Vec::new(),
    }
}

/// A heading per resource type.
fn type_label(kind: &str) -> String {
    match crate::vocabulary::resource::lookup(kind) {
        Some(t) => format!("{} (`{kind}`)", t.label),
        None => format!("`{kind}`"),
    }
}

/// `DEPLOYED.md`: resources grouped by type with console links, when it was
/// last updated, how many there are, and the commands to manage them.
pub fn render_markdown(r: &Registry) -> String {
    let mut out = format!("# Deployed resources: {} / {}\n\n", r.project, r.env);
    out.push_str(&format!("- Last updated: {}\n", r.updated_at));
    if let Some(by) = &r.deployed_by {
        out.push_str(&format!("- Deployed by: `{by}`\n"));
    }
    if r.regions.len() > 1 {
        out.push_str(&format!("- Account: {}, regions: {} (primary {})\n", r.account.as_deref().unwrap_or("unknown"), r.regions.join(", "), r.region));
    } else {
        out.push_str(&format!("- Account: {}, region: {}\n", r.account.as_deref().unwrap_or("unknown"), r.region));
    }
    out.push_str(&format!("- Resources: {}\n\n", r.resource_count));
    out.push_str("Generated by faber-cloud from `registry.json` after each deploy; edits here are overwritten.\n");
    // A multi-region environment: a section per region, primary first, each grouped by type.
    let sections: Vec<(Option<&str>, Vec<&Entry>)> = if r.regions.len() > 1 {
        r.regions.iter().map(|region| (Some(region.as_str()), r.resources.iter().filter(|e| e.region == *region).collect())).collect()
    } else {
        vec![(None, r.resources.iter().collect())]
    };
    for (region, entries) in sections {
        if let Some(region) = region {
            out.push_str(&format!("\n## Region {region} — {} resource(s)\n", entries.len()));
        }
        out.push_str(&by_type(&entries, if region.is_some() { "###" } else { "##" }));
    }
    let env = &r.env;
    out.push_str(&format!(
        "\n## Management commands\n\n\
         - Show resources: `faber-cloud infra show-resources --env {env}` (or ask the director: \"show me deployed resources in {env}\")\n\
         - Preview changes: `faber-cloud infra preview-changes --env {env}`\n\
         - Deploy: `faber-cloud infra deploy --env {env}`\n\
         - Check health: `faber-cloud ops check-health --env {env}`\n\
         - Debug a failure: `faber-cloud infra debug --env {env} --error \"<message>\"`\n"
    ));
    out
}

/// The entries under one heading per resource type (`heading`: `##` or `###`).
fn by_type(entries: &[&Entry], heading: &str) -> String {
    let mut out = String::new();
    let mut groups: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in entries {
        groups.entry(e.kind.as_str()).or_default().push(e);
    }
    for (kind, entries) in groups {
        out.push_str(&format!("\n{heading} {} — {}\n\n", type_label(kind), entries.len()));
        out.push_str("| Name | ARN / ID | Console | Updated |\n|---|---|---|---|\n");
        for e in entries {
            let name = e.name.as_deref().unwrap_or(&e.address);
            let ident = e.arn.as_deref().or(e.id.as_deref()).unwrap_or("-");
            let console = e.console_url.as_deref().map_or_else(|| "-".to_string(), |u| format!("[open]({u})"));
            out.push_str(&format!("| {} | `{}` | {} | {} |\n", cell(name), cell(ident), console, e.updated));
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn path(ws: &Workspace, env: &str, file: &str) -> Result<std::path::PathBuf, Error> {
    Ok(ws.path(&format!("deployments/{env}/{file}"))?)
}

/// The registry of `env`, if one was written.
pub fn load(ws: &Workspace, env: &str) -> Result<Option<Registry>, Error> {
    let p = path(ws, env, "registry.json")?;
    match std::fs::read_to_string(&p) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::Failed(format!("{}: {e} (fix or delete the file; the next deploy rewrites it)", p.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Failed(format!("{}: {e}", p.display()))),
    }
}

/// The registry of `env` after an apply (deploy or teardown) as `caller`: merged with the previous one from the
/// resources left in the state of each region (primary first), saved with DEPLOYED.md. Returns it and the two
/// paths.
pub fn record(
    ws: &Workspace,
    config: &crate::config::Config,
    env: &str,
    caller: &crate::cloud::Caller,
    per_region: &[(&str, Vec<StateResource<'_>>)],
    changed: &[String],
) -> Result<(Registry, std::path::PathBuf, std::path::PathBuf), Error> {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let previous = load(ws, env)?;
    let reg = merge_regions(previous.as_ref(), per_region, changed, &config.project.name, env, Some(&caller.account), Some(&caller.arn), &now);
    let (json, md) = save(ws, &reg)?;
    Ok((reg, json, md))
}

/// [`merge`] per region (each against the previous entries of its own region), one registry for them all. Pure.
#[allow(clippy::too_many_arguments, reason = "the registry's context, spelled out")]
pub fn merge_regions(
    previous: Option<&Registry>,
    per_region: &[(&str, Vec<StateResource<'_>>)],
    changed: &[String],
    project: &str,
    env: &str,
    account: Option<&str>,
    caller: Option<&str>,
    now: &str,
) -> Registry {
    let mut out: Option<Registry> = None;
    for (region, in_state) in per_region {
        let before = previous.map(|p| Registry { resources: p.resources.iter().filter(|e| e.region == *region).cloned().collect(), ..p.clone() });
        let ctx = Context { project, env, account, region, caller, now };
        let part = merge(before.as_ref(), in_state, changed, &ctx);
        match &mut out {
            None => out = Some(part),
            Some(reg) => {
                reg.resources.extend(part.resources);
                reg.resource_count = reg.resources.len();
            }
        }
    }
    let mut reg = out.unwrap_or_else(|| merge(None, &[], changed, &Context { project, env, account, region: "", caller, now }));
    if per_region.len() > 1 {
        reg.regions = per_region.iter().map(|(r, _)| r.to_string()).collect();
    }
    reg
}

/// Writes `registry.json` and `DEPLOYED.md`, each atomically; returns their paths.
pub fn save(ws: &Workspace, registry: &Registry) -> Result<(std::path::PathBuf, std::path::PathBuf), Error> {
    let json = path(ws, &registry.env, "registry.json")?;
    let md = path(ws, &registry.env, "DEPLOYED.md")?;
    ws.write_json(&json, registry)?;
    ws.write_atomic(&md, render_markdown(registry).as_bytes())?;
    Ok((json, md))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx<'a>(now: &'a str) -> Context<'a> {
        Context { project: "shop", env: "test", account: Some("123456789012"), region: "us-east-1", caller: Some("arn:aws:iam::123456789012:user/ci"), now }
    }

    #[test]
    fn merge_keeps_created_and_moves_updated_only_for_touched_resources() {
        let bucket = json!({"bucket": "shop-core-test-uploads", "id": "shop-core-test-uploads", "arn": "arn:aws:s3:::shop-core-test-uploads", "tags_all": {"Environment": "test"}});
        let queue = json!({"name": "shop-core-test-jobs", "id": "https://sqs/q", "arn": "arn:aws:sqs:us-east-1:123456789012:shop-core-test-jobs"});
        let state = [
            StateResource { address: "aws_s3_bucket.uploads", kind: "aws_s3_bucket", values: &bucket },
            StateResource { address: "aws_sqs_queue.jobs", kind: "aws_sqs_queue", values: &queue },
        ];
        let first = merge(None, &state[..1], &["aws_s3_bucket.uploads".into()], &ctx("2026-01-01T00:00:00Z"));
        assert_eq!(first.resources[0].created, "2026-01-01T00:00:00Z");
        assert_eq!(first.resources[0].tags["Environment"], "test");
        let second = merge(Some(&first), &state, &["aws_sqs_queue.jobs".into()], &ctx("2026-02-01T00:00:00Z"));
        let bucket = &second.resources[0];
        assert_eq!((bucket.created.as_str(), bucket.updated.as_str()), ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"), "untouched keeps its times");
        let queue = &second.resources[1];
        assert_eq!((queue.created.as_str(), queue.updated.as_str()), ("2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z"));
        assert_eq!(second.resource_count, 2);
        let third = merge(Some(&second), &state, &["aws_s3_bucket.uploads".into()], &ctx("2026-03-01T00:00:00Z"));
        assert_eq!((third.resources[0].created.as_str(), third.resources[0].updated.as_str()), ("2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z"));
    }

    #[test]
    fn markdown_groups_by_type_with_links_and_commands() {
        let bucket = json!({"bucket": "shop|x", "arn": "arn:aws:s3:::shopx"});
        let role = json!({"name": "shop-role", "arn": "arn:aws:iam::123456789012:role/shop-role"});
        let state = [
            StateResource { address: "aws_s3_bucket.a", kind: "aws_s3_bucket", values: &bucket },
            StateResource { address: "aws_iam_role.r", kind: "aws_iam_role", values: &role },
        ];
        let md = render_markdown(&merge(None, &state, &[], &ctx("2026-01-01T00:00:00Z")));
        assert!(md.contains("## S3 buckets (`aws_s3_bucket`) — 1"), "{md}");
        assert!(md.contains("## IAM roles (`aws_iam_role`) — 1"), "{md}");
        assert!(md.contains("shop\\|x"), "pipes are escaped: {md}");
        assert!(md.contains("[open](https://"), "{md}");
        assert!(md.contains("- Resources: 2"), "{md}");
        assert!(md.contains("faber-cloud infra show-resources --env test"), "{md}");
    }
}
