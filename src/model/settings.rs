//! The training settings a `train { ... }` block gives (the command line overrides them), the
//! algorithms, and the rules their values follow wherever they are given.

use crate::syntax::ast::Span;

/// How the parameters are fitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// EM; logistic families fitted by L-BFGS in the M-step (Berg-Kirkpatrick et al. 2010,
    /// Algorithm 1).
    Em,
    /// L-BFGS on the penalised marginal log-likelihood over all weights, categorical families
    /// as logistic ones with indicator features (their Algorithm 2).
    Direct,
    /// Stepwise (online) EM (Liang & Klein 2009): after each mini-batch, the running
    /// statistics move towards the batch's by a step `(k + 2)^-alpha`, and the M-step runs.
    Stepwise,
    /// Incremental EM (Neal & Hinton 1998): each block's statistics are kept; a block's new
    /// ones replace its old ones in the total, and the M-step runs after every block.
    Incremental,
    /// Hard (Viterbi) EM: counts of each line's most probable derivation.
    Hard,
    /// Mean-field variational Bayes over Dirichlet-categorical families (Beal 2003,
    /// Johnson 2007): the evidence lower bound never decreases.
    Vb,
}

impl Algorithm {
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Em,
        Algorithm::Direct,
        Algorithm::Stepwise,
        Algorithm::Incremental,
        Algorithm::Hard,
        Algorithm::Vb,
    ];

    /// Its name in a `train` block and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Em => "em",
            Algorithm::Direct => "direct",
            Algorithm::Stepwise => "stepwise",
            Algorithm::Incremental => "incremental",
            Algorithm::Hard => "hard",
            Algorithm::Vb => "vb",
        }
    }

    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether it updates the parameters after parts of the data (its iterations are passes).
    pub fn is_online(self) -> bool {
        matches!(self, Algorithm::Stepwise | Algorithm::Incremental)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitMode {
    Random,
    Uniform,
}

/// Most random restarts a run takes, from a `train` block or `--restarts`: each restart is a
/// whole training run, so a number beyond this is a typo that would run for ever.
pub const MAX_RESTARTS: usize = 10_000;

/// The rule for `restarts`, wherever it is given (the `train` block, `--restarts`): the
/// value, or what a valid one is.
pub fn valid_restarts(n: usize) -> Result<usize, String> {
    if (1..=MAX_RESTARTS).contains(&n) {
        Ok(n)
    } else {
        Err(format!("a whole number from 1 to {MAX_RESTARTS}"))
    }
}

/// The rule for `tolerance`, wherever it is given: a relative change, so a finite number
/// >= 0 (a negative one never converges, NaN never compares).
pub fn valid_tolerance(t: f64) -> Result<f64, String> {
    if t.is_finite() && t >= 0.0 {
        Ok(t)
    } else {
        Err("a finite number >= 0".into())
    }
}

/// The keys a `train { ... }` block takes.
pub const SETTING_KEYS: [&str; 11] = [
    "iterations",
    "tolerance",
    "restarts",
    "seed",
    "init",
    "algorithm",
    "batch",
    "alpha",
    "anneal",
    "anneal_rate",
    "prior",
];

/// The rule for `alpha`, stepwise EM's step-size exponent: Liang & Klein's step
/// `(k + 2)^-alpha` needs `0.5 < alpha <= 1` for the steps to sum to infinity while their
/// squares do not (the conditions under which stepwise EM converges).
pub fn valid_alpha(a: f64) -> Result<f64, String> {
    if a > 0.5 && a <= 1.0 {
        Ok(a)
    } else {
        Err(
            "a number in (0.5, 1]: the step after k updates is (k + 2)^-alpha (0.7 is usual)"
                .into(),
        )
    }
}

/// The rule for `batch`: lines per mini-batch (stepwise) or per block (incremental).
pub fn valid_batch(n: usize) -> Result<usize, String> {
    if n >= 1 {
        Ok(n)
    } else {
        Err("a whole number of lines >= 1".into())
    }
}

/// The rule for `anneal`, the first inverse temperature of deterministic annealing: the
/// posteriors are taken proportional to `p^beta`, flatter for `beta < 1`.
pub fn valid_anneal(b: f64) -> Result<f64, String> {
    if b > 0.0 && b <= 1.0 {
        Ok(b)
    } else {
        Err("an inverse temperature in (0, 1]: the schedule starts there and rises to 1".into())
    }
}

/// The rule for `anneal_rate`: each stage's inverse temperature is the last one's times it.
pub fn valid_anneal_rate(r: f64) -> Result<f64, String> {
    if r > 1.0 && r.is_finite() {
        Ok(r)
    } else {
        Err(
            "a finite number > 1: each stage's inverse temperature is the last one's times it"
                .into(),
        )
    }
}

/// The rule for `prior`, the concentration of the symmetric Dirichlet prior of variational
/// Bayes: any positive number (below 1 favours sparse rows).
pub fn valid_prior(a: f64) -> Result<f64, String> {
    if a > 0.0 && a.is_finite() {
        Ok(a)
    } else {
        Err("a finite number > 0 (below 1 favours sparse rows, 1 is uniform)".into())
    }
}

/// The algorithms that use setting `key`; `None` for settings every algorithm uses.
pub fn setting_users(key: &str) -> Option<&'static [Algorithm]> {
    Some(match key {
        "batch" => &[Algorithm::Stepwise, Algorithm::Incremental],
        "alpha" => &[Algorithm::Stepwise],
        "anneal" | "anneal_rate" => &[Algorithm::Em, Algorithm::Hard],
        "prior" => &[Algorithm::Vb],
        _ => return None,
    })
}

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub iterations: usize,
    pub tolerance: f64,
    pub restarts: usize,
    pub seed: u64,
    pub init: InitMode,
    pub algorithm: Algorithm,
    /// Lines per mini-batch (stepwise) or block (incremental).
    pub batch: usize,
    /// Stepwise EM's step-size exponent.
    pub alpha: f64,
    /// The first inverse temperature of deterministic annealing; `None`: no annealing.
    pub anneal: Option<f64>,
    pub anneal_rate: f64,
    /// Variational Bayes's symmetric Dirichlet concentration.
    pub prior: f64,
    /// Where each setting the block gives stands, for errors about their combination.
    pub spans: Vec<(String, Span)>,
}

impl Settings {
    /// Where the `train` block gives `key`, if it does.
    pub fn span(&self, key: &str) -> Option<Span> {
        self.spans.iter().find(|(k, _)| k == key).map(|(_, s)| *s)
    }
}

pub const DEFAULT_BATCH: usize = 1000;
pub const DEFAULT_ALPHA: f64 = 0.7;
pub const DEFAULT_ANNEAL_RATE: f64 = 1.5;
pub const DEFAULT_PRIOR: f64 = 1.0;

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            iterations: 100,
            tolerance: 1e-6,
            restarts: 1,
            seed: 0,
            init: InitMode::Random,
            algorithm: Algorithm::Em,
            batch: DEFAULT_BATCH,
            alpha: DEFAULT_ALPHA,
            anneal: None,
            anneal_rate: DEFAULT_ANNEAL_RATE,
            prior: DEFAULT_PRIOR,
            spans: Vec::new(),
        }
    }
}
