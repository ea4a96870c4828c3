//! Text of the training outputs that are not parameter files.

use crate::train::TracePoint;

/// `trace.tsv`: `iteration log_likelihood seconds`, iteration 0 being the initial parameters.
pub fn trace_tsv(trace: &[TracePoint]) -> String {
    let mut out = String::from("iteration\tlog_likelihood\tseconds\n");
    for p in trace {
        out.push_str(&format!(
            "{}\t{}\t{:.3}\n",
            p.iteration, p.log_likelihood, p.seconds
        ));
    }
    out
}

/// `checkpoint.json`: the training state after the last M-step, with what it was trained on.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckpointFile {
    pub format: String,
    /// Of the model and data texts (FNV-1a), so a checkpoint is not resumed on other inputs.
    pub fingerprint: u64,
    pub iterations: usize,
    pub tolerance: f64,
    pub restarts: usize,
    pub seed: u64,
    /// `random` or `uniform`; `None` when the run started from given parameters.
    pub init_mode: Option<String>,
    /// The given initial parameters, when there were some.
    pub init_theta: Option<Vec<f64>>,
    pub checkpoint: crate::train::Checkpoint,
}

pub const CHECKPOINT_FORMAT: &str = "emc-checkpoint-1";

/// FNV-1a over the texts, each followed by a separator byte.
pub fn fingerprint(texts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for t in texts {
        for b in t.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
