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

/// Deepest nesting of brackets a model may use; the recursive descent parser uses stack in
/// proportion to it.
pub const MAX_NESTING: usize = 256;

/// Deepest syntax tree a model may build: every operator of a chain (`a + b + c` is two
/// levels), every index, list, `not`, `else if`, and statement body counts one level. Every
/// later stage (checking, folding, unrolling, rendering, even dropping the tree) recurses on
/// it, so it is refused while the tree is built, before any of them can go deep.
pub const MAX_DEPTH: usize = 256;

/// Longest model text parsed. The parser's token queue takes about 300 bytes per byte of a
/// dense expression (1 MB of `+1` peaks near 300 MB), so the length is bounded like the
/// depth; a model is declarations and a story, never data.
pub const MAX_MODEL_BYTES: usize = 2 << 20;

type R<T> = Result<T, SyntaxError>;

/// Parses a whole model file.
pub fn parse(source: &str) -> Result<File, SyntaxError> {
    if source.len() > MAX_MODEL_BYTES {
        let mut at = MAX_MODEL_BYTES;
        while !source.is_char_boundary(at) {
            at -= 1;
        }
        return Err(SyntaxError {
            message: format!("the model is longer than {} MiB", MAX_MODEL_BYTES >> 20),
            span: Span::new(at, at + 1),
            hint: Some(
                "a model file holds declarations and the story; lines of data go in the data file"
                    .into(),
            ),
        });
    }
    check_nesting(source)?;
    let mut pairs =
        EmcParser::parse(Rule::file, source).map_err(|e| super::errors::from_pest(e, source))?;
    let file_pair = pairs.next().ok_or_else(|| SyntaxError {
        message: "empty parse".into(),
        span: Span::default(),
        hint: None,
    })?;
    let mut file = File::default();
    for item in file_pair.into_inner() {
        match item.as_rule() {
            Rule::const_decl => file.consts.push(const_decl(item)),
            Rule::domain_decl => file.domains.push(domain_decl(item)?),
            Rule::data_decl => file.data.push(data_decl(item)?),
            Rule::param_decl => file.params.push(param_decl(item)?),
            Rule::table_decl => file.tables.push(table_decl(item)),
            Rule::train_decl => file.trains.push(options(first(item))),
            Rule::model_decl => file.models.push(block(first(item), 0)?),
            Rule::proc_decl => file.procs.push(proc_decl(item)?),
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

/// Checks that a node at depth `depth` with a chain of `chain` nested levels under it stays
/// within `MAX_DEPTH`; `at(k)` locates the `k`-th link of the chain (from 0), so the error
/// points at the first link that does not fit. A node with no chain below it can be too deep
/// by itself (an operand at the depth a statement's expressions start): `at(0)` then locates
/// the node.
pub(super) fn within_depth(
    depth: usize,
    chain: usize,
    what: &str,
    at: impl FnOnce(usize) -> Span,
) -> R<()> {
    if depth + chain <= MAX_DEPTH {
        return Ok(());
    }
    let k = MAX_DEPTH.saturating_sub(depth).min(chain.saturating_sub(1));
    Err(SyntaxError {
        message: format!("{what} nest more than {MAX_DEPTH} levels deep"),
        span: at(k),
        hint: Some(format!(
            "every operator of a chain, index, `not`, `else if` and loop body is one level; split it into shorter parts with `let` (at most {MAX_DEPTH} levels)"
        )),
    })
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

pub(super) fn number(pair: Pair<Rule>) -> Number {
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

fn domain_decl(pair: Pair<Rule>) -> R<DomainDecl> {
    let sp = span(&pair);
    let mut it = pair.into_inner();
    let name = ident(it.next().expect("domain name"));
    let base_pair = it.next().expect("domain base");
    let base = match base_pair.as_rule() {
        Rule::symbol_set => DomainBase::Symbols(base_pair.into_inner().map(ident).collect()),
        Rule::range => DomainBase::Range(range(base_pair, 0)?),
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
    Ok(DomainDecl {
        name,
        base,
        extra,
        span: sp,
    })
}

fn range(pair: Pair<Rule>, d: usize) -> R<IntRange> {
    let sp = span(&pair);
    let mut it = pair.into_inner();
    let lo = int_expr(it.next().expect("range start"), d)?;
    let hi = int_expr(it.next().expect("range end"), d)?;
    Ok(IntRange { lo, hi, span: sp })
}

fn data_decl(pair: Pair<Rule>) -> R<DataDecl> {
    let sp = span(&pair);
    let mut groups = Vec::new();
    for group in pair.into_inner() {
        groups.push(group.into_inner().map(field).collect::<R<_>>()?);
    }
    Ok(DataDecl { groups, span: sp })
}

fn field(pair: Pair<Rule>) -> R<FieldDecl> {
    let mut it = pair.into_inner();
    let name = ident(it.next().expect("field name"));
    let ty_pair = it.next().expect("field type");
    let sequence = ty_pair.as_rule() == Rule::seq_type;
    let elem = if sequence { first(ty_pair) } else { ty_pair };
    let (ty, real) = type_name(elem)?;
    Ok(FieldDecl {
        name,
        sequence,
        ty,
        real,
    })
}

/// A domain name, or `Real` / `Real[D]` (named `Real`, with its dimension).
fn type_name(pair: Pair<Rule>) -> R<(Ident, Option<RealType>)> {
    if pair.as_rule() != Rule::real_type {
        return Ok((ident(pair), None));
    }
    let sp = span(&pair);
    let dim = match pair.into_inner().find(|p| p.as_rule() == Rule::int_expr) {
        Some(p) => Some(int_expr(p, 1)?),
        None => None,
    };
    Ok((
        Ident {
            name: "Real".into(),
            span: sp,
        },
        Some(RealType { dim, span: sp }),
    ))
}

fn param_decl(pair: Pair<Rule>) -> R<ParamDecl> {
    let sp = span(&pair);
    let mut names = Vec::new();
    let mut opts = None;
    let mut outcome_real = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::ident => names.push(ident(p)),
            Rule::real_type => {
                let (name, real) = type_name(p)?;
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
    Ok(ParamDecl {
        name,
        kind,
        outcome,
        outcome_real,
        conditions: names.collect(),
        options: opts,
        span: sp,
    })
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

/// A block whose statements sit at depth `d`.
pub(super) fn block(pair: Pair<Rule>, d: usize) -> R<Block> {
    let sp = span(&pair);
    within_depth(d, 0, "statements", |_| sp)?;
    Ok(Block {
        stmts: pair.into_inner().map(|p| stmt(p, d)).collect::<R<_>>()?,
        span: sp,
    })
}

/// A statement at depth `d` (its parts one level deeper).
pub(super) fn stmt(pair: Pair<Rule>, d: usize) -> R<Stmt> {
    match pair.as_rule() {
        Rule::if_stmt => return if_stmt(pair, d),
        Rule::for_stmt => return for_stmt(pair, d),
        _ => {}
    }
    let sp = span(&pair);
    let rule = pair.as_rule();
    let mut it = pair.into_inner();
    Ok(match rule {
        Rule::hidden_stmt => {
            let _kw = it.next();
            let name = ident(it.next().expect("hidden name"));
            let ty = it.next().expect("hidden type");
            let (domain, length) = if ty.as_rule() == Rule::hidden_array {
                let mut inner = ty.into_inner();
                let dom = domain_ref(inner.next().expect("element domain"), d + 1)?;
                let n = int_expr(inner.next().expect("array length"), d + 1)?;
                (dom, Some(n))
            } else {
                (domain_ref(ty, d + 1)?, None)
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
            let value = expr(it.next().expect("let value"), d + 1)?;
            Stmt::Let {
                name,
                value,
                span: sp,
            }
        }
        Rule::draw_stmt | Rule::assign_stmt => {
            let target = expr(it.next().expect("draw target"), d + 1)?;
            let call = call(it.next().expect("draw call"), d + 1)?;
            if rule == Rule::draw_stmt {
                Stmt::Draw {
                    target,
                    call,
                    restrict: restrict(it, d + 1)?,
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
        Rule::some_stmt => {
            let _kw = it.next();
            let _some = it.next();
            let var = ident(it.next().expect("split variable"));
            let _in = it.next();
            let lo = int_expr(it.next().expect("split start"), d + 1)?;
            let hi = int_expr(it.next().expect("split end"), d + 1)?;
            let body = block(it.next().expect("split body"), d + 1)?.stmts;
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
            super::structured::output(it.next().expect("output form"), sp, d + 1)?
        }
        Rule::weight_stmt => {
            let (_kw, _exp) = (it.next(), it.next());
            super::structured::weight(it, sp, d + 1)?
        }
        Rule::call_stmt => {
            let name = ident(it.next().expect("callee"));
            Stmt::Call(Call {
                name,
                args: Some(it.map(|a| expr(a, d + 1)).collect::<R<_>>()?),
                span: sp,
            })
        }
        other => unreachable!("not a statement rule: {other:?}"),
    })
}

/// `for i in a..b: for j in c..d: body`: the heads are a repetition in the grammar, nested
/// here from the innermost out, so neither the parser nor this builder recurses per head.
fn for_stmt(pair: Pair<Rule>, d: usize) -> R<Stmt> {
    let end = span(&pair).end;
    let mut heads = Vec::new();
    let mut body_pair = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::for_head => heads.push(p),
            _ => body_pair = Some(p),
        }
    }
    let n = heads.len();
    within_depth(d, n, "loops", |k| span(&heads[k]))?;
    let body_pair = body_pair.expect("loop body");
    let inner_depth = d + n;
    let mut body = if body_pair.as_rule() == Rule::block {
        block(body_pair, inner_depth)?.stmts
    } else {
        vec![stmt(body_pair, inner_depth)?]
    };
    for (k, head) in heads.into_iter().enumerate().rev() {
        let start = span(&head).start;
        let mut it = head.into_inner();
        let _kw = it.next();
        let var = ident(it.next().expect("loop variable"));
        let _in = it.next();
        let lo = int_expr(it.next().expect("loop start"), d + k + 1)?;
        let hi = int_expr(it.next().expect("loop end"), d + k + 1)?;
        body = vec![Stmt::For {
            var,
            lo,
            hi,
            body,
            span: Span::new(start, end),
        }];
    }
    Ok(body.pop().expect("a loop has a head"))
}

fn domain_ref(pair: Pair<Rule>, d: usize) -> R<DomainRef> {
    let inner = first(pair);
    Ok(match inner.as_rule() {
        Rule::range => DomainRef::Range(range(inner, d)?),
        _ => DomainRef::Named(ident(inner)),
    })
}

fn call(pair: Pair<Rule>, d: usize) -> R<Call> {
    let sp = span(&pair);
    let text = pair.as_str();
    let mut it = pair.into_inner();
    let name = ident(it.next().expect("callee"));
    let args: Vec<Expr> = it.map(|a| expr(a, d)).collect::<R<_>>()?;
    let has_parens = text[name.span.end - sp.start..]
        .trim_start()
        .starts_with('(');
    Ok(Call {
        name,
        args: if has_parens { Some(args) } else { None },
        span: sp,
    })
}

pub(super) fn int_expr(pair: Pair<Rule>, d: usize) -> R<Expr> {
    sum(first(pair), d)
}

/// `expr = sum (++ sum)*`, its root at depth `d`.
pub(super) fn expr(pair: Pair<Rule>, d: usize) -> R<Expr> {
    fold_binary(pair, d, sum)
}

fn sum(pair: Pair<Rule>, d: usize) -> R<Expr> {
    fold_binary(pair, d, product)
}

fn product(pair: Pair<Rule>, d: usize) -> R<Expr> {
    fold_binary(pair, d, postfix)
}

/// Left-folds `operand (op operand)*` into nested binary nodes: with `n` operators the first
/// operand sits `n` levels below the root, the `k`-th right operand `n - k + 1`.
/// A leading minus (`sum` only) makes the first operand `0 - operand`, one level deeper.
fn fold_binary(pair: Pair<Rule>, d: usize, operand: fn(Pair<Rule>, usize) -> R<Expr>) -> R<Expr> {
    let whole = span(&pair);
    let mut parts: Vec<Pair<Rule>> = pair.into_inner().collect();
    let sign = match parts.first() {
        Some(p) if p.as_rule() == Rule::neg_sign => Some(span(&parts.remove(0))),
        _ => None,
    };
    let n = parts.len() / 2;
    within_depth(d, n, "operators", |k| {
        parts.get(2 * k + 1).map_or(whole, span)
    })?;
    let mut it = parts.into_iter();
    let first = it.next().expect("first operand");
    let mut acc = match sign {
        Some(sp) => {
            within_depth(d + n, 1, "operators", |_| sp)?;
            let x = operand(first, d + n + 1)?;
            let whole = Span::new(sp.start, x.span.end);
            let zero = Expr {
                kind: ExprKind::Int(0),
                span: sp,
            };
            Expr {
                kind: ExprKind::Binary(BinOp::Sub, Box::new(zero), Box::new(x)),
                span: whole,
            }
        }
        None => operand(first, d + n)?,
    };
    let mut level = d + n;
    while let Some(op) = it.next() {
        let rhs = operand(it.next().expect("operand after operator"), level)?;
        level -= 1;
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
    Ok(acc)
}

pub(super) fn postfix(pair: Pair<Rule>, d: usize) -> R<Expr> {
    let whole = span(&pair);
    let mut it = pair.into_inner();
    let head = it.next().expect("primary");
    let indexes: Vec<Pair<Rule>> = it.collect();
    let n = indexes.len();
    within_depth(d, n, "indexes", |k| indexes.get(k).map_or(whole, span))?;
    let mut acc = primary(head, d + n)?;
    let mut level = d + n;
    for idx in indexes {
        let sp = Span::new(acc.span.start, span(&idx).end);
        let mut parts = idx.into_inner();
        let i = expr(parts.next().expect("index"), level)?;
        let kind = match parts.next() {
            Some(hi) => ExprKind::Slice(Box::new(acc), Box::new(i), Box::new(expr(hi, level)?)),
            None => ExprKind::Index(Box::new(acc), Box::new(i)),
        };
        level -= 1;
        acc = Expr { kind, span: sp };
    }
    Ok(acc)
}

fn primary(pair: Pair<Rule>, d: usize) -> R<Expr> {
    let sp = span(&pair);
    let kind = match pair.as_rule() {
        Rule::number => match pair.as_str().parse::<i64>() {
            Ok(v) => ExprKind::Int(v),
            // Not an integer (or too large for one): the checker reports it as a number.
            Err(_) => ExprKind::BadNumber(pair.as_str().to_string()),
        },
        Rule::len_call => {
            within_depth(d, 1, "expressions", |_| sp)?;
            let mut it = pair.into_inner();
            let _kw = it.next();
            ExprKind::Len(Box::new(expr(it.next().expect("len argument"), d + 1)?))
        }
        Rule::list => {
            within_depth(d, 1, "lists", |_| sp)?;
            ExprKind::List(
                pair.into_inner()
                    .map(|p| expr(p, d + 1))
                    .collect::<R<_>>()?,
            )
        }
        Rule::minmax => {
            within_depth(d, 1, "expressions", |_| sp)?;
            let mut it = pair.into_inner();
            let min = it.next().expect("min or max").as_str() == "min";
            let a = expr(it.next().expect("first operand"), d + 1)?;
            let b = expr(it.next().expect("second operand"), d + 1)?;
            ExprKind::MinMax(min, Box::new(a), Box::new(b))
        }
        Rule::expr => return expr(pair, d),
        _ => ExprKind::Name(pair.as_str().to_string()),
    };
    Ok(Expr { kind, span: sp })
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
