//! Inside-outside and Viterbi against brute-force enumeration of every derivation, on
//! random small hypergraphs; posteriors against finite differences of log Z.

use super::binary::{count_line, Binary, Line, Workspace};
use super::inside::{edge_posteriors, inside, viterbi};
use super::{BuildError, Builder, Hypergraph, NodeId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Up to `most` tails for a hyperedge into node `v`, among the nodes before it.
fn random_tails(rng: &mut ChaCha8Rng, v: usize, most: usize) -> Vec<NodeId> {
    let arity = if v == 0 { 0 } else { rng.gen_range(0..=most) };
    (0..arity).map(|_| rng.gen_range(0..v) as NodeId).collect()
}

/// A hyperedge's constant log-weight: mostly 0, else in (-1, 0].
fn random_log_const(rng: &mut ChaCha8Rng) -> f64 {
    if rng.gen_bool(0.3) {
        -rng.gen::<f64>()
    } else {
        0.0
    }
}

/// A random acyclic hypergraph over `n` nodes: each node gets up to three hyperedges with up
/// to two tails among earlier nodes and up to two entries of a `params`-long vector; some
/// nodes get none (no derivation), and some entries repeat within a hyperedge.
fn random_graph(rng: &mut ChaCha8Rng, n: usize, params: usize) -> Hypergraph {
    let mut b = Builder::new();
    for v in 0..n {
        let edges = if v > 0 && rng.gen_bool(0.1) {
            0
        } else {
            rng.gen_range(1..=3)
        };
        for _ in 0..edges {
            let tails = random_tails(rng, v, 2);
            let entries: Vec<u32> = (0..rng.gen_range(0..=2))
                .map(|_| rng.gen_range(0..params) as u32)
                .collect();
            let log_const = random_log_const(rng);
            b.edge(&tails, &entries, log_const).unwrap();
        }
        b.finish_node().unwrap();
    }
    b.build().unwrap()
}

/// Every derivation of node `v`: its log-weight and how often it uses each hyperedge.
fn derivations(g: &Hypergraph, log_w: &[f64], v: NodeId) -> Vec<(f64, Vec<usize>)> {
    let mut out = Vec::new();
    for e in g.edges_into(v) {
        let mut partial = vec![(log_w[e], vec![e])];
        for u in g.tails(e) {
            let subs = derivations(g, log_w, *u);
            partial = partial
                .iter()
                .flat_map(|(w, used)| {
                    subs.iter().map(move |(sw, sused)| {
                        (
                            w + sw,
                            used.iter().chain(sused).copied().collect::<Vec<_>>(),
                        )
                    })
                })
                .collect();
        }
        out.extend(partial);
    }
    out
}

fn log_sum_exp(xs: impl Iterator<Item = f64>) -> f64 {
    let xs: Vec<f64> = xs.collect();
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a == b) || (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn inside_outside_and_viterbi_agree_with_enumerating_every_derivation() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut checked = 0;
    for case in 0..400 {
        let n = rng.gen_range(1..9);
        let params = rng.gen_range(1..6);
        let g = random_graph(&mut rng, n, params);
        let theta: Vec<f64> = (0..params).map(|_| rng.gen_range(0.01..1.0)).collect();
        let log_w = g.log_weights(&theta);
        let all = derivations(&g, &log_w, g.goal());
        // Derivations multiply quickly; skip the rare graph too big to enumerate.
        if all.len() > 20_000 {
            continue;
        }
        checked += 1;
        let ins = inside(&g, &log_w);
        let log_z = log_sum_exp(all.iter().map(|d| d.0));
        assert!(
            close(ins.log_z(), log_z, 1e-9),
            "case {case}: log Z {} vs {log_z}",
            ins.log_z()
        );

        let post = edge_posteriors(&g, &ins);
        let mut expected_edges = vec![0.0; g.edges()];
        let mut expected_entries = vec![0.0; params];
        for (w, used) in &all {
            let p = (w - log_z).exp();
            for e in used {
                expected_edges[*e] += p;
                for k in g.entries(*e) {
                    expected_entries[*k as usize] += p;
                }
            }
        }
        for e in 0..g.edges() {
            assert!(
                close(post[e], expected_edges[e], 1e-9),
                "case {case}: hyperedge {e}: {} vs {}",
                post[e],
                expected_edges[e]
            );
        }
        let mut scattered = vec![0.0; params];
        g.scatter(&post, 1.0, &mut scattered);
        for k in 0..params {
            assert!(
                close(scattered[k], expected_entries[k], 1e-9),
                "case {case}: entry {k}"
            );
        }

        match viterbi(&g, &log_w) {
            None => assert!(all.is_empty(), "case {case}: derivations exist"),
            Some((score, edges)) => {
                let best = all.iter().map(|d| d.0).fold(f64::NEG_INFINITY, f64::max);
                assert!(
                    close(score, best, 1e-12),
                    "case {case}: Viterbi {score} vs {best}"
                );
                let sum: f64 = edges.iter().map(|e| log_w[*e]).sum();
                assert!(
                    close(sum, score, 1e-12),
                    "case {case}: the derivation scores its score"
                );
            }
        }
    }
    assert!(
        checked > 300,
        "only {checked} graphs were small enough to enumerate"
    );
}

#[test]
fn posteriors_are_the_gradient_of_log_z_in_the_log_weights() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..50 {
        let g = random_graph(&mut rng, 7, 4);
        let theta: Vec<f64> = (0..4).map(|_| rng.gen_range(0.05..1.0)).collect();
        let log_w = g.log_weights(&theta);
        let ins = inside(&g, &log_w);
        if !ins.log_z().is_finite() {
            continue;
        }
        let post = edge_posteriors(&g, &ins);
        let h = 1e-6;
        for e in 0..g.edges() {
            let mut up = log_w.clone();
            up[e] += h;
            let mut down = log_w.clone();
            down[e] -= h;
            let fd = (inside(&g, &up).log_z() - inside(&g, &down).log_z()) / (2.0 * h);
            assert!(
                (fd - post[e]).abs() < 1e-6,
                "hyperedge {e}: {fd} vs {}",
                post[e]
            );
        }
    }
}

#[test]
fn a_long_chain_of_small_weights_neither_underflows_nor_overflows_the_stack() {
    // 100,000 nodes, each expanding to the one before with weight 1e-5: the goal's
    // probability is 1e-500000, far below f64, and the derivation is 100,000 deep.
    let n = 100_000;
    let mut b = Builder::new();
    b.edge(&[], &[0], 0.0).unwrap();
    b.finish_node().unwrap();
    for v in 1..n {
        b.edge(&[(v - 1) as NodeId], &[0], 0.0).unwrap();
        b.finish_node().unwrap();
    }
    let g = b.build().unwrap();
    let log_w = g.log_weights(&[1e-5]);
    let ins = inside(&g, &log_w);
    assert!(close(ins.log_z(), n as f64 * 1e-5f64.ln(), 1e-12));
    let post = edge_posteriors(&g, &ins);
    assert!(post.iter().all(|p| (p - 1.0).abs() < 1e-12));
    let (score, edges) = viterbi(&g, &log_w).unwrap();
    assert_eq!(edges.len(), n);
    assert!(close(score, ins.log_z(), 1e-12));
}

#[test]
fn a_goal_without_derivations_has_zero_mass_and_no_viterbi_derivation() {
    let mut b = Builder::new();
    b.finish_node().unwrap(); // a leaf with no expansion
    b.edge(&[0], &[0], 0.0).unwrap();
    b.finish_node().unwrap();
    let g = b.build().unwrap();
    let log_w = g.log_weights(&[0.5]);
    let ins = inside(&g, &log_w);
    assert_eq!(ins.log_z(), f64::NEG_INFINITY);
    assert_eq!(edge_posteriors(&g, &ins), vec![0.0]);
    assert_eq!(viterbi(&g, &log_w), None);
}

#[test]
fn the_builder_refuses_what_is_not_a_topological_order() {
    let mut b = Builder::new();
    assert_eq!(
        b.edge(&[0], &[], 0.0),
        Err(BuildError::NotTopological { head: 0, tail: 0 })
    );
    assert_eq!(Builder::new().build(), Err(BuildError::Empty));
}

/// A random hypergraph with hyperedges of up to four tails and five entries, which the
/// binary form splits into intermediate nodes.
fn random_wide_graph(rng: &mut ChaCha8Rng, n: usize, params: usize) -> Hypergraph {
    let mut b = Builder::new();
    for v in 0..n {
        let least = usize::from(v == 0 || rng.gen_bool(0.9));
        for _ in 0..rng.gen_range(least..=3) {
            let tails = random_tails(rng, v, 4);
            let entries: Vec<u32> = (0..rng.gen_range(0..=5))
                .map(|_| rng.gen_range(0..params) as u32)
                .collect();
            let log_const = random_log_const(rng);
            b.edge(&tails, &entries, log_const).unwrap();
        }
        b.finish_node().unwrap();
    }
    b.build().unwrap()
}

/// The reference: log Z and `weight` times the expected count of every entry, by the
/// log-space pass over the story's form.
fn reference(g: &Hypergraph, theta: &[f64], weight: f64) -> (f64, Vec<f64>) {
    let ins = inside(g, &g.log_weights(theta));
    let mut expected = vec![0.0; theta.len()];
    g.scatter(&edge_posteriors(g, &ins), weight, &mut expected);
    (ins.log_z(), expected)
}

#[test]
fn the_binary_form_counts_what_the_story_form_counts_in_both_spaces() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut in_range = 0;
    for _ in 0..400 {
        let params = 6;
        let n = rng.gen_range(1..9);
        let g = random_wide_graph(&mut rng, n, params);
        let theta: Vec<f64> = (0..params).map(|_| rng.gen_range(0.05..1.0)).collect();
        let weight = rng.gen_range(0.5..2.0);
        let (log_z, want) = reference(&g, &theta, weight);
        let bin = Binary::new(&g, |k| k, |s| s, params as u32);
        let with_one: Vec<f64> = theta.iter().copied().chain([1.0]).collect();
        let mut ws = Workspace::default();
        for log_space in [false, true] {
            let mut got = vec![0.0; params + 1];
            let line = count_line(&bin, &with_one, weight, &mut ws, &mut got, log_space);
            if !log_z.is_finite() {
                assert_eq!(line, Line::Zero);
                assert!(got.iter().all(|c| *c == 0.0));
                continue;
            }
            let Line::Counted {
                log_z: z,
                log_space: took_log,
            } = line
            else {
                panic!("{line:?}")
            };
            in_range += usize::from(!took_log);
            assert_eq!(took_log, log_space, "these lines are well within range");
            assert!(close(z, log_z, 1e-12), "log Z {z} vs {log_z}");
            for (a, b) in got.iter().zip(&want) {
                assert!(close(*a, *b, 1e-12), "{got:?}\nvs {want:?}");
            }
        }
    }
    assert!(in_range > 200);
}

/// A random hypergraph whose nodes' hyperedges often all draw the same entries (one or two,
/// maybe the same twice) beside their own, as an arc's parameter is drawn with each way to
/// split what lies under the arc; at most two tails and two entries in all, so the binary
/// form adds a node only where it draws shared entries once.
fn random_shared_graph(rng: &mut ChaCha8Rng, n: usize, params: usize) -> Hypergraph {
    let mut b = Builder::new();
    for v in 0..n {
        let shared: Vec<u32> = match rng.gen_range(0..4) {
            0 => vec![],
            1 => vec![rng.gen_range(0..params) as u32],
            2 => vec![rng.gen_range(0..params) as u32; 2],
            _ => (0..2).map(|_| rng.gen_range(0..params) as u32).collect(),
        };
        let least = usize::from(v == 0 || rng.gen_bool(0.9));
        for _ in 0..rng.gen_range(least..=4) {
            let tails = random_tails(rng, v, 2);
            let mut entries = shared.clone();
            while entries.len() < 2 && rng.gen_bool(0.5) {
                entries.insert(
                    rng.gen_range(0..=entries.len()),
                    rng.gen_range(0..params) as u32,
                );
            }
            let log_const = random_log_const(rng);
            b.edge(&tails, &entries, log_const).unwrap();
        }
        b.finish_node().unwrap();
    }
    b.build().unwrap()
}

/// A node whose hyperedges all draw the same entries draws them once in the binary form,
/// over a node of the hyperedges without them: log Z and every count are unchanged.
#[test]
fn entries_every_hyperedge_of_a_node_draws_are_drawn_once() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mut factored, mut compared) = (0, 0);
    for _ in 0..400 {
        let params = 5;
        let n = rng.gen_range(1..9);
        let g = random_shared_graph(&mut rng, n, params);
        let theta: Vec<f64> = (0..params).map(|_| rng.gen_range(0.05..1.0)).collect();
        let (log_z, want) = reference(&g, &theta, 1.5);
        let bin = Binary::new(&g, |k| k, |s| s, params as u32);
        // Node 0 of the binary form is its own; every other node it adds draws shared
        // entries once.
        factored += bin.nodes() - g.nodes() - 1;
        let with_one: Vec<f64> = theta.iter().copied().chain([1.0]).collect();
        for log_space in [false, true] {
            let mut got = vec![0.0; params + 1];
            let line = count_line(
                &bin,
                &with_one,
                1.5,
                &mut Workspace::default(),
                &mut got,
                log_space,
            );
            let Line::Counted { log_z: z, .. } = line else {
                assert!(!log_z.is_finite() && line == Line::Zero, "{line:?}");
                continue;
            };
            compared += 1;
            assert!(close(z, log_z, 1e-12), "log Z {z} vs {log_z}");
            for (a, b) in got.iter().zip(&want) {
                assert!(close(*a, *b, 1e-12), "{got:?}\nvs {want:?}");
            }
        }
    }
    assert!(factored > 300 && compared > 600, "{factored} {compared}");
}

#[test]
fn a_line_below_the_probability_range_is_counted_in_log_space() {
    // The long chain of 1e-5 weights: Z = 1e-500000.
    let n = 100_000;
    let mut b = Builder::new();
    b.edge(&[], &[0], 0.0).unwrap();
    b.finish_node().unwrap();
    for v in 1..n {
        b.edge(&[(v - 1) as NodeId], &[0], 0.0).unwrap();
        b.finish_node().unwrap();
    }
    let g = b.build().unwrap();
    let bin = Binary::new(&g, |k| k, |s| s, 1);
    let mut expected = vec![0.0; 2];
    let line = count_line(
        &bin,
        &[1e-5, 1.0],
        1.0,
        &mut Workspace::default(),
        &mut expected,
        false,
    );
    let Line::Counted { log_z, log_space } = line else {
        panic!("{line:?}")
    };
    assert!(log_space);
    assert!(close(log_z, n as f64 * 1e-5f64.ln(), 1e-12));
    assert!(close(expected[0], n as f64, 1e-9));
}

#[test]
fn an_outside_value_past_the_range_is_reported_and_log_space_counts_it() {
    // A node whose inside value is subnormal (1e-160 squared) under a hyperedge of weight
    // e^709: the line's probability is fine (about 0.1), but outside / Z overflows.
    let mut b = Builder::new();
    b.edge(&[], &[0], 0.0).unwrap(); // B: 1e-160
    b.finish_node().unwrap();
    b.edge(&[0, 0], &[], 0.0).unwrap(); // A = B * B
    b.finish_node().unwrap();
    b.edge(&[1], &[], 709.0).unwrap();
    b.edge(&[], &[1], 0.0).unwrap(); // 0.1
    b.finish_node().unwrap();
    let g = b.build().unwrap();
    let theta = [1e-160, 0.1];
    let (log_z, want) = reference(&g, &theta, 1.0);
    let bin = Binary::new(&g, |k| k, |s| s, 2);
    let with_one = [1e-160, 0.1, 1.0];
    let mut ws = Workspace::default();
    let mut got = vec![0.0; 3];
    assert_eq!(
        count_line(&bin, &with_one, 1.0, &mut ws, &mut got, false),
        Line::Overflow
    );
    let mut got = vec![0.0; 3];
    let line = count_line(&bin, &with_one, 1.0, &mut ws, &mut got, true);
    assert_eq!(
        line,
        Line::Counted {
            log_z,
            log_space: true
        }
    );
    for (a, b) in got.iter().zip(&want) {
        assert!(close(*a, *b, 1e-12), "{got:?} vs {want:?}");
    }
}

/// Normalisers: hyperedges added before the first normalised one divide by nothing, the
/// weights divide by each set's sum, uses are counted per set, and ids are renumbered.
#[test]
fn normalisers_divide_weights_and_count_uses() {
    let mut b = Builder::new();
    b.edge(&[], &[0], 0.0).unwrap();
    b.finish_node().unwrap();
    b.edge_normed(&[0], &[1], &[1], 0.0).unwrap();
    b.edge_normed(&[0], &[2], &[0, 1], 0.0).unwrap();
    b.finish_node().unwrap();
    let mut g = b.build().unwrap();
    assert_eq!(
        (g.norms(0), g.norms(1), g.norms(2)),
        (&[][..], &[1][..], &[0, 1][..])
    );
    let theta = [0.5, 0.2, 0.3];
    let sets = vec![vec![1, 2], vec![0, 1]];
    let w = g.log_weights_normed(&theta, &super::log_norms(&sets, &theta));
    let expect = [0.5f64.ln(), (0.2f64 / 0.7).ln(), (0.3f64 / 0.5 / 0.7).ln()];
    for (a, b) in w.iter().zip(expect) {
        assert!((a - b).abs() < 1e-15, "{a} against {b}");
    }
    g.map_norms(&[7, 3]);
    assert_eq!((g.norms(1), g.norms(2)), (&[3][..], &[7, 3][..]));
}

/// Lines of one shape counted in lanes: each lane's log Z is the same bits as the line's
/// alone, the counts are the sum of the lines' counts (the entry of value 1 aside, whose
/// counts a batch skips), masked lanes add nothing, and a lane out of range is left to the
/// caller.
#[test]
fn lanes_count_what_each_line_counts_alone() {
    use super::lanes::{count_batch, Batch, Lane, LaneWorkspace, Shape, LANES};
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let params = 12;
    // Entries 0..6 are ordinary; 6..12 so small that a line drawing only them falls below
    // the probability range.
    let theta: Vec<f64> = (0..params)
        .map(|k| match k < 6 {
            true => rng.gen_range(0.05..1.0),
            false => 1e-120,
        })
        .chain([1.0])
        .collect();
    let (mut out_of_range, mut counted) = (0, 0);
    for _ in 0..300 {
        let n = rng.gen_range(1..9);
        let g = match rng.gen_bool(0.5) {
            true => random_wide_graph(&mut rng, n, 6),
            false => random_shared_graph(&mut rng, n, 6),
        };
        let lanes = rng.gen_range(1..=LANES);
        // Each lane the same graph with its entries moved: within the ordinary ones, or
        // (sometimes) onto the small ones.
        let lines: Vec<Binary> = (0..lanes)
            .map(|_| {
                let shift = rng.gen_range(0..6) as u32;
                let small = rng.gen_bool(0.2);
                let rename = move |k: u32| (k + shift) % 6 + if small { 6 } else { 0 };
                Binary::new(&g, rename, |s| s, params as u32)
            })
            .collect();
        let one = params as u32;
        let shape = Shape::of(&lines[0], one);
        let key = Shape::key(&lines[0], one);
        assert!(lines
            .iter()
            .all(|l| shape.fits(l, one) && Shape::key(l, one) == key));
        let members: Vec<&Binary> = lines.iter().collect();
        let batch = Batch::new(&shape, &members, |k| k);
        for (l, line) in lines.iter().enumerate() {
            let back = batch.line(&shape, l);
            assert_eq!(
                (back.node_edges, back.edges),
                (line.node_edges.clone(), line.edges.clone())
            );
        }
        let weight: [f64; LANES] = std::array::from_fn(|_| rng.gen_range(0.5..2.0));
        let count: [bool; LANES] = std::array::from_fn(|l| l < lanes && rng.gen_bool(0.8));
        let mut got = vec![0.0; params + 1];
        let lane = count_batch(
            &shape,
            &batch,
            &theta,
            weight,
            count,
            &mut LaneWorkspace::default(),
            &mut got,
        );
        let mut want = vec![0.0; params + 1];
        let mut ws = Workspace::default();
        for l in 0..LANES {
            if !count[l] {
                assert_eq!(lane[l], Lane::Skipped);
                continue;
            }
            let mut alone = vec![0.0; params + 1];
            match count_line(&lines[l], &theta, weight[l], &mut ws, &mut alone, false) {
                Line::Counted {
                    log_z,
                    log_space: false,
                } => {
                    counted += 1;
                    assert_eq!(lane[l], Lane::Counted { log_z }, "the same bits");
                    want.iter_mut().zip(&alone).for_each(|(w, a)| *w += a);
                }
                Line::Counted {
                    log_space: true, ..
                }
                | Line::Zero => {
                    out_of_range += 1;
                    assert_eq!(lane[l], Lane::OutOfRange);
                }
                Line::Overflow => panic!("these lines do not overflow"),
            }
        }
        for (a, b) in got[..params].iter().zip(&want) {
            assert!(close(*a, *b, 1e-13), "{got:?}\nvs {want:?}");
        }
    }
    assert!(
        counted > 300 && out_of_range > 30,
        "{counted} {out_of_range}"
    );
}

#[test]
fn a_lane_whose_posterior_overflows_is_reported_and_the_others_counted() {
    use super::lanes::{count_batch, Batch, Lane, LaneWorkspace, Shape, LANES};
    // The first lane's Z is fine (about 0.1) but its outside values overflow: a node whose
    // inside value is subnormal (1e-160 squared) under a hyperedge of weight 1e308. The
    // second lane draws 0.5 there instead.
    let mut b = Builder::new();
    b.edge(&[], &[0], 0.0).unwrap();
    b.finish_node().unwrap();
    b.edge(&[0, 0], &[], 0.0).unwrap();
    b.finish_node().unwrap();
    b.edge(&[1], &[3], 0.0).unwrap();
    b.edge(&[], &[1], 0.0).unwrap();
    b.finish_node().unwrap();
    let g = b.build().unwrap();
    let theta = [1e-160, 0.1, 0.5, 1e308, 1.0];
    let lines = [
        Binary::new(&g, |k| k, |s| s, 4),
        Binary::new(&g, |k| if k == 3 { 2 } else { k }, |s| s, 4),
    ];
    let shape = Shape::of(&lines[0], 4);
    let batch = Batch::new(&shape, &[&lines[0], &lines[1]], |k| k);
    let mut got = vec![0.0; 5];
    let count = std::array::from_fn(|l| l < 2);
    let lane = count_batch(
        &shape,
        &batch,
        &theta,
        [1.0; LANES],
        count,
        &mut LaneWorkspace::default(),
        &mut got,
    );
    assert_eq!(lane[0], Lane::Overflow);
    let mut alone = vec![0.0; 5];
    let Line::Counted { log_z, .. } = count_line(
        &lines[1],
        &theta,
        1.0,
        &mut Workspace::default(),
        &mut alone,
        false,
    ) else {
        panic!()
    };
    assert_eq!(lane[1], Lane::Counted { log_z });
    assert!(lane[2..].iter().all(|l| *l == Lane::Skipped));
}
