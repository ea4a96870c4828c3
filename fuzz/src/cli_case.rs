//! The `cli` fuzz target's inputs: fuzzer bytes become a command line of `emc` and the files it
//! names (a tiny model with a generated `train` block, its data, a parameter file, gold and
//! predicted tags), all in the current directory. Every run is short by construction: the
//! models and data are tiny and iteration counts are small; values whose handling is a known
//! runaway on the code of the day (huge restarts, sample sizes, thread counts, `/dev/zero`)
//! come out only without `EMC_FUZZ_SKIP_KNOWN` (see [`crate::known`]).
//!
//! A [`Case`] serialises to JSON (`{"args": [...], "files": {...}}`), the format of
//! `tests/fuzz_regressions/cli/*.json`, which `tests/fuzz_regressions.rs` replays through
//! the real `emc` binary.

use std::collections::BTreeMap;

use arbitrary::Unstructured;

/// A command line and the files it reads, by name (relative to the directory it runs in).
#[derive(Debug, Clone, Default)]
pub struct Case {
    /// The arguments after the program name.
    pub args: Vec<String>,
    pub files: BTreeMap<String, String>,
}

impl Case {
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n  \"args\": [");
        let args: Vec<String> = self.args.iter().map(|a| json_string(a)).collect();
        out.push_str(&args.join(", "));
        out.push_str("],\n  \"files\": {");
        let files: Vec<String> = self
            .files
            .iter()
            .map(|(k, v)| format!("\n    {}: {}", json_string(k), json_string(v)))
            .collect();
        out.push_str(&files.join(","));
        out.push_str("\n  }\n}\n");
        out
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A tiny model (without a `train` block) and data it accepts.
pub struct Template {
    pub name: &'static str,
    pub model: &'static str,
    pub data: &'static str,
}

pub const TEMPLATES: &[Template] = &[
    Template {
        name: "coins",
        model: "domain Coin = {A, B}\ndomain Face = {H, T}\ndata tosses : [Face]\n\
                param choice : Categorical(Coin)\nparam toss : Categorical(Face | Coin)\n\
                model {\n  hidden coin : Coin\n  coin ~ choice\n  \
                for i in 0..len(tosses): tosses[i] ~ toss(coin)\n}\n",
        data: "H T H\nT T\nH H H T\n",
    },
    Template {
        name: "gauss",
        model: "const K = 2\ndomain Comp = 0..K\ndata x : Real\nparam weight : Categorical(Comp)\n\
                param shape : Gaussian(Real | Comp) { covariance: full }\n\
                model {\n  hidden c : Comp\n  c ~ weight\n  x ~ shape(c)\n}\n",
        data: "1.0\n2.5\n-3\n10\n0.5\n",
    },
    Template {
        name: "hmm",
        model: "const K = 2\ndomain State = 0..K\ndomain Word = vocabulary(words)\n\
                data words : [Word]\nparam start : Categorical(State)\n\
                param trans : Categorical(State | State)\n\
                param emit : Logistic(Word | State) { features: [word, suffix(1)], l2: 1.0 }\n\
                model {\n  hidden z : [State; len(words)]\n  z[0] ~ start\n  \
                for i in 1..len(words): z[i] ~ trans(z[i-1])\n  \
                for i in 0..len(words): words[i] ~ emit(z[i])\n}\n",
        data: "the dog ran\na dog\nthe cat ran fast\n",
    },
    Template {
        name: "seg",
        model: "const MAXLEN = 3\ndomain Char = vocabulary(chars)\n\
                domain Word = substrings(chars, max_len = MAXLEN)\ndomain More = {yes, no}\n\
                data chars : [Char]\nparam more : Categorical(More)\nparam word : Categorical(Word)\n\
                proc utterance(i) {\n  if i == len(chars) {\n    no ~ more\n  } else {\n    \
                yes ~ more\n    for some j in i + 1 .. min(i + MAXLEN, len(chars)) + 1 {\n      \
                chars[i..j] ~ word\n      utterance(j)\n    }\n  }\n}\n\
                model { utterance(0) }\n",
        data: "a b a b\nb a\na a b\n",
    },
];

/// The parameter file a short run of each template writes (same order as [`TEMPLATES`]),
/// made once by the target before fuzzing.
pub type Fixtures = Vec<String>;

/// Turns fuzzer bytes into a case. `fixtures` are the templates' params.json texts.
pub fn case(bytes: &[u8], fixtures: &Fixtures) -> Case {
    let mut u = Unstructured::new(bytes);
    let mut g = CaseGen {
        u: &mut u,
        case: Case::default(),
    };
    g.generate(fixtures);
    g.case
}

struct CaseGen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
    case: Case,
}

const FILES: &[&str] = &[
    "model.em",
    "data.txt",
    "params.json",
    "out",
    "missing.em",
    ".",
    "",
    "/dev/null",
    "data.em",
    "gold.txt",
    "pred.txt",
];

const FLOATS: &[&str] = &[
    "0", "1e-6", "0.5", "-1", "-0", "NaN", "nan", "inf", "-inf", "1e308", "1e-320", "abc", "",
];

impl CaseGen<'_, '_> {
    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.u.int_in_range(0..=n - 1).unwrap_or(0)
    }

    fn one_in(&mut self, n: usize) -> bool {
        n > 0 && self.below(n) == n - 1
    }

    fn pick(&mut self, items: &[&str]) -> String {
        items[self.below(items.len())].to_string()
    }

    fn arg(&mut self, a: impl Into<String>) {
        self.case.args.push(a.into());
    }

    /// A value from `safe`, or (without `EMC_FUZZ_SKIP_KNOWN`) sometimes from `runaway`.
    fn bounded(&mut self, safe: &[&str], runaway: &[&str]) -> String {
        if !crate::known::enabled() && self.one_in(4) {
            self.pick(runaway)
        } else {
            self.pick(safe)
        }
    }

    /// A token made of the input's bytes: never one that starts with `-` (unless a number),
    /// so that a raw token never turns into an option the generator does not bound.
    fn raw(&mut self) -> String {
        let len = self.below(24);
        let bytes: Vec<u8> = (0..len)
            .map(|_| self.u.arbitrary::<u8>().unwrap_or(b'x'))
            .collect();
        // No `/`: a raw token may become `--out`'s directory, which must stay inside the
        // case's own directory.
        let s = String::from_utf8_lossy(&bytes)
            .replace(['\0', '/'], "")
            .replace("..", "_");
        if s.starts_with('-') && !s[1..].chars().all(|c| c.is_ascii_digit() || c == '.') {
            format!("x{s}")
        } else {
            s
        }
    }

    fn file(&mut self) -> String {
        if self.one_in(8) {
            return self.raw();
        }
        if !crate::known::enabled() && self.one_in(64) {
            return "/dev/zero".into();
        }
        self.pick(FILES)
    }

    fn generate(&mut self, fixtures: &Fixtures) {
        let t = self.below(TEMPLATES.len());
        self.files(t, fixtures);
        let command = self.pick(&[
            "run", "run", "run", "check", "graph", "decode", "sample", "eval", "score", "select",
            "estep", "mstep", "plot", "help", "rn", "",
        ]);
        if command.is_empty() {
            let flag = self.pick(&["--help", "--version", "-h", "-V", "--threads"]);
            self.arg(flag);
            return;
        }
        self.arg(command.clone());
        // Positionals in the usual order, sometimes swapped or missing.
        let positionals = match command.as_str() {
            "run" | "decode" | "score" | "select" | "estep" | "mstep" => 2,
            "check" | "graph" => 1 + self.below(2),
            "sample" => 1,
            _ => 0,
        };
        // Its traces are positionals: a run's, and any file standing for a damaged one.
        if command == "plot" {
            for _ in 0..self.below(4) {
                let trace = if self.one_in(2) {
                    "out/trace.tsv".to_string()
                } else {
                    self.file()
                };
                self.arg(trace);
            }
        }
        let mut pos = vec!["model.em".to_string(), "data.txt".to_string()];
        if self.one_in(8) {
            pos.swap(0, 1);
        }
        for p in pos.into_iter().take(positionals) {
            let p = if self.one_in(10) { self.file() } else { p };
            self.arg(p);
        }
        for _ in 0..self.below(7) {
            self.option(&command);
        }
        // A run of the default 100 iterations takes ten times longer than the rest of a case;
        // when neither the command line nor a `train` block sets a count, set a small one.
        let model = &self.case.files["model.em"];
        let counted = self.case.args.iter().any(|a| a.starts_with("--iterations"))
            || model.contains("iterations");
        if (command == "run" || command == "select") && !counted {
            let n = self.pick(&["0", "1", "2"]);
            self.arg("--iterations");
            self.arg(n);
        }
        if self.one_in(10) {
            let p = self.file();
            self.arg(p);
        }
    }

    fn option(&mut self, command: &str) {
        let run_opts: &[&str] = &[
            "--iterations",
            "--tolerance",
            "--restarts",
            "--seed",
            "--init-mode",
            "--init",
            "--set",
            "--threads",
            "--quiet",
            "-q",
            "--on-zero",
            "--algorithm",
            "--algorithm",
            "--batch",
            "--alpha",
            "--anneal",
            "--anneal-rate",
            "--prior",
            "--resume",
            "--decode",
            "--no-params",
            "--out",
        ];
        let opt = match command {
            "run" => self.pick(run_opts),
            "check" | "graph" => self.pick(&["--set", "--line", "--out"]),
            "decode" => self.pick(&["--params", "--posterior", "--set", "--params"]),
            "sample" => self.pick(&["--params", "-n", "--count", "--seed", "--length", "--set"]),
            "eval" => self.pick(&["--gold", "--pred", "--metric"]),
            "plot" => self.pick(&["--label", "--from", "--title", "--out"]),
            "score" => self.pick(&[
                "--params",
                "--params",
                "--per-line",
                "--bic",
                "--aic",
                "--set",
                "--threads",
            ]),
            "select" if self.one_in(2) => {
                self.pick(&["--set", "--held-out", "--by", "--out", "--set"])
            }
            "estep" => self.pick(&[
                "--params",
                "--params",
                "--shard",
                "--shard",
                "--out",
                "--set",
                "--threads",
                "--on-zero",
            ]),
            // Its counts files are positionals: any file stands for a damaged one.
            "mstep" if self.one_in(3) => self.file(),
            "mstep" => self.pick(&["--params", "--params", "--out", "--set", "--threads"]),
            _ => self.pick(run_opts),
        };
        let value = match opt.as_str() {
            "--iterations" => Some(self.pick(&["0", "1", "2", "3", "-1", "x", "1e3"])),
            "--tolerance" => Some(self.pick(FLOATS)),
            "--restarts" => Some(self.bounded(
                &["0", "1", "2", "-1", ""],
                &["1000000000000", "18446744073709551615"],
            )),
            "--seed" => Some(self.pick(&["0", "7", "18446744073709551615", "-1", "x"])),
            "--threads" => Some(self.bounded(
                &["0", "1", "2", "3", "8", "-1", "x"],
                &["1000", "100000", "18446744073709551615"],
            )),
            "-n" | "--count" => Some(self.bounded(
                &["0", "1", "2", "5", "-1"],
                &["1000000000000000", "18446744073709551615"],
            )),
            "--length" => Some(self.bounded(
                &["0", "1", "3", "30", "-1"],
                &["1000000000000", "18446744073709551615"],
            )),
            "--line" => {
                Some(self.pick(&["0", "1", "2", "3", "4", "1000000", "18446744073709551615"]))
            }
            "--init-mode" => Some(self.pick(&["random", "uniform", "given"])),
            "--on-zero" => Some(self.pick(&["stop", "skip", "halt"])),
            "--shard" => Some(self.pick(&[
                "0/1",
                "0/2",
                "1/2",
                "2/2",
                "1/3",
                "0/0",
                "-1/2",
                "1",
                "x/y",
                "0/1048577",
                "0/18446744073709551616",
            ])),
            "--by" => Some(self.pick(&["heldout", "bic", "aic", "aicc"])),
            "--from" => Some(self.pick(&["0", "1", "3", "-1", "x", "18446744073709551615"])),
            "--label" | "--title" => Some(if self.one_in(2) {
                self.raw()
            } else {
                self.pick(&["em", "", "a b", "\u{1b}[2J"])
            }),
            "--held-out" => Some(self.file()),
            "--algorithm" => Some(self.pick(&[
                "em",
                "direct",
                "stepwise",
                "incremental",
                "hard",
                "vb",
                "gibbs",
            ])),
            "--batch" => Some(self.pick(&["1", "2", "7", "0", "-3", "1e9"])),
            "--alpha" => Some(self.pick(&["0.7", "1", "0.5", "0.51", "nan", "2"])),
            "--anneal" => Some(self.pick(&["0.1", "0.5", "1", "0", "1e-300", "inf"])),
            "--anneal-rate" => Some(self.pick(&["1.5", "2", "1", "1e300", "nan"])),
            "--prior" => Some(self.pick(&["0.1", "1", "1e-300", "0", "-1", "1e300"])),
            "--metric" => Some(self.pick(&[
                "many-to-one",
                "one-to-one",
                "v-measure",
                "aer",
                "segmentation",
                "attachment",
                "bleu",
            ])),
            "--set" => Some(if self.one_in(4) {
                self.raw()
            } else {
                self.pick(&[
                    "K=3",
                    "K=1,2",
                    "K=2,3,4",
                    "K=1,,2",
                    "K=,",
                    "K=1",
                    "K=0",
                    "K=-1",
                    "K=1e9",
                    "K=99999999999999999999",
                    "MAXLEN=1",
                    "MAXLEN=0",
                    "NOPE=1",
                    "K",
                    "=",
                    "K= 2",
                ])
            }),
            "--init" | "--params" | "--gold" | "--pred" | "--resume" | "--out" => Some(self.file()),
            _ => None,
        };
        if let Some(v) = value {
            if self.one_in(3) && opt.starts_with("--") {
                self.arg(format!("{opt}={v}"));
            } else {
                self.arg(opt);
                self.arg(v);
            }
        } else {
            self.arg(opt);
        }
    }

    fn files(&mut self, t: usize, fixtures: &Fixtures) {
        let template = &TEMPLATES[t];
        let mut model = template.model.to_string();
        for _ in 0..self.below(3) {
            model.push_str(&self.train_block());
        }
        if self.one_in(16) {
            model = format!("\u{feff}{model}");
        }
        let mut data = template.data.to_string();
        match self.below(12) {
            0 => data = data.replace('\n', "\r"),
            1 => data = data.replace('\n', "\r\n"),
            2 => data = format!("\u{feff}{data}"),
            3 => data.clear(),
            4 => data.push_str("? ?\n"),
            5 => {
                let raw = self.raw();
                data.push_str(&raw);
            }
            _ => {}
        }
        let params = match self.below(6) {
            0 => fixtures[self.below(fixtures.len())].clone(),
            1 => {
                // A valid file cut short, or with a number replaced.
                let p = &fixtures[t];
                let at = self.below(p.len());
                let mut at = at;
                while !p.is_char_boundary(at) {
                    at -= 1;
                }
                if self.one_in(2) {
                    p[..at].to_string()
                } else {
                    let weird = self.pick(&["NaN", "-1", "1e309", "null", "[]", "\"x\"", "0"]);
                    format!("{}{weird}{}", &p[..at], &p[at..])
                }
            }
            2 => String::new(),
            _ => fixtures[t].clone(),
        };
        let gold = "A B A\nB B\n".to_string();
        let pred = match self.below(4) {
            0 => "1 2 1\n2 2\n".to_string(),
            1 => "1 2\n".to_string(),
            2 => self.raw(),
            _ => "0 1 0\n1 1\n".to_string(),
        };
        self.case.files.insert("model.em".into(), model);
        self.case.files.insert("data.txt".into(), data);
        self.case.files.insert("params.json".into(), params);
        self.case.files.insert("gold.txt".into(), gold);
        self.case.files.insert("pred.txt".into(), pred);
        if self.one_in(8) {
            // A model where data goes, for the swapped-arguments check.
            let m = TEMPLATES[t].model.to_string();
            self.case.files.insert("data.em".into(), m);
        }
    }

    /// A `train` block: known keys (repeated sometimes) with good and bad values; iteration
    /// counts stay small so every run is short.
    fn train_block(&mut self) -> String {
        let mut items = Vec::new();
        for _ in 0..1 + self.below(4) {
            // The block's keys, a misspelt one and a command-line option that is not one.
            let keys = [&emc::model::SETTING_KEYS[..], &["iteration", "threads"]].concat();
            let key = self.pick(&keys);
            let value = match key.as_str() {
                "iterations" => self.pick(&["0", "1", "3", "-1", "2.5", "x"]),
                "tolerance" => self.pick(FLOATS),
                "restarts" => self.bounded(&["0", "1", "2", "-1"], &["1000000000000"]),
                "init" => self.pick(&["random", "uniform", "given", "\"random\""]),
                "algorithm" => self.pick(&["em", "direct", "gibbs"]),
                _ => self.pick(&["0", "1", "18446744073709551616", "-1", "x"]),
            };
            let sep = self.pick(&[": ", " = "]);
            items.push(format!("{key}{sep}{value}"));
        }
        format!("train {{ {} }}\n", items.join(", "))
    }
}
