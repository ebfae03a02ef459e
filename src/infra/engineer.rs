//! engineer: a design document → `main.tf`, `variables.tf`, `outputs.tf`, one
//! `{env}.tfvars` per environment and, for an S3 backend, one
//! `{env}.s3.tfbackend` (partial backend configuration: one state per
//! environment). HCL is built with `hcl-rs` and aligned like `terraform fmt`.
//!
//! Never clobbers human edits: `.faber-generated.json` in the Terraform
//! directory records a hash of every file written; a file whose content no
//! longer matches (or that exists without a record) is refused unless `force`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use hcl::expr::Expression;
use hcl::{Block, Body};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::pattern;
use crate::config::{Config, RequiredTags};
use crate::error::Error;
use crate::infra::catalog::{self, GenContext};
use crate::infra::design::DesignSpec;
use crate::infra::hclfmt;
use crate::vocabulary::Report;
use crate::workspace::Workspace;

/// Record of generated files, kept beside them.
pub const MANIFEST: &str = ".faber-generated.json";

#[derive(Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
struct Manifest {
    /// file name → sha256 of the content written.
    files: BTreeMap<String, String>,
    design: Option<String>,
}

/// What `engineer` wrote.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EngineerReport {
    pub design: String,
    pub directory: PathBuf,
    pub files: Vec<WrittenFile>,
    pub resources: usize,
    pub services: Vec<String>,
    /// Hand edits adopted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopted: Vec<String>,
}

impl Report for EngineerReport {
    fn text(&self) -> String {
        let changed: Vec<String> = self.files.iter().filter(|f| f.status != "unchanged").map(|f| format!("{} ({})", f.file, f.status)).collect();
        format!(
            "Generated Terraform for design {} in {}: {} resource(s); {}.",
            self.design,
            self.directory.display(),
            self.resources,
            if changed.is_empty() { "no file changed".to_string() } else { changed.join(", ") }
        ) + &self.adopted.iter().map(|a| format!("\nAdopted: {a}")).collect::<String>()
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct WrittenFile {
    pub file: String,
    /// created, updated, unchanged; "(adopted edits)" for the files that keep hand edits
    pub status: &'static str,
}

/// The rendered configuration of a design.
pub struct Rendered {
    /// file name → content
    pub files: BTreeMap<String, String>,
    /// Terraform resources in `main.tf`.
    pub resources: usize,
    /// Provider endpoint keys of the AWS services used.
    pub services: Vec<String>,
}

/// Renders every file for `spec`. Pure.
pub fn render(config: &Config, spec: &DesignSpec) -> Result<Rendered, Error> {
    let multi_region = config.multi_region();
    let generated = catalog::generate(&GenContext { naming_pattern: &config.resource_naming.pattern, spec, multi_region })?;
    let resources = generated.resources.len();
    let services: Vec<String> = generated.services.iter().map(|s| s.to_string()).collect();
    let uses_org = pattern::placeholders(&config.resource_naming.pattern).map(|p| p.contains(&"organization")).unwrap_or(false);
    let tf = config.handlers.iac.terraform.as_ref().ok_or_else(|| Error::bad_input("handlers.iac.terraform", "is not configured", None))?;
    let aws = config.aws().ok_or_else(|| Error::bad_input("handlers.hosting.aws", "is not configured", None))?;

    let mut files = BTreeMap::new();

    // main.tf: terraform settings, provider, resources.
    let mut terraform = Body::builder()
        .add_attribute(("required_version", ">= 1.10.0"))
        .add_block(Block::builder("required_providers").add_attribute(("aws", expr(r#"{ source = "hashicorp/aws", version = ">= 5.0, < 6.0" }"#))).build());
    if tf.backend.kind == "s3" {
        terraform = terraform.add_block(Block::builder("backend").add_label("s3").build());
    }
    let mut main = Body::builder().add_block(Block::builder("terraform").add_structures(terraform.build()).build());
    main = main.add_block(provider(config, aws));
    if multi_region {
        for b in catalog::region_blocks() {
            main = main.add_block(b);
        }
    }
    for block in generated.resources {
        main = main.add_block(block);
    }
    files.insert("main.tf".to_string(), format(&main.build())?);

    // variables.tf
    let mut vars = Body::builder();
    let var = |name: &str, description: &str, default: Option<&str>| {
        let mut b = Block::builder("variable").add_label(name).add_attribute(("description", description)).add_attribute(("type", expr("string")));
        if let Some(d) = default {
            b = b.add_attribute(("default", d));
        }
        b.build()
    };
    vars = vars
        .add_block(var("project", "Project name (devops.json project.name)", Some(&config.project.name)))
        .add_block(var("subsystem", "Subsystem name (devops.json project.subsystem)", Some(&config.project.subsystem)))
        .add_block(var("environment", "Environment this configuration is deployed to", None))
        .add_block(var("region", "AWS region", Some(&aws.region)));
    if multi_region {
        vars = vars.add_block(var(
            "primary_region",
            "The environment's primary region, where global resources (IAM) are created; empty or equal to region in the primary region's state",
            Some(""),
        ));
    }
    if uses_org {
        vars = vars.add_block(var("organization", "Organization (devops.json project.organization)", config.project.organization.as_deref()));
    }
    if let RequiredTags::Names(_) = config.tagging.required {
        vars = vars.add_block(
            Block::builder("variable")
                .add_label("required_tags")
                .add_attribute(("description", "Values of the tags devops.json tagging.required lists"))
                .add_attribute(("type", expr("map(string)")))
                .build(),
        );
    }
    if spec.components.iter().any(|c| c.kind == crate::infra::design::ComponentKind::LambdaFunction && c.existing.is_none()) {
        use crate::infra::remembered::{KEPT_CONCURRENCY, KEPT_VERSIONS};
        for (name, description, kind) in [
            (KEPT_VERSIONS, "Rollbacks kept in this environment: function → the version its live alias stays at", "map(string)"),
            (KEPT_CONCURRENCY, "Scales kept in this environment: function → its reserved concurrency", "map(number)"),
        ] {
            vars = vars.add_block(
                Block::builder("variable")
                    .add_label(name)
                    .add_attribute(("description", description))
                    .add_attribute(("type", expr(kind)))
                    .add_attribute(("default", Expression::Object(hcl::Object::new())))
                    .build(),
            );
        }
    }
    files.insert("variables.tf".to_string(), format(&vars.build())?);

    // outputs.tf
    let mut outputs = Body::builder();
    for block in generated.outputs {
        outputs = outputs.add_block(block);
    }
    files.insert("outputs.tf".to_string(), format(&outputs.build())?);

    // Per environment: variable values and backend settings.
    for env in config.environments.keys() {
        files.extend(env_files(config, env)?);
    }
    Ok(Rendered { files, resources, services })
}

/// The files one environment needs beside the shared configuration: its variable values and, with an S3
/// backend, its backend settings. Pure.
pub fn env_files(config: &Config, env: &str) -> Result<Vec<(String, String)>, Error> {
    let tf = config.handlers.iac.terraform.as_ref().ok_or_else(|| Error::bad_input("handlers.iac.terraform", "is not configured", None))?;
    let aws = config.aws().ok_or_else(|| Error::bad_input("handlers.hosting.aws", "is not configured", None))?;
    let mut files = Vec::new();
    let values = config.pattern_values(env);
    let sub = |p: &str| pattern::substitute(p, &values).map_err(|e| Error::bad_input("handlers.iac.terraform", e.to_string(), None));
    let var_file = sub(&tf.var_file_pattern)?;
    if !crate::vocabulary::input::is_safe_file_name(&var_file) {
        return Err(Error::bad_input(
            "handlers.iac.terraform.var_file_pattern",
            format!("gives \"{}\" for {env}, which is not a file name in the Terraform folder", var_file.escape_default()),
            Some("a pattern such as {environment}.tfvars".into()),
        ));
    }
    let regions = config.regions(env);
    let primary = regions[0].as_str();
    let mut tfvars = Body::builder().add_attribute(("environment", env)).add_attribute(("region", primary));
    if let RequiredTags::Names(names) = &config.tagging.required {
        let map: hcl::Object<hcl::ObjectKey, Expression> = names.iter().map(|n| (hcl::ObjectKey::from(n.as_str()), Expression::from("CHANGE-ME"))).collect();
        tfvars = tfvars.add_attribute(("required_tags", Expression::Object(map)));
    }
    // Every other region: its own values on top of the environment's, and its own state.
    for region in &regions[1..] {
        let values = Body::builder().add_attribute(("region", region.as_str())).add_attribute(("primary_region", primary)).build();
        files.push((regional_var_file(&var_file, region), format(&values)?));
    }
    files.push((var_file, format(&tfvars.build())?));
    if tf.backend.kind == "s3" {
        let bucket = sub(tf.backend.bucket.as_deref().unwrap_or(""))?;
        let key = sub(tf.backend.key.as_deref().unwrap_or(""))?;
        let key = if key.contains(env) { key } else { format!("{env}/{key}") };
        let backend = |key: String| -> Result<String, Error> {
            let mut backend = Body::builder()
                .add_attribute(("bucket", bucket.clone()))
                .add_attribute(("key", key))
                .add_attribute(("region", tf.backend.region.clone().unwrap_or_else(|| aws.region.clone())))
                .add_attribute(("encrypt", true))
                // Terraform's own S3-native state lock (Terraform ≥ 1.10): no two applies share a state,
                // whichever machine or process runs them.
                .add_attribute(("use_lockfile", true));
            if let Some(url) = &aws.endpoint_url {
                backend = backend
                    .add_attribute((
                        "endpoints",
                        Expression::Object(["s3", "sts", "iam"].into_iter().map(|k| (hcl::ObjectKey::from(k), Expression::from(url.as_str()))).collect()),
                    ))
                    .add_attribute(("use_path_style", true))
                    .add_attribute(("skip_credentials_validation", true))
                    .add_attribute(("skip_requesting_account_id", true))
                    .add_attribute(("skip_metadata_api_check", true));
            }
            format(&backend.build())
        };
        for region in &regions[1..] {
            let regional = match key.rsplit_once('/') {
                Some((dir, file)) => format!("{dir}/{region}/{file}"),
                None => format!("{region}/{key}"),
            };
            files.push((regional_backend_file(env, region), backend(regional)?));
        }
        files.push((format!("{env}.s3.tfbackend"), backend(key)?));
    }
    Ok(files)
}

/// The variable file of `region` beside the environment's (`test.tfvars` → `test.eu-west-1.tfvars`).
pub fn regional_var_file(var_file: &str, region: &str) -> String {
    format!("{}.{region}.tfvars", var_file.strip_suffix(".tfvars").unwrap_or(var_file))
}

/// The backend file of `region` of `env` (its own state).
pub fn regional_backend_file(env: &str, region: &str) -> String {
    format!("{env}.{region}.s3.tfbackend")
}

/// The environment's Terraform in `region`: outside its primary region, with that region's backend and variable
/// files (engineer writes them for every configured region).
pub fn terraform_in(config: &Config, dir: &std::path::Path, env: &str, region: &str) -> crate::iac::terraform::Terraform {
    let tf = crate::iac::terraform::Terraform::for_env(config, dir, env);
    if region == config.primary_region(env) {
        return tf.in_region(region, None);
    }
    let var_file = crate::infra::validate::var_file_name(config, env).unwrap_or_else(|| format!("{env}.tfvars"));
    tf.in_region(region, Some((regional_backend_file(env, region), regional_var_file(&var_file, region))))
}

/// The environment's Terraform in `region`, ready to run: initialised for that region's state when the environment
/// has several regions (the working directory is shared by their states); as it is otherwise.
pub async fn terraform_ready(config: &Config, dir: &std::path::Path, env: &str, region: &str) -> Result<crate::iac::terraform::Terraform, Error> {
    if config.regions(env).len() < 2 {
        return Ok(crate::iac::terraform::Terraform::for_env(config, dir, env));
    }
    let tf = terraform_in(config, dir, env, region);
    tf.init_env(env).await?;
    Ok(tf)
}

/// Every region's state of `env`, the primary first. The caller holds the environment's terraform lock.
pub async fn region_states(config: &Config, dir: &std::path::Path, env: &str) -> Result<Vec<serde_json::Value>, Error> {
    let mut states = Vec::new();
    for region in config.regions(env) {
        states.push(terraform_ready(config, dir, env, &region).await?.state().await?);
    }
    Ok(states)
}

/// Refuses to plan an environment of several regions with Terraform that engineer generated for one region
/// (regions added to devops.json since): every region would create the global resources again.
pub fn check_regions(ws: &Workspace, config: &Config, env: &str) -> Result<(), Error> {
    let regions = config.regions(env);
    let Some(dir) = terraform_dir(ws, config) else { return Ok(()) };
    if regions.len() < 2 || !dir.join(MANIFEST).is_file() {
        return Ok(());
    }
    let variables = std::fs::read_to_string(dir.join("variables.tf")).unwrap_or_default();
    if variables.contains("variable \"primary_region\"") {
        return Ok(());
    }
    Err(Error::bad_input(
        "env",
        format!(
            "{env} deploys to {} regions ({}), but the Terraform in {} was generated for one region, so each region would create its global resources (IAM) again",
            regions.len(),
            regions.join(", "),
            dir.display()
        ),
        Some("run engineer again (\"generate terraform code from the design\") to generate the multi-region stack, then preview".into()),
    ))
}

/// The environment's files that are missing from a generated Terraform directory, written from devops.json
/// (an environment added to the configuration after engineer ran). Existing files are never touched. Returns
/// the names written; none when the directory was not generated by engineer.
pub fn ensure_env_files(ws: &Workspace, config: &Config, env: &str) -> Result<Vec<String>, Error> {
    let Some(dir) = terraform_dir(ws, config) else { return Ok(Vec::new()) };
    let manifest_path = dir.join(MANIFEST);
    if !manifest_path.is_file() {
        return Ok(Vec::new());
    }
    let missing: Vec<(String, String)> = env_files(config, env)?.into_iter().filter(|(name, _)| !dir.join(name).exists()).collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    for (name, content) in &missing {
        ws.write_atomic(&dir.join(name), content.as_bytes())?;
        ws.write_atomic(&copy_path(ws, name)?, content.as_bytes())?;
    }
    ws.update_json(&manifest_path, |m: &mut Option<Manifest>| -> Result<(), Error> {
        let m = m.get_or_insert_with(Manifest::default);
        for (name, content) in &missing {
            m.files.insert(name.clone(), sha(content));
        }
        Ok(())
    })?;
    Ok(missing.into_iter().map(|(name, _)| name).collect())
}

/// Writes kept remediations into the environment's variable file: each (variable, key, value) set in that
/// variable's map. The file's record is updated when engineer wrote it, so it does not count as a hand edit.
/// Returns the file written.
pub fn keep_values(ws: &Workspace, config: &Config, env: &str, entries: &[(&str, String, serde_json::Value)]) -> Result<PathBuf, Error> {
    let dir = terraform_dir(ws, config).ok_or_else(|| Error::bad_input("handlers.iac.terraform", "is not configured", None))?;
    let path = crate::infra::validate::var_file(&dir, config, env)
        .ok_or_else(|| Error::Failed(format!("the variable file of {env} is missing in {}: run engineer first", dir.display())))?;
    let before = std::fs::read_to_string(&path).map_err(|e| crate::workspace::WorkspaceError::io(&path, e))?;
    let mut body = hcl::parse(&before).map_err(|e| Error::Failed(format!("{}: {e}", path.display())))?;
    for (var, key, value) in entries {
        let value: Expression = hcl::to_expression(value).map_err(|e| Error::Failed(format!("kept value: {e}")))?;
        // Terraform names are identifiers: written bare, as terraform fmt would.
        let object_key = || hcl::Identifier::new(key.as_str()).map_or_else(|_| hcl::ObjectKey::from(key.as_str()), hcl::ObjectKey::Identifier);
        let at = body.0.iter().position(|s| matches!(s, hcl::Structure::Attribute(a) if a.key.as_str() == *var));
        match at.map(|i| &mut body.0[i]) {
            Some(hcl::Structure::Attribute(a)) => match &mut a.expr {
                Expression::Object(map) => {
                    map.retain(|k, _| k.to_string().trim_matches('"') != key.as_str());
                    map.insert(object_key(), value);
                }
                other => *other = Expression::Object([(object_key(), value)].into_iter().collect()),
            },
            _ => body.0.push(hcl::Structure::Attribute(hcl::Attribute::new(*var, Expression::Object([(object_key(), value)].into_iter().collect())))),
        }
    }
    let text = format(&body)?;
    ws.write_atomic(&path, text.as_bytes())?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let manifest_path = dir.join(MANIFEST);
    if manifest_path.is_file() {
        ws.update_json(&manifest_path, |m: &mut Option<Manifest>| -> Result<(), Error> {
            if let Some(m) = m
                && m.files.get(&name).is_some_and(|h| *h == sha(&before))
            {
                m.files.insert(name.clone(), sha(&text));
                ws.write_atomic(&copy_path(ws, &name)?, text.as_bytes())?;
            }
            Ok(())
        })?;
    }
    Ok(path)
}

fn expr(source: &str) -> Expression {
    Expression::from_str(source).unwrap_or_else(|e| panic!("engineer expression {source:?}: {e}"))
}

fn provider(config: &Config, aws: &crate::config::Aws) -> Block {
    let mut tags: hcl::Object<hcl::ObjectKey, Expression> = hcl::Object::new();
    tags.insert(hcl::ObjectKey::from("Project"), expr("var.project"));
    tags.insert(hcl::ObjectKey::from("Subsystem"), expr("var.subsystem"));
    tags.insert(hcl::ObjectKey::from("Environment"), expr("var.environment"));
    tags.insert(hcl::ObjectKey::from("ManagedBy"), Expression::from("faber-cloud"));
    match &config.tagging.required {
        RequiredTags::Values(values) => {
            for (k, v) in values {
                tags.insert(hcl::ObjectKey::from(k.as_str()), Expression::from(v.as_str()));
            }
        }
        RequiredTags::Names(names) => {
            for n in names {
                let value = hcl::expr::Traversal::builder(hcl::expr::Variable::unchecked("var")).attr("required_tags").index(n.as_str()).build();
                tags.insert(hcl::ObjectKey::from(n.as_str()), Expression::from(value));
            }
        }
    }
    let mut b = Block::builder("provider").add_label("aws").add_attribute(("region", expr("var.region")));
    if let Some(url) = &aws.endpoint_url {
        // A local AWS-compatible server (moto): no real credentials or account.
        b = b
            .add_attribute(("skip_credentials_validation", true))
            .add_attribute(("skip_metadata_api_check", true))
            .add_attribute(("skip_requesting_account_id", true))
            .add_attribute(("s3_use_path_style", true));
        // Every service the provider can reach, not only those of generated components: a resource
        // added by hand must reach the local server too, never a real account.
        let mut endpoints = Body::builder();
        for service in crate::infra::endpoints::PROVIDER_ENDPOINTS {
            endpoints = endpoints.add_attribute((*service, url.as_str()));
        }
        b = b.add_block(Block::builder("endpoints").add_structures(endpoints.build()).build());
    }
    b.add_block(Block::builder("default_tags").add_attribute(("tags", Expression::Object(tags))).build()).build()
}

fn format(body: &Body) -> Result<String, Error> {
    let text = hcl::to_string(body).map_err(|e| Error::Failed(format!("cannot format the generated HCL: {e}")))?;
    Ok(hclfmt::align(&text))
}

fn sha(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Loads the design document `designs/{name}.md`.
pub fn load_design(ws: &Workspace, name: &str) -> Result<(String, DesignSpec), Error> {
    crate::vocabulary::input::design_name(name)?;
    let stem = name.strip_suffix(".md").unwrap_or(name);
    let path = ws.path(&format!("designs/{stem}.md"))?;
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            let known = list_designs(ws);
            Error::bad_input(
                "design",
                format!("no design {stem}.md under {}", path.parent().map(|p| p.display().to_string()).unwrap_or_default()),
                Some(if known.is_empty() { "none yet: run architect first".into() } else { known.join(", ") }),
            )
        }
        _ => Error::Failed(format!("{}: {e}", path.display())),
    })?;
    Ok((stem.to_string(), DesignSpec::from_markdown(&text)?))
}

/// Design documents present, newest first.
pub fn list_designs(ws: &Workspace) -> Vec<String> {
    let Ok(dir) = ws.path("designs") else { return Vec::new() };
    let mut found: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let modified = e.metadata().and_then(|m| m.modified()).ok()?;
            name.ends_with(".md").then_some((modified, name))
        })
        .collect();
    found.sort_by(|a, b| b.cmp(a));
    found.into_iter().map(|(_, n)| n).collect()
}

/// What engineer does with a generated file that was edited by hand since it wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum HandEdits {
    /// Keep the edits: changes to generated blocks go to `adopted_override.tf`, added blocks to `adopted.tf`
    /// (files engineer never rewrites), edited values stay in the variable files; then write the files fresh.
    Adopt,
    /// Write the files as the design says, dropping the edits.
    Overwrite,
}

/// Generated files edited by hand: what changed in each, and the two ways forward. Nothing was written.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct HandEdited {
    pub directory: PathBuf,
    pub files: Vec<EditedFile>,
    /// The two ways forward, each with the argument that takes it.
    pub ways_forward: Vec<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EditedFile {
    pub file: String,
    /// Whether engineer wrote the file (and it was edited since), or found it there.
    pub written_by_engineer: bool,
    /// Unified diff from what engineer wrote (or would write, for a file it did not write) to the file now.
    pub diff: String,
}

impl Report for HandEdited {
    fn text(&self) -> String {
        let mut out =
            format!("{} generated file(s) in {} changed by hand since engineer wrote them; nothing was written.\n", self.files.len(), self.directory.display());
        for f in &self.files {
            let lines: Vec<&str> = f.diff.lines().collect();
            let shown = lines.len().min(60);
            out.push_str(&format!("\n{}\n", lines[..shown].join("\n")));
            if lines.len() > shown {
                out.push_str(&format!("… {} more line(s)\n", lines.len() - shown));
            }
        }
        out.push_str("\nTwo ways forward:\n");
        for (i, w) in self.ways_forward.iter().enumerate() {
            out.push_str(&format!("{}. {w}\n", i + 1));
        }
        out
    }
}

/// One file changed by hand: what engineer last wrote (or writes now, when it has no copy), what is there.
struct Edit {
    file: String,
    generated: String,
    current: String,
    ours: bool,
}

/// Where engineer keeps a copy of what it last wrote to a file (the base a hand edit is diffed and adopted against).
fn copy_path(ws: &Workspace, name: &str) -> Result<PathBuf, Error> {
    Ok(ws.path(&format!("generated/{name}"))?)
}

/// The files written for adopted edits (beside the generated ones) and the lines saying what was adopted.
struct Adopted {
    writes: Vec<(String, String)>,
    described: Vec<String>,
}

/// Adopts every edit: `.tf` edits into the two adopted files, values kept in the variable and backend files
/// (`files` gets the merged content). Refuses, with every reason, when an edit cannot be kept as it is.
fn adopt(dir: &std::path::Path, files: &mut BTreeMap<String, String>, edits: &[Edit]) -> Result<Adopted, Error> {
    use crate::infra::handedit::{self, ADDED_FILE, OVERRIDE_FILE};
    let mut refused = Vec::new();
    let (mut overrides, mut added, mut described) = (Vec::new(), Vec::new(), Vec::new());
    let mut fresh_keys = BTreeMap::new();
    for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".tf")) {
        fresh_keys.insert(name.clone(), handedit::block_keys(name, text).map_err(Error::Failed)?);
    }
    for e in edits {
        if e.file.ends_with(".tf") {
            match handedit::split(&e.file, &e.generated, &e.current) {
                Ok(split) => {
                    for o in &split.overrides {
                        let k = handedit::block_keys("", &hcl::to_string(&hcl::Body::builder().add_block(o.clone()).build()).unwrap_or_default())
                            .unwrap_or_default();
                        if !k.iter().all(|k| fresh_keys.get(&e.file).is_some_and(|f| f.contains(k))) {
                            refused.push(format!("{}: {} is no longer generated by the design, so an override of it cannot be kept", e.file, k.join(", ")));
                        }
                    }
                    for a in &split.added {
                        let k = hcl::to_string(&hcl::Body::builder().add_block(a.clone()).build()).ok().and_then(|t| handedit::block_keys("", &t).ok());
                        if let Some(k) = k.and_then(|k| k.into_iter().next())
                            && fresh_keys.values().any(|f| f.contains(&k))
                        {
                            refused.push(format!("{}: {k} was added by hand and the design now generates it too", e.file));
                        }
                    }
                    overrides.extend(split.overrides);
                    added.extend(split.added);
                    described.extend(split.described);
                }
                Err(why) => refused.extend(why),
            }
        } else {
            let fresh = files.get(&e.file).cloned().unwrap_or_default();
            match handedit::adopt_values(&e.file, &e.generated, &e.current, &fresh) {
                Ok((merged, what)) => {
                    files.insert(e.file.clone(), merged);
                    described.extend(what);
                }
                Err(why) => refused.push(why),
            }
        }
    }
    if !refused.is_empty() {
        return Err(Error::bad_input(
            "hand_edits",
            format!("cannot adopt the hand edits, nothing was written: {}", refused.join("; ")),
            Some("overwrite (drops the edits), or make the change through the design (architect)".into()),
        ));
    }
    let mut writes = Vec::new();
    for (file, blocks) in [(OVERRIDE_FILE, overrides), (ADDED_FILE, added)] {
        if blocks.is_empty() {
            continue;
        }
        let existing = std::fs::read_to_string(dir.join(file)).ok();
        writes.push((file.to_string(), handedit::merge_into(file, existing.as_deref(), blocks).map_err(Error::Failed)?));
    }
    Ok(Adopted { writes, described })
}

/// Renders and writes. When a generated file was edited by hand: with no `on_edit`, writes nothing and returns
/// the diff with the two ways forward ([`HandEdited`] as an `invalid` error); `Adopt` keeps the edits
/// beside the generated files; `Overwrite` drops them.
pub fn write(ws: &Workspace, config: &Config, design_name: &str, spec: &DesignSpec, on_edit: Option<HandEdits>) -> Result<EngineerReport, Error> {
    let dir = terraform_dir(ws, config).ok_or_else(|| Error::bad_input("handlers.iac.terraform", "is not configured", None))?;
    let Rendered { mut files, resources, services } = render(config, spec)?;
    let manifest_path = dir.join(MANIFEST);
    let manifest: Manifest = std::fs::read_to_string(&manifest_path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();

    // Values kept in a variable file (remediations kept by preview or deploy) stay in it.
    for (name, fresh) in files.iter_mut().filter(|(n, _)| n.ends_with(".tfvars")) {
        if let Ok(current) = std::fs::read_to_string(dir.join(name.as_str()))
            && let Ok(body) = hcl::parse(&current)
        {
            let kept: Vec<hcl::Attribute> = body.attributes().filter(|a| a.key.as_str().starts_with("kept_")).cloned().collect();
            if !kept.is_empty()
                && let Ok(mut fresh_body) = hcl::parse(fresh)
            {
                fresh_body.0.retain(|s| !matches!(s, hcl::Structure::Attribute(a) if a.key.as_str().starts_with("kept_")));
                fresh_body.0.extend(kept.into_iter().map(hcl::Structure::Attribute));
                *fresh = format(&fresh_body)?;
            }
        }
    }
    // Check everything before writing anything.
    let mut edits = Vec::new();
    for (name, fresh) in &files {
        let Ok(current) = std::fs::read_to_string(dir.join(name)) else { continue };
        let recorded = manifest.files.get(name);
        if recorded.is_some_and(|hash| *hash == sha(&current)) {
            continue;
        }
        // The base of the edit: the copy of what engineer last wrote, when it has one that matches its record.
        let generated = recorded
            .and_then(|hash| std::fs::read_to_string(copy_path(ws, name).ok()?).ok().filter(|copy| sha(copy) == *hash))
            .unwrap_or_else(|| fresh.clone());
        edits.push(Edit { file: name.clone(), generated, current, ours: recorded.is_some() });
    }
    let mut adopted = Adopted { writes: Vec::new(), described: Vec::new() };
    if !edits.is_empty() {
        match on_edit {
            None => {
                let design = design_name.to_string();
                return Err(Error::invalid(&HandEdited {
                    directory: dir.clone(),
                    files: edits
                        .iter()
                        .map(|e| EditedFile {
                            file: e.file.clone(),
                            written_by_engineer: e.ours,
                            diff: crate::infra::handedit::diff(&e.file, &e.generated, &e.current),
                        })
                        .collect(),
                    ways_forward: vec![
                        format!(
                            "adopt: keep the edits (changed blocks go to {}, added blocks to {}, edited values stay) and write the rest \
                             from design {design}: hand_edits \"adopt\" (faber-cloud infra engineer --design {design} --hand-edits adopt)",
                            crate::infra::handedit::OVERRIDE_FILE,
                            crate::infra::handedit::ADDED_FILE
                        ),
                        format!(
                            "overwrite: drop the edits and write the files as design {design} says: hand_edits \"overwrite\" \
                             (faber-cloud infra engineer --design {design} --hand-edits overwrite)"
                        ),
                    ],
                }));
            }
            Some(HandEdits::Overwrite) => {}
            Some(HandEdits::Adopt) => adopted = adopt(&dir, &mut files, &edits)?,
        }
    }
    let mut written = Vec::new();
    let mut new_manifest = Manifest { files: BTreeMap::new(), design: Some(design_name.to_string()) };
    for (name, content) in &files {
        let path = dir.join(name);
        let status = match std::fs::read_to_string(&path) {
            Ok(current) if current == *content => "unchanged",
            Ok(_) => "updated",
            Err(_) => "created",
        };
        if status != "unchanged" {
            ws.write_atomic(&path, content.as_bytes())?;
        }
        ws.write_atomic(&copy_path(ws, name)?, content.as_bytes())?;
        new_manifest.files.insert(name.clone(), sha(content));
        written.push(WrittenFile { file: name.clone(), status });
    }
    for (name, content) in &adopted.writes {
        let status = if dir.join(name).exists() { "updated (adopted edits)" } else { "created (adopted edits)" };
        ws.write_atomic(&dir.join(name), content.as_bytes())?;
        written.push(WrittenFile { file: name.clone(), status });
    }
    ws.write_json(&manifest_path, &new_manifest)?;
    // Starter code for each function whose folder does not exist yet; deploy packages it.
    for c in spec.components.iter().filter(|c| c.kind == crate::infra::design::ComponentKind::LambdaFunction) {
        let s = |k: &str, d: &str| c.settings.get(k).and_then(serde_json::Value::as_str).unwrap_or(d).to_string();
        if let Some(path) = crate::infra::package::scaffold(ws, &dir, &c.name, &s("runtime", "python3.12"), &s("handler", "index.handler"))? {
            let rel = path.strip_prefix(&dir).unwrap_or(&path).display().to_string();
            written.push(WrittenFile { file: rel, status: "created" });
        }
    }
    Ok(EngineerReport { design: design_name.to_string(), directory: dir, files: written, resources, services, adopted: adopted.described })
}

/// The generated directory for a project (for tests and other skills).
pub fn terraform_dir(ws: &Workspace, config: &Config) -> Option<PathBuf> {
    config.handlers.iac.terraform.as_ref().map(|tf| ws.project_dir().join(tf.directory.trim_start_matches("./")))
}
