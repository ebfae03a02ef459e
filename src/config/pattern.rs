//! Pattern substitution for names, backend keys and file patterns:
//! `{project} {subsystem} {environment} {resource} {organization}`.
//!
//! Every occurrence is replaced; an unknown or unclosed placeholder is an error,
//! never passed through, so a typo cannot silently produce a wrong name.

use thiserror::Error;

/// The placeholders a pattern may use.
pub const PLACEHOLDERS: [&str; 5] = ["project", "subsystem", "environment", "resource", "organization"];

/// Values to substitute. A `None` value is an error when the pattern uses it.
#[derive(Debug, Clone, Copy)]
pub struct PatternValues<'a> {
    pub project: Option<&'a str>,
    pub subsystem: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub resource: Option<&'a str>,
    pub organization: Option<&'a str>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PatternError {
    #[error("unknown placeholder {{{name}}} in pattern \"{pattern}\" (accepted: {{project}}, {{subsystem}}, {{environment}}, {{resource}}, {{organization}})")]
    Unknown { pattern: String, name: String },
    #[error("unclosed '{{' in pattern \"{pattern}\"")]
    Unclosed { pattern: String },
    #[error("stray '}}' in pattern \"{pattern}\"")]
    Stray { pattern: String },
    #[error("pattern \"{pattern}\" uses {{{name}}}, but no value for it is known here")]
    Missing { pattern: String, name: String },
}

/// Replaces every placeholder in `pattern`.
pub fn substitute(pattern: &str, values: &PatternValues<'_>) -> Result<String, PatternError> {
    let mut out = String::with_capacity(pattern.len() + 32);
    for piece in parse(pattern)? {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Placeholder(name) => {
                let value = match name {
                    "project" => values.project,
                    "subsystem" => values.subsystem,
                    "environment" => values.environment,
                    "resource" => values.resource,
                    "organization" => values.organization,
                    _ => unreachable!("parse accepts only known placeholders"),
                };
                let value = value.ok_or_else(|| PatternError::Missing { pattern: pattern.to_string(), name: name.to_string() })?;
                out.push_str(value);
            }
        }
    }
    Ok(out)
}

/// Checks that a pattern is well formed and uses only known placeholders;
/// returns the placeholders it uses, in order.
pub fn placeholders(pattern: &str) -> Result<Vec<&str>, PatternError> {
    Ok(parse(pattern)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Placeholder(name) => Some(name),
            Piece::Literal(_) => None,
        })
        .collect())
}

enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

fn parse(pattern: &str) -> Result<Vec<Piece<'_>>, PatternError> {
    let mut pieces = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let open = rest.find('{');
        let close = rest.find('}');
        match (open, close) {
            (None, None) => {
                pieces.push(Piece::Literal(rest));
                break;
            }
            (None, Some(_)) => return Err(PatternError::Stray { pattern: pattern.into() }),
            (Some(o), Some(c)) if c < o => return Err(PatternError::Stray { pattern: pattern.into() }),
            (Some(_), None) => return Err(PatternError::Unclosed { pattern: pattern.into() }),
            (Some(o), Some(_)) => {
                if o > 0 {
                    pieces.push(Piece::Literal(&rest[..o]));
                }
                let after = &rest[o + 1..];
                let end = after.find('}').expect("a closing brace follows");
                let name = &after[..end];
                if name.contains('{') {
                    return Err(PatternError::Unclosed { pattern: pattern.into() });
                }
                if !PLACEHOLDERS.contains(&name) {
                    return Err(PatternError::Unknown { pattern: pattern.into(), name: name.into() });
                }
                pieces.push(Piece::Placeholder(name));
                rest = &after[end + 1..];
            }
        }
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: PatternValues<'static> = PatternValues {
        project: Some("my-project"),
        subsystem: Some("core"),
        environment: Some("test"),
        resource: Some("database"),
        organization: Some("my-org"),
    };

    fn check(pattern: &str, expected: Result<&str, &str>) {
        let got = substitute(pattern, &ALL).map_err(|e| e.to_string());
        match (got, expected) {
            (Ok(g), Ok(e)) => assert_eq!(g, e, "pattern {pattern}"),
            (Err(g), Err(e)) => assert!(g.contains(e), "pattern {pattern}: error {g:?} lacks {e:?}"),
            (g, e) => panic!("pattern {pattern}: got {g:?}, expected {e:?}"),
        }
    }

    #[test]
    fn substitution_table() {
        check("{project}-{subsystem}-{environment}-{resource}", Ok("my-project-core-test-database"));
        check("{project}-terraform-state", Ok("my-project-terraform-state"));
        check("{subsystem}/terraform.tfstate", Ok("core/terraform.tfstate"));
        check("{environment}.tfvars", Ok("test.tfvars"));
        check("{organization}/{project}/{project}", Ok("my-org/my-project/my-project"));
        check("{environment}{environment}", Ok("testtest"));
        check("plain", Ok("plain"));
        check("", Ok(""));
        check("{env}", Err("unknown placeholder {env}"));
        check("{Project}", Err("unknown placeholder {Project}"));
        check("{}", Err("unknown placeholder {}"));
        check("{project", Err("unclosed"));
        check("{pro{ject}", Err("unclosed"));
        check("project}", Err("stray"));
        check("a}{project}", Err("stray"));
    }

    #[test]
    fn missing_value_is_an_error() {
        let values = PatternValues { resource: None, ..ALL };
        let err = substitute("{project}-{resource}", &values).unwrap_err();
        assert!(matches!(err, PatternError::Missing { ref name, .. } if name == "resource"), "{err}");
        assert_eq!(substitute("{project}", &values).unwrap(), "my-project");
    }

    #[test]
    fn lists_placeholders() {
        assert_eq!(placeholders("{project}-x-{resource}").unwrap(), vec!["project", "resource"]);
        assert!(placeholders("{nope}").is_err());
    }
}
