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
    env: Vec<(&'static str, Option<String>)>,
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
        Terraform { binary, dir: dir.to_path_buf(), env }
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
        let backend = self.dir.join(format!("{env}.s3.tfbackend"));
        self.init(backend.is_file().then_some(backend.as_path())).await
    }

    /// `terraform plan -json -out=PLAN`; on failure, the error diagnostics of the stream.
    pub async fn plan(&self, var_file: Option<&Path>, out: &Path) -> Result<(), Error> {
        let mut args = vec!["plan".to_string(), "-json".into(), "-input=false".into(), "-lock-timeout=60s".into(), format!("-out={}", out.display())];
        if let Some(file) = var_file {
            args.push(format!("-var-file={}", file.display()));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let cmd = self.cmd(&refs);
        let output = cmd.output().await.map_err(failed)?;
        if output.status != 0 {
            let diagnostics = stream_errors(&output.stdout);
            let detail = if diagnostics.is_empty() { crate::iac::runner::trim_stderr(&output.stderr) } else { diagnostics.join("\n") };
            return Err(Error::Failed(format!("`{}` exited with status {}: {detail}", cmd.display(), output.status)));
        }
        Ok(())
    }

    /// `terraform apply -json PLAN`: applies exactly the saved plan. On failure the error names the
    /// command and carries Terraform's error diagnostics (what the debugger classifies).
    pub async fn apply(&self, plan: &Path) -> Result<Applied, ApplyFailed> {
        let p = plan.display().to_string();
        let cmd = self.cmd(&["apply", "-json", "-input=false", "-lock-timeout=60s", "-auto-approve", &p]);
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

    /// `terraform show -json`: the current state as JSON bytes.
    pub async fn show_state_json(&self) -> Result<Vec<u8>, Error> {
        Ok(self.cmd(&["show", "-json", "-no-color"]).run().await.map_err(failed)?.stdout)
    }

    /// `terraform show -json`, parsed: the current state.
    pub async fn state(&self) -> Result<serde_json::Value, Error> {
        serde_json::from_slice(&self.show_state_json().await?).map_err(|e| Error::Failed(format!("terraform show -json printed no JSON: {e}")))
    }

    /// `terraform show -json PLAN`: the plan as JSON bytes.
    pub async fn show_json(&self, plan: &Path) -> Result<Vec<u8>, Error> {
        let p = plan.display().to_string();
        Ok(self.cmd(&["show", "-json", "-no-color", &p]).run().await.map_err(failed)?.stdout)
    }
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
    fn apply_stream_counts() {
        let stream = br#"{"@level":"info","type":"apply_start","hook":{"resource":{"addr":"aws_s3_bucket.a"}}}
{"@level":"info","type":"apply_complete","hook":{"resource":{"addr":"aws_s3_bucket.a"},"action":"create"}}
{"@level":"info","type":"change_summary","changes":{"add":1,"change":0,"import":0,"remove":0,"operation":"apply"}}
"#;
        let a = super::applied_events(stream);
        assert_eq!((a.add, a.change, a.remove), (1, 0, 0));
        assert_eq!(a.completed, ["aws_s3_bucket.a"]);
    }
}
