//! Real `terraform` for tests: finds the binary and the machine's AWS provider
//! mirror (DESIGN.md §5) and writes a CLI configuration that installs the
//! provider from it. A missing piece fails the test with what to install.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Terraform {
    pub bin: PathBuf,
    pub cli_config: PathBuf,
    _dir: tempfile::TempDir,
}

fn find_mirror() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FABER_TF_MIRROR") {
        return Some(PathBuf::from(dir));
    }
    for root in ["/opt/tf-plugins", "/usr/share/terraform/plugins", "/usr/local/share/terraform/plugins"] {
        if Path::new(root).join("registry.terraform.io/hashicorp/aws").is_dir() {
            return Some(PathBuf::from(root));
        }
    }
    // Last resort: the search DESIGN.md describes.
    let out = Command::new("sh")
        .args(["-c", "find / -xdev -name 'terraform-provider-aws_*' -path '*registry.terraform.io*' 2>/dev/null | head -n 1"])
        .output()
        .ok()?;
    let hit = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let at = hit.find("/registry.terraform.io/")?;
    Some(PathBuf::from(&hit[..at]))
}

impl Terraform {
    pub fn get() -> Terraform {
        let bin = std::env::var_os("PATH")
            .and_then(|p| std::env::split_paths(&p).map(|d| d.join("terraform")).find(|p| p.is_file()))
            .unwrap_or_else(|| panic!("terraform is not on PATH: install Terraform 1.5+ (these tests run the real binary)"));
        let mirror = find_mirror()
            .unwrap_or_else(|| panic!("no AWS provider mirror found: set FABER_TF_MIRROR to the folder above registry.terraform.io, or see DESIGN.md §5"));
        let dir = tempfile::tempdir().unwrap();
        let cli_config = dir.path().join("cli.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n",
                mirror.display()
            ),
        )
        .unwrap();
        Terraform { bin, cli_config, _dir: dir }
    }

    /// Runs terraform in `dir`; returns (exit code, stdout, stderr).
    pub fn run(&self, dir: &Path, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(&self.bin)
            .args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .expect("run terraform");
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
