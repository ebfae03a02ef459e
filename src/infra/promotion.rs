//! Which code goes out: a digest of the Terraform configuration and the Lambda
//! packages (not the per-environment var and backend files), recorded per
//! environment at each deploy (`deployments/{env}/code.json`). A protected
//! environment's banner says whether this exact code went to an unprotected
//! environment first, when, and whether that environment's last health check
//! since was healthy; code that never went through one is allowed, and called out.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::Error;
use crate::workspace::Workspace;

/// What an environment runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployed {
    pub digest: String,
    pub deployed_at: String,
}

/// sha256 over the `.tf` files of `dir` and the packages under `dir/build/`, by name, in name order.
pub fn code_digest(dir: &Path) -> Result<String, Error> {
    let mut files = Vec::new();
    let mut add = |sub: &Path, ext: &str| -> Result<(), Error> {
        let Ok(entries) = std::fs::read_dir(sub) else { return Ok(()) };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_file() && path.extension().is_some_and(|x| x == ext) {
                let rel = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().into_owned();
                let bytes = std::fs::read(&path).map_err(|e| Error::Failed(format!("cannot read {}: {e}", path.display())))?;
                files.push((rel, bytes));
            }
        }
        Ok(())
    };
    add(dir, "tf")?;
    add(&dir.join("build"), "zip")?;
    files.sort();
    let mut h = Sha256::new();
    for (name, bytes) in &files {
        h.update(name.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    Ok(hex::encode(h.finalize()))
}

fn record_path(ws: &Workspace, env: &str) -> Result<std::path::PathBuf, Error> {
    Ok(ws.path(&format!("deployments/{env}/code.json"))?)
}

/// Records that `env` now runs `digest`.
pub fn record(ws: &Workspace, env: &str, digest: &str) -> Result<(), Error> {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    ws.write_json(&record_path(ws, env)?, &Deployed { digest: digest.into(), deployed_at: now })?;
    Ok(())
}

pub fn load(ws: &Workspace, env: &str) -> Option<Deployed> {
    std::fs::read_to_string(record_path(ws, env).ok()?).ok().and_then(|t| serde_json::from_str(&t).ok())
}

/// The latest health report of `env` written after `since` (RFC 3339): (its time, its overall status).
fn health_since(ws: &Workspace, env: &str, since: &str) -> Option<(String, String)> {
    let since = chrono::DateTime::parse_from_rfc3339(since).ok()?;
    let dir = ws.path(&format!("monitoring/{env}")).ok()?;
    let mut reports: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with("-health.json")).collect();
    reports.sort();
    reports.iter().rev().find_map(|p| {
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
        let at = doc.get("timestamp")?.as_str()?.to_string();
        let overall = doc.get("overall")?.as_str()?.to_string();
        (chrono::DateTime::parse_from_rfc3339(&at).ok()? >= since).then_some((at, overall))
    })
}

/// The banner's line about `digest` going to the protected `env`: where it ran first, or that it did not.
pub fn note(ws: &Workspace, config: &Config, env: &str, digest: &str) -> Option<String> {
    if !config.is_protected(env) {
        return None;
    }
    let earlier: Vec<(String, Deployed)> =
        config.env_names().into_iter().filter(|e| e != env && !config.is_protected(e)).filter_map(|e| load(ws, &e).map(|d| (e, d))).collect();
    let short = &digest[..digest.len().min(12)];
    if let Some((name, d)) = earlier.iter().find(|(_, d)| d.digest == digest) {
        let health = match health_since(ws, name, &d.deployed_at) {
            Some((at, status)) => format!("its last health check since ({at}) was {status}"),
            None => format!("no health check of {name} since then (faber-cloud ops check-health --env {name})"),
        };
        return Some(format!("This exact code ({short}) was deployed to {name} at {}; {health}.", d.deployed_at));
    }
    let others: Vec<String> = earlier.iter().map(|(e, d)| format!("{e} runs {} since {}", &d.digest[..d.digest.len().min(12)], d.deployed_at)).collect();
    Some(format!(
        "⚠ This code ({short}) was never deployed to an unprotected environment first ({}).",
        if others.is_empty() { "none has a recorded deploy".to_string() } else { others.join("; ") }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_follows_the_code_not_the_environment_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), "resource \"x\" \"y\" {}").unwrap();
        std::fs::write(dir.path().join("test.tfvars"), "environment = \"test\"").unwrap();
        let first = code_digest(dir.path()).unwrap();
        std::fs::write(dir.path().join("prod.tfvars"), "environment = \"prod\"").unwrap();
        assert_eq!(code_digest(dir.path()).unwrap(), first, "var files are not code");
        std::fs::create_dir(dir.path().join("build")).unwrap();
        std::fs::write(dir.path().join("build/api.zip"), b"PK").unwrap();
        let with_package = code_digest(dir.path()).unwrap();
        assert_ne!(with_package, first, "packages are code");
        std::fs::write(dir.path().join("main.tf"), "resource \"x\" \"z\" {}").unwrap();
        assert_ne!(code_digest(dir.path()).unwrap(), with_package);
    }
}
