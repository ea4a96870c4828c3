//! The chains the grammar reads as repetitions build the same trees the recursive rules built.

use super::ast::*;
use super::parse::{parse, MAX_DEPTH};

fn story(body: &str) -> (String, Vec<Stmt>) {
    let src = format!("model {{ {body} }}");
    let file = parse(&src).unwrap_or_else(|e| panic!("{e}: {src}"));
    (src, file.models[0].stmts.clone())
}

#[test]
fn for_heads_after_colons_nest_from_the_outside_in() {
    let (src, stmts) = story("for i in 0..2: for j in 0..3: x ~ f");
    let [Stmt::For {
        var, body, span, ..
    }] = stmts.as_slice()
    else {
        panic!("{stmts:?}")
    };
    assert_eq!(var.name, "i");
    assert_eq!(
        src[span.start..span.end].trim_end(),
        "for i in 0..2: for j in 0..3: x ~ f"
    );
    let [Stmt::For {
        var, body, span, ..
    }] = body.as_slice()
    else {
        panic!("{body:?}")
    };
    assert_eq!(var.name, "j");
    assert_eq!(src[span.start..span.end].trim_end(), "for j in 0..3: x ~ f");
    assert!(matches!(body.as_slice(), [Stmt::Draw { .. }]));
}

#[test]
fn else_if_chains_nest_in_the_else_branch() {
    let (src, stmts) = story("if a < 1 { x ~ f } else if a < 2 { y ~ f } else { z ~ f }");
    let [Stmt::If {
        then, otherwise, ..
    }] = stmts.as_slice()
    else {
        panic!("{stmts:?}")
    };
    assert_eq!(then.len(), 1);
    let [Stmt::If {
        otherwise: last,
        span,
        ..
    }] = otherwise.as_slice()
    else {
        panic!("{otherwise:?}")
    };
    assert_eq!(
        &src[span.start..span.end],
        "if a < 2 { y ~ f } else { z ~ f }"
    );
    assert_eq!(last.len(), 1);
}

#[test]
fn nots_wrap_from_the_inside() {
    let (_, stmts) = story("if not not a < 1 { x ~ f }");
    let [Stmt::If { cond, .. }] = stmts.as_slice() else {
        panic!("{stmts:?}")
    };
    let Cond::Not(inner) = cond else {
        panic!("{cond:?}")
    };
    assert!(matches!(inner.as_ref(), Cond::Not(c) if matches!(c.as_ref(), Cond::Compare(..))));
}

#[test]
fn sums_fold_to_the_left_up_to_the_depth_budget() {
    let ok = format!("let s = 1{}", " + 1".repeat(MAX_DEPTH - 2));
    story(&ok);
    let src = format!("model {{ let s = 1{} }}", " + 1".repeat(MAX_DEPTH + 1));
    let e = parse(&src).unwrap_err();
    assert!(e.message.contains("levels deep"), "{}", e.message);
    assert_eq!(&src[e.span.start..e.span.end], "+");
}

#[test]
fn a_leading_minus_negates_the_first_operand_only() {
    let (src, stmts) = story("let s = -N * 2 + 1");
    let [Stmt::Let { value, .. }] = stmts.as_slice() else {
        panic!("{stmts:?}")
    };
    // (0 - N * 2) + 1
    let ExprKind::Binary(BinOp::Add, lhs, _) = &value.kind else {
        panic!("{value:?}")
    };
    let ExprKind::Binary(BinOp::Sub, zero, rest) = &lhs.kind else {
        panic!("{lhs:?}")
    };
    assert!(matches!(zero.kind, ExprKind::Int(0)));
    assert!(matches!(rest.kind, ExprKind::Binary(BinOp::Mul, ..)));
    assert_eq!(&src[lhs.span.start..lhs.span.end], "-N * 2");
    // A number keeps its own sign; two minuses are not an expression.
    let (_, stmts) = story("let s = -3");
    assert!(
        matches!(&stmts[0], Stmt::Let { value, .. } if matches!(value.kind, ExprKind::Int(-3)))
    );
    assert!(parse("model { let s = --N }").is_err());
}

#[test]
fn weight_terms_take_the_sign_before_them_and_a_name_stays_free() {
    let (src, stmts) = story("weight exp(-(j - i) ^ 1.6 - 2 * n + -x ^ 2 + 3) weight ~ f");
    let [Stmt::Weight { terms, .. }, Stmt::Draw { target, .. }] = stmts.as_slice() else {
        panic!("{stmts:?}")
    };
    let shown: Vec<(bool, Option<&str>, &str, Option<&str>)> = terms
        .iter()
        .map(|t| {
            (
                t.negative,
                t.coef.as_ref().map(|n| n.text.as_str()),
                &src[t.base.span.start..t.base.span.end],
                t.power.as_ref().map(|n| n.text.as_str()),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (true, None, "j - i", Some("1.6")),
            (true, Some("2"), "n", None),
            (true, None, "x", Some("2")),
            (false, None, "3", None),
        ]
    );
    // `weight` is a keyword only before `exp(`: elsewhere it is a name, as before.
    assert_eq!(&src[target.span.start..target.span.end], "weight");
}
