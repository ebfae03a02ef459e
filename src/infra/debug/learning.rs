//! The learning log (`deployments/issue-log.json`): per error signature, how
//! often it occurred and, per solution, how often it was tried and how often
//! it worked. Solutions are ranked by the lower bound of the 95% Wilson score
//! interval of their success rate, so that 45 successes in 50 attempts
//! (lower bound 0.79) beat 1 in 1 (0.21): a rate is only as good as the
//! evidence behind it.
//!
//! Pure: these functions change an [`IssueLog`] value; loading and saving the
//! file (atomically, under its lock) belong to the caller. Field names are
//! stable: they are the file's format.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Category;
use super::classify::Diagnosis;
use super::signature::{self, redact};

/// The format version written in `issue-log.json`.
pub const ISSUE_LOG_VERSION: u32 = 1;

/// An issue keeps at most this many example messages (redacted, distinct).
pub const MAX_EXAMPLES: usize = 3;

/// Examples are cut at this many characters.
const MAX_EXAMPLE_CHARS: usize = 2000;

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The whole log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IssueLog {
    pub version: u32,
    pub issues: Vec<Issue>,
    /// Solutions applied whose outcome the next deploy of their environment decides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub awaiting: Vec<Awaiting>,
    /// The last failed deploy of each environment (at most one per
    /// environment): what `debug` diagnoses when it is given no message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_failures: Vec<LastFailure>,
}

/// The error a deploy of `env` failed with, the last time one failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LastFailure {
    pub env: String,
    pub at: DateTime<Utc>,
    pub signature_id: String,
    /// Terraform's diagnostics, secrets redacted, cut at [`MAX_FAILURE_CHARS`].
    pub message: String,
}

/// A stored failure keeps at most this many characters of its message.
pub const MAX_FAILURE_CHARS: usize = 20_000;

/// A solution that was applied; the next deploy of `env` says whether it worked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Awaiting {
    pub env: String,
    pub signature_id: String,
    pub solution_id: String,
    pub applied_at: DateTime<Utc>,
}

/// One kind of problem, recognised by its signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Issue {
    pub signature_id: String,
    pub signature: String,
    pub category: Category,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub occurrences: u64,
    /// Up to [`MAX_EXAMPLES`] distinct messages, secrets redacted.
    pub examples: Vec<String>,
    pub solutions: Vec<Solution>,
}

/// A way to resolve an issue and its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Solution {
    pub id: String,
    pub description: String,
    pub kind: SolutionKind,
    pub attempts: u64,
    pub successes: u64,
    pub last_used: Option<DateTime<Utc>>,
}

/// How a solution acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SolutionKind {
    /// Attach an IAM statement to the deploy principal (through the gate).
    IamPolicy,
    /// Run again, possibly after a wait or with lower parallelism.
    Retry,
    /// Change the Terraform code or variables.
    ConfigChange,
    /// A Terraform state command (`force-unlock`, `import`, `state rm`).
    StateCommand,
    /// Ask AWS for a higher quota.
    QuotaIncrease,
    /// Log in again or fix the profile.
    RefreshCredentials,
    /// Something a person does by hand.
    Manual,
}

/// A solution with its score (the Wilson lower bound, 0–1) and the evidence
/// in words.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RankedSolution<'a> {
    pub solution: &'a Solution,
    pub score: f64,
    pub evidence: String,
}

/// What can go wrong when recording into the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LearningError {
    #[error("no issue with signature id {0} in the learning log")]
    UnknownIssue(String),
    #[error("issue {issue} has no solution {solution}")]
    UnknownSolution { issue: String, solution: String },
    #[error("the solution description must not be empty")]
    EmptyDescription,
}

impl IssueLog {
    /// An empty log of the current version.
    pub fn new() -> IssueLog {
        IssueLog { version: ISSUE_LOG_VERSION, issues: Vec::new(), awaiting: Vec::new(), last_failures: Vec::new() }
    }

    pub fn issue(&self, signature_id: &str) -> Option<&Issue> {
        self.issues.iter().find(|i| i.signature_id == signature_id)
    }

    fn issue_mut(&mut self, signature_id: &str) -> Result<&mut Issue, LearningError> {
        self.issues.iter_mut().find(|i| i.signature_id == signature_id).ok_or_else(|| LearningError::UnknownIssue(signature_id.into()))
    }
}

impl Default for IssueLog {
    fn default() -> IssueLog {
        IssueLog::new()
    }
}

/// Remembers `message` (redacted) as the last failed deploy of `env`,
/// replacing the one before.
pub fn record_failure(log: &mut IssueLog, env: &str, message: &str, signature_id: &str, now: DateTime<Utc>) {
    let redacted = redact(message);
    let message = match redacted.char_indices().nth(MAX_FAILURE_CHARS) {
        Some((at, _)) => redacted[..at].to_string(),
        None => redacted,
    };
    log.last_failures.retain(|f| f.env != env);
    log.last_failures.push(LastFailure { env: env.into(), at: now, signature_id: signature_id.into(), message });
}

/// The last failed deploy of `env`, if one was recorded.
pub fn last_failure<'a>(log: &'a IssueLog, env: &str) -> Option<&'a LastFailure> {
    log.last_failures.iter().find(|f| f.env == env)
}

/// Counts one occurrence of the diagnosed problem: creates its issue on first
/// sight, keeps a redacted example (up to [`MAX_EXAMPLES`] distinct ones),
/// adds the diagnosis's suggested solutions it does not know yet (untried),
/// and takes the diagnosis's category (a newer classifier may know better).
pub fn record_occurrence<'a>(log: &'a mut IssueLog, diagnosis: &Diagnosis, now: DateTime<Utc>) -> &'a Issue {
    let at = match log.issues.iter().position(|i| i.signature_id == diagnosis.signature_id) {
        Some(at) => at,
        None => {
            log.issues.push(Issue {
                signature_id: diagnosis.signature_id.clone(),
                signature: diagnosis.signature.clone(),
                category: diagnosis.category,
                first_seen: now,
                last_seen: now,
                occurrences: 0,
                examples: Vec::new(),
                solutions: Vec::new(),
            });
            log.issues.len() - 1
        }
    };
    let issue = &mut log.issues[at];
    issue.occurrences += 1;
    issue.last_seen = issue.last_seen.max(now);
    issue.category = diagnosis.category;
    // The excerpt is redacted already; redacting again costs little and keeps
    // the log safe even if a caller built the diagnosis by hand.
    let example = cut(&redact(&diagnosis.excerpt), MAX_EXAMPLE_CHARS);
    if issue.examples.len() < MAX_EXAMPLES && !issue.examples.contains(&example) {
        issue.examples.push(example);
    }
    for s in &diagnosis.suggested_solutions {
        if !issue.solutions.iter().any(|known| known.id == s.id) {
            issue.solutions.push(Solution { id: s.id.clone(), description: s.description.clone(), kind: s.kind, attempts: 0, successes: 0, last_used: None });
        }
    }
    issue
}

/// Records that `solution_id` was tried on issue `signature_id`, and whether it worked.
pub fn record_outcome<'a>(
    log: &'a mut IssueLog,
    signature_id: &str,
    solution_id: &str,
    success: bool,
    now: DateTime<Utc>,
) -> Result<&'a Solution, LearningError> {
    let issue = log.issue_mut(signature_id)?;
    let solution = issue
        .solutions
        .iter_mut()
        .find(|s| s.id == solution_id)
        .ok_or_else(|| LearningError::UnknownSolution { issue: signature_id.into(), solution: solution_id.into() })?;
    solution.attempts += 1;
    if success {
        solution.successes += 1;
    }
    solution.last_used = Some(now);
    Ok(solution)
}

/// Settles the solutions awaiting the outcome of a deploy of `env`: the deploy
/// succeeded (`failure` is `None`), or failed with the signature `failure`.
/// A solution failed when the same problem came back; a different failure
/// means its own problem is gone. Returns the settled records with their outcome.
pub fn settle(log: &mut IssueLog, env: &str, failure: Option<&str>, now: DateTime<Utc>) -> Vec<(Awaiting, bool)> {
    let (mine, rest): (Vec<Awaiting>, Vec<Awaiting>) = std::mem::take(&mut log.awaiting).into_iter().partition(|a| a.env == env);
    log.awaiting = rest;
    let mut out = Vec::new();
    for a in mine {
        let success = failure != Some(a.signature_id.as_str());
        // An issue or solution removed from the file by hand leaves nothing to count.
        if record_outcome(log, &a.signature_id, &a.solution_id, success, now).is_ok() {
            out.push((a, success));
        }
    }
    out
}

/// Adds a solution a person describes (the fix they applied by hand) to an
/// issue, untried, and returns its id: `custom-` and 8 hex digits of the
/// description's hash, so describing it again finds the same solution.
pub fn add_solution(log: &mut IssueLog, signature_id: &str, description: &str, kind: SolutionKind) -> Result<String, LearningError> {
    let description = redact(description.trim());
    if description.is_empty() {
        return Err(LearningError::EmptyDescription);
    }
    let issue = log.issue_mut(signature_id)?;
    let id = format!("custom-{}", &signature::signature_id(&description)[..8]);
    if !issue.solutions.iter().any(|s| s.id == id) {
        issue.solutions.push(Solution { id: id.clone(), description, kind, attempts: 0, successes: 0, last_used: None });
    }
    Ok(id)
}

/// The issue's solutions, best first: by the Wilson lower bound, then more
/// successes, then the most recently used, then id. Solutions never tried come
/// after every solution that has worked at least once, and before those that
/// only ever failed; the lower bound cannot tell them apart (both 0), but an
/// untried idea is better than a refuted one.
pub fn ranked_solutions(issue: &Issue) -> Vec<RankedSolution<'_>> {
    let mut ranked: Vec<RankedSolution<'_>> =
        issue.solutions.iter().map(|s| RankedSolution { solution: s, score: wilson_lower_bound(s.successes, s.attempts), evidence: evidence(s) }).collect();
    let tier = |s: &Solution| match (s.successes, s.attempts) {
        (0, 0) => 1,
        (0, _) => 2,
        _ => 0,
    };
    ranked.sort_by(|a, b| {
        tier(a.solution)
            .cmp(&tier(b.solution))
            .then(b.score.total_cmp(&a.score))
            .then(b.solution.successes.cmp(&a.solution.successes))
            .then(b.solution.last_used.cmp(&a.solution.last_used))
            .then(a.solution.id.cmp(&b.solution.id))
    });
    ranked
}

/// The lower bound of the Wilson score interval (95%) of `successes` in
/// `attempts`; 0 when never tried.
pub fn wilson_lower_bound(successes: u64, attempts: u64) -> f64 {
    if attempts == 0 {
        return 0.0;
    }
    let n = attempts as f64;
    let p = successes.min(attempts) as f64 / n;
    let z2 = Z95 * Z95;
    let centre = p + z2 / (2.0 * n);
    let margin = Z95 * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt();
    ((centre - margin) / (1.0 + z2 / n)).max(0.0)
}

fn evidence(s: &Solution) -> String {
    if s.attempts == 0 {
        return "not tried yet: no evidence either way".into();
    }
    let rate = 100.0 * s.successes as f64 / s.attempts as f64;
    let bound = 100.0 * wilson_lower_bound(s.successes, s.attempts);
    let attempts = if s.attempts == 1 { "attempt" } else { "attempts" };
    let mut out = format!("worked {} of {} {attempts} ({rate:.0}%); at least {bound:.0}% with 95% confidence", s.successes, s.attempts);
    if s.attempts < 5 {
        out.push_str(" (too few attempts to trust the rate)");
    }
    out
}

fn cut(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}
