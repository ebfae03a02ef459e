//! The gate's decisions, without I/O: who may skip confirmation, how many
//! "yes" answers an environment needs, whether an answer is a yes, and the
//! warning banner shown before each answer.

use serde::{Deserialize, Serialize};

use crate::config::{Config, UnknownEnvironment};

/// What the gate knows about an environment. Only the configuration makes
/// one (the fields are private): a caller cannot hand the gate a policy of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvPolicy {
    /// `prod`, or `require_confirmation: true`.
    pub(super) protected: bool,
    /// `auto_approve` from devops.json.
    pub(super) auto_approve: bool,
}

impl EnvPolicy {
    /// The policy of a configured environment.
    pub fn of(config: &Config, env: &str) -> Result<EnvPolicy, UnknownEnvironment> {
        let settings = config.environment(env)?;
        Ok(EnvPolicy { protected: config.is_protected(env), auto_approve: settings.auto_approve })
    }

    /// This environment's protection, but never auto-approved: a human always looks.
    pub fn always_confirm(self) -> EnvPolicy {
        EnvPolicy { auto_approve: false, ..self }
    }

    pub fn protected(self) -> bool {
        self.protected
    }

    /// How many "yes" answers this environment needs when it needs any.
    pub fn steps(self) -> u8 {
        if self.protected { 2 } else { 1 }
    }
}

/// The gate's verdict on a mutating request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Run now.
    Approve,
    /// Wait for this many "yes" answers.
    Confirm { steps: u8 },
}

/// Protected environments always need two answers, whatever `auto_approve`
/// says; others need one unless auto-approval is configured or requested.
pub fn verdict(env: EnvPolicy, requested_auto_approve: bool) -> Verdict {
    if env.protected {
        Verdict::Confirm { steps: 2 }
    } else if env.auto_approve || requested_auto_approve {
        Verdict::Approve
    } else {
        Verdict::Confirm { steps: 1 }
    }
}

/// Only "yes" (ASCII letters, any case, ASCII whitespace around it) confirms;
/// everything else cancels, look-alikes and Unicode spaces included.
pub fn is_yes(response: &str) -> bool {
    response.trim_matches(|c: char| c.is_ascii_whitespace()).eq_ignore_ascii_case("yes")
}

/// Counts of a change, shown in banners.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeCounts {
    pub add: u32,
    pub change: u32,
    pub destroy: u32,
}

/// What a banner shows about the operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BannerFacts {
    pub env: String,
    pub operation: String,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<ChangeCounts>,
    /// Estimated monthly cost impact in dollars (positive: more spend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_impact: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Resources whose data the operation deletes, one line each (address, symbol, what is lost).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_loss: Vec<String>,
    /// Remediations made since the last deploy that the operation undoes, one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reverts: Vec<String>,
    /// A protected environment's deploy: whether this exact code ran in an unprotected environment first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<String>,
}

/// The text shown before answer `step` (1-based) of `steps`.
pub fn banner(facts: &BannerFacts, protected: bool, step: u8, steps: u8) -> String {
    let rule = "═══════════════════════════════════════";
    let mut out = String::new();
    let place = if facts.env == "prod" { "PRODUCTION".to_string() } else { format!("the protected environment {}", facts.env.to_uppercase()) };
    if protected && step == steps && steps > 1 {
        out.push_str(&format!("⚠️  FINAL CONFIRMATION: {} ({})\n{rule}\n", place, facts.operation));
        out.push_str(&format!("This is the last step. Answering yes runs {} on {} now.\n", facts.operation, place));
    } else if protected {
        out.push_str(&format!("⚠️  WARNING: {} on {}\n{rule}\n", facts.operation, place));
        out.push_str(&format!("You are about to run {} on {}.\nThis will affect live systems.\n", facts.operation, place));
    } else {
        out.push_str(&format!("Confirm {} on {}\n{rule}\n", facts.operation, facts.env));
    }
    out.push_str(&format!("\n{}\n", facts.summary));
    if let Some(c) = facts.changes {
        out.push_str(&format!(
            "\nResources to be changed:\n+ {} new resource{}\n~ {} resource{} modified\n- {} resource{} destroyed\n",
            c.add,
            plural(c.add),
            c.change,
            plural(c.change),
            c.destroy,
            plural(c.destroy)
        ));
    }
    if !facts.data_loss.is_empty() {
        out.push_str(&format!(
            "\n⚠ DATA LOSS: {} resource{} holding data will be deleted or replaced:\n",
            facts.data_loss.len(),
            plural(facts.data_loss.len() as u32)
        ));
        for line in &facts.data_loss {
            out.push_str(&format!("  - {line}\n"));
        }
        out.push_str("Answering yes deletes that data; it cannot be undone from here.\n");
    }
    if !facts.reverts.is_empty() {
        out.push_str("\n⚠ This deploy undoes remediations made since the last deploy:\n");
        for line in &facts.reverts {
            out.push_str(&format!("  - {line}\n"));
        }
        out.push_str(
            "To keep one, answer no and deploy again with keep_remediations (CLI --keep-remediations): a rollback or a scale \
             is then written into the environment's variable file and stays; other changes must be made in the Terraform code.\n",
        );
    }
    if let Some(line) = &facts.promotion {
        out.push_str(&format!("\n{line}\n"));
    }
    if let Some(cost) = facts.cost_impact {
        let sign = if cost < 0.0 { "-" } else { "+" };
        out.push_str(&format!("\nEstimated cost impact: {sign}${:.2}/month\n", cost.abs()));
    }
    let target: Vec<String> = [("Account", &facts.account), ("Region", &facts.region), ("Profile", &facts.profile)]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
        .collect();
    if !target.is_empty() {
        out.push_str(&format!("\n{}\n", target.join("   ")));
    }
    if steps > 1 {
        out.push_str(&format!("\nConfirmation {step} of {steps}. "));
    } else {
        out.push('\n');
    }
    out.push_str("Type 'yes' to confirm; any other answer cancels.");
    out
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_table() {
        let cases = [
            // (protected, auto_approve in config, --auto-approve, expected)
            (false, false, false, Verdict::Confirm { steps: 1 }),
            (false, true, false, Verdict::Approve),
            (false, false, true, Verdict::Approve),
            (true, false, false, Verdict::Confirm { steps: 2 }),
            (true, true, false, Verdict::Confirm { steps: 2 }),
            (true, true, true, Verdict::Confirm { steps: 2 }),
            (true, false, true, Verdict::Confirm { steps: 2 }),
        ];
        for (protected, auto_approve, requested, expected) in cases {
            assert_eq!(verdict(EnvPolicy { protected, auto_approve }, requested), expected, "{protected} {auto_approve} {requested}");
        }
    }

    #[test]
    fn only_yes_confirms() {
        for yes in ["yes", "YES", " Yes \n", "yEs"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in [
            "no",
            "y",
            "yes!",
            "yes please",
            "",
            "ok",
            "sure",
            "yess",
            "\"yes\"",
            "yes\u{a0}",
            "\u{3000}yes",
            "\u{feff}yes",
            "\u{ff59}\u{ff45}\u{ff53}",
            "y\u{435}s",
            "ye s",
        ] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn production_banner_shows_counts_cost_and_target() {
        let facts = BannerFacts {
            env: "prod".into(),
            operation: "deploy".into(),
            summary: "Apply the saved plan.".into(),
            changes: Some(ChangeCounts { add: 2, change: 1, destroy: 0 }),
            cost_impact: Some(12.5),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            profile: Some("p-prod-deploy".into()),
            data_loss: vec![],
            reverts: vec![],
            promotion: None,
        };
        let first = banner(&facts, true, 1, 2);
        for needle in [
            "WARNING",
            "PRODUCTION",
            "+ 2 new resources",
            "~ 1 resource modified",
            "- 0 resources destroyed",
            "+$12.50/month",
            "Account: 123456789012",
            "Region: us-east-1",
            "Profile: p-prod-deploy",
            "1 of 2",
            "Type 'yes'",
        ] {
            assert!(first.contains(needle), "{needle:?} missing in\n{first}");
        }
        let second = banner(&facts, true, 2, 2);
        assert!(second.contains("FINAL CONFIRMATION: PRODUCTION"), "{second}");
        assert!(second.contains("2 of 2"));
        assert!(!first.contains("DATA LOSS"), "{first}");
        let test = banner(&BannerFacts { env: "test".into(), ..facts.clone() }, false, 1, 1);
        assert!(!test.contains("PRODUCTION"), "{test}");
        let lossy = BannerFacts { data_loss: vec!["aws_dynamodb_table.sessions (-): the table's items are deleted with it".into()], ..facts };
        for step in [1, 2] {
            let b = banner(&lossy, true, step, 2);
            assert!(b.contains("⚠ DATA LOSS: 1 resource holding data") && b.contains("  - aws_dynamodb_table.sessions (-): the table's items"), "{b}");
        }
    }
}
