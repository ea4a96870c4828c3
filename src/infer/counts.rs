//! The count store: expected event counts for every parameter plus the log-likelihood. A plain
//! value that merges by addition, so shards of data can be counted anywhere and summed.

use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct CountStore {
    /// `E[#(t: c -> o)]`, indexed like the parameter vector.
    pub expected: Vec<f64>,
    pub log_likelihood: f64,
    /// Instances counted (unweighted).
    pub instances: usize,
    /// Data lines left out because they had probability zero, in data order.
    pub skipped: Vec<usize>,
    /// The rows restricted per line (draws with `within` or `from`): every allowed set S of
    /// parameter indices the data met, in data order of first use...
    pub norm_sets: Arc<Vec<Vec<u32>>>,
    /// ...and the expected number of draws from each, `n_S`. A row's draws divide by
    /// `Z_S = sum_{k in S} theta[k]`, so the M-step maximises
    /// `sum_k e_k log theta_k - sum_S n_S log Z_S`. Both empty for other models.
    pub norm_uses: Vec<f64>,
}

impl CountStore {
    pub fn new(params: usize) -> CountStore {
        CountStore {
            expected: vec![0.0; params],
            log_likelihood: 0.0,
            instances: 0,
            skipped: Vec::new(),
            norm_sets: Arc::default(),
            norm_uses: Vec::new(),
        }
    }

    /// `merge`, leaving `other` as `CountStore::new` makes it, its expected counts zeroed
    /// in the pass that adds them: a kernel reuses its units' stores (as long as the
    /// parameters) without a separate zeroing pass for each.
    pub fn merge_and_clear(&mut self, other: &mut CountStore) {
        for (a, b) in self.expected.iter_mut().zip(other.expected.iter_mut()) {
            *a += *b;
            *b = 0.0;
        }
        // The rest as `merge` adds it; `other`'s counts, zeroed above, are set aside so that
        // neither `merge` nor `clear` passes over them again.
        let expected = std::mem::take(&mut other.expected);
        self.merge(other);
        other.clear();
        other.expected = expected;
    }

    /// Back to what `CountStore::new` makes, keeping the memory.
    pub fn clear(&mut self) {
        self.expected.fill(0.0);
        self.log_likelihood = 0.0;
        self.instances = 0;
        self.skipped.clear();
        self.norm_sets = Arc::default();
        self.norm_uses.clear();
    }

    /// Adds `other` into `self`. Callers merge in a fixed order so sums are reproducible.
    pub fn merge(&mut self, other: &CountStore) {
        for (a, b) in self.expected.iter_mut().zip(&other.expected) {
            *a += b;
        }
        self.log_likelihood += other.log_likelihood;
        self.instances += other.instances;
        self.skipped.extend_from_slice(&other.skipped);
        if self.norm_uses.is_empty() {
            self.norm_sets = other.norm_sets.clone();
            self.norm_uses = other.norm_uses.clone();
        } else {
            for (a, b) in self.norm_uses.iter_mut().zip(&other.norm_uses) {
                *a += b;
            }
        }
    }
}
