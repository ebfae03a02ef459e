//! preview-changes: `terraform init` (the environment's backend), `plan -json
//! -out`, `show -json` → the change summary (+ ~ - -/+), the cost impact
//! (prior state vs planned), and the saved plan with its digest under
//! `plans/{env}/`, which deploy will apply exactly.

use std::path::PathBuf;

use chrono::Utc;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::Error;
use crate::iac::plan::{self, ChangeSummary};
use crate::iac::terraform::{self, PlanMode, Terraform};
use crate::infra::{remembered, test::project_usage, validate};
use crate::scan::cost::{self, CostImpact, PriceTable};
use crate::tf;
use crate::vocabulary::Report;
use crate::workspace::{Workspace, WorkspaceError};

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PreviewReport {
    pub env: String,
    /// This plan's region.
    pub region: String,
    pub created_at: String,
    pub plan_file: PathBuf,
    /// sha256 of the saved plan file: what an approval binds to.
    pub digest: String,
    pub summary: ChangeSummary,
    pub cost_impact: CostImpact,
    /// Remediations made since the last deploy that this plan undoes, one line each.
    pub reverts: Vec<String>,
    /// Remediations kept (keep_remediations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
    /// Several regions: each other region's plan, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<serde_json::Value>")]
    pub other_regions: Vec<RegionPreview>,
}

/// The plan of one region beyond the primary.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RegionPreview {
    pub region: String,
    pub plan_file: PathBuf,
    pub digest: String,
    pub summary: ChangeSummary,
    pub cost_impact: CostImpact,
}

impl RegionPreview {
    /// What deploy keeps of it.
    pub fn saved(&self) -> SavedRegion {
        SavedRegion {
            region: self.region.clone(),
            plan_file: self.plan_file.clone(),
            digest: self.digest.clone(),
            add: self.summary.add,
            change: self.summary.change,
            destroy: self.summary.destroy,
            data_loss: self.summary.data_loss(),
        }
    }
}

/// A saved plan of one region beyond the primary.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SavedRegion {
    pub region: String,
    pub plan_file: PathBuf,
    pub digest: String,
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    #[serde(default)]
    pub data_loss: Vec<String>,
}

impl SavedRegion {
    /// Its `+ ~ -` counts, as the gate shows them.
    pub fn counts(&self) -> crate::gate::ChangeCounts {
        crate::gate::ChangeCounts { add: self.add as u32, change: self.change as u32, destroy: self.destroy as u32 }
    }
}

/// The line a preview or deploy adds under what its plan undoes.
pub const KEEP_HINT: &str = "To keep a rollback or scale instead, preview or deploy again with keep_remediations (CLI --keep-remediations): \
     it writes the value into the environment's variable file.";

impl PreviewReport {
    /// The preview as Markdown, for a pull request comment: counts, a table of the changes (with what data
    /// each loses), the cost impact, and what the plan undoes.
    pub fn markdown(&self) -> String {
        let s = &self.summary;
        let cell = |t: &str| t.replace('|', "\\|").replace('\n', " ");
        let mut out = format!("### Preview of `{}`: {}\n\n", self.env, s.counts());
        if s.resources.is_empty() {
            out.push_str("No changes: the infrastructure matches the configuration.\n");
        } else {
            out.push_str("| | resource | changes | data lost |\n|---|---|---|---|\n");
            for r in &s.resources {
                let mut attrs: Vec<String> =
                    r.changed.iter().map(|a| format!("`{}`{}", cell(&a.path), if a.forces_replacement { " (forces replacement)" } else { "" })).collect();
                if r.more_changes > 0 {
                    attrs.push(format!("and {} more", r.more_changes));
                }
                out.push_str(&format!(
                    "| `{}` | `{}` | {} | {} |\n",
                    r.symbol,
                    cell(&r.address),
                    attrs.join(", "),
                    r.data_loss.map(|d| format!("**{d}**")).unwrap_or_default()
                ));
            }
        }
        let lost = s.data_loss();
        if !lost.is_empty() {
            out.push_str(&format!(
                "\n> [!WARNING]\n> {} resource(s) holding data would be deleted or replaced; a deploy of this plan waits for an explicit yes.\n",
                lost.len()
            ));
        }
        for r in &self.reverts {
            out.push_str(&format!("\n> [!WARNING]\n> This plan {}\n", cell(r)));
        }
        for r in &self.other_regions {
            out.push_str(&format!("\n#### {}: {}\n\n", r.region, r.summary.counts()));
            for c in &r.summary.resources {
                out.push_str(&format!("- `{}` `{}`{}\n", c.symbol, cell(&c.address), c.data_loss.map(|d| format!(" **{d}**")).unwrap_or_default()));
            }
        }
        out.push_str(&format!(
            "\nCost impact: {}\n\nPlan `{}` (sha256 `{}`)\n",
            self.cost_impact.summary(),
            self.plan_file.display(),
            &self.digest[..self.digest.len().min(12)]
        ));
        out
    }
}

impl Report for PreviewReport {
    fn text(&self) -> String {
        let destructive = self.summary.destructive().count();
        let lost = self.summary.data_loss();
        let warn = if !lost.is_empty() {
            format!(
                "\n⚠ DATA LOSS: {} resource(s) holding data would be deleted or replaced:\n  {}\nA deploy of this plan always waits for an explicit yes.",
                lost.len(),
                lost.join("\n  ")
            )
        } else if destructive > 0 {
            format!("\n⚠ {destructive} destructive change(s): review them before deploying.")
        } else {
            String::new()
        };
        let warn = if self.reverts.is_empty() { warn } else { format!("{warn}\n⚠ This plan {}\n{KEEP_HINT}", self.reverts.join("\n⚠ This plan ")) };
        let warn = if self.kept.is_empty() { warn } else { format!("{warn}\nKept: {}", self.kept.join("\nKept: ")) };
        let mut out = format!(
            "Preview for {}{}: {}.\n{}\nCost impact: {}.{warn}\nSaved plan {} ({}).",
            self.env,
            if self.other_regions.is_empty() { String::new() } else { format!(" in {}", self.region) },
            self.summary.counts(),
            self.summary.text(),
            self.cost_impact.summary(),
            self.plan_file.display(),
            self.digest
        );
        for r in &self.other_regions {
            out.push_str(&format!(
                "\n\nPreview for {} in {}: {}.\n{}\nCost impact: {}.\nSaved plan {} ({}).",
                self.env,
                r.region,
                r.summary.counts(),
                r.summary.text(),
                r.cost_impact.summary(),
                r.plan_file.display(),
                r.digest
            ));
            let lost = r.summary.data_loss();
            if !lost.is_empty() {
                out.push_str(&format!("\n⚠ DATA LOSS in {}: {}", r.region, lost.join("; ")));
            }
        }
        out
    }
}

/// The saved plan deploy applies; written as `plans/{env}/latest.json`.
#[derive(Debug, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SavedPlan {
    pub env: String,
    pub plan_file: PathBuf,
    pub digest: String,
    pub created_at: String,
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    /// The deletions and replacements that lose data (see [`plan::STATEFUL`]).
    #[serde(default)]
    pub data_loss: Vec<String>,
    /// Remediations since the last deploy that the plan undoes.
    #[serde(default)]
    pub reverts: Vec<String>,
    /// A multi-region environment: the region of this plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A multi-region environment's other regions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_regions: Vec<SavedRegion>,
}

/// What an approval of several regions' plans binds to: the primary plan's digest alone, or with every other
/// region's, in order.
pub fn bound_digest<'a>(primary: &str, others: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let others: Vec<(&str, &str)> = others.collect();
    if others.is_empty() {
        return primary.to_string();
    }
    let mut h = Sha256::new();
    h.update(primary.as_bytes());
    for (region, digest) in others {
        h.update(format!("\n{region}={digest}").as_bytes());
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

pub fn digest_file(path: &std::path::Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| WorkspaceError::io(path, e))?;
    Ok(format!("sha256:{}", hex::encode(Sha256::digest(&bytes))))
}

/// Packages the Lambda code (the configuration names the packages, even for a destroy plan), initialises the
/// environment's backend and saves a plan under `plans/{env}/`: the plan file, its `show -json` and its summary.
/// The caller holds the environment's terraform lock.
pub(crate) async fn save_plan(
    ws: &Workspace,
    config: &Config,
    env: &str,
    mode: PlanMode,
    now: chrono::DateTime<Utc>,
    region: Option<&str>,
) -> Result<(PathBuf, Vec<u8>, ChangeSummary), Error> {
    let dir = validate::directory(ws.project_dir(), config)?;
    let terraform = match region {
        Some(r) => crate::infra::engineer::terraform_in(config, &dir, env, r),
        None => Terraform::for_env(config, &dir, env),
    };
    crate::infra::package::package_all(ws, &dir)?;
    terraform.init_env(env).await?;
    let suffix = if mode == PlanMode::Destroy { "-destroy" } else { "" };
    // Outside the primary region, a region's plans sit in its own folder.
    let folder = match region {
        Some(r) if config.primary_region(env) != r => format!("plans/{env}/{r}"),
        _ => format!("plans/{env}"),
    };
    let plan_file = ws.path(&format!("{folder}/{}{suffix}.tfplan", now.format("%Y%m%dT%H%M%SZ")))?;
    std::fs::create_dir_all(plan_file.parent().expect("plans have a folder")).map_err(|e| WorkspaceError::io(&plan_file, e))?;
    terraform.plan(validate::var_file(&dir, config, env).as_deref(), &plan_file, mode).await?;
    let json = terraform.show_json(&plan_file).await?;
    let summary = plan::summarize(&json).map_err(|e| Error::Failed(format!("terraform show -json: {e}")))?;
    Ok((plan_file, json, summary))
}

/// `keep`: remediations the plan would undo and the configuration can keep (a rollback, a scale) are written
/// into the environment's variable file first, and the plan made again.
/// `only`: one region of a multi-region environment (default: every region, the primary first).
pub async fn run(ws: &Workspace, config: &Config, env: &str, keep: bool, only: Option<&str>) -> Result<PreviewReport, Error> {
    let _lock = terraform::lock(ws, env)?;
    let now = Utc::now();
    config.check_region(env, only)?;
    let all = config.regions(env);
    let regions: Vec<String> = all.iter().filter(|r| only.is_none_or(|o| o == r.as_str())).cloned().collect();
    // A multi-region environment plans every region, the primary first (its plan keeps the report's own fields).
    let primary = (all.len() > 1).then(|| regions[0].as_str());
    let (mut plan_file, mut json, mut summary) = save_plan(ws, config, env, PlanMode::Apply, now, primary).await?;
    let last_deploy = crate::infra::registry::load(ws, env)?.map(|r| r.updated_at);
    let remembered = remembered::since_last_deploy(ws, env, last_deploy.as_deref())?;
    let mut reverts = remembered::reverts(&remembered, &summary);
    let mut kept = Vec::new();
    let keepable: Vec<(&str, String, serde_json::Value)> = reverts.iter().filter_map(|r| r.keep.clone()).collect();
    if keep && !keepable.is_empty() {
        let file = crate::infra::engineer::keep_values(ws, config, env, &keepable)?;
        let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        kept = keepable.iter().map(|(var, key, value)| format!("{var}[\"{key}\"] = {value} in {name} (delete it there to follow Terraform again)")).collect();
        std::fs::remove_file(&plan_file).ok();
        (plan_file, json, summary) = save_plan(ws, config, env, PlanMode::Apply, now, primary).await?;
        reverts = remembered::reverts(&remembered, &summary);
    }
    let reverts: Vec<String> = reverts.into_iter().map(|r| r.line).collect();
    let usage = project_usage(ws)?;
    let impact = |json: &[u8], region: &str| -> Result<CostImpact, Error> {
        let after = tf::load_plan_text(json, "plan").map_err(Error::Failed)?;
        let before = tf::load_prior_text(json, "prior state").map_err(Error::Failed)?;
        Ok(cost::cost_impact(&before, &after, PriceTable::embedded(), &usage, region))
    };
    let cost_impact = impact(&json, primary.unwrap_or(config.region()))?;
    let digest = digest_file(&plan_file)?;
    let mut other_regions = Vec::new();
    for region in regions.iter().skip(1) {
        let (plan_file, json, summary) = save_plan(ws, config, env, PlanMode::Apply, now, Some(region)).await?;
        let cost_impact = impact(&json, region)?;
        other_regions.push(RegionPreview { region: region.clone(), digest: digest_file(&plan_file)?, plan_file, summary, cost_impact });
    }
    let created_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let saved = SavedPlan {
        env: env.into(),
        plan_file: plan_file.clone(),
        digest: digest.clone(),
        created_at: created_at.clone(),
        add: summary.add,
        change: summary.change,
        destroy: summary.destroy,
        data_loss: summary.data_loss(),
        reverts: reverts.clone(),
        region: primary.map(str::to_string),
        other_regions: other_regions.iter().map(RegionPreview::saved).collect(),
    };
    ws.write_json(&ws.path(&format!("plans/{env}/latest.json"))?, &saved)?;
    let region = regions[0].clone();
    Ok(PreviewReport { env: env.into(), region, created_at, plan_file, digest, summary, cost_impact, reverts, kept, other_regions })
}
