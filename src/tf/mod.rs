//! A Terraform configuration as the static checks see it: resources with
//! their attributes evaluated as far as they can be without running anything
//! (literals, `var.*` from defaults and tfvars, `local.*`, `jsonencode`, simple
//! conditionals), references to other resources kept as [`Val::Ref`], and the
//! rest kept as [`Val::Unknown`] with its source text.
//!
//! Two inputs give the same model: a directory of `.tf` files ([`load_dir`])
//! and a plan in `terraform show -json` form ([`load_plan`]). Nested blocks are
//! lists of maps, as in plan JSON, so a check reads both the same way.
//!
//! Pure except for reading the input files.

mod eval;
mod plan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use plan::{decode_json, load_plan, load_plan_text, load_prior_text, load_state_value};

/// An attribute value, evaluated as far as statically possible.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Val>),
    Map(BTreeMap<String, Val>),
    /// A reference to another resource: its address (`aws_s3_bucket.uploads`).
    Ref(String),
    /// Known only at apply time; the expression's source text.
    Unknown(String),
}

/// A `# faber:ignore RULE reason` comment in a resource or in the comment lines right above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub rule: String,
    pub reason: String,
    pub line: u32,
}

/// One `resource` (or `data`) block.
#[derive(Debug, Clone)]
pub struct Resource {
    /// `aws_s3_bucket`
    pub kind: String,
    /// `uploads`
    pub name: String,
    /// `aws_s3_bucket.uploads` (with `module.x.` in front inside modules, `data.` for data sources)
    pub address: String,
    pub data: bool,
    /// The file it came from, relative to the scanned directory (or the plan file).
    pub file: String,
    /// 1-based line of the block header; 0 when unknown (plan input).
    pub line: u32,
    pub attrs: BTreeMap<String, Val>,
    /// 1-based lines of top-level attributes and blocks.
    pub attr_lines: BTreeMap<String, u32>,
    pub ignores: Vec<Ignore>,
}

/// A `variable` block.
#[derive(Debug, Clone)]
pub struct Variable {
    pub default: Option<Val>,
    pub file: String,
    pub line: u32,
}

/// A `provider` block.
#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    pub attrs: BTreeMap<String, Val>,
    pub file: String,
    pub line: u32,
}

/// The whole configuration.
#[derive(Debug, Clone, Default)]
pub struct Module {
    pub resources: Vec<Resource>,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Val>,
    pub providers: Vec<Provider>,
    /// Files read, relative to the scanned directory.
    pub files: Vec<String>,
    /// Who refers to whom, built once per (kind, attribute) on first use.
    links: Cache<LinkIndexes>,
    /// Values derived from the resources that several checks share, built once (see [`Module::memo`]).
    memo: Cache<MemoValues>,
}

/// name → (how many resources there were, the value).
type MemoValues = std::collections::HashMap<&'static str, (usize, std::sync::Arc<dyn std::any::Any + Send + Sync>)>;

/// The resources of one kind that name something in one attribute, indexed by what they name: a check
/// that asks "which versioning resource belongs to this bucket" for every bucket costs one lookup
/// per bucket, not a pass over every resource (10,000 buckets took 3.6 s that way).
#[derive(Debug, Default)]
pub struct LinkIndex {
    /// A reference's address without its index (`aws_s3_bucket.b`) → positions in `resources`.
    pub by_ref: std::collections::HashMap<String, Vec<usize>>,
    /// A literal string → positions.
    pub by_str: std::collections::HashMap<String, Vec<usize>>,
    /// The part of a literal after its last `:` (an ARN's name) → positions.
    pub by_suffix: std::collections::HashMap<String, Vec<usize>>,
    /// Every literal, for the rare name that itself holds a `:`.
    pub strings: Vec<(String, usize)>,
    /// Some value is unknown, or refers into a module or a data source: it might name anything.
    pub unresolved: bool,
}

/// (kind, attribute) → (how many resources there were, the index).
type LinkIndexes = std::collections::HashMap<(String, String), (usize, std::sync::Arc<LinkIndex>)>;

/// A cache derived from a module's resources: a clone of the module starts with it empty.
#[derive(Default)]
struct Cache<T>(std::sync::Mutex<T>);

impl<T> std::fmt::Debug for Cache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cache")
    }
}

impl<T: Default> Clone for Cache<T> {
    fn clone(&self) -> Self {
        Cache(std::sync::Mutex::new(T::default()))
    }
}

#[derive(Debug, Error)]
pub enum TfError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{file}:{line}:{column}: syntax error: {message}")]
    Syntax { file: String, line: usize, column: usize, message: String },
    #[error("{path}: not a Terraform plan in JSON form (terraform show -json): {message}")]
    Plan { path: PathBuf, message: String },
    #[error("{path}: no .tf files here")]
    Empty { path: PathBuf },
}

impl Val {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as Terraform converts it for a string attribute: a string as it is, a number in its
    /// shortest form (`-1`, `443`, `0.5`), a bool as `true`/`false`. `protocol = -1` is the string "-1".
    pub fn as_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match self {
            Val::Str(s) => Some(Cow::Borrowed(s)),
            Val::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(Cow::Owned(format!("{}", *n as i64))),
            Val::Num(n) => Some(Cow::Owned(n.to_string())),
            Val::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            Val::Str(s) if s == "true" => Some(true),
            Val::Str(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// Whether the value is known now (no unknown or reference inside).
    pub fn is_known(&self) -> bool {
        match self {
            Val::Ref(_) | Val::Unknown(_) => false,
            Val::List(items) => items.iter().all(Val::is_known),
            Val::Map(map) => map.values().all(Val::is_known),
            _ => true,
        }
    }

    /// The first element of a nested-block list (`rule { … }` → its map).
    pub fn first_block(&self) -> Option<&BTreeMap<String, Val>> {
        match self {
            Val::List(items) => items.iter().find_map(|v| match v {
                Val::Map(m) => Some(m),
                _ => None,
            }),
            Val::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Every block of a nested-block list.
    pub fn blocks(&self) -> Vec<&BTreeMap<String, Val>> {
        match self {
            Val::List(items) => items
                .iter()
                .filter_map(|v| match v {
                    Val::Map(m) => Some(m),
                    _ => None,
                })
                .collect(),
            Val::Map(m) => vec![m],
            _ => Vec::new(),
        }
    }

    /// Converts to JSON; references and unknowns become strings marked `${…}`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Val::Null => J::Null,
            Val::Bool(b) => J::Bool(*b),
            Val::Num(n) => serde_json::Number::from_f64(*n).map(J::Number).unwrap_or(J::Null),
            Val::Str(s) => J::String(s.clone()),
            Val::List(items) => J::Array(items.iter().map(Val::to_json).collect()),
            Val::Map(map) => J::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Val::Ref(a) => J::String(format!("${{{a}}}")),
            Val::Unknown(src) => J::String(format!("${{{src}}}")),
        }
    }

    pub fn from_json(value: &serde_json::Value) -> Val {
        use serde_json::Value as J;
        match value {
            J::Null => Val::Null,
            J::Bool(b) => Val::Bool(*b),
            J::Number(n) => Val::Num(n.as_f64().unwrap_or(0.0)),
            J::String(s) => Val::Str(s.clone()),
            J::Array(items) => Val::List(items.iter().map(Val::from_json).collect()),
            J::Object(map) => Val::Map(map.iter().map(|(k, v)| (k.clone(), Val::from_json(v))).collect()),
        }
    }
}

impl Resource {
    pub fn get(&self, key: &str) -> Option<&Val> {
        self.attrs.get(key)
    }

    /// Follows a dotted path through maps and first blocks: `versioning.enabled`.
    pub fn path(&self, path: &str) -> Option<&Val> {
        let mut parts = path.split('.');
        let mut current = self.attrs.get(parts.next()?)?;
        for part in parts {
            current = current.first_block()?.get(part)?;
        }
        Some(current)
    }

    /// The line of an attribute, or of the block when the attribute is absent.
    pub fn line_of(&self, key: &str) -> u32 {
        self.attr_lines.get(key).copied().unwrap_or(self.line)
    }

    /// Whether a `# faber:ignore` comment suppresses `rule` here.
    pub fn ignored(&self, rule: &str) -> Option<&Ignore> {
        self.ignores.iter().find(|i| i.rule.eq_ignore_ascii_case(rule))
    }
}

impl Module {
    /// Resources of one type.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.of_kinds(&[kind])
    }

    /// Resources (not data sources) of any of these types, in file order. Looked up in an index by
    /// type built once: a pass over every resource per check was most of a large scan's time.
    pub fn of_kinds<'m>(&'m self, kinds: &[&str]) -> impl Iterator<Item = &'m Resource> + use<'m> {
        let index = self.memo("kinds", || {
            let mut index: std::collections::HashMap<String, Vec<usize>> = std::collections::HashMap::new();
            for (i, r) in self.resources.iter().enumerate().filter(|(_, r)| !r.data) {
                index.entry(r.kind.clone()).or_default().push(i);
            }
            index
        });
        let mut positions: Vec<usize> = kinds.iter().flat_map(|k| index.get(*k).into_iter().flatten().copied()).collect();
        if kinds.len() > 1 {
            positions.sort_unstable();
        }
        positions.into_iter().map(move |i| &self.resources[i])
    }

    /// The index of what the (non-data) resources of `kind` name in `key` (a value or a list of values);
    /// `strip` turns a reference into the address it is looked up by. Rebuilt when resources were added.
    pub fn link_index(&self, kind: &str, key: &str, strip: fn(&str) -> String) -> std::sync::Arc<LinkIndex> {
        let mut cache = self.links.0.lock().unwrap_or_else(|e| e.into_inner());
        let slot = (kind.to_string(), key.to_string());
        if let Some((n, index)) = cache.get(&slot)
            && *n == self.resources.len()
        {
            return index.clone();
        }
        let mut index = LinkIndex::default();
        for (i, r) in self.resources.iter().enumerate().filter(|(_, r)| !r.data && r.kind == kind) {
            let values: Vec<&Val> = match r.get(key) {
                Some(Val::List(items)) => items.iter().collect(),
                Some(v) => vec![v],
                None => continue,
            };
            for v in values {
                match v {
                    Val::Ref(a) => {
                        if a.starts_with("module.") || a.starts_with("data.") {
                            index.unresolved = true;
                        }
                        index.by_ref.entry(strip(a)).or_default().push(i);
                    }
                    Val::Str(s) => {
                        index.by_str.entry(s.clone()).or_default().push(i);
                        if let Some((_, tail)) = s.rsplit_once(':') {
                            index.by_suffix.entry(tail.to_string()).or_default().push(i);
                        }
                        index.strings.push((s.clone(), i));
                    }
                    Val::Unknown(_) => index.unresolved = true,
                    _ => {}
                }
            }
        }
        let index = std::sync::Arc::new(index);
        cache.insert(slot, (self.resources.len(), index.clone()));
        index
    }

    /// Drops the link indexes and memos: the resources may have changed since they were built (a
    /// scan starts with this, so an index never outlives the resources it was built from).
    pub fn forget_links(&self) {
        self.links.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.memo.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// A value derived from the resources, built by `build` on first use under `name` and shared
    /// after that (rebuilt when resources were added). `build` runs without the lock held.
    pub fn memo<T: std::any::Any + Send + Sync>(&self, name: &'static str, build: impl FnOnce() -> T) -> std::sync::Arc<T> {
        let current = self.resources.len();
        if let Some((n, value)) = self.memo.0.lock().unwrap_or_else(|e| e.into_inner()).get(name)
            && *n == current
            && let Ok(value) = value.clone().downcast::<T>()
        {
            return value;
        }
        let value = std::sync::Arc::new(build());
        self.memo.0.lock().unwrap_or_else(|e| e.into_inner()).insert(name, (current, value.clone()));
        value
    }

    pub fn by_address(&self, address: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.address == address)
    }

    /// Resources of `kind` whose attribute `key` points at `target` — by
    /// reference (HCL) or by equal value of `target_key` (plan JSON, where
    /// references are resolved to names): how the provider-v4 split resources
    /// (`aws_s3_bucket_versioning.bucket = aws_s3_bucket.b.id`) find their bucket.
    pub fn attached<'a>(&'a self, kind: &'a str, key: &'a str, target: &'a Resource, target_key: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        let target_value = target.get(target_key).and_then(Val::as_str).map(str::to_string);
        self.of_kind(kind).filter(move |r| match r.get(key) {
            Some(Val::Ref(address)) => address == &target.address,
            Some(Val::Str(s)) => target_value.as_deref() == Some(s.as_str()),
            _ => false,
        })
    }
}

/// Reads every `.tf` file in `dir` (not recursing into modules), with
/// variable values from `tfvars` when given.
pub fn load_dir(dir: &Path, tfvars: Option<&Path>) -> Result<Module, TfError> {
    let entries = std::fs::read_dir(dir).map_err(|e| TfError::Io { path: dir.to_path_buf(), source: e })?;
    let mut paths: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "tf") && p.is_file()).collect();
    paths.sort();
    if paths.is_empty() {
        return Err(TfError::Empty { path: dir.to_path_buf() });
    }
    let sources = par_map(&paths, 256, |path| {
        let text = std::fs::read_to_string(path).map_err(|e| TfError::Io { path: path.clone(), source: e })?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        Ok((name, text))
    })
    .into_iter()
    .collect::<Result<Vec<_>, TfError>>()?;
    let vars = match tfvars {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| TfError::Io { path: path.to_path_buf(), source: e })?;
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
            eval::parse_tfvars(&name, &text)?
        }
        None => BTreeMap::new(),
    };
    eval::load_sources(&sources, &vars)
}

/// Parses sources given as (file name, text); for tests and callers with text in hand.
pub fn load_sources(sources: &[(String, String)]) -> Result<Module, TfError> {
    eval::load_sources(sources, &BTreeMap::new())
}

#[cfg(test)]
mod tests;

/// `f` over `items`, in order; on several threads (at most 8) when each would get at least
/// `per_thread` items. Scoped threads: nothing outlives the call.
pub(crate) fn par_map<T: Sync, R: Send>(items: &[T], per_thread: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8).min(items.len() / per_thread.max(1)).max(1);
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = items.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}
