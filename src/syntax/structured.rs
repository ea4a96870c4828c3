//! The structured constructs of the syntax tree: procedures, `if` with its conditions. Kept
//! apart from `parse.rs` so that each file stays short; the same pest pairs, the same helpers.

use pest::iterators::Pair;

use super::ast::*;
use super::parse::{
    block, expr, ident, int_expr, number, postfix, span, within_depth, Rule, SyntaxError,
};

type R<T> = Result<T, SyntaxError>;

pub(super) fn proc_decl(pair: Pair<Rule>) -> R<ProcDecl> {
    let sp = span(&pair);
    let mut it = pair.into_inner();
    let _kw = it.next();
    let name = ident(it.next().expect("procedure name"));
    let mut params = Vec::new();
    let mut body = None;
    for p in it {
        match p.as_rule() {
            Rule::proc_param => {
                let mut inner = p.into_inner();
                let n = ident(inner.next().expect("parameter name"));
                params.push((n, inner.next().map(ident)));
            }
            _ => body = Some(block(p, 0)?),
        }
    }
    Ok(ProcDecl {
        name,
        params,
        body: body.expect("procedure body"),
        span: sp,
    })
}

/// `output name[index] = value` or `output (label seq[lo..hi])`.
pub(super) fn output(pair: Pair<Rule>, sp: Span, d: usize) -> R<Stmt> {
    let rule = pair.as_rule();
    let mut it = pair.into_inner();
    let what = if rule == Rule::output_at {
        Output::At {
            name: ident(it.next().expect("output name")),
            index: expr(it.next().expect("output index"), d)?,
            value: expr(it.next().expect("output value"), d)?,
        }
    } else {
        Output::Bracket {
            label: expr(it.next().expect("constituent label"), d)?,
            span: expr(it.next().expect("constituent span"), d)?,
        }
    };
    Ok(Stmt::Output { what, span: sp })
}

/// The terms of `weight exp(...)`, each sign taken from the operator before it.
pub(super) fn weight(pairs: pest::iterators::Pairs<Rule>, sp: Span, d: usize) -> R<Stmt> {
    let mut terms = Vec::new();
    let mut minus = false;
    for p in pairs {
        if p.as_rule() == Rule::add_op {
            minus = p.as_str() == "-";
            continue;
        }
        let term_span = span(&p);
        let mut negative = minus;
        let (mut coef, mut base, mut power) = (None, None, None);
        let mut it = p.into_inner();
        while let Some(q) = it.next() {
            match q.as_rule() {
                Rule::neg_sign => negative = !negative,
                Rule::number if base.is_none() => coef = Some(number(q)),
                Rule::mul_op => {}
                Rule::pow_op => power = Some(number(it.next().expect("power"))),
                _ => base = Some(postfix(q, d)?),
            }
        }
        terms.push(WeightTerm {
            negative,
            coef,
            base: base.expect("a term has a base"),
            power,
            span: term_span,
        });
    }
    Ok(Stmt::Weight { terms, span: sp })
}

/// `if c1 { } else if c2 { } ... else { }`: the `else if`s are a repetition in the grammar,
/// nested here from the last one out (each an `If` alone in the else block before it).
pub(super) fn if_stmt(pair: Pair<Rule>, d: usize) -> R<Stmt> {
    let end = span(&pair).end;
    let mut arms = Vec::new();
    let mut last = Vec::new();
    let mut it = pair.into_inner().peekable();
    while let Some(p) = it.next() {
        match p.as_rule() {
            Rule::kw_if => {
                let cond = it.next().expect("condition");
                let then = it.next().expect("then block");
                arms.push((span(&p).start, cond, then));
            }
            Rule::block => last.push(p),
            _ => {}
        }
    }
    let n = arms.len();
    within_depth(d, n, "`else if` branches", |k| {
        Span::new(arms[k].0, arms[k].0 + 2)
    })?;
    let mut otherwise = match last.pop() {
        Some(b) => block(b, d + n)?.stmts,
        None => Vec::new(),
    };
    for (k, (start, c, then)) in arms.into_iter().enumerate().rev() {
        let cond = cond(c, d + k + 1)?;
        let then = block(then, d + k + 1)?.stmts;
        otherwise = vec![Stmt::If {
            cond,
            then,
            otherwise,
            span: Span::new(start, end),
        }];
    }
    Ok(otherwise.pop().expect("an if has a condition"))
}

/// `cond = conj (or conj)*`, `conj = neg (and neg)*`: keywords between operands, folded to
/// the left like arithmetic (the first operand deepest).
fn cond(pair: Pair<Rule>, d: usize) -> R<Cond> {
    let parts: Vec<Pair<Rule>> = pair
        .into_inner()
        .filter(|p| p.as_rule() == Rule::conj)
        .collect();
    fold_cond(parts, d, "`or`s", conj, Cond::Or)
}

fn conj(pair: Pair<Rule>, d: usize) -> R<Cond> {
    let parts: Vec<Pair<Rule>> = pair
        .into_inner()
        .filter(|p| p.as_rule() == Rule::neg)
        .collect();
    fold_cond(parts, d, "`and`s", neg, Cond::And)
}

fn fold_cond(
    parts: Vec<Pair<Rule>>,
    d: usize,
    what: &str,
    operand: fn(Pair<Rule>, usize) -> R<Cond>,
    join: fn(Box<Cond>, Box<Cond>) -> Cond,
) -> R<Cond> {
    let n = parts.len().saturating_sub(1);
    within_depth(d, n, what, |k| span(parts.get(k + 1).unwrap_or(&parts[0])))?;
    let mut acc: Option<Cond> = None;
    let mut level = d + n;
    for p in parts {
        let c = operand(p, level)?;
        acc = Some(match acc {
            None => c,
            Some(a) => {
                level -= 1;
                join(Box::new(a), Box::new(c))
            }
        });
    }
    Ok(acc.expect("a condition has an operand"))
}

fn neg(pair: Pair<Rule>, d: usize) -> R<Cond> {
    let mut parts: Vec<Pair<Rule>> = pair.into_inner().collect();
    let inner = parts.pop().expect("a negation has a part");
    let nots = parts.len();
    within_depth(d, nots, "`not`s", |k| {
        parts.get(k).map_or_else(|| span(&inner), span)
    })?;
    let mut c = match inner.as_rule() {
        Rule::cond => cond(inner, d + nots)?,
        _ => {
            let sp = span(&inner);
            let mut it = inner.into_inner();
            let a = expr(it.next().expect("left operand"), d + nots + 1)?;
            let op = match it.next().expect("comparison").as_str() {
                "==" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "<=" => CmpOp::Le,
                ">=" => CmpOp::Ge,
                "<" => CmpOp::Lt,
                _ => CmpOp::Gt,
            };
            let b = expr(it.next().expect("right operand"), d + nots + 1)?;
            Cond::Compare(op, a, b, sp)
        }
    };
    for _ in 0..nots {
        c = Cond::Not(Box::new(c));
    }
    Ok(c)
}

/// `from base` and `within lo .. hi` after a draw, if either is there.
pub(super) fn restrict(it: pest::iterators::Pairs<Rule>, d: usize) -> R<Option<Box<Restrict>>> {
    let mut r: Option<Restrict> = None;
    for pair in it {
        let sp = span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let _kw = inner.next();
        let r = r.get_or_insert(Restrict {
            from: None,
            within: None,
            span: sp,
        });
        r.span = Span::new(r.span.start.min(sp.start), sp.end);
        match rule {
            Rule::draw_from => r.from = Some(int_expr(inner.next().expect("from base"), d)?),
            _ => {
                let lo = int_expr(inner.next().expect("within start"), d)?;
                let hi = int_expr(inner.next().expect("within end"), d)?;
                r.within = Some((lo, hi));
            }
        }
    }
    Ok(r.map(Box::new))
}
