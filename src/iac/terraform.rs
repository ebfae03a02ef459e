//! The Terraform handler: `init`, `plan -json -out`, `show -json` (and later
//! `apply -json`) through the process runner, with the environment's
//! credentials and backend. Failures carry the command line, exit status and
//! Terraform's own error diagnostics from the JSON stream.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cloud::auth;
use crate::config::Config;
use crate::error::Error;
use crate::iac::runner::{Cmd, RunError};
use crate::workspace::{FileLock, Workspace};

/// Terraform in one working directory, for one environment.
pub struct Terraform {
    binary: String,
    dir: PathBuf,
    /// `-lock-timeout=…`: how long to wait for a state lock another run holds.
    lock_timeout: String,
    env: Vec<(&'static str, Option<String>)>,
    /// Outside the environment's primary region: that region's backend file and variable file (names in the
    /// Terraform directory), used by `init_env` and `plan` on top of the environment's.
    regional: Option<(String, String)>,
}

impl Terraform {
    /// The environment's Terraform, with the credentials [`auth::target`] chooses for it (its profile,
    /// or test credentials for a local endpoint such as moto). Deploys never use `discover`.
    pub fn for_env(config: &Config, dir: &Path, env_name: &str) -> Terraform {
        let binary = config.iac_binary().to_string();
        let mut env: Vec<(&'static str, Option<String>)> = vec![("TF_IN_AUTOMATION", Some("1".into())), ("CHECKPOINT_DISABLE", Some("1".into()))];
        if config.aws().is_some() {
            env.extend(auth::target(config, env_name).process_env());
        }
        Terraform { binary, dir: dir.to_path_buf(), env, lock_timeout: format!("-lock-timeout={}s", config.state_lock_wait()), regional: None }
    }

    /// The same Terraform acting in `region`: the provider's credentials resolve there, and outside the primary
    /// region `files` (backend file, variable file) select that region's state and values.
    pub fn in_region(mut self, region: &str, files: Option<(String, String)>) -> Terraform {
        self.env.retain(|(k, _)| *k != "AWS_REGION");
        self.env.push(("AWS_REGION", Some(region.to_string())));
        self.regional = files;
        self
    }

    fn cmd(&self, args: &[&str]) -> Cmd {
        let mut c = Cmd::new(&self.binary).args(args.iter().copied()).cwd(&self.dir).timeout(Duration::from_secs(900));
        for (k, v) in &self.env {
            c = match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    }

    /// `terraform init` with the environment's backend configuration file, when there is one.
    pub async fn init(&self, backend_config: Option<&Path>) -> Result<(), Error> {
        let mut args = vec!["init".to_string(), "-input=false".into(), "-no-color".into(), "-reconfigure".into()];
        if let Some(file) = backend_config {
            args.push(format!("-backend-config={}", file.display()));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.cmd(&refs).run().await.map_err(failed)?;
        Ok(())
    }

    /// `terraform init` with the environment's backend file `{env}.s3.tfbackend` when it exists.
    pub async fn init_env(&self, env: &str) -> Result<(), Error> {
        let backend = match &self.regional {
            Some((backend, _)) => self.dir.join(backend),
            None => self.dir.join(format!("{env}.s3.tfbackend")),
        };
        self.init(backend.is_file().then_some(backend.as_path())).await
    }

    /// `terraform plan -json -out=PLAN`; on failure, the error diagnostics of the stream.
    pub async fn plan(&self, var_file: Option<&Path>, out: &Path, mode: PlanMode) -> Result<(), Error> {
        let mut args = vec!["plan".to_string(), "-json".into(), "-input=false".into(), self.lock_timeout.clone(), format!("-out={}", out.display())];
        if mode == PlanMode::Destroy {
            args.push("-destroy".into());
        }
        if let Some(file) = var_file {
            args.push(format!("-var-file={}", file.display()));
        }
        if let Some((_, values)) = &self.regional {
            args.push(format!("-var-file={}", self.dir.join(values).display()));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let cmd = self.cmd(&refs);
        let output = cmd.output().await.map_err(failed)?;
        if output.status != 0 {
            let diagnostics = stream_errors(&output.stdout);
            let detail = if diagnostics.is_empty() { crate::iac::runner::trim_stderr(&output.stderr) } else { diagnostics.join("\n") };
            if let Some(holder) = lock_holder(&detail) {
                return Err(Error::Busy { what: "another terraform run on this state (perhaps on another machine)".into(), holder: Some(holder) });
            }
            return Err(Error::Tool(RunError::Failed { command: cmd.display(), status: output.status, stderr: detail }));
        }
        Ok(())
    }

    /// `terraform apply -json PLAN`: applies exactly the saved plan. On failure the error names the
    /// command and carries Terraform's error diagnostics (what the debugger classifies).
    pub async fn apply(&self, plan: &Path) -> Result<Applied, ApplyFailed> {
        let p = plan.display().to_string();
        let cmd = self.cmd(&["apply", "-json", "-input=false", &self.lock_timeout, "-auto-approve", &p]);
        let output = cmd.output().await.map_err(|e| ApplyFailed { command: cmd.display(), status: None, diagnostics: vec![e.to_string()] })?;
        let applied = applied_events(&output.stdout);
        if output.status != 0 {
            let mut diagnostics = stream_errors(&output.stdout);
            if diagnostics.is_empty() {
                diagnostics.push(crate::iac::runner::trim_stderr(&output.stderr));
            }
            return Err(ApplyFailed { command: cmd.display(), status: Some(output.status), diagnostics });
        }
        Ok(applied)
    }

    /// The current state, in the shape of `terraform show -json` (`values.root_module`).
    ///
    /// Read with `terraform state pull`, which only fetches the state from its backend, where
    /// `show -json` also loads every provider for its schema (≈4 s for the AWS provider):
    /// the resource values are the same.
    pub async fn state(&self) -> Result<serde_json::Value, Error> {
        let raw = self.cmd(&["state", "pull"]).run().await.map_err(failed)?.stdout;
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::json!({"format_version": "1.0"}));
        }
        let raw: serde_json::Value = serde_json::from_slice(&raw).map_err(|e| Error::Failed(format!("terraform state pull printed no JSON: {e}")))?;
        Ok(shown_state(&raw))
    }

    /// `terraform show -json PLAN`: the plan as JSON bytes.
    pub async fn show_json(&self, plan: &Path) -> Result<Vec<u8>, Error> {
        let p = plan.display().to_string();
        Ok(self.cmd(&["show", "-json", "-no-color", &p]).run().await.map_err(failed)?.stdout)
    }
}

/// Who holds a Terraform state lock, from the "Error acquiring the state lock" diagnostic and its Lock Info
/// (written by the run that holds it, on whichever machine): who, since when, doing what, and how to free a lock
/// a crashed run left behind.
pub fn lock_holder(diagnostics: &str) -> Option<String> {
    if !diagnostics.contains("Error acquiring the state lock") {
        return None;
    }
    let field = |name: &str| diagnostics.lines().find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string())).filter(|v| !v.is_empty());
    let who = field("Who:").unwrap_or_else(|| "an unknown holder".into());
    let mut out = format!("the state lock is held by {who}");
    if let Some(created) = field("Created:") {
        out.push_str(&format!(" since {created}"));
    }
    if let Some(operation) = field("Operation:") {
        out.push_str(&format!(", running {}", operation.trim_start_matches("OperationType").to_lowercase()));
    }
    if let Some(id) = field("ID:") {
        out.push_str(&format!(
            "; if no terraform is running there any more, a crashed run left it: `terraform force-unlock {id}` in the Terraform folder frees it"
        ));
    }
    Some(out)
}

/// What a plan is for: bringing the infrastructure to the configuration, or removing all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanMode {
    Apply,
    /// `plan -destroy`: every resource of the state goes.
    Destroy,
}

/// One Terraform operation per environment at a time (state, plan files, `.terraform`).
pub fn lock(ws: &Workspace, env: &str) -> Result<FileLock, Error> {
    ws.try_lock(&format!("terraform-{env}"), &format!("terraform for env {env}"))?
        .map_err(|holder| Error::Busy { what: format!("another terraform operation for env {env}"), holder })
}

/// What an apply did, from its `-json` stream.
#[derive(Debug, Clone, Default, serde::Serialize, schemars::JsonSchema)]
pub struct Applied {
    pub add: u64,
    pub change: u64,
    pub remove: u64,
    /// Addresses whose apply completed.
    pub completed: Vec<String>,
}

impl Applied {
    /// Adds what another apply did (one environment applied region by region).
    pub fn absorb(&mut self, other: Applied) {
        self.add += other.add;
        self.change += other.change;
        self.remove += other.remove;
        self.completed.extend(other.completed);
    }
}

/// A failed apply: the command, its exit status, and Terraform's error diagnostics.
#[derive(Debug, Clone)]
pub struct ApplyFailed {
    pub command: String,
    pub status: Option<i32>,
    pub diagnostics: Vec<String>,
}

impl std::fmt::Display for ApplyFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "`{}` exited with status {s}: {}", self.command, self.diagnostics.join("\n")),
            None => write!(f, "{}", self.diagnostics.join("\n")),
        }
    }
}

/// The `apply_complete` addresses and the final `change_summary` of an apply stream.
pub fn applied_events(stream: &[u8]) -> Applied {
    let mut out = Applied::default();
    for v in String::from_utf8_lossy(stream).lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()) {
        match v["type"].as_str() {
            Some("apply_complete") => {
                if let Some(addr) = v.pointer("/hook/resource/addr").and_then(|a| a.as_str()) {
                    out.completed.push(addr.to_string());
                }
            }
            Some("change_summary") => {
                let n = |k: &str| v.pointer(&format!("/changes/{k}")).and_then(|x| x.as_u64()).unwrap_or(0);
                out.add = n("add");
                out.change = n("change");
                out.remove = n("remove");
            }
            _ => {}
        }
    }
    out
}

fn failed(e: RunError) -> Error {
    Error::Tool(e)
}

/// A raw state (`terraform state pull`, format version 4) in the shape `terraform show -json` gives it:
/// `values.root_module.resources[]` with `address`, `mode`, `type`, `name`, `index`, `values`, and one
/// `child_modules[]` entry per module. Pure.
pub fn shown_state(raw: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut root = Vec::new();
    let mut modules: std::collections::BTreeMap<String, Vec<Value>> = std::collections::BTreeMap::new();
    for r in raw.get("resources").and_then(Value::as_array).into_iter().flatten() {
        let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
        let module = s("module");
        let base = if s("mode") == "data" { format!("data.{}.{}", s("type"), s("name")) } else { format!("{}.{}", s("type"), s("name")) };
        for instance in r.get("instances").and_then(Value::as_array).into_iter().flatten() {
            let index = instance.get("index_key").cloned();
            let suffix = match &index {
                Some(Value::Number(n)) => format!("[{n}]"),
                Some(Value::String(k)) => format!("[{}]", Value::String(k.clone())),
                _ => String::new(),
            };
            let address = if module.is_empty() { format!("{base}{suffix}") } else { format!("{module}.{base}{suffix}") };
            let mut entry = Map::new();
            entry.insert("address".into(), json!(address));
            entry.insert("mode".into(), json!(s("mode")));
            entry.insert("type".into(), json!(s("type")));
            entry.insert("name".into(), json!(s("name")));
            if let Some(i) = index {
                entry.insert("index".into(), i);
            }
            entry.insert("provider_name".into(), json!(s("provider")));
            entry.insert("values".into(), instance.get("attributes").cloned().unwrap_or(Value::Object(Map::new())));
            let entry = Value::Object(entry);
            if module.is_empty() { root.push(entry) } else { modules.entry(module.to_string()).or_default().push(entry) }
        }
    }
    let children: Vec<Value> = modules.into_iter().map(|(address, resources)| json!({"address": address, "resources": resources})).collect();
    json!({
        "format_version": "1.0",
        "terraform_version": raw.get("terraform_version").cloned().unwrap_or(Value::Null),
        "values": {"root_module": {"resources": root, "child_modules": children}},
    })
}

/// The `"@level":"error"` diagnostics of a `-json` stream, as "summary: detail (file:line)".
pub fn stream_errors(stream: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stream)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["@level"] == "error")
        .map(|v| {
            let d = &v["diagnostic"];
            let place = match (d["range"]["filename"].as_str(), d["range"]["start"]["line"].as_u64()) {
                (Some(f), Some(l)) => format!(" ({f}:{l})"),
                _ => String::new(),
            };
            match (d["summary"].as_str(), d["detail"].as_str()) {
                (Some(s), Some(det)) if !det.is_empty() => format!("{s}: {det}{place}"),
                (Some(s), _) => format!("{s}{place}"),
                _ => v["@message"].as_str().unwrap_or("error").to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn errors_come_from_the_json_stream() {
        let stream = br#"{"@level":"info","@message":"Terraform 1.11.4","type":"version"}
{"@level":"error","@message":"Error: Invalid reference","diagnostic":{"severity":"error","summary":"Invalid reference","detail":"A reference to a resource type must be followed by at least one attribute access.","range":{"filename":"main.tf","start":{"line":3}}},"type":"diagnostic"}
not json
"#;
        assert_eq!(
            super::stream_errors(stream),
            ["Invalid reference: A reference to a resource type must be followed by at least one attribute access. (main.tf:3)"]
        );
    }

    #[test]
    fn a_pulled_state_reads_like_show_json() {
        let raw = serde_json::json!({"version": 4, "terraform_version": "1.11.4", "resources": [
            {"mode": "managed", "type": "aws_s3_bucket", "name": "uploads", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 0, "attributes": {"bucket": "b", "arn": "arn:aws:s3:::b"}}]},
            {"mode": "data", "type": "aws_caller_identity", "name": "me", "instances": [{"attributes": {"account_id": "1"}}]},
            {"module": "module.queues", "mode": "managed", "type": "aws_sqs_queue", "name": "q", "each": "map",
             "instances": [{"index_key": "jobs", "attributes": {"name": "jobs"}}, {"index_key": "mail", "attributes": {"name": "mail"}}]},
            {"mode": "managed", "type": "aws_iam_role", "name": "r", "each": "list", "instances": [{"index_key": 0, "attributes": {"name": "r0"}}]}
        ]});
        let shown = super::shown_state(&raw);
        let root = &shown["values"]["root_module"];
        let addresses: Vec<&str> = root["resources"].as_array().unwrap().iter().map(|r| r["address"].as_str().unwrap()).collect();
        assert_eq!(addresses, ["aws_s3_bucket.uploads", "data.aws_caller_identity.me", "aws_iam_role.r[0]"]);
        assert_eq!(root["resources"][0]["values"]["arn"], "arn:aws:s3:::b");
        let child = &root["child_modules"][0];
        assert_eq!(child["address"], "module.queues");
        assert_eq!(child["resources"][1]["address"], "module.queues.aws_sqs_queue.q[\"mail\"]");
        assert_eq!(super::shown_state(&serde_json::json!({"version": 4}))["values"]["root_module"]["resources"], serde_json::json!([]));
    }

    #[test]
    fn apply_stream_counts() {
        let stream = br#"{"@level":"info","type":"apply_start","hook":{"resource":{"addr":"aws_s3_bucket.a"}}}
{"@level":"info","type":"apply_complete","hook":{"resource":{"addr":"aws_s3_bucket.a"},"action":"create"}}
{"@level":"info","type":"change_summary","changes":{"add":1,"change":0,"import":0,"remove":0,"operation":"apply"}}
"#;
        let a = super::applied_events(stream);
        assert_eq!((a.add, a.change, a.remove), (1, 0, 0));
        assert_eq!(a.completed, ["aws_s3_bucket.a"]);
    }

    #[test]
    fn a_held_state_lock_names_its_holder() {
        let diag =
            "Error acquiring the state lock: Error message: operation error S3: PutObject, https response error StatusCode: 412, api error PreconditionFailed
Lock Info:
  ID:        6d2b1c3e-0f5a-4b7e-9c1d-2e3f4a5b6c7d
  Path:      shop-terraform-state/core/test/terraform.tfstate
  Operation: OperationTypeApply
  Who:       alice@ci-runner-7
  Version:   1.11.4
  Created:   2026-12-07 19:00:00.123456 +0000 UTC
  Info:

Terraform acquires a state lock to protect the state from being written by multiple users at the same time.";
        let holder = super::lock_holder(diag).unwrap();
        assert!(holder.starts_with("the state lock is held by alice@ci-runner-7 since 2026-12-07 19:00:00.123456 +0000 UTC, running apply"), "{holder}");
        assert!(holder.contains("terraform force-unlock 6d2b1c3e-0f5a-4b7e-9c1d-2e3f4a5b6c7d"), "{holder}");
        assert_eq!(super::lock_holder("Error: Invalid provider configuration"), None);
    }
}
