//! Index arithmetic for tables over sets of variables (row-major, the last variable fastest).

use crate::graph::VarId;

/// For every joint value of `vars` (with `cards`), the index into a table over `sub`, a subset
/// of `vars` in sorted order.
pub fn projection(vars: &[VarId], cards: &[usize], sub: &[VarId]) -> Vec<usize> {
    // Stride of each variable of `vars` inside the `sub` table (0 if absent).
    let mut strides = vec![0usize; vars.len()];
    let mut stride = 1;
    for s in sub.iter().rev() {
        let pos = vars
            .iter()
            .position(|v| v == s)
            .expect("sub is a subset of vars");
        strides[pos] = stride;
        stride *= cards[pos];
    }
    let size: usize = cards.iter().product();
    let mut out = Vec::with_capacity(size);
    let mut assign = vec![0usize; vars.len()];
    let mut idx = 0usize;
    for _ in 0..size {
        out.push(idx);
        let mut k = vars.len();
        while k > 0 {
            k -= 1;
            assign[k] += 1;
            idx += strides[k];
            if assign[k] < cards[k] {
                break;
            }
            idx -= strides[k] * cards[k];
            assign[k] = 0;
        }
    }
    out
}

/// Decomposes a row-major index into the values of each variable.
pub fn unravel(mut idx: usize, cards: &[usize]) -> Vec<usize> {
    let mut out = vec![0; cards.len()];
    for k in (0..cards.len()).rev() {
        out[k] = idx % cards[k];
        idx /= cards[k];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_onto_subsets() {
        // vars (0,1) with cards (2,3) onto (1): index = value of var 1.
        assert_eq!(projection(&[0, 1], &[2, 3], &[1]), vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(projection(&[0, 1], &[2, 3], &[0]), vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(projection(&[0, 1], &[2, 3], &[]), vec![0; 6]);
        assert_eq!(
            projection(&[0, 1], &[2, 3], &[0, 1]),
            (0..6).collect::<Vec<_>>()
        );
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
    }
}
