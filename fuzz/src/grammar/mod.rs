//! A grammar-aware generator for the `grammar` fuzz target: fuzzer bytes drive the choices of
//! a printer of models (`arbitrary::Unstructured`), so that nearly every input is a model that
//! parses and most of them refer to names that exist, and the checker, the planner and the
//! probe unroll see deep and odd *valid-looking* stories instead of byte soup.
//!
//! Every construct of `grammar/emc.pest` can come out: constants, domains (symbol sets,
//! ranges, vocabularies with options, substrings, aliases, extensions), data lines (groups,
//! sequences, reals, vectors, weights), the three family kinds with their options, tables,
//! train blocks, procedures, and stories with hidden variables, lets, lists, loops (braced and
//! `:`), draws (`from`, `within`), assignments, calls, `if`/`else if`, `for some`, spans,
//! `output`, `min`/`max`, `len`. A few choices in a hundred take a *stress* shape instead: a
//! very long flat chain (`1+1+...`, `s[0][0]...`, `[H] ++ [H] ++ ...`, `not not ...`,
//! `else if` ladders, `for` nests without braces, nested brackets) of up to 10^5 links, or a
//! large declaration (a domain of thousands of symbols, thousands of statements).
//!
//! Names are mostly picked among the declared ones (a few are misspelt or undeclared on
//! purpose), so the checker's deeper passes run. When the input runs out, every choice is its
//! first option, so generation always ends.

mod story;
mod typed;

use arbitrary::Unstructured;

/// Longest text the generator writes; the model pipeline looks at inputs up to this size.
pub const MAX_TEXT: usize = crate::pipeline::MAX_MODEL_INPUT;

/// Lengths of the stress chains, from well inside the limits to well past the sizes that
/// crashed emc (20k terms, 5k indexes or `for`s); capped by [`chain_cap`].
const CHAIN_LENGTHS: &[usize] = &[50, 255, 256, 257, 1000, 5000, 20_000, 100_000];

/// The longest stress chain the generator makes. Without `EMC_FUZZ_SKIP_KNOWN` any length;
/// with it, short enough to step over the known stack overflows on flat chains
/// ([`crate::known::KNOWN_DEEP_CHAIN`]), so a campaign looks past them.
fn chain_cap() -> usize {
    if crate::known::enabled() {
        crate::known::KNOWN_DEEP_CHAIN
    } else {
        usize::MAX
    }
}

/// A domain the generator declared, and what it holds.
#[derive(Clone)]
struct Domain {
    name: String,
    /// Symbols, for a symbol set (empty for ranges and vocabularies).
    symbols: Vec<String>,
    /// Whether it is an integer range.
    range: bool,
    /// Whether it is made from a field (`substrings`) or names another domain: a field of
    /// such a domain can make a cycle ([`crate::known::KNOWN_SELF_SUBSTRINGS`]).
    derived: bool,
    /// The field a vocabulary (`true`) or `substrings` (`false`) is made from, by index.
    source: Option<(usize, bool)>,
}

/// A data field.
#[derive(Clone)]
struct Field {
    name: String,
    /// A sequence (`[T]`).
    seq: bool,
    /// Real-valued (`Real`, `Real[2]`).
    real: bool,
    /// Index into [`Gen::domains`] of its domain, if symbolic.
    domain: Option<usize>,
}

#[derive(Clone)]
struct Family {
    name: String,
    /// Index into [`Gen::domains`] of the outcome's domain (`None`: real-valued, or a name
    /// that is not a declared domain).
    out: Option<usize>,
    /// Number of conditions.
    conds: Vec<usize>,
    gaussian: bool,
}

#[derive(Clone)]
struct Proc {
    name: String,
    /// Per parameter: its domain, or `None` for an integer.
    params: Vec<Option<usize>>,
}

/// The generator: the input, the text so far and the names in scope.
pub struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
    out: String,
    consts: Vec<String>,
    domains: Vec<Domain>,
    fields: Vec<Field>,
    families: Vec<Family>,
    tables: Vec<(String, usize)>,
    procs: Vec<Proc>,
    /// Variables in scope in the story: name and whether it is an array.
    vars: Vec<(String, bool)>,
    /// Integer names in scope (loop variables, procedure positions).
    ints: Vec<String>,
    /// Statement nesting depth, to keep ordinary generation small.
    depth: usize,
    /// Counter for fresh names.
    fresh: usize,
    /// No deliberate mistakes (misspelt or undeclared names, bad option values, odd numbers):
    /// half the inputs, so that many generated models pass the checker and reach the planner.
    careful: bool,
}

/// The model text for fuzzer bytes.
pub fn model(bytes: &[u8]) -> String {
    let mut u = Unstructured::new(bytes);
    let mut g = Gen::new(&mut u);
    g.file();
    g.out.truncate(floor_char_boundary(&g.out, MAX_TEXT));
    g.out
}

fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

const SYMBOLS: &[&str] = &[
    "A", "B", "C", "H", "T", "O", "AB", "NULL", "yes", "no", "0", "1", "x'", "_",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "10",
    "-1",
    "0.5",
    "1e-7",
    "1e308",
    "1e309",
    "-0",
    "255",
    "256",
    "1048576",
    "1048577",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "NaN",
    "1.5e",
];

impl<'a, 'b> Gen<'a, 'b> {
    fn new(u: &'b mut Unstructured<'a>) -> Self {
        Gen {
            u,
            out: String::new(),
            consts: Vec::new(),
            domains: Vec::new(),
            fields: Vec::new(),
            families: Vec::new(),
            tables: Vec::new(),
            procs: Vec::new(),
            vars: Vec::new(),
            ints: Vec::new(),
            depth: 0,
            fresh: 0,
            careful: false,
        }
    }

    // ---- choices -------------------------------------------------------------------------

    /// A number in `0..n` (0 when the input is used up or `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.u.int_in_range(0..=n - 1).unwrap_or(0)
    }

    /// True about once in `n` times (never when the input is used up).
    fn one_in(&mut self, n: usize) -> bool {
        n > 0 && self.below(n) == n - 1
    }

    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.below(items.len())]
    }

    /// A deliberate mistake, about once in `n` times (never in careful mode).
    fn oops(&mut self, n: usize) -> bool {
        !self.careful && self.one_in(n)
    }

    /// One of `good`, or now and then (not in careful mode) one of `bad`.
    fn pick_ok<'s>(&mut self, good: &[&'s str], bad: &[&'s str]) -> &'s str {
        if self.oops(8) {
            self.pick(bad)
        } else {
            self.pick(good)
        }
    }

    fn full(&self) -> bool {
        self.out.len() >= MAX_TEXT
    }

    fn w(&mut self, s: &str) {
        if !self.full() {
            self.out.push_str(s);
        }
    }

    fn fresh(&mut self, stem: &str) -> String {
        self.fresh += 1;
        format!("{stem}{}", self.fresh)
    }

    /// A name that exists (mostly) or a near miss.
    fn name_from(&mut self, names: &[String], stem: &str) -> String {
        if names.is_empty() || self.oops(24) {
            return match self.below(3) {
                0 => format!("{stem}_undeclared"),
                1 => names.first().map_or("x".into(), |n| format!("{n}x")),
                _ => self
                    .pick(&["len", "in", "some", "if", "Real", "weight"])
                    .into(),
            };
        }
        names[self.below(names.len())].clone()
    }

    fn number(&mut self) -> String {
        if self.oops(6) {
            self.pick(NUMBERS).to_string()
        } else {
            self.below(6).to_string()
        }
    }

    /// How long a stress chain is.
    fn chain_len(&mut self) -> usize {
        let n = CHAIN_LENGTHS[self.below(CHAIN_LENGTHS.len())];
        n.min(chain_cap()).min(MAX_TEXT / 4)
    }

    /// An integer expression of numbers and constants, as declarations need.
    fn decl_int(&mut self) -> String {
        let atom = |g: &mut Self| {
            if !g.consts.is_empty() && g.one_in(3) {
                let consts = g.consts.clone();
                g.name_from(&consts, "K")
            } else {
                g.number()
            }
        };
        let a = atom(self);
        match self.below(4) {
            0 => format!("{a} + {}", atom(self)),
            1 => format!("{a} - {}", atom(self)),
            _ => a,
        }
    }

    fn domain_names(&self) -> Vec<String> {
        self.domains.iter().map(|d| d.name.clone()).collect()
    }

    fn field_names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }

    // ---- the file ------------------------------------------------------------------------

    fn file(&mut self) {
        self.careful = self.one_in(2);
        if self.oops(32) {
            self.w("\u{feff}");
        }
        if self.one_in(8) {
            let comment = self.pick(&["# a comment\n", "#\n", "# ünïcödé ≠ ascii\r\n"]);
            self.w(comment);
        }
        for _ in 0..self.below(3) {
            let name = self.fresh("K");
            let value = self.number();
            self.w(&format!("const {name} = {value}\n"));
            self.consts.push(name);
        }
        // Fields first (in the generator, not the text): vocabularies name them.
        self.plan_fields();
        let n_domains = 1 + self.below(4);
        for _ in 0..n_domains {
            self.domain_decl();
        }
        self.bind_fields();
        self.data_decl();
        for _ in 0..1 + self.below(4) {
            self.param_decl();
        }
        // Tables need closed domains and rows of their symbols: not in careful mode.
        for _ in 0..if self.careful { 0 } else { self.below(2) } {
            self.table_decl();
        }
        for _ in 0..if self.careful {
            self.below(2)
        } else {
            self.below(3)
        } {
            self.train_decl();
        }
        if self.one_in(3) {
            self.stress_decl();
        }
        // A careful model is a flat story whose draws fit their families; the others have
        // procedures and every kind of statement.
        let typed = self.careful && !self.one_in(4);
        if !typed {
            self.procs();
        }
        self.w("model {\n");
        self.depth = 1;
        if typed {
            self.typed_story();
        } else {
            let n = 1 + self.below(6);
            self.block_body(n);
        }
        self.w("}\n");
        if self.oops(16) {
            // Something after the story: a second model, or a stray token.
            let tail = self.pick(&["model { }\n", "}\n", "param", "# end\n", "\0"]);
            self.w(tail);
        }
    }

    fn plan_fields(&mut self) {
        for _ in 0..1 + self.below(3) {
            let name = self.fresh("f");
            let real = self.one_in(5);
            let seq = !real || self.one_in(3);
            self.fields.push(Field {
                name,
                seq,
                real,
                domain: None,
            });
        }
    }

    fn domain_decl(&mut self) {
        let name = self.fresh("D");
        let mut symbols = Vec::new();
        let mut range = false;
        let mut derived = false;
        let mut source = None;
        self.w(&format!("domain {name} = "));
        let mut kind = self.below(6);
        if kind == 5 && self.domains.is_empty() && self.careful {
            // An alias needs a domain to name.
            kind = 0;
        }
        match kind {
            0 | 1 => {
                let n = 1 + self.below(4);
                for i in 0..n {
                    let s = if !self.careful && self.one_in(3) {
                        self.pick(SYMBOLS).to_string()
                    } else {
                        format!("{name}_{i}")
                    };
                    symbols.push(s);
                }
                let text = format!("{{{}}}", symbols.join(", "));
                self.w(&text);
            }
            2 => {
                range = true;
                let (lo, hi) = if self.careful {
                    let n = 1 + self.below(5);
                    ("0".to_string(), n.to_string())
                } else {
                    (self.decl_int(), self.decl_int())
                };
                self.w(&format!("{lo}..{hi}"));
            }
            3 => {
                let fields = self.field_names();
                let f = if self.careful {
                    let k = self.below(fields.len());
                    source = Some((k, true));
                    fields[k].clone()
                } else {
                    self.name_from(&fields, "f")
                };
                self.w(&format!("vocabulary({f}"));
                if self.one_in(4) {
                    let g = self.name_from(&fields, "f");
                    self.w(&format!(", {g}"));
                }
                match self.below(4) {
                    0 => self.w(", unknown = \"<unk>\""),
                    1 => {
                        let n = if self.careful {
                            (1 + self.below(3)).to_string()
                        } else {
                            self.number()
                        };
                        self.w(&format!(", min_count = {n}"));
                    }
                    _ => {}
                }
                self.w(")");
            }
            4 => {
                derived = true;
                let fields = self.field_names();
                let f = if self.careful {
                    let k = self.below(fields.len());
                    source = Some((k, false));
                    fields[k].clone()
                } else {
                    self.name_from(&fields, "f")
                };
                let n = self.number();
                self.w(&format!("substrings({f}, max_len = {n})"));
            }
            _ => {
                derived = true;
                let names = self.domain_names();
                let other = self.name_from(&names, "D");
                self.w(&other);
            }
        }
        // Extensions: of symbol sets and vocabularies only when careful, with a new symbol.
        while self.one_in(4) && !(self.careful && (range || derived)) {
            let s = if self.careful {
                format!("{name}_x{}", symbols.len())
            } else {
                self.pick(SYMBOLS).to_string()
            };
            self.w(&format!(" + {{{s}}}"));
            symbols.push(s);
        }
        self.w("\n");
        self.domains.push(Domain {
            name,
            symbols,
            range,
            derived,
            source,
        });
    }

    /// Gives each symbolic field a domain, now that they exist.
    fn bind_fields(&mut self) {
        let avoid = crate::known::enabled() && crate::known::KNOWN_SELF_SUBSTRINGS;
        let plain: Vec<usize> = (0..self.domains.len())
            .filter(|&d| !self.domains[d].derived)
            .collect();
        for i in 0..self.fields.len() {
            if !self.fields[i].real {
                if avoid && plain.is_empty() {
                    self.fields[i].real = true;
                    continue;
                }
                let d = if avoid {
                    plain[self.below(plain.len())]
                } else {
                    self.below(self.domains.len())
                };
                self.fields[i].domain = Some(d);
            }
        }
        if self.careful {
            self.bind_sources(&plain);
        }
    }

    /// Careful mode: a vocabulary's field is a sequence of that vocabulary, and a
    /// `substrings` domain's field a sequence of some other symbolic domain.
    fn bind_sources(&mut self, plain: &[usize]) {
        for d in 0..self.domains.len() {
            let Some((f, vocab)) = self.domains[d].source else {
                continue;
            };
            let field = &mut self.fields[f];
            field.real = false;
            field.seq = true;
            if vocab {
                field.domain = Some(d);
            } else if field.domain.is_none_or(|e| self.domains[e].derived) {
                field.domain = plain.first().copied();
            }
        }
    }

    fn data_decl(&mut self) {
        self.w("data ");
        let fields = self.fields.clone();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                // A sequence field must end its group.
                let sep = if fields[i - 1].seq || self.one_in(3) {
                    " ||| "
                } else {
                    ", "
                };
                self.w(sep);
            }
            let ty = match (f.real, f.domain) {
                (true, _) => {
                    if self.one_in(2) {
                        let n = self.decl_int();
                        format!("Real[{n}]")
                    } else {
                        "Real".into()
                    }
                }
                (false, Some(d)) => self.domains[d].name.clone(),
                (false, None) => "Missing".into(),
            };
            if f.seq {
                self.w(&format!("{} : [{ty}]", f.name));
            } else {
                self.w(&format!("{} : {ty}", f.name));
            }
        }
        if self.one_in(4) {
            let w = self.fresh("w");
            let sep = if self.fields.last().is_some_and(|f| f.seq) {
                " ||| "
            } else {
                ", "
            };
            self.w(&format!("{sep}{w} : weight"));
        }
        self.w("\n");
    }

    fn param_decl(&mut self) {
        let name = self.fresh("p");
        let names = self.domain_names();
        let kind = match self.below(8) {
            // A Logistic family needs feature templates that fit its outcome: rare when careful.
            0 if !self.careful || self.one_in(8) => "Logistic",
            1 => "Gaussian",
            2 if self.oops(2) => "Categoricl",
            _ => "Categorical",
        };
        let gaussian = kind == "Gaussian";
        let mut out_index = None;
        let out = if gaussian || self.oops(16) {
            if self.careful || self.one_in(2) {
                "Real".to_string()
            } else {
                format!("Real[{}]", self.decl_int())
            }
        } else if self.oops(24) {
            self.name_from(&names, "D")
        } else {
            let d = self.below(self.domains.len());
            out_index = Some(d);
            self.domains[d].name.clone()
        };
        let mut conds = Vec::new();
        for _ in 0..self.below(3) {
            conds.push(self.below(self.domains.len()));
        }
        let cond_text: Vec<String> = conds
            .iter()
            .map(|&c| self.domains.get(c).map_or("D".into(), |d| d.name.clone()))
            .collect();
        self.w(&format!("param {name} : {kind}({out}"));
        if !cond_text.is_empty() {
            self.w(&format!(" | {}", cond_text.join(", ")));
        }
        self.w(")");
        if self.careful {
            self.careful_options(kind);
        } else if self.one_in(2) {
            self.family_options(kind);
        }
        self.w("\n");
        self.families.push(Family {
            name,
            out: out_index,
            conds,
            gaussian,
        });
    }

    fn family_options(&mut self, kind: &str) {
        self.w(" { ");
        for _ in 0..1 + self.below(3) {
            let opt = match kind {
                "Logistic" => match self.below(4) {
                    0 => format!("features: [{}]", self.features()),
                    1 => format!("l2: {}", self.number()),
                    2 => format!("m_step_tolerance: {}", self.number()),
                    _ => format!("init: {}", self.value_array(2)),
                },
                "Gaussian" => match self.below(5) {
                    0 => format!(
                        "covariance: {}",
                        self.pick_ok(
                            &["full", "diagonal", "diag", "spherical", "tied"],
                            &["round"]
                        )
                    ),
                    1 => format!("reg_covar: {}", self.number()),
                    2 => format!(
                        "seeding: {}",
                        self.pick_ok(&["kmeans", "random"], &["best"])
                    ),
                    3 => format!("init_means: {}", self.value_array(2)),
                    _ => format!("init_covariances: {}", self.value_array(3)),
                },
                _ => match self.below(5) {
                    0 => "fixed".into(),
                    1 => format!("init: {}", self.value_array(2)),
                    2 => format!("smoothing: {}", self.number()),
                    3 => format!(
                        "storage: {}",
                        self.pick_ok(&["auto", "dense", "sparse"], &["compact"])
                    ),
                    _ => format!(
                        "{}: {}",
                        self.pick_ok(&["smoothing"], &["fixd", "init", "seed"]),
                        self.number()
                    ),
                },
            };
            self.w(&opt);
            let sep = self.pick(&[", ", "; ", " ", ",\n"]);
            self.w(sep);
        }
        self.w("}");
    }

    fn features(&mut self) -> String {
        let mut items = Vec::new();
        for _ in 0..1 + self.below(4) {
            let f = match self.below(21) {
                0 => "word".into(),
                1 => "digit".into(),
                2 => "hyphen".into(),
                3 => "capital".into(),
                4 => "allcaps".into(),
                5 => "shape".into(),
                6 => format!("suffix({})", self.number()),
                7 => format!("prefix({})", self.number()),
                8 => format!("distance({})", self.number()),
                9 => "shared(word)".into(),
                10 => format!("by({}, word)", self.below(3)),
                11 => "length".into(),
                12 => format!("count({})", self.pick(&["\"aeiou\"", "\"\"", "3"])),
                13 => format!("suffix({}, \"ao\")", self.number()),
                14 => format!(
                    "prefix({}, {})",
                    self.number(),
                    self.pick(&["\"\"", "\"x\""])
                ),
                15 => format!(
                    "coarse({})",
                    self.pick(&["\"a b\", \"c\"", "", "\"a\", \"a\""])
                ),
                16 => format!(
                    "by({}, coarse({}, \"a b\"), {})",
                    self.below(2),
                    self.below(3),
                    self.pick(&["word", "coarse(\"a\")"])
                ),
                17 => format!("shared(common_prefix({}))", self.number()),
                18 => format!("edit_distance({})", self.number()),
                19 => {
                    let n = self.number();
                    let f = self.pick(&["prefix_pair({})", "shared(prefix_pair({}))"]);
                    f.replace("{}", &n)
                }
                _ => "wordd".into(),
            };
            items.push(f);
        }
        items.join(", ")
    }

    /// A (nested) array of numbers, `depth` levels deep at most.
    fn value_array(&mut self, depth: usize) -> String {
        let n = self.below(4);
        let items: Vec<String> = (0..n)
            .map(|_| {
                if depth > 1 && self.one_in(2) {
                    self.value_array(depth - 1)
                } else {
                    self.number()
                }
            })
            .collect();
        format!("[{}]", items.join(", "))
    }

    fn table_decl(&mut self) {
        let name = self.fresh("tab");
        let names = self.domain_names();
        let n_args = 1 + self.below(2);
        let args: Vec<String> = (0..n_args).map(|_| self.name_from(&names, "D")).collect();
        let result = self.below(self.domains.len());
        let result_name = self.domains[result].name.clone();
        self.w(&format!(
            "table {name}({}) -> {result_name} {{\n",
            args.join(", ")
        ));
        for _ in 0..self.below(5) {
            let row: Vec<String> = (0..n_args).map(|_| self.symbol()).collect();
            let to = self.symbol();
            self.w(&format!("    {} -> {to}\n", row.join(" ")));
        }
        self.w("}\n");
        self.tables.push((name, n_args));
    }

    /// A symbol of some declared domain, mostly.
    fn symbol(&mut self) -> String {
        let d = self.below(self.domains.len());
        if self.domains.get(d).is_some_and(|d| d.range) {
            return self.below(4).to_string();
        }
        let syms = self
            .domains
            .get(d)
            .map(|d| d.symbols.clone())
            .unwrap_or_default();
        if syms.is_empty() || self.oops(8) {
            self.pick(SYMBOLS).to_string()
        } else {
            syms[self.below(syms.len())].clone()
        }
    }

    fn train_decl(&mut self) {
        if self.careful {
            let n = self.below(20);
            let seed = self.below(100);
            self.w(&format!("train {{ iterations: {n}, seed: {seed} }}\n"));
            return;
        }
        self.w("train { ");
        for _ in 0..1 + self.below(4) {
            let key = self.pick(&emc::model::SETTING_KEYS);
            let key = if self.oops(8) { "iteration" } else { key };
            let value = match key {
                // Bounded: the probe and the plan never train, but keep the file honest.
                "iterations" => self.below(20).to_string(),
                "init" => self
                    .pick_ok(&["random", "uniform"], &["given", "\"random\""])
                    .into(),
                "algorithm" => self.pick_ok(&["em", "direct"], &["gibbs"]).into(),
                _ => self.number(),
            };
            let sep = self.pick(&[": ", " = ", ":"]);
            self.w(&format!("{key}{sep}{value}, "));
        }
        self.w("}\n");
    }

    /// A large declaration: many symbols, many params, a long table.
    fn stress_decl(&mut self) {
        let n = self.chain_len();
        match self.below(3) {
            0 => {
                let name = self.fresh("Big");
                self.w(&format!("domain {name} = {{"));
                for i in 0..n {
                    if self.full() {
                        break;
                    }
                    self.w(&format!("s{i}, "));
                }
                self.w("}\n");
                self.domains.push(Domain {
                    name,
                    symbols: vec!["s0".into(), "s1".into()],
                    range: false,
                    derived: false,
                    source: None,
                });
            }
            1 => {
                let names = self.domain_names();
                let d = self.name_from(&names, "D");
                for _ in 0..n.min(5000) {
                    if self.full() {
                        break;
                    }
                    let name = self.fresh("q");
                    self.w(&format!("param {name} : Categorical({d})\n"));
                }
            }
            _ => {
                // A constant is one number: the chain goes into a range's bound.
                let name = self.fresh("Long");
                let chain = vec!["1"; n].join(" + ");
                self.w(&format!("domain {name} = 0..{chain}\n"));
            }
        }
    }
}
