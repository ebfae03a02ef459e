//! `terraform fmt`'s alignment of `=` in runs of attribute lines, applied to
//! the `hcl-rs` output (which indents like `terraform fmt` but does not
//! align). Mirrors hclwrite's rule: a run is a sequence of consecutive lines
//! that each hold a one-line assignment; a blank line, a bracket line, or an
//! assignment that opens a multi-line value ends it; the `=` of each line in a
//! run goes one column after the longest left-hand side.

/// Aligns `=` signs the way `terraform fmt` does.
pub fn align(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let cells: Vec<Option<usize>> = lines.iter().map(|l| assign_at(l)).collect();
    let mut out = String::with_capacity(text.len() + 256);
    let mut i = 0;
    while i < lines.len() {
        if cells[i].is_none() {
            out.push_str(&close_empty_block(lines[i]));
            out.push('\n');
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && cells[i].is_some() {
            i += 1;
        }
        let width = (start..i).map(|k| lines[k][..cells[k].unwrap()].trim_end().chars().count()).max().unwrap_or(0);
        for k in start..i {
            let at = cells[k].unwrap();
            let lead = lines[k][..at].trim_end();
            let rest = lines[k][at + 1..].trim_start();
            let pad = width - lead.chars().count() + 1;
            out.push_str(lead);
            out.push_str(&" ".repeat(pad));
            out.push('=');
            if !rest.is_empty() {
                out.push(' ');
                out.push_str(rest);
            }
            out.push('\n');
        }
    }
    out
}

/// hcl-rs writes an empty block as `{` and spaces and `}`; terraform fmt writes `{}`.
fn close_empty_block(line: &str) -> std::borrow::Cow<'_, str> {
    if let Some(open) = line.strip_suffix('}').map(str::trim_end)
        && open.ends_with('{')
        && open.len() + 1 < line.len()
    {
        return format!("{open}}}").into();
    }
    line.into()
}

/// The byte index of the line's assignment `=`, when its value ends on the line.
fn assign_at(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut escaped = false;
    let mut eq = None;
    let mut depth: i32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'#' => break,
            b'/' if bytes.get(i + 1) == Some(&b'/') => break,
            b'(' | b'[' | b'{' if eq.is_some() => depth += 1,
            b')' | b']' | b'}' if eq.is_some() => depth -= 1,
            b'(' | b'[' | b'{' | b')' | b']' | b'}' => {
                // A bracket before any `=`: not an attribute line.
                return None;
            }
            b'=' if eq.is_none() => {
                let prev = if i > 0 { bytes[i - 1] } else { b' ' };
                let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                if matches!(prev, b'=' | b'!' | b'<' | b'>') || matches!(next, b'=' | b'>') {
                    return None;
                }
                if line[..i].trim().is_empty() {
                    return None;
                }
                eq = Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    eq.filter(|_| depth == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_runs_like_terraform_fmt() {
        let input = "resource \"x\" \"y\" {\n  bucket = \"b\"\n  force_destroy = false\n  tags = {\n    A = 1\n    Longer = \"x = y\"\n  }\n\n  a = 1\n  list = [1, 2]\n}\n";
        let want = "resource \"x\" \"y\" {\n  bucket        = \"b\"\n  force_destroy = false\n  tags = {\n    A      = 1\n    Longer = \"x = y\"\n  }\n\n  a    = 1\n  list = [1, 2]\n}\n";
        assert_eq!(align(input), want);
        assert_eq!(align(want), want, "idempotent");
        assert_eq!(align("  backend \"s3\" {  }\n"), "  backend \"s3\" {}\n");
        assert_eq!(align("    filter {    }\n"), "    filter {}\n");
        assert_eq!(align("  x {}\n"), "  x {}\n");
    }

    #[test]
    fn operators_are_not_assignments() {
        assert_eq!(assign_at("  x = a == b"), Some(4));
        assert_eq!(assign_at("  a == b"), None);
        assert_eq!(assign_at("  k => v"), None);
        assert_eq!(assign_at("  tags = {"), None);
        assert_eq!(assign_at("  \"aws:SecureTransport\" = \"false\""), Some(24));
        assert_eq!(assign_at("}"), None);
    }
}
