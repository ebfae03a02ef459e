//! The director: a plain request ("deploy to test", "investigate errors in
//! API service") → an [`Intent`] (manager, operation, environment, arguments),
//! or a [`Clarify`] question with numbered choices when the request is
//! ambiguous or mixes several operations.
//!
//! Pure: no I/O. The caller passes the configured environment names; storing a
//! clarification and running the chosen intent happen in `app`.
//!
//! How it decides, in order:
//! 1. words are normalised and split into clauses; a negation ("don't",
//!    "without", "not") removes the verbs in its scope, and a temporal clause
//!    ("before deploying", "after deploying") only gives context;
//! 2. every remaining operation verb proposes one operation; a generic verb
//!    ("show", "check", "analyze") or a bare noun ("logs", "health") proposes
//!    the operation its object names;
//! 3. one distinct operation → routed; several → a clarification listing them;
//!    none → a clarification with the common operations.
//!
//! Word order only matters inside those scopes, never for which keyword
//! "comes first".

mod extract;
mod lexicon;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::vocabulary::{DEFAULT_ENV, EnvSource, Intent, IntentArgs, Target};
use crate::vocabulary::{InfraOperation, OpsOperation};
use lexicon::{Word, classify_word};

/// One numbered choice of a clarification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Choice {
    pub n: usize,
    pub manager: String,
    pub operation: String,
    pub env: String,
    pub label: String,
    pub intent: Intent,
}

/// A question back to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Clarify {
    pub question: String,
    pub choices: Vec<Choice>,
}

/// The director's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Routing {
    Routed(Intent),
    Clarify(Clarify),
    /// The request names an environment that is not configured.
    UnknownEnv {
        named: String,
        configured: Vec<String>,
    },
}

/// What the director needs to know about the configuration.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// Configured environment names.
    pub envs: &'a [String],
    /// An environment given as its own argument; it wins over the text.
    pub explicit_env: Option<&'a str>,
}

/// Classifies one request.
pub fn route(request: &str, ctx: &Context<'_>) -> Routing {
    let words = lexicon::tokenize(request);
    let scoped = scope(&words);

    let env = match detect_env(&words, &scoped, ctx) {
        Ok(env) => env,
        Err(routing) => return *routing,
    };

    let mut targets = Vec::new();
    propose(&words, &scoped, &mut targets);
    let mut distinct: Vec<Target> = Vec::new();
    for t in targets {
        if !distinct.contains(&t) {
            distinct.push(t);
        }
    }

    let args = extract::args(request, &words, &scoped);
    match (distinct.len(), env) {
        (0, EnvChoice::One(env, source)) => Routing::Clarify(common_choices(&env, source)),
        (0, EnvChoice::Several(envs)) => Routing::Clarify(common_choices(&envs[0], EnvSource::Detected)),
        (1, EnvChoice::One(env, source)) => Routing::Routed(intent(distinct[0], env, source, &args)),
        (_, EnvChoice::One(env, source)) => Routing::Clarify(Clarify {
            question: "Your request could mean several operations. Which one? (answer with its number)".into(),
            choices: number(distinct.into_iter().map(|t| intent(t, env.clone(), source, &args)).collect()),
        }),
        (_, EnvChoice::Several(envs)) => Routing::Clarify(Clarify {
            question: format!("Your request names several environments ({}). Which one? (answer with its number)", envs.join(", ")),
            choices: number(distinct.iter().flat_map(|t| envs.iter().map(|e| intent(*t, e.clone(), EnvSource::Detected, &args))).collect()),
        }),
    }
}

fn intent(target: Target, env: String, env_source: EnvSource, args: &IntentArgs) -> Intent {
    Intent { target, env, env_source, args: extract::args_for(target, args) }
}

fn number(intents: Vec<Intent>) -> Vec<Choice> {
    intents
        .into_iter()
        .enumerate()
        .map(|(i, intent)| Choice {
            n: i + 1,
            manager: intent.target.manager().into(),
            operation: intent.target.operation().into(),
            env: intent.env.clone(),
            label: intent.target.label().into(),
            intent,
        })
        .collect()
}

/// The clarification for a request that names no operation.
fn common_choices(env: &str, source: EnvSource) -> Clarify {
    let targets = [
        Target::Ops(OpsOperation::CheckHealth),
        Target::Infra(InfraOperation::ValidateConfig),
        Target::Infra(InfraOperation::ShowResources),
        Target::Infra(InfraOperation::PreviewChanges),
        Target::Ops(OpsOperation::QueryLogs),
    ];
    Clarify {
        question: "I could not tell which operation you mean. Which one? (answer with its number)".into(),
        choices: number(targets.iter().map(|t| intent(*t, env.to_string(), source, &IntentArgs::default())).collect()),
    }
}

/// How each word takes part in choosing the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Counts.
    Main,
    /// Inside a negation: removed.
    Negated,
    /// Inside "before …" / "after …": context only.
    Temporal,
}

/// Marks negated and temporal scopes. A scope runs from its opener to the end
/// of the clause (punctuation, "but", "just", "only", "instead", "then").
fn scope(words: &[Word]) -> Vec<Scope> {
    let mut out = vec![Scope::Main; words.len()];
    let mut current = Scope::Main;
    for (i, w) in words.iter().enumerate() {
        if w.is_boundary() {
            current = Scope::Main;
            continue;
        }
        match w.text.as_str() {
            "not" | "never" | "without" | "dont" | "no" | "skip" | "skipping" | "avoid" => {
                current = Scope::Negated;
                out[i] = Scope::Negated;
                continue;
            }
            "before" | "after" | "prior" | "once" | "until" | "following" => {
                if current == Scope::Main {
                    current = Scope::Temporal;
                }
                out[i] = current;
                continue;
            }
            _ => {}
        }
        out[i] = current;
    }
    out
}

enum EnvChoice {
    One(String, EnvSource),
    Several(Vec<String>),
}

fn detect_env(words: &[Word], scoped: &[Scope], ctx: &Context<'_>) -> Result<EnvChoice, Box<Routing>> {
    if let Some(env) = ctx.explicit_env {
        return Ok(EnvChoice::One(env.to_string(), EnvSource::Explicit));
    }
    let mut named: Vec<String> = Vec::new();
    for (i, scope) in scoped.iter().enumerate() {
        if *scope == Scope::Negated {
            continue;
        }
        let Some(env) = lexicon::env_word(words, i, ctx.envs) else { continue };
        let resolved = match env {
            lexicon::EnvWord::Configured(name) => name,
            lexicon::EnvWord::Alias(canonical, literal) => match resolve_alias(canonical, ctx.envs) {
                Some(name) => name,
                None => return Err(Box::new(Routing::UnknownEnv { named: literal.to_string(), configured: ctx.envs.to_vec() })),
            },
            lexicon::EnvWord::Unconfigured(literal) => {
                return Err(Box::new(Routing::UnknownEnv { named: literal.to_string(), configured: ctx.envs.to_vec() }));
            }
        };
        if !named.contains(&resolved) {
            named.push(resolved);
        }
    }
    Ok(match named.len() {
        0 => EnvChoice::One(DEFAULT_ENV.to_string(), EnvSource::Default),
        1 => EnvChoice::One(named.remove(0), EnvSource::Detected),
        _ => EnvChoice::Several(named),
    })
}

/// "dev" → test, "production" → prod, unless the configuration names the word itself.
fn resolve_alias(canonical: &str, envs: &[String]) -> Option<String> {
    let family: &[&str] = match canonical {
        "test" => &["test", "dev", "development", "testing"],
        _ => &["prod", "production", "live"],
    };
    family.iter().find(|f| envs.iter().any(|e| e == *f)).map(|f| f.to_string())
}

/// Proposes targets from the words in main scope; nouns only when no verb proposed one.
fn propose(words: &[Word], scoped: &[Scope], out: &mut Vec<Target>) {
    let objects = lexicon::Objects::collect(words, scoped);
    for i in (0..words.len()).filter(|&i| scoped[i] == Scope::Main) {
        match classify_word(words, i) {
            lexicon::Role::Verb(v) => lexicon::verb_targets(v, &objects, out),
            lexicon::Role::Generic(g) => lexicon::generic_targets(g, &objects, out),
            lexicon::Role::Other => {}
        }
    }
    if out.is_empty() {
        lexicon::noun_targets(&objects, out);
    }
}

/// Request → routing → a map of the arguments a manager call would get; used
/// by tests and by the CLI's `--route-only` text output.
pub fn describe(intent: &Intent) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    m.insert("manager", intent.target.manager().to_string());
    m.insert("operation", intent.target.operation().to_string());
    m.insert("env", intent.env.clone());
    let a = &intent.args;
    let mut put = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k, v);
        }
    };
    put("service", a.service.clone());
    put("filter", a.filter.clone());
    put("timeframe", a.timeframe.clone());
    put("limit", a.limit.map(|l| l.to_string()));
    put("action", a.action.map(|x| serde_json::to_value(x).unwrap().as_str().unwrap().to_string()));
    put("target", a.target.map(|t| t.to_string()));
    put("focus", a.focus.map(|x| serde_json::to_value(x).unwrap().as_str().unwrap().to_string()));
    put("feature", a.feature.clone());
    put("design", a.design.clone());
    put("error", a.error.clone());
    if a.skip_tests {
        m.insert("skip_tests", "true".into());
    }
    if a.skip_preview {
        m.insert("skip_preview", "true".into());
    }
    m
}

#[cfg(test)]
mod tests;
