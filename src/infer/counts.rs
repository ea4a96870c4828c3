//! The count store: expected event counts for every parameter plus the log-likelihood. A plain
//! value that merges by addition, so shards of data can be counted anywhere and summed.

#[derive(Clone, Debug, PartialEq)]
pub struct CountStore {
    /// `E[#(t: c -> o)]`, indexed like the parameter vector.
    pub expected: Vec<f64>,
    pub log_likelihood: f64,
    /// Instances counted (unweighted).
    pub instances: usize,
    /// Data lines left out because they had probability zero, in data order.
    pub skipped: Vec<usize>,
}

impl CountStore {
    pub fn new(params: usize) -> CountStore {
        CountStore {
            expected: vec![0.0; params],
            log_likelihood: 0.0,
            instances: 0,
            skipped: Vec::new(),
        }
    }

    /// Adds `other` into `self`. Callers merge in a fixed order so sums are reproducible.
    pub fn merge(&mut self, other: &CountStore) {
        for (a, b) in self.expected.iter_mut().zip(&other.expected) {
            *a += b;
        }
        self.log_likelihood += other.log_likelihood;
        self.instances += other.instances;
        self.skipped.extend_from_slice(&other.skipped);
    }
}
