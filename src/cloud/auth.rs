//! Which credentials an environment's calls use — one decision shared by the
//! AWS SDK clients and the Terraform child process.
//!
//! - A configured profile is used when it exists in the shared AWS files
//!   (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, or `~/.aws/…`), or
//!   always when talking to real AWS (where a missing profile must fail loudly).
//! - Against a local endpoint (moto) without such a profile: the caller's
//!   own `AWS_ACCESS_KEY_ID` if set, otherwise throwaway test credentials —
//!   real keys never go to a local server unasked.
//! - Against real AWS without a configured profile: the ambient chain.

use std::path::PathBuf;

use crate::config::Config;

/// Where an environment's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A named profile from the shared AWS files.
    Profile(String),
    /// `testing`/`testing`, for a local AWS-compatible server.
    LocalTest,
    /// Whatever the SDK's default chain finds (environment, SSO, instance role).
    Ambient,
}

/// Everything needed to call AWS as one role (`discover` or an environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub role: String,
    pub region: String,
    pub endpoint_url: Option<String>,
    pub credentials: Credentials,
}

impl Target {
    /// Where its calls go, in words: "the AWS endpoint http://…" or "AWS in us-east-1".
    pub fn place(&self) -> String {
        match &self.endpoint_url {
            Some(url) => format!("the AWS endpoint {url}"),
            None => format!("AWS in {}", self.region),
        }
    }

    /// The profile name shown in banners and reports.
    pub fn profile(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Profile(p) => Some(p),
            _ => None,
        }
    }

    /// Environment variables for a child process (terraform) acting as this
    /// target: `(name, Some(value))` to set, `(name, None)` to remove.
    pub fn process_env(&self) -> Vec<(&'static str, Option<String>)> {
        let mut out = vec![("AWS_REGION", Some(self.region.clone()))];
        if let Some(url) = &self.endpoint_url {
            // Beside the generated endpoints block: any service of any resource goes to the local server.
            out.push(("AWS_ENDPOINT_URL", Some(url.clone())));
        }
        match &self.credentials {
            Credentials::Profile(p) => {
                // Static keys in the environment would win over the profile: drop them.
                out.extend([("AWS_ACCESS_KEY_ID", None), ("AWS_SECRET_ACCESS_KEY", None), ("AWS_SESSION_TOKEN", None)]);
                out.push(("AWS_PROFILE", Some(p.clone())));
            }
            Credentials::LocalTest => {
                out.extend([
                    ("AWS_ACCESS_KEY_ID", Some("testing".to_string())),
                    ("AWS_SECRET_ACCESS_KEY", Some("testing".to_string())),
                    ("AWS_SESSION_TOKEN", None),
                    ("AWS_PROFILE", None),
                ]);
            }
            Credentials::Ambient => {}
        }
        out
    }
}

/// The target for `role`: `discover`, or an environment name.
pub fn target(config: &Config, role: &str) -> Target {
    let aws = config.aws();
    let endpoint_url = aws.and_then(|a| a.endpoint_url.clone());
    let profile = aws.and_then(|a| a.profile(role)).map(str::to_string);
    let credentials = match (&endpoint_url, profile) {
        (None, Some(p)) => Credentials::Profile(p),
        (None, None) => Credentials::Ambient,
        (Some(_), Some(p)) if profile_defined(&p) => Credentials::Profile(p),
        (Some(_), _) if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() => Credentials::Ambient,
        (Some(_), _) => Credentials::LocalTest,
    };
    Target { role: role.into(), region: config.region().to_string(), endpoint_url, credentials }
}

/// Whether a `[name]` (credentials file) or `[profile name]` / `[name]` (config
/// file) section exists in the shared AWS files.
pub fn profile_defined(name: &str) -> bool {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, default: &str| std::env::var_os(var).map(PathBuf::from).or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)));
    [file("AWS_SHARED_CREDENTIALS_FILE", "credentials"), file("AWS_CONFIG_FILE", "config")]
        .into_iter()
        .flatten()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .any(|text| has_section(&text, name))
}

fn has_section(text: &str, name: &str) -> bool {
    text.lines().filter_map(|l| l.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']'))).any(|s| {
        let s = s.trim();
        s == name || s.strip_prefix("profile").map(str::trim) == Some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::has_section;

    #[test]
    fn sections_in_both_file_styles() {
        let credentials = "[default]\naws_access_key_id = x\n\n[ deployer ]\naws_access_key_id = y\n";
        let config = "[profile admin]\nregion = us-east-1\n[profile  sso-dev ]\n";
        for (text, name, found) in [
            (credentials, "deployer", true),
            (credentials, "default", true),
            (credentials, "deploy", false),
            (config, "admin", true),
            (config, "sso-dev", true),
            (config, "profile", false),
            ("aws_access_key_id = [deployer]", "deployer", false),
        ] {
            assert_eq!(has_section(text, name), found, "{name} in {text:?}");
        }
    }
}
