//! Text to syntax tree: pest does the recognising, this file maps pest's pairs onto `ast` nodes
//! and pest's errors onto a located `SyntaxError` phrased in plain words.

use pest::iterators::Pair;
use pest::Parser;

use super::ast::*;
use super::structured::{if_stmt, proc_decl, restrict};
use crate::diagnostic::Diagnostic;

#[derive(pest_derive::Parser)]
#[grammar = "grammar/emc.pest"]
pub(super) struct EmcParser;

/// A model file that does not follow the grammar.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
    pub hint: Option<String>,
}

impl SyntaxError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error(self.message.clone(), self.span)
            .with_label("here")
            .with_hint_opt(self.hint.clone())
    }
}

/// Deepest nesting of brackets a model may use; the recursive descent parser (and the checker
/// after it) use stack in proportion to it.
const MAX_NESTING: usize = 256;

/// Parses a whole model file.
pub fn parse(source: &str) -> Result<File, SyntaxError> {
    check_nesting(source)?;
    let mut pairs = EmcParser::parse(Rule::file, source).map_err(|e| from_pest(e, source))?;
    let file_pair = pairs.next().ok_or_else(|| SyntaxError {
        message: "empty parse".into(),
        span: Span::default(),
        hint: None,
    })?;
    let mut file = File::default();
    for item in file_pair.into_inner() {
        match item.as_rule() {
            Rule::const_decl => file.consts.push(const_decl(item)),
            Rule::domain_decl => file.domains.push(domain_decl(item)),
            Rule::data_decl => file.data.push(data_decl(item)),
            Rule::param_decl => file.params.push(param_decl(item)),
            Rule::table_decl => file.tables.push(table_decl(item)),
            Rule::train_decl => file.trains.push(options(first(item))),
            Rule::model_decl => file.models.push(block(first(item))),
            Rule::proc_decl => file.procs.push(proc_decl(item)),
            _ => {}
        }
    }
    Ok(file)
}

fn check_nesting(source: &str) -> Result<(), SyntaxError> {
    let code = strip_comments(source);
    let mut depth = 0usize;
    for (i, c) in code.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err(SyntaxError {
                message: format!("brackets are nested more than {MAX_NESTING} deep"),
                span: Span::new(i, i + 1),
                hint: Some("split the expression with `let`".into()),
            });
        }
    }
    Ok(())
}

pub(super) fn span(pair: &Pair<Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

pub(super) fn first(pair: Pair<Rule>) -> Pair<Rule> {
    pair.into_inner()
        .next()
        .expect("grammar guarantees a first child")
}

pub(super) fn ident(pair: Pair<Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span(&pair),
    }
}

fn number(pair: Pair<Rule>) -> Number {
    Number {
        text: pair.as_str().to_string(),
        span: span(&pair),
    }
}

fn const_decl(pair: Pair<Rule>) -> ConstDecl {
    let mut it = pair.into_inner();
    let name = ident(it.next().expect("const name"));
    let value = number(it.next().expect("const value"));
    ConstDecl { name, value }
}

fn domain_decl(pair: Pair<Rule>) -> DomainDecl {
    let sp = span(&pair);
    let mut it = pair.into_inner();
    let name = ident(it.next().expect("domain name"));
    let base_pair = it.next().expect("domain base");
    let base = match base_pair.as_rule() {
        Rule::symbol_set => DomainBase::Symbols(base_pair.into_inner().map(ident).collect()),
        Rule::range => DomainBase::Range(range(base_pair)),
        Rule::vocabulary => {
            let vsp = span(&base_pair);
            let mut fields = Vec::new();
            let mut opts = Vec::new();
            for p in base_pair.into_inner() {
                match p.as_rule() {
                    Rule::ident => fields.push(ident(p)),
                    Rule::option => opts.push(option(p)),
                    _ => {}
                }
            }
            DomainBase::Vocabulary {
                fields,
                options: opts,
                span: vsp,
            }
        }
        Rule::substrings => {
            let sp = span(&base_pair);
            let mut it = base_pair.into_inner();
            let _kw = it.next();
            let field = ident(it.next().expect("substrings field"));
            DomainBase::Substrings {
                field,
                options: it.map(option).collect(),
                span: sp,
            }
        }
        _ => DomainBase::Named(ident(base_pair)),
    };
    let extra = it.flat_map(|set| set.into_inner().map(ident)).collect();
    DomainDecl {
        name,
        base,
        extra,
        span: sp,
    }
}

fn range(pair: Pair<Rule>) -> IntRange {
    let sp = span(&pair);
    let mut it = pair.into_inner();
    let lo = int_expr(it.next().expect("range start"));
    let hi = int_expr(it.next().expect("range end"));
    IntRange { lo, hi, span: sp }
}

fn data_decl(pair: Pair<Rule>) -> DataDecl {
    let sp = span(&pair);
    let groups = pair
        .into_inner()
        .map(|group| group.into_inner().map(field).collect())
        .collect();
    DataDecl { groups, span: sp }
}

fn field(pair: Pair<Rule>) -> FieldDecl {
    let mut it = pair.into_inner();
    let name = ident(it.next().expect("field name"));
    let ty_pair = it.next().expect("field type");
    let sequence = ty_pair.as_rule() == Rule::seq_type;
    let elem = if sequence { first(ty_pair) } else { ty_pair };
    let (ty, real) = type_name(elem);
    FieldDecl {
        name,
        sequence,
        ty,
        real,
    }
}

/// A domain name, or `Real` / `Real[D]` (named `Real`, with its dimension).
fn type_name(pair: Pair<Rule>) -> (Ident, Option<RealType>) {
    if pair.as_rule() != Rule::real_type {
        return (ident(pair), None);
    }
    let sp = span(&pair);
    let dim = pair
        .into_inner()
        .find(|p| p.as_rule() == Rule::int_expr)
        .map(int_expr);
    (
        Ident {
            name: "Real".into(),
            span: sp,
        },
        Some(RealType { dim, span: sp }),
    )
}

fn param_decl(pair: Pair<Rule>) -> ParamDecl {
    let sp = span(&pair);
    let mut names = Vec::new();
    let mut opts = None;
    let mut outcome_real = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::ident => names.push(ident(p)),
            Rule::real_type => {
                let (name, real) = type_name(p);
                names.push(name);
                outcome_real = real;
            }
            Rule::options => opts = Some(options(p)),
            _ => {}
        }
    }
    let mut names = names.into_iter();
    let name = names.next().expect("param name");
    let kind = names.next().expect("family kind");
    let outcome = names.next().expect("outcome domain");
    ParamDecl {
        name,
        kind,
        outcome,
        outcome_real,
        conditions: names.collect(),
        options: opts,
        span: sp,
    }
}

fn table_decl(pair: Pair<Rule>) -> TableDecl {
    let sp = span(&pair);
    let mut idents = Vec::new();
    let mut rows = Vec::new();
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::ident => idents.push(ident(p)),
            Rule::table_row => rows.push(table_row(p)),
            _ => {}
        }
    }
    let name = idents.remove(0);
    let result = idents.pop().expect("table result domain");
    TableDecl {
        name,
        args: idents,
        result,
        rows,
        span: sp,
    }
}

fn table_row(pair: Pair<Rule>) -> TableRow {
    let sp = span(&pair);
    let mut symbols: Vec<Ident> = pair.into_inner().map(ident).collect();
    let output = symbols.pop().expect("table row output");
    TableRow {
        inputs: symbols,
        output,
        span: sp,
    }
}

fn options(pair: Pair<Rule>) -> Options {
    let sp = span(&pair);
    Options {
        items: pair.into_inner().map(option).collect(),
        span: sp,
    }
}

fn option(pair: Pair<Rule>) -> OptionItem {
    let sp = span(&pair);
    let mut it = pair.into_inner();
    let key = ident(it.next().expect("option key"));
    OptionItem {
        key,
        value: it.next().map(value),
        span: sp,
    }
}

fn value(pair: Pair<Rule>) -> Value {
    match pair.as_rule() {
        Rule::number => Value::Number(number(pair)),
        Rule::string => {
            let sp = span(&pair);
            let s = pair.as_str();
            Value::Str {
                text: s[1..s.len() - 1].to_string(),
                span: sp,
            }
        }
        Rule::array => {
            let sp = span(&pair);
            Value::Array {
                items: pair.into_inner().map(value).collect(),
                span: sp,
            }
        }
        Rule::value_call => {
            let sp = span(&pair);
            let mut it = pair.into_inner();
            let name = ident(it.next().expect("call name"));
            Value::Call {
                name,
                args: it.map(value).collect(),
                span: sp,
            }
        }
        _ => Value::Word(ident(pair)),
    }
}

pub(super) fn block(pair: Pair<Rule>) -> Block {
    let sp = span(&pair);
    Block {
        stmts: pair.into_inner().map(stmt).collect(),
        span: sp,
    }
}

pub(super) fn stmt(pair: Pair<Rule>) -> Stmt {
    if pair.as_rule() == Rule::if_stmt {
        return if_stmt(pair);
    }
    let sp = span(&pair);
    let rule = pair.as_rule();
    let mut it = pair.into_inner();
    match rule {
        Rule::hidden_stmt => {
            let _kw = it.next();
            let name = ident(it.next().expect("hidden name"));
            let ty = it.next().expect("hidden type");
            let (domain, length) = if ty.as_rule() == Rule::hidden_array {
                let mut inner = ty.into_inner();
                let d = domain_ref(inner.next().expect("element domain"));
                let n = int_expr(inner.next().expect("array length"));
                (d, Some(n))
            } else {
                (domain_ref(ty), None)
            };
            Stmt::Hidden {
                name,
                domain,
                length,
                span: sp,
            }
        }
        Rule::let_stmt => {
            let _kw = it.next();
            let name = ident(it.next().expect("let name"));
            let value = expr(it.next().expect("let value"));
            Stmt::Let {
                name,
                value,
                span: sp,
            }
        }
        Rule::for_stmt => {
            let _kw = it.next();
            let var = ident(it.next().expect("loop variable"));
            let _in = it.next();
            let lo = int_expr(it.next().expect("loop start"));
            let hi = int_expr(it.next().expect("loop end"));
            let body_pair = it.next().expect("loop body");
            let body = if body_pair.as_rule() == Rule::block {
                block(body_pair).stmts
            } else {
                vec![stmt(body_pair)]
            };
            Stmt::For {
                var,
                lo,
                hi,
                body,
                span: sp,
            }
        }
        Rule::draw_stmt | Rule::assign_stmt => {
            let target = expr(it.next().expect("draw target"));
            let call = call(it.next().expect("draw call"));
            if rule == Rule::draw_stmt {
                Stmt::Draw {
                    target,
                    call,
                    restrict: restrict(it),
                    span: sp,
                }
            } else {
                Stmt::Assign {
                    target,
                    call,
                    span: sp,
                }
            }
        }
        Rule::if_stmt => unreachable!("handled above"),
        Rule::some_stmt => {
            let _kw = it.next();
            let _some = it.next();
            let var = ident(it.next().expect("split variable"));
            let _in = it.next();
            let lo = int_expr(it.next().expect("split start"));
            let hi = int_expr(it.next().expect("split end"));
            let body = block(it.next().expect("split body")).stmts;
            Stmt::Some {
                var,
                lo,
                hi,
                body,
                span: sp,
            }
        }
        Rule::output_stmt => {
            let _kw = it.next();
            super::structured::output(it.next().expect("output form"), sp)
        }
        Rule::call_stmt => {
            let name = ident(it.next().expect("callee"));
            Stmt::Call(Call {
                name,
                args: Some(it.map(expr).collect()),
                span: sp,
            })
        }
        other => unreachable!("not a statement rule: {other:?}"),
    }
}

fn domain_ref(pair: Pair<Rule>) -> DomainRef {
    let inner = first(pair);
    match inner.as_rule() {
        Rule::range => DomainRef::Range(range(inner)),
        _ => DomainRef::Named(ident(inner)),
    }
}

fn call(pair: Pair<Rule>) -> Call {
    let sp = span(&pair);
    let text = pair.as_str();
    let mut it = pair.into_inner();
    let name = ident(it.next().expect("callee"));
    let args: Vec<Expr> = it.map(expr).collect();
    let has_parens = text[name.span.end - sp.start..]
        .trim_start()
        .starts_with('(');
    Call {
        name,
        args: if has_parens { Some(args) } else { None },
        span: sp,
    }
}

pub(super) fn int_expr(pair: Pair<Rule>) -> Expr {
    sum(first(pair))
}

/// `expr = sum (++ sum)*`
pub(super) fn expr(pair: Pair<Rule>) -> Expr {
    fold_binary(pair, sum)
}

fn sum(pair: Pair<Rule>) -> Expr {
    fold_binary(pair, product)
}

fn product(pair: Pair<Rule>) -> Expr {
    fold_binary(pair, postfix)
}

/// Left-folds `operand (op operand)*` into nested binary nodes.
fn fold_binary(pair: Pair<Rule>, operand: fn(Pair<Rule>) -> Expr) -> Expr {
    let mut it = pair.into_inner();
    let mut acc = operand(it.next().expect("first operand"));
    while let Some(op) = it.next() {
        let rhs = operand(it.next().expect("operand after operator"));
        let op = match op.as_rule() {
            Rule::concat_op => BinOp::Concat,
            Rule::add_op if op.as_str() == "-" => BinOp::Sub,
            Rule::add_op => BinOp::Add,
            _ => BinOp::Mul,
        };
        let sp = Span::new(acc.span.start, rhs.span.end);
        acc = Expr {
            kind: ExprKind::Binary(op, Box::new(acc), Box::new(rhs)),
            span: sp,
        };
    }
    acc
}

fn postfix(pair: Pair<Rule>) -> Expr {
    let mut it = pair.into_inner();
    let mut acc = primary(it.next().expect("primary"));
    for idx in it {
        let sp = Span::new(acc.span.start, span(&idx).end);
        let mut parts = idx.into_inner();
        let i = expr(parts.next().expect("index"));
        let kind = match parts.next() {
            Some(hi) => ExprKind::Slice(Box::new(acc), Box::new(i), Box::new(expr(hi))),
            None => ExprKind::Index(Box::new(acc), Box::new(i)),
        };
        acc = Expr { kind, span: sp };
    }
    acc
}

fn primary(pair: Pair<Rule>) -> Expr {
    let sp = span(&pair);
    let kind = match pair.as_rule() {
        Rule::number => match pair.as_str().parse::<i64>() {
            Ok(v) => ExprKind::Int(v),
            // Not an integer (or too large for one): the checker reports it as a number.
            Err(_) => ExprKind::BadNumber(pair.as_str().to_string()),
        },
        Rule::len_call => {
            let mut it = pair.into_inner();
            let _kw = it.next();
            ExprKind::Len(Box::new(expr(it.next().expect("len argument"))))
        }
        Rule::list => ExprKind::List(pair.into_inner().map(expr).collect()),
        Rule::minmax => {
            let mut it = pair.into_inner();
            let min = it.next().expect("min or max").as_str() == "min";
            let a = expr(it.next().expect("first operand"));
            let b = expr(it.next().expect("second operand"));
            ExprKind::MinMax(min, Box::new(a), Box::new(b))
        }
        Rule::expr => return expr(pair),
        _ => ExprKind::Name(pair.as_str().to_string()),
    };
    Expr { kind, span: sp }
}

/// Turns pest's error into our own, naming the expected tokens in words a user knows.
fn from_pest(e: pest::error::Error<Rule>, source: &str) -> SyntaxError {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let end = next_token_end(source, pos);
    let found = if pos >= source.len() {
        "the end of the file".to_string()
    } else {
        format!("`{}`", &source[pos..end])
    };
    let (message, hint) = match e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<&str> = positives.iter().map(|r| rule_name(*r)).collect();
            words.sort();
            words.dedup();
            let expected = join_or(&words);
            (
                format!("expected {expected}, found {found}"),
                hint_for(&positives, source, pos),
            )
        }
        pest::error::ErrorVariant::CustomError { message } => (message, None),
    };
    if let Some(better) = special_case(source, pos) {
        return better;
    }
    if let Some(better) = super::unsupported::explain(source, pos) {
        return better;
    }
    SyntaxError {
        message,
        span: Span::new(pos, end.max(pos)),
        hint,
    }
}

/// Errors whose real cause is elsewhere than where the parser stopped: an unclosed `{` seen
/// at the end of the file, an unterminated string, a name with non-ASCII letters.
fn special_case(source: &str, pos: usize) -> Option<SyntaxError> {
    let code = strip_comments(source);
    if let Some(open) = unclosed_brace(&code) {
        if pos >= source.trim_end().len() {
            return Some(SyntaxError {
                message: "the file ends inside a block: this `{` is never closed".into(),
                span: Span::new(open, open + 1),
                hint: Some("add the matching `}`".into()),
            });
        }
    }
    let line_start = source[..pos.min(source.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line_end = source[line_start..]
        .find('\n')
        .map_or(source.len(), |i| line_start + i);
    let line = &code[line_start..line_end];
    if line.matches('"').count() % 2 == 1 {
        let at = line_start + line.rfind('"').unwrap_or(0);
        return Some(SyntaxError {
            message: "this string is never closed".into(),
            span: Span::new(at, line_end),
            hint: Some("close it with `\"` on the same line".into()),
        });
    }
    if let Some((i, c)) = line.char_indices().find(|(_, c)| !c.is_ascii()) {
        let at = line_start + i;
        return Some(SyntaxError {
            message: format!("`{c}` cannot appear in a name or a symbol"),
            span: Span::new(at, at + c.len_utf8()),
            hint: Some("names and symbols are ASCII letters, digits and `_`".into()),
        });
    }
    None
}

/// The source with comments blanked out byte for byte, so offsets still hold.
pub(super) fn strip_comments(source: &str) -> String {
    source
        .split_inclusive('\n')
        .map(|line| match line.find('#') {
            Some(i) => {
                let newline = if line.ends_with('\n') { "\n" } else { "" };
                let pad = " ".repeat(line.len() - i - newline.len());
                format!("{}{pad}{newline}", &line[..i])
            }
            None => line.to_string(),
        })
        .collect()
}

/// The offset of the last `{` that has no matching `}`.
fn unclosed_brace(code: &str) -> Option<usize> {
    let mut open = Vec::new();
    for (i, c) in code.char_indices() {
        match c {
            '{' => open.push(i),
            '}' => {
                open.pop();
            }
            _ => {}
        }
    }
    open.pop()
}

fn next_token_end(source: &str, pos: usize) -> usize {
    if pos >= source.len() {
        return source.len();
    }
    let rest = &source[pos..];
    let mut len = 0;
    for (i, c) in rest.char_indices() {
        if c.is_whitespace() {
            break;
        }
        len = i + c.len_utf8();
        if !(c.is_alphanumeric() || c == '_') {
            break;
        }
    }
    pos + len.max(rest.chars().next().map_or(0, char::len_utf8))
}

fn join_or(words: &[&str]) -> String {
    match words {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn hint_for(positives: &[Rule], source: &str, pos: usize) -> Option<String> {
    let rest = source.get(pos..).unwrap_or("");
    let before = source.get(..pos).unwrap_or("").trim_end();
    if positives.contains(&Rule::call) || before.ends_with('~') || before.ends_with('=') {
        return Some(
            "a draw reads `target ~ family(conditions)`, e.g. `z[i] ~ trans(z[i-1])`".into(),
        );
    }
    if rest.starts_with('{') || rest.starts_with('}') {
        return Some("check that every `{` has a matching `}`".into());
    }
    if positives.iter().any(|r| {
        matches!(
            r,
            Rule::const_decl
                | Rule::domain_decl
                | Rule::data_decl
                | Rule::param_decl
                | Rule::table_decl
                | Rule::train_decl
                | Rule::model_decl
                | Rule::proc_decl
        )
    }) {
        return Some(
            "a model file is a list of `const`, `domain`, `data`, `param`, `table`, `train`, `proc` and `model` declarations".into(),
        );
    }
    None
}

/// The words a user sees for each grammar rule.
fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "the end of the file",
        Rule::const_decl => "`const`",
        Rule::domain_decl => "`domain`",
        Rule::data_decl => "`data`",
        Rule::param_decl => "`param`",
        Rule::table_decl => "`table`",
        Rule::train_decl => "`train`",
        Rule::model_decl => "`model`",
        Rule::symbol_set => "a symbol set like `{A, B}`",
        Rule::vocabulary | Rule::kw_vocabulary => "`vocabulary(field)`",
        Rule::range => "a range like `0..K`",
        Rule::field_group | Rule::field => "a data field like `words : [Word]`",
        Rule::seq_type => "a sequence type like `[Word]`",
        Rule::real_type | Rule::kw_real => "a real type like `Real[2]`",
        Rule::table_row => "a table row like `A O -> A`",
        Rule::options => "an option block `{ ... }`",
        Rule::option => "an option like `key: value`",
        Rule::array => "an array like `[0.5, 0.5]`",
        Rule::value_call => "a template like `suffix(3)`",
        Rule::block => "a block `{ ... }`",
        Rule::hidden_stmt | Rule::kw_hidden => "`hidden`",
        Rule::hidden_array => "an array type like `[State; len(w)]`",
        Rule::domain_ref => "a domain",
        Rule::let_stmt | Rule::kw_let => "`let`",
        Rule::for_stmt | Rule::kw_for => "`for`",
        Rule::kw_in => "`in`",
        Rule::draw_stmt | Rule::assign_stmt => "a statement",
        Rule::call => "a distribution like `trans(z[i-1])`",
        Rule::expr | Rule::int_expr | Rule::sum | Rule::product | Rule::postfix => "an expression",
        Rule::index => "an index `[...]`",
        Rule::len_call | Rule::kw_len => "`len(...)`",
        Rule::list => "a list `[...]`",
        Rule::concat_op => "`++`",
        Rule::add_op => "`+` or `-`",
        Rule::mul_op => "`*`",
        Rule::keyword => "a keyword",
        Rule::ident => "a name",
        Rule::symbol => "a symbol",
        Rule::number => "a number",
        Rule::string => "a string",
        Rule::file | Rule::item | Rule::stmt | Rule::primary | Rule::value => "a declaration",
        Rule::domain_base | Rule::field_type | Rule::hidden_type => "a type",
        Rule::ident_char | Rule::WHITESPACE | Rule::COMMENT => "text",
        Rule::proc_decl | Rule::kw_proc => "`proc`",
        Rule::proc_param => "a parameter like `i` or `x : Domain`",
        Rule::if_stmt | Rule::kw_if => "`if`",
        Rule::kw_else => "`else`",
        Rule::some_stmt | Rule::kw_some => "`for some`",
        Rule::draw_from | Rule::kw_from => "`from` and a base position",
        Rule::draw_within | Rule::kw_within => "`within lo .. hi`",
        Rule::call_stmt => "a procedure call",
        Rule::output_stmt | Rule::kw_output => "`output`",
        Rule::output_at => "an output like `head[m] = h + 1`",
        Rule::output_bracket => "an output like `(x words[i..k])`",
        Rule::cond | Rule::conj | Rule::neg | Rule::compare => "a condition like `i < len(w)`",
        Rule::cmp_op => "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::substrings | Rule::kw_substrings => "`substrings(field, max_len = N)`",
        Rule::minmax | Rule::kw_minmax => "`min(a, b)` or `max(a, b)`",
    }
}
