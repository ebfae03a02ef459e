//! What every operation returns: a typed report that knows how it ended
//! ([`Status`]) and how to say so to a person ([`Report::text`]). One renderer,
//! [`render`], turns any report into the text a person reads and the JSON a
//! tool returns (`{"status": …, …the report's fields}`); the JSON schema of a
//! tool's output is the schema of [`Reply`] over its report type.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::Status;

/// A typed result of an operation.
pub trait Report: Serialize {
    /// How the operation ended; most reports are plain `ok`.
    fn status(&self) -> Status {
        Status::Ok
    }
    /// The text shown to a person: what matters in the JSON, with counts and
    /// what was left out of the text (the JSON always has everything).
    fn text(&self) -> String;
}

/// The JSON a tool returns: the status beside the report's own fields.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Reply<R> {
    pub status: Status,
    #[serde(flatten)]
    pub report: R,
}

/// A report rendered once for every way out (MCP, `--json`, the CLI's text).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub status: Status,
    pub text: String,
    pub json: Value,
}

impl Rendered {
    /// 0 success, 1 not executed (cancelled), 3 waiting for a human answer.
    pub fn exit_code(&self) -> i32 {
        self.status.exit_code()
    }
}

/// The one renderer.
/// Every reply passes here: secrets are redacted in the text and in every
/// string of the JSON, and control characters in the text are escaped.
pub fn render<R: Report>(report: &R) -> Rendered {
    let status = report.status();
    let mut json = serde_json::to_value(Reply { status, report }).expect("reports serialise to JSON objects");
    crate::redact::redact_json(&mut json);
    Rendered { status, text: crate::redact::escape_controls(&crate::redact::redact(&report.text())), json }
}

/// "3 of 10 shown; the rest in the structured result" — what a text leaves out.
pub fn more(shown: usize, total: usize, what: &str) -> Option<String> {
    (total > shown).then(|| format!("… {} more {what} (all {total} in the structured result)", total - shown))
}

/// `impl Report` for an enum whose variants each hold one report: the status
/// and the text are the variant's own.
#[macro_export]
macro_rules! report_enum {
    ($name:ident { $($variant:ident),+ $(,)? }) => {
        impl $crate::vocabulary::Report for $name {
            fn status(&self) -> $crate::vocabulary::Status {
                match self {
                    $($name::$variant(r) => $crate::vocabulary::Report::status(r),)+
                }
            }
            fn text(&self) -> String {
                match self {
                    $($name::$variant(r) => $crate::vocabulary::Report::text(r),)+
                }
            }
        }
    };
}
