//! The structured constructs of the syntax tree: procedures, `if` with its conditions. Kept
//! apart from `parse.rs` so that each file stays short; the same pest pairs, the same helpers.

use pest::iterators::Pair;

use super::ast::*;
use super::parse::{block, expr, ident, int_expr, span, Rule};

pub(super) fn proc_decl(pair: Pair<Rule>) -> ProcDecl {
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
            _ => body = Some(block(p)),
        }
    }
    ProcDecl {
        name,
        params,
        body: body.expect("procedure body"),
        span: sp,
    }
}

/// `output name[index] = value` or `output (label seq[lo..hi])`.
pub(super) fn output(pair: Pair<Rule>, sp: Span) -> Stmt {
    let rule = pair.as_rule();
    let mut it = pair.into_inner();
    let what = if rule == Rule::output_at {
        Output::At {
            name: ident(it.next().expect("output name")),
            index: expr(it.next().expect("output index")),
            value: expr(it.next().expect("output value")),
        }
    } else {
        Output::Bracket {
            label: expr(it.next().expect("constituent label")),
            span: expr(it.next().expect("constituent span")),
        }
    };
    Stmt::Output { what, span: sp }
}

pub(super) fn if_stmt(pair: Pair<Rule>) -> Stmt {
    let sp = span(&pair);
    let mut it = pair.into_inner();
    let _kw = it.next();
    let cond = cond(it.next().expect("condition"));
    let then = block(it.next().expect("then block")).stmts;
    let _else = it.next();
    let otherwise = match it.next() {
        Some(p) if p.as_rule() == Rule::if_stmt => vec![if_stmt(p)],
        Some(p) => block(p).stmts,
        None => Vec::new(),
    };
    Stmt::If {
        cond,
        then,
        otherwise,
        span: sp,
    }
}

/// `cond = conj (or conj)*`, `conj = neg (and neg)*`: keywords between operands.
fn cond(pair: Pair<Rule>) -> Cond {
    let mut acc: Option<Cond> = None;
    for p in pair.into_inner().filter(|p| p.as_rule() == Rule::conj) {
        let c = conj(p);
        acc = Some(match acc {
            None => c,
            Some(a) => Cond::Or(Box::new(a), Box::new(c)),
        });
    }
    acc.expect("a condition has an operand")
}

fn conj(pair: Pair<Rule>) -> Cond {
    let mut acc: Option<Cond> = None;
    for p in pair.into_inner().filter(|p| p.as_rule() == Rule::neg) {
        let c = neg(p);
        acc = Some(match acc {
            None => c,
            Some(a) => Cond::And(Box::new(a), Box::new(c)),
        });
    }
    acc.expect("a conjunction has an operand")
}

fn neg(pair: Pair<Rule>) -> Cond {
    let mut parts = pair.into_inner();
    let inner = parts.next().expect("a negation has a part");
    match inner.as_rule() {
        Rule::kw_not => Cond::Not(Box::new(neg(parts.next().expect("negated condition")))),
        Rule::cond => cond(inner),
        _ => {
            let sp = span(&inner);
            let mut it = inner.into_inner();
            let a = expr(it.next().expect("left operand"));
            let op = match it.next().expect("comparison").as_str() {
                "==" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "<=" => CmpOp::Le,
                ">=" => CmpOp::Ge,
                "<" => CmpOp::Lt,
                _ => CmpOp::Gt,
            };
            let b = expr(it.next().expect("right operand"));
            Cond::Compare(op, a, b, sp)
        }
    }
}

/// `from base` and `within lo .. hi` after a draw, if either is there.
pub(super) fn restrict(it: pest::iterators::Pairs<Rule>) -> Option<Box<Restrict>> {
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
            Rule::draw_from => r.from = Some(int_expr(inner.next().expect("from base"))),
            _ => {
                let lo = int_expr(inner.next().expect("within start"));
                let hi = int_expr(inner.next().expect("within end"));
                r.within = Some((lo, hi));
            }
        }
    }
    r.map(Box::new)
}
