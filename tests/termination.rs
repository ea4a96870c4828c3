//! The static termination check of structured stories: the recursions structured models use
//! (spans split CKY-style, dependency trees grown outward from a head, segments of a
//! semi-Markov model, a bounded depth, a count down, mutual recursion) pass; recursions that
//! shrink nothing are refused at check time with the kind of error and the call they name.

use emc::check::CheckErrorKind;
use emc::error::Error;
use emc::pipeline::front_end;

fn refusal(model: &str) -> CheckErrorKind {
    match front_end(model, &[]) {
        Err(Error::Check(es)) => {
            assert_eq!(es.len(), 1, "{es:?}");
            assert!(es[0].span.is_some() && es[0].hint.is_some(), "{es:?}");
            es[0].kind.clone()
        }
        other => panic!("expected a check error, got {:?}", other.map(|_| ())),
    }
}

const PCFG: &str = r#"
domain NT = {S, NP, VP}
domain Term = vocabulary(words)
data words : [Term]
param root : Categorical(NT)
param left : Categorical(NT | NT)
param right : Categorical(NT | NT)
param emit : Categorical(Term | NT)

proc span(x : NT, i, k) {
    if k == i + 1 {
        words[i] ~ emit(x)
    } else {
        for some j in i + 1 .. k {
            hidden y : NT
            hidden z : NT
            y ~ left(x)
            z ~ right(x)
            span(y, i, j)
            span(z, j, k)
        }
    }
}

model {
    hidden s : NT
    s ~ root
    span(s, 0, len(words))
}
"#;

const DMV: &str = r#"
domain Tag = vocabulary(tags)
domain Stop = {stop, go}
domain Dir = {L, R}
data tags : [Tag]
param root : Categorical(Tag)
param stop : Categorical(Stop | Tag, Dir)
param attach : Categorical(Tag | Tag, Dir)

proc tree(h, l, r) {
    left(h, l, h)
    right(h, h + 1, r)
}

proc right(h, i, r) {
    if i == r {
        stop ~ stop(tags[h], R)
    } else {
        go ~ stop(tags[h], R)
        for some a in i .. r {
            for some m in a + 1 .. r + 1 {
                tags[a] ~ attach(tags[h], R)
                tree(a, i, m)
                right(h, m, r)
            }
        }
    }
}

proc left(h, l, i) {
    if i == l {
        stop ~ stop(tags[h], L)
    } else {
        go ~ stop(tags[h], L)
        for some m in l .. i {
            for some a in m .. i {
                tags[a] ~ attach(tags[h], L)
                tree(a, m, i)
                left(h, l, m)
            }
        }
    }
}

model {
    for some h in 0 .. len(tags) {
        tags[h] ~ root
        tree(h, 0, len(tags))
    }
}
"#;

const HSMM: &str = r#"
const MAXD = 3
domain State = 0..3
domain Obs = vocabulary(obs)
data obs : [Obs]
param trans : Categorical(State | State)
param emit : Categorical(Obs | State)

proc seg(i, prev : State) {
    if i < len(obs) {
        hidden s : State
        s ~ trans(prev)
        for some j in i + 1 .. min(i + MAXD, len(obs)) + 1 {
            for t in i .. j: obs[t] ~ emit(s)
            seg(j, s)
        }
    }
}

model { seg(0, 0) }
"#;

const DEPTH: &str = r#"
domain Term = vocabulary(words)
domain More = {yes, no}
data words : [Term]
param more : Categorical(More)
param emit : Categorical(Term)

proc grow(d) {
    hidden m : More
    m ~ more
    if m == yes and d < 5 {
        grow(d + 1)
    }
}

proc down(n) {
    if n > 0 {
        words[n - 1] ~ emit
        down(n - 1)
    }
}

proc a(i) {
    if i < len(words) {
        b(i)
    }
}

proc b(i) {
    words[i] ~ emit
    a(i + 1)
}

model {
    grow(0)
    down(len(words))
    a(0)
}
"#;

#[test]
fn the_recursions_of_structured_models_pass() {
    for (name, model) in [
        ("pcfg", PCFG),
        ("dmv", DMV),
        ("hsmm", HSMM),
        ("depth", DEPTH),
    ] {
        if let Err(e) = front_end(model, &[]) {
            panic!("{name} refused: {e:?}");
        }
    }
    let root = env!("CARGO_MANIFEST_DIR");
    for zoo in ["hmm_recursive", "segmentation"] {
        let text = std::fs::read_to_string(format!("{root}/models/{zoo}.em")).unwrap();
        assert!(front_end(&text, &[]).is_ok(), "{zoo}");
    }
}

#[test]
fn a_split_that_may_keep_the_whole_span_is_refused() {
    // `j` may equal `k`: `span(y, i, j)` is then the same span.
    let bad = PCFG.replace(
        "for some j in i + 1 .. k {",
        "for some j in i + 1 .. k + 1 {",
    );
    match refusal(&bad) {
        CheckErrorKind::NonTerminating { callee, cycle } => {
            assert_eq!(callee, "span");
            assert_eq!(cycle, "span -> span");
        }
        other => panic!("{other:?}"),
    }
    // A split from `i` itself: `span(z, j, k)` with `j == i`.
    let bad = PCFG.replace("for some j in i + 1 .. k {", "for some j in i .. k {");
    assert!(matches!(
        refusal(&bad),
        CheckErrorKind::NonTerminating { .. }
    ));
}

#[test]
fn a_unary_rule_on_the_same_span_is_a_unary_cycle() {
    let bad = PCFG.replace(
        "            span(z, j, k)\n",
        "            span(z, j, k)\n        }\n        for some q in 0 .. 1 {\n            span(x, i, k)\n",
    );
    match refusal(&bad) {
        CheckErrorKind::UnaryCycle { callee, same, .. } => {
            assert_eq!(callee, "span");
            assert_eq!(same, "on the same positions (i, k)");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_dependency_tree_whose_head_may_leave_its_span_is_refused() {
    // With the head anywhere on the line, `tree(h, l, r)`'s halves need not be shorter.
    let bad = DMV.replace("for some a in i .. r {", "for some a in 0 .. len(tags) {");
    assert!(matches!(
        refusal(&bad),
        CheckErrorKind::NonTerminating { .. }
    ));
}

#[test]
fn bounds_must_be_tested_before_the_call() {
    // The depth bound tested after the call, not around it.
    let bad = DEPTH.replace("if m == yes and d < 5 {", "if m == yes {");
    match refusal(&bad) {
        CheckErrorKind::NonTerminating { callee, .. } => assert_eq!(callee, "grow"),
        other => panic!("{other:?}"),
    }
    // `or` gives no bound: either side may hold.
    let bad = DEPTH.replace("if m == yes and d < 5 {", "if m == yes or d < 5 {");
    assert!(matches!(
        refusal(&bad),
        CheckErrorKind::NonTerminating { .. }
    ));
    // A count down from the length needs its lower bound: the test, or the index `n - 1`
    // it draws at (which stops the line below 0).
    let ok = DEPTH.replace("if n > 0 {", "if n < len(words) + 1 {");
    assert!(front_end(&ok, &[]).is_ok());
    let bad = ok.replace("words[n - 1] ~ emit", "");
    assert!(matches!(
        refusal(&bad),
        CheckErrorKind::NonTerminating { .. }
    ));
    // Mutual recursion that does not move.
    let bad = DEPTH.replace("a(i + 1)", "a(i)");
    match refusal(&bad) {
        CheckErrorKind::UnaryCycle { cycle, .. } => assert_eq!(cycle, "a -> b -> a"),
        other => panic!("{other:?}"),
    }
}

/// A chain that stops at `i == len(words)` and recurses in the `else`: `!=` bounds nothing,
/// but `words[i]` drawn before the call does (an index out of range stops the line).
#[test]
fn an_index_drawn_before_the_call_bounds_the_position() {
    let chain = r#"
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)
proc walk(i) {
    if i == len(words) {
    } else {
        words[i] ~ emit
        walk(i + 1)
    }
}
model { walk(0) }
"#;
    assert!(front_end(chain, &[]).is_ok());
    // Without the draw, nothing bounds `i` from above.
    let bare = chain.replace("        words[i] ~ emit\n", "");
    assert!(matches!(
        refusal(&bare),
        CheckErrorKind::NonTerminating { .. }
    ));
    // The draw after the call does not help the call.
    let after = chain.replace(
        "        words[i] ~ emit\n        walk(i + 1)\n",
        "        walk(i + 1)\n        words[i] ~ emit\n",
    );
    assert!(matches!(
        refusal(&after),
        CheckErrorKind::NonTerminating { .. }
    ));
}

#[test]
fn a_segment_that_may_be_empty_is_refused() {
    let bad = HSMM.replace("for some j in i + 1 ..", "for some j in i ..");
    assert!(matches!(
        refusal(&bad),
        CheckErrorKind::NonTerminating { .. }
    ));
}

/// `emc check`'s structure class and cost formulas, read off the procedures.
#[test]
fn the_shape_of_a_story_is_its_class_and_cost_formula() {
    use emc::check::shape::{render, shape, Class};
    let root = env!("CARGO_MANIFEST_DIR");
    let zoo = |name: &str| {
        front_end(
            &std::fs::read_to_string(format!("{root}/models/{name}.em")).unwrap(),
            &[],
        )
        .unwrap()
    };
    let cases = [
        (
            front_end(PCFG, &[]).unwrap(),
            Class::Tree,
            "O(n^2 |NT|)",
            "O(n^3 |NT|^3)",
        ),
        (zoo("segmentation"), Class::Segmentation, "O(n)", "O(n)"),
        (
            zoo("hmm_recursive"),
            Class::Chain,
            "O(n |State|)",
            "O(n |State|^2)",
        ),
        (
            front_end(HSMM, &[]).unwrap(),
            Class::Chain,
            "O(n |State|)",
            "O(n |State|^2)",
        ),
        // Head, left and right end of a subtree: the naive head-outward story is O(n^5).
        (
            front_end(DMV, &[]).unwrap(),
            Class::Tree,
            "O(n^3)",
            "O(n^5)",
        ),
    ];
    for (m, class, nodes, edges) in cases {
        let s = shape(&m);
        assert_eq!(s.class, class);
        assert_eq!(render(&m, &s.nodes), nodes);
        assert_eq!(render(&m, s.edges.as_ref().unwrap()), edges);
    }
    // A loop over a segment (at most MAXD long) whose body branches: |State| per pass,
    // three passes at most.
    let body = "for t in i .. j {\n hidden u : State\n u ~ trans(s)\n obs[t] ~ emit(u)\n }";
    let m = front_end(
        &HSMM.replace("for t in i .. j: obs[t] ~ emit(s)", body),
        &[],
    )
    .unwrap();
    assert_eq!(
        render(&m, shape(&m).edges.as_ref().unwrap()),
        "O(n |State|^5)"
    );
    // Over the rest of the line instead: every pass multiplies the branches.
    let rest = body.replace("for t in i .. j", "for t in i .. len(obs)");
    let m = front_end(
        &HSMM.replace("for t in i .. j: obs[t] ~ emit(s)", &rest),
        &[],
    )
    .unwrap();
    let s = shape(&m);
    assert!(s.edges.is_none());
    assert_eq!(s.class, Class::General);
}

/// With data, `emc check` measures every line's hypergraph: the segmentation zoo model's
/// figures (400 lines).
#[test]
fn check_with_data_reports_measured_hyperedges_and_memory() {
    let root = env!("CARGO_MANIFEST_DIR");
    let model = std::fs::read_to_string(format!("{root}/models/segmentation.em")).unwrap();
    let data = std::fs::read_to_string(format!("{root}/models/segmentation.txt")).unwrap();
    let (p, d) = emc::pipeline::program(front_end(&model, &[]).unwrap(), &data, None).unwrap();
    let text = emc::report::describe(&p.model, &p.plan, Some((&p, &d)));
    assert!(text.contains("  structure  segmentation"), "{text}");
    assert!(
        text.contains("  hyperedges O(n) per line, where n = len(chars)"),
        "{text}"
    );
    assert!(
        text.contains("  measured   3608 nodes and 9689 hyperedges on the data"),
        "{text}"
    );
    assert!(
        text.contains("  largest    data line 324: 18 nodes, 60 hyperedges"),
        "{text}"
    );
    assert!(
        text.contains("  memory     310.1 KiB for the hypergraphs"),
        "{text}"
    );
}

const LOOPS: &str = r#"
domain Term = vocabulary(words)
domain A = {a1, a2}
domain B = {b1, b2}
domain C = {c1, c2}
domain D = {d1, d2}
data words : [Term]
param pa : Categorical(A)
param pb : Categorical(B)
param pc : Categorical(C)
param pd : Categorical(D)
param emit : Categorical(Term)
proc f(i) {
    for t in 0 .. 16 {
        for u in 0 .. 16 {
            hidden x : A
            hidden y : B
            hidden z : C
            hidden w : D
            if t == 0 { x ~ pa } else if t == 1 { y ~ pb } else if t == 2 { z ~ pc } else { w ~ pd }
        }
    }
    words[i] ~ emit
}
model { f(0) }
"#;

/// Formulas stay short and quick to find: branches that multiply in nested constant loops
/// merge into one term that bounds them all.
#[test]
fn a_formula_that_would_grow_without_end_is_bounded_by_one_term() {
    use emc::check::shape::{render, shape};
    let m = front_end(LOOPS, &[]).unwrap();
    let start = std::time::Instant::now();
    let s = shape(&m);
    assert!(start.elapsed().as_secs() < 5);
    let text = render(&m, s.edges.as_ref().unwrap());
    assert!(!text.contains('+'), "{text}");
    assert!(text.starts_with("O(|A|^"), "{text}");
}
