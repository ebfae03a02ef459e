//! HCL → [`Module`]: parses each file with `hcl-edit` (which keeps spans for
//! line numbers) and evaluates what can be known statically.

use std::collections::BTreeMap;

use hcl_edit::Span;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::template::{Element, Template};

use super::{Ignore, Module, Provider, Resource, TfError, Val, Variable};

/// Values in scope while evaluating.
struct Scope<'a> {
    vars: &'a BTreeMap<String, Val>,
    locals: &'a BTreeMap<String, Val>,
    text: &'a str,
    /// The variables of the `for` expressions being evaluated (`x` in `[for x in … : …]`).
    bound: &'a BTreeMap<String, Val>,
    lines: &'a LineIndex,
}

struct Parsed {
    name: String,
    text: String,
    lines: LineIndex,
    body: Body,
}

/// Where each line of a file starts: a byte offset becomes a line number by binary search, so a
/// file with many blocks is read in linear time (counting newlines from the top for each block made
/// 400 buckets in one file take 15 s in a debug build, 2,000 several minutes).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex { starts: std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect() }
    }

    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> u32 {
        self.starts.partition_point(|&s| s <= offset) as u32
    }
}

/// Marks an object key that repeats an earlier key of the same object literal (see [`parse`]).
const DUPLICATE_KEY: &str = "faber_dup__";

/// Parses one file. Terraform accepts an object literal that repeats a key (the last value wins);
/// the parser refuses it. Each repeated key is renamed with [`DUPLICATE_KEY`] in front and parsed
/// again, and [`eval`] gives the value to the key without the mark, after the earlier ones. The
/// returned text is the one parsed (marks only lengthen lines, so line numbers are unchanged).
fn parse(name: &str, text: &str) -> Result<(Body, String), TfError> {
    let mut current = text.to_string();
    let error = loop {
        match hcl_edit::parser::parse_body(&current) {
            Ok(body) => return Ok((body, current)),
            Err(e) if e.message().contains("redefined object key") && current.len() < text.len() + 1000 * DUPLICATE_KEY.len() => {
                let Some(at) = offset_of(&current, e.location().line(), e.location().column()) else { break e };
                let at = if current[at..].starts_with('"') { at + 1 } else { at };
                current.insert_str(at, DUPLICATE_KEY);
            }
            Err(e) => break e,
        }
    };
    // The parser notices a string left open only where it gives up, lines later; Terraform (and a
    // person) want the line where the string starts.
    let (line, column, message) = match unterminated_string(text) {
        Some((line, column)) if line <= error.location().line() => {
            (line, column, "unterminated string: a quoted string must end on the line it starts".to_string())
        }
        _ => (error.location().line(), error.location().column(), error.message().to_string()),
    };
    Err(TfError::Syntax { file: name.to_string(), line, column, message })
}

/// The byte offset of a 1-based line and (character) column.
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let start = if line <= 1 { 0 } else { text.match_indices('\n').nth(line - 2)?.0 + 1 };
    let rest = &text[start..];
    rest.char_indices().nth(column.saturating_sub(1)).map(|(i, _)| start + i).or((column == rest.chars().count() + 1).then_some(text.len()))
}

#[cfg(test)]
pub(super) fn unterminated_string_for_tests(text: &str) -> Option<(usize, usize)> {
    unterminated_string(text)
}

/// The 1-based line and column of the first quoted string that is still open at the end of its line
/// (HCL strings cannot span lines), skipping comments and heredocs; interpolations (`${ … }`, `%{ … }`)
/// may hold strings of their own.
fn unterminated_string(text: &str) -> Option<(usize, usize)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Ctx {
        Str,
        Interp(u32),
    }
    let mut heredoc: Option<String> = None;
    let mut block_comment = false;
    for (n, line) in text.lines().enumerate() {
        if let Some(marker) = &heredoc {
            if line.trim() == marker {
                heredoc = None;
            }
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let at = |j: usize| chars.get(j).copied().unwrap_or('\0');
        let mut stack: Vec<Ctx> = Vec::new();
        let mut opened = 0;
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            if block_comment {
                if c == '*' && at(j + 1) == '/' {
                    block_comment = false;
                    j += 1;
                }
                j += 1;
                continue;
            }
            match stack.last().copied() {
                Some(Ctx::Str) => match c {
                    '\\' => j += 1,
                    '"' => {
                        stack.pop();
                    }
                    '$' if at(j + 1) == '$' && at(j + 2) == '{' => j += 2,
                    '%' if at(j + 1) == '%' && at(j + 2) == '{' => j += 2,
                    '$' | '%' if at(j + 1) == '{' => {
                        stack.push(Ctx::Interp(0));
                        j += 1;
                    }
                    _ => {}
                },
                code => match c {
                    '"' => {
                        if stack.is_empty() {
                            opened = j;
                        }
                        stack.push(Ctx::Str);
                    }
                    '#' => break,
                    '/' if at(j + 1) == '/' => break,
                    '/' if at(j + 1) == '*' => {
                        block_comment = true;
                        j += 1;
                    }
                    '<' if code.is_none() && at(j + 1) == '<' => {
                        let rest: String = chars[j + 2..].iter().collect();
                        let marker: String = rest.trim_start_matches('-').chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                        if !marker.is_empty() {
                            heredoc = Some(marker);
                            break;
                        }
                    }
                    '{' => {
                        if let Some(Ctx::Interp(d)) = stack.last_mut() {
                            *d += 1;
                        }
                    }
                    '}' => match stack.last_mut() {
                        Some(Ctx::Interp(0)) => {
                            stack.pop();
                        }
                        Some(Ctx::Interp(d)) => *d -= 1,
                        _ => {}
                    },
                    _ => {}
                },
            }
            j += 1;
        }
        if stack.contains(&Ctx::Str) {
            return Some((n + 1, opened + 1));
        }
    }
    None
}

/// `name = value` lines of a `.tfvars` file.
pub(super) fn parse_tfvars(name: &str, text: &str) -> Result<BTreeMap<String, Val>, TfError> {
    let (body, text) = parse(name, text)?;
    let text = text.as_str();
    let empty = BTreeMap::new();
    let lines = LineIndex::new(text);
    let scope = Scope { vars: &empty, locals: &empty, text, bound: &empty, lines: &lines };
    Ok(body.attributes().map(|a| (a.key.as_str().to_string(), eval(&a.value, &scope))).collect())
}

pub(super) fn load_sources(sources: &[(String, String)], tfvars: &BTreeMap<String, Val>) -> Result<Module, TfError> {
    let parsed: Vec<Parsed> = super::par_map(sources, 64, |(name, text)| {
        let (body, text) = parse(name, text)?;
        Ok(Parsed { name: name.clone(), body, lines: LineIndex::new(&text), text })
    })
    .into_iter()
    .collect::<Result<_, TfError>>()?;
    let mut module = Module { files: sources.iter().map(|(n, _)| n.clone()).collect(), ..Module::default() };

    // Variables: tfvars win over defaults.
    let empty = BTreeMap::new();
    for p in &parsed {
        let scope = Scope { vars: &empty, locals: &empty, text: &p.text, bound: &empty, lines: &p.lines };
        for block in p.body.get_blocks("variable") {
            let Some(name) = block.labels.first().map(|l| l.as_str().to_string()) else { continue };
            let default = block.body.get_attribute("default").map(|a| eval(&a.value, &scope));
            module.variables.insert(name, Variable { default, file: p.name.clone(), line: line_of(&p.lines, block.span()) });
        }
    }
    let mut vars: BTreeMap<String, Val> = module.variables.iter().filter_map(|(k, v)| v.default.clone().map(|d| (k.clone(), d))).collect();
    vars.extend(tfvars.iter().map(|(k, v)| (k.clone(), v.clone())));

    // Locals may refer to each other: evaluate until nothing changes.
    let local_exprs: Vec<(&Parsed, String, &Expression)> = parsed
        .iter()
        .flat_map(|p| p.body.get_blocks("locals").flat_map(move |b| b.body.attributes().map(move |a| (p, a.key.as_str().to_string(), &a.value))))
        .collect();
    let mut locals: BTreeMap<String, Val> = BTreeMap::new();
    for _ in 0..8 {
        let mut next = BTreeMap::new();
        for (p, name, expr) in &local_exprs {
            let scope = Scope { vars: &vars, locals: &locals, text: &p.text, bound: &empty, lines: &p.lines };
            next.insert(name.clone(), eval(expr, &scope));
        }
        let done = next == locals;
        locals = next;
        if done {
            break;
        }
    }

    // Resources and providers, file by file (in parallel on large trees), kept in file order.
    let per_file = super::par_map(&parsed, 64, |p| {
        let scope = Scope { vars: &vars, locals: &locals, text: &p.text, bound: &empty, lines: &p.lines };
        let mut resources = Vec::new();
        let mut providers = Vec::new();
        for structure in p.body.iter() {
            let Structure::Block(block) = structure else { continue };
            let kind = block.ident.as_str();
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            let line = line_of(&p.lines, block.span());
            match (kind, labels.as_slice()) {
                ("resource" | "data", [rtype, rname]) => {
                    let data = kind == "data";
                    let (attrs, attr_lines) = eval_body(&block.body, &scope);
                    // `count = 0` or an empty `for_each` (known now): the resource does not exist.
                    let absent = matches!(attrs.get("count"), Some(Val::Num(n)) if *n == 0.0)
                        || matches!(attrs.get("count"), Some(Val::Bool(false)))
                        || matches!(attrs.get("for_each"), Some(Val::List(v)) if v.is_empty())
                        || matches!(attrs.get("for_each"), Some(Val::Map(m)) if m.is_empty());
                    if absent {
                        continue;
                    }
                    let address = if data { format!("data.{rtype}.{rname}") } else { format!("{rtype}.{rname}") };
                    resources.push(Resource {
                        kind: rtype.to_string(),
                        name: rname.to_string(),
                        address,
                        data,
                        file: p.name.clone(),
                        line,
                        attrs,
                        attr_lines,
                        ignores: ignores(&p.text, &p.lines, block.span()),
                    });
                }
                ("provider", [name]) => {
                    let (attrs, _) = eval_body(&block.body, &scope);
                    providers.push(Provider { name: name.to_string(), attrs, file: p.name.clone(), line });
                }
                _ => {}
            }
        }
        (resources, providers)
    });
    for (resources, providers) in per_file {
        module.resources.extend(resources);
        module.providers.extend(providers);
    }
    module.locals = locals;
    // The syntax trees of a large tree take a while to free: let another thread do it.
    if parsed.len() > 256 {
        std::thread::spawn(move || drop(parsed));
    }
    Ok(module)
}

/// A block body: attributes by name; nested blocks as lists of maps.
fn eval_body(body: &Body, scope: &Scope<'_>) -> (BTreeMap<String, Val>, BTreeMap<String, u32>) {
    let mut attrs = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(a) => {
                let key = a.key.as_str().to_string();
                lines.insert(key.clone(), line_of(scope.lines, a.span()));
                attrs.insert(key, eval(&a.value, scope));
            }
            Structure::Block(b) => {
                // `dynamic "x" { content { … } }` stands for blocks named x.
                let (key, inner) = if b.ident.as_str() == "dynamic" {
                    let name = b.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
                    // A dynamic block over a collection known to be empty generates nothing.
                    let for_each = b.body.get_attribute("for_each").map(|a| eval(&a.value, scope));
                    if matches!(&for_each, Some(Val::Null))
                        || matches!(&for_each, Some(Val::List(v)) if v.is_empty())
                        || matches!(&for_each, Some(Val::Map(m)) if m.is_empty())
                    {
                        lines.entry(name).or_insert_with(|| line_of(scope.lines, b.span()));
                        continue;
                    }
                    let content = b.body.get_blocks("content").next().map(|c| eval_body(&c.body, scope).0).unwrap_or_default();
                    (name, content)
                } else {
                    (b.ident.as_str().to_string(), eval_body(&b.body, scope).0)
                };
                lines.entry(key.clone()).or_insert_with(|| line_of(scope.lines, b.span()));
                match attrs.entry(key).or_insert_with(|| Val::List(Vec::new())) {
                    Val::List(items) => items.push(Val::Map(inner)),
                    other => *other = Val::List(vec![Val::Map(inner)]),
                }
            }
        }
    }
    (attrs, lines)
}

fn source(expr: &Expression, scope: &Scope<'_>) -> String {
    expr.span().and_then(|r| scope.text.get(r)).map(|s| s.trim().to_string()).unwrap_or_else(|| "…".to_string())
}

fn eval(expr: &Expression, scope: &Scope<'_>) -> Val {
    let unknown = || Val::Unknown(source(expr, scope));
    match expr {
        Expression::Null(_) => Val::Null,
        Expression::Bool(b) => Val::Bool(*b.value()),
        Expression::Number(n) => n.value().as_f64().map(Val::Num).unwrap_or_else(unknown),
        Expression::String(s) => Val::Str(s.value().to_string()),
        Expression::Array(items) => Val::List(items.iter().map(|e| eval(e, scope)).collect()),
        Expression::Object(object) => {
            let mut map = BTreeMap::new();
            for (key, value) in object.iter() {
                let key = match key {
                    ObjectKey::Ident(i) => i.as_str().to_string(),
                    ObjectKey::Expression(e) => match eval(e, scope) {
                        Val::Str(s) => s,
                        _ => return unknown(),
                    },
                };
                // A repeated key (marked by `parse`) replaces the earlier value, as in Terraform.
                let mut key = key.as_str();
                while let Some(rest) = key.strip_prefix(DUPLICATE_KEY) {
                    key = rest;
                }
                map.insert(key.to_string(), eval(value.expr(), scope));
            }
            Val::Map(map)
        }
        Expression::StringTemplate(t) => template(t, scope).unwrap_or_else(unknown),
        Expression::HeredocTemplate(h) => template(&h.template, scope).unwrap_or_else(unknown),
        Expression::Parenthesis(p) => eval(p.inner(), scope),
        Expression::Variable(v) => scope.bound.get(v.as_str()).cloned().unwrap_or_else(unknown),
        Expression::ForExpr(f) => for_expr(f, scope).unwrap_or_else(unknown),
        Expression::Traversal(t) => traversal(&t.expr, &t.operators, scope).unwrap_or_else(unknown),
        Expression::Conditional(c) => match eval(&c.cond_expr, scope).as_bool() {
            Some(true) => eval(&c.true_expr, scope),
            Some(false) => eval(&c.false_expr, scope),
            None => unknown(),
        },
        Expression::FuncCall(f) => call(f.name.name.as_str(), &f.args.iter().map(|a| eval(a, scope)).collect::<Vec<_>>()).unwrap_or_else(unknown),
        Expression::UnaryOp(op) => match (op.operator.value(), eval(&op.expr, scope)) {
            (UnaryOperator::Not, Val::Bool(b)) => Val::Bool(!b),
            (UnaryOperator::Neg, Val::Num(n)) => Val::Num(-n),
            _ => unknown(),
        },
        Expression::BinaryOp(op) => binary(*op.operator.value(), eval(&op.lhs_expr, scope), eval(&op.rhs_expr, scope)).unwrap_or_else(unknown),
    }
}

fn template(t: &Template, scope: &Scope<'_>) -> Option<Val> {
    let mut out = String::new();
    for element in t.iter() {
        match element {
            Element::Literal(s) => out.push_str(s.value()),
            Element::Interpolation(i) => match eval(&i.expr, scope) {
                Val::Str(s) => out.push_str(&s),
                Val::Num(n) => out.push_str(&format_num(n)),
                Val::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                _ => return None,
            },
            Element::Directive(_) => return None,
        }
    }
    Some(Val::Str(out))
}

fn format_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

/// `var.x`, `local.x.y`, `aws_s3_bucket.b.id` (→ a reference), `data.x.y.z`.
fn traversal(root: &Expression, ops: &[hcl_edit::Decorated<TraversalOperator>], scope: &Scope<'_>) -> Option<Val> {
    let Expression::Variable(root) = root else { return None };
    let attrs: Vec<Option<&str>> = ops
        .iter()
        .map(|op| match op.value() {
            TraversalOperator::GetAttr(ident) => Some(ident.as_str()),
            _ => None,
        })
        .collect();
    let root = root.as_str();
    if let Some(value) = scope.bound.get(root) {
        return walk(value.clone(), ops, scope);
    }
    match root {
        "var" | "local" => {
            let name = (*attrs.first()?)?;
            let value = if root == "var" { scope.vars.get(name)? } else { scope.locals.get(name)? }.clone();
            walk(value, &ops[1..], scope)
        }
        "data" => Some(Val::Ref(format!("data.{}.{}", (*attrs.first()?)?, (*attrs.get(1)?)?))),
        "each" | "count" | "path" | "terraform" | "self" | "module" => None,
        resource_type if resource_type.contains('_') => Some(Val::Ref(format!("{resource_type}.{}", (*attrs.first()?)?))),
        _ => None,
    }
}

/// `value` followed through `.key`, `[index]` and `["key"]`.
fn walk(mut value: Val, ops: &[hcl_edit::Decorated<TraversalOperator>], scope: &Scope<'_>) -> Option<Val> {
    for op in ops {
        value = match (op.value(), value) {
            (TraversalOperator::GetAttr(key), Val::Map(mut m)) => m.remove(key.as_str())?,
            (TraversalOperator::Index(index), Val::List(items)) => {
                let i = eval(index, scope).as_num()? as usize;
                items.into_iter().nth(i)?
            }
            (TraversalOperator::Index(index), Val::Map(mut m)) => {
                let key = eval(index, scope);
                m.remove(key.as_str()?)?
            }
            _ => return None,
        };
    }
    Some(value)
}

/// `[for x in COLL : EXPR if COND]` and `{for k, v in COLL : KEY => VALUE if COND}`, when the collection
/// and every condition are known (the values may stay unknown: how many there are is what counts).
fn for_expr(f: &hcl_edit::expr::ForExpr, scope: &Scope<'_>) -> Option<Val> {
    let items: Vec<(Val, Val)> = match eval(&f.intro.collection_expr, scope) {
        Val::List(items) => items.into_iter().enumerate().map(|(i, v)| (Val::Num(i as f64), v)).collect(),
        Val::Map(m) => m.into_iter().map(|(k, v)| (Val::Str(k), v)).collect(),
        _ => return None,
    };
    let mut list = Vec::new();
    let mut map: BTreeMap<String, Val> = BTreeMap::new();
    for (key, value) in items {
        let mut bound = scope.bound.clone();
        if let Some(k) = &f.intro.key_var {
            bound.insert(k.as_str().to_string(), key);
        }
        bound.insert(f.intro.value_var.as_str().to_string(), value);
        let inner = Scope { vars: scope.vars, locals: scope.locals, text: scope.text, bound: &bound, lines: scope.lines };
        if let Some(cond) = &f.cond {
            match eval(&cond.expr, &inner).as_bool() {
                Some(true) => {}
                Some(false) => continue,
                None => return None,
            }
        }
        let value = eval(&f.value_expr, &inner);
        match &f.key_expr {
            None => list.push(value),
            Some(key_expr) => {
                let Val::Str(key) = eval(key_expr, &inner) else { return None };
                if f.grouping {
                    match map.entry(key).or_insert_with(|| Val::List(Vec::new())) {
                        Val::List(group) => group.push(value),
                        _ => return None,
                    }
                } else {
                    map.insert(key, value);
                }
            }
        }
    }
    Some(if f.key_expr.is_some() { Val::Map(map) } else { Val::List(list) })
}

/// The few functions whose result matters to the checks and is easy to know.
fn call(name: &str, args: &[Val]) -> Option<Val> {
    match (name, args) {
        ("jsonencode", [v]) if v.is_known() => Some(Val::Str(v.to_json().to_string())),
        // Partly known (a policy naming another resource's ARN): keep the structure, so
        // checks still read what is known instead of losing the whole document.
        ("jsonencode", [v @ (Val::Map(_) | Val::List(_))]) => Some(v.clone()),
        ("tostring", [Val::Str(s)]) => Some(Val::Str(s.clone())),
        ("tostring", [Val::Num(n)]) => Some(Val::Str(format_num(*n))),
        ("tonumber", [v]) => v.as_num().map(Val::Num),
        ("tobool", [v]) => v.as_bool().map(Val::Bool),
        ("lower", [Val::Str(s)]) => Some(Val::Str(s.to_lowercase())),
        ("upper", [Val::Str(s)]) => Some(Val::Str(s.to_uppercase())),
        ("tolist" | "toset", [Val::List(items)]) => Some(Val::List(items.clone())),
        ("length", [Val::List(items)]) => Some(Val::Num(items.len() as f64)),
        ("length", [Val::Map(m)]) => Some(Val::Num(m.len() as f64)),
        ("length", [Val::Str(s)]) => Some(Val::Num(s.chars().count() as f64)),
        ("tomap", [Val::Map(m)]) => Some(Val::Map(m.clone())),
        ("merge", maps) if !maps.is_empty() => {
            let mut out = BTreeMap::new();
            for m in maps {
                let Val::Map(m) = m else { return None };
                out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            Some(Val::Map(out))
        }
        ("concat", lists) => {
            let mut out = Vec::new();
            for l in lists {
                let Val::List(items) = l else { return None };
                out.extend(items.iter().cloned());
            }
            Some(Val::List(out))
        }
        _ => None,
    }
}

fn binary(op: BinaryOperator, l: Val, r: Val) -> Option<Val> {
    use BinaryOperator as B;
    Some(match (op, &l, &r) {
        (B::Eq, _, _) if l.is_known() && r.is_known() => Val::Bool(l == r),
        (B::NotEq, _, _) if l.is_known() && r.is_known() => Val::Bool(l != r),
        (B::And, Val::Bool(a), Val::Bool(b)) => Val::Bool(*a && *b),
        (B::Or, Val::Bool(a), Val::Bool(b)) => Val::Bool(*a || *b),
        (B::Plus, Val::Num(a), Val::Num(b)) => Val::Num(a + b),
        (B::Minus, Val::Num(a), Val::Num(b)) => Val::Num(a - b),
        (B::Mul, Val::Num(a), Val::Num(b)) => Val::Num(a * b),
        (B::Div, Val::Num(a), Val::Num(b)) if *b != 0.0 => Val::Num(a / b),
        (B::Greater, Val::Num(a), Val::Num(b)) => Val::Bool(a > b),
        (B::GreaterEq, Val::Num(a), Val::Num(b)) => Val::Bool(a >= b),
        (B::Less, Val::Num(a), Val::Num(b)) => Val::Bool(a < b),
        (B::LessEq, Val::Num(a), Val::Num(b)) => Val::Bool(a <= b),
        _ => return None,
    })
}

/// 1-based line of a byte offset.
fn line_of(lines: &LineIndex, span: Option<std::ops::Range<usize>>) -> u32 {
    span.map(|r| lines.line(r.start)).unwrap_or(0)
}

/// `# faber:ignore RULE reason` (also `//`) inside a block or in the comment lines right above it.
fn ignores(text: &str, lines: &LineIndex, span: Option<std::ops::Range<usize>>) -> Vec<Ignore> {
    let Some(span) = span else { return Vec::new() };
    let first = lines.line(span.start);
    let last = lines.line(span.end.saturating_sub(1));
    let mut out = Vec::new();
    // The block's lines and the run of comment lines right above it.
    let mut from = first.max(1);
    while from > 1 {
        let above = text[lines.starts[from as usize - 2]..lines.starts[from as usize - 1]].trim();
        if !(above.starts_with('#') || above.starts_with("//")) {
            break;
        }
        from -= 1;
    }
    let start = lines.starts[from as usize - 1];
    let end = lines.starts.get(last as usize).copied().unwrap_or(text.len());
    for (i, line) in text[start..end].lines().enumerate() {
        let n = from + i as u32;
        let Some(at) = line.find("faber:ignore") else { continue };
        let before = line[..at].trim_end();
        if !(before.ends_with('#') || before.ends_with("//") || before.ends_with("/*")) {
            continue;
        }
        let mut words = line[at + "faber:ignore".len()..].split_whitespace();
        let Some(rule) = words.next() else { continue };
        let reason = words.collect::<Vec<_>>().join(" ").trim_end_matches("*/").trim().to_string();
        out.push(Ignore { rule: rule.to_string(), reason, line: n });
    }
    out
}
