//! Data lines to instances. The model's `data` declaration says what a line holds; vocabulary
//! domains are collected here (first appearance order, so the same file gives the same ids).

use std::hash::BuildHasher;

use hashbrown::hash_table::{Entry, HashTable};
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::{DomainBase, DomainId, FieldKind, Model};
use crate::syntax::ast::Span;

mod stream;
mod tokens;
pub use stream::{read_part, DomainScan};
pub use tokens::Tokens;

/// The token that marks a missing value: the variable becomes hidden. In fields whose domain
/// is a vocabulary it is an ordinary word (text corpora are full of question marks).
pub const MISSING: &str = "?";
/// The token that separates the groups of a line (`f1 f2 ||| e1 e2`).
pub const SEPARATOR: &str = "|||";
const MAX_ERRORS: usize = 20;

/// Lines whose words one task counts when collecting a vocabulary.
const VOCABULARY_BLOCK: usize = 4096;

/// Every domain's symbols, in index order, and a table per domain to find a symbol's index
/// by its name: the indices alone, hashed by the names they stand for (four bytes a symbol,
/// where a map from a copy of each name took forty and more; the Hansards' two vocabularies
/// have 31k words).
#[derive(Clone, Debug)]
pub struct Domains {
    pub symbols: Vec<Vec<String>>,
    index: Vec<HashTable<u32>>,
}

/// The tables follow from the symbols.
impl PartialEq for Domains {
    fn eq(&self, other: &Domains) -> bool {
        self.symbols == other.symbols
    }
}

fn name_hash(name: &str) -> u64 {
    FxBuildHasher.hash_one(name)
}

impl Domains {
    pub fn new(symbols: Vec<Vec<String>>) -> Domains {
        let index = symbols
            .iter()
            .map(|names| {
                let mut table = HashTable::with_capacity(names.len());
                for (i, name) in names.iter().enumerate() {
                    let found = table.entry(
                        name_hash(name),
                        |j: &u32| names[*j as usize] == *name,
                        |j: &u32| name_hash(&names[*j as usize]),
                    );
                    // A name given twice is found at its last index, as a map's insert does.
                    match found {
                        Entry::Occupied(mut o) => *o.get_mut() = i as u32,
                        Entry::Vacant(v) => {
                            v.insert(i as u32);
                        }
                    }
                }
                table
            })
            .collect();
        Domains { symbols, index }
    }

    pub fn size(&self, d: DomainId) -> usize {
        self.symbols[d].len()
    }

    pub fn lookup(&self, d: DomainId, symbol: &str) -> Option<u32> {
        let names = &self.symbols[d];
        self.index[d]
            .find(name_hash(symbol), |j| names[*j as usize] == symbol)
            .copied()
    }

    pub fn name(&self, d: DomainId, i: u32) -> &str {
        &self.symbols[d][i as usize]
    }
}

/// One value of a line: `None` where the data says `?`.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Scalar(Option<u32>),
    Sequence(Tokens),
    Weight(f64),
    /// A real vector; NaN where the data says `?`.
    Real(Vec<f64>),
    RealSequence(Vec<Vec<f64>>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// 1-based line number in the data file.
    pub line: usize,
    /// By `FieldId`.
    pub values: Vec<FieldValue>,
    pub weight: f64,
}

#[derive(Clone, Debug)]
pub struct Dataset {
    pub instances: Vec<Instance>,
    pub domains: Domains,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataErrorKind {
    #[error("the data file is empty")]
    Empty,
    #[error("line {line} is blank")]
    Blank { line: usize },
    #[error("line {line} is not valid UTF-8")]
    Utf8 { line: usize },
    #[error("line {line} has {found} group(s) separated by `|||`, expected {expected}")]
    Groups {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("line {line} has {found} value(s) where {expected} were expected")]
    Fields {
        line: usize,
        expected: String,
        found: usize,
    },
    #[error("`{token}` on line {line} is not a symbol of `{domain}`")]
    Symbol {
        line: usize,
        token: String,
        domain: String,
    },
    #[error("`{token}` on line {line} is not a valid weight")]
    Weight { line: usize, token: String },
    #[error("`{token}` on line {line} is not {expected}")]
    Real {
        line: usize,
        token: String,
        expected: String,
    },
    #[error(
        "`{token}` on line {line} is a word of the data and a symbol the model adds to `{domain}`"
    )]
    AddedSymbolInData {
        line: usize,
        token: String,
        domain: String,
    },
    #[error("the weights up to line {line} sum to more than {limit:e}")]
    WeightSum { line: usize, limit: f64 },
    #[error("stopped after {0} errors")]
    TooMany(usize),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct DataError {
    pub kind: DataErrorKind,
    /// Byte span in the data text.
    pub span: Option<Span>,
    pub hint: Option<String>,
}

impl DataError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        let d = match self.span {
            Some(s) => Diagnostic::error(self.kind.to_string(), s),
            None => Diagnostic::unlocated(self.kind.to_string()),
        };
        d.with_hint_opt(self.hint.clone())
    }
}

/// Checks that the bytes are UTF-8, naming the first bad line.
pub fn utf8(bytes: &[u8]) -> Result<&str, DataError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        DataError {
            kind: DataErrorKind::Utf8 { line },
            span: None,
            hint: Some("save the file as UTF-8".into()),
        }
    })
}

/// Reads a data file. With `frozen` (domains from a parameter file) vocabularies are not
/// collected again: their unknown-word policy applies to new words.
pub fn read(
    model: &Model,
    text: &str,
    frozen: Option<&Domains>,
) -> Result<Dataset, Vec<DataError>> {
    let lines = split_lines(model, text)?;
    let domains = match frozen {
        Some(d) => d.clone(),
        None => collect_domains(model, &lines).map_err(|e| vec![e])?,
    };
    let instances = first_errors(
        lines
            .par_iter()
            .map(|l| instance(model, &domains, l))
            .collect(),
    )?;
    total_weight(model, &lines, &instances, &mut 0.0).map_err(|e| vec![e])?;
    Ok(Dataset { instances, domains })
}

/// The values, or the first `MAX_ERRORS` errors in data order. Lines are read in parallel
/// (in the caller's thread pool), so every line is read even when the first fails.
fn first_errors<T>(results: Vec<Result<T, DataError>>) -> Result<Vec<T>, Vec<DataError>> {
    let mut errors = Vec::new();
    let mut values = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(v) => values.push(v),
            Err(e) if errors.len() < MAX_ERRORS => errors.push(e),
            Err(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(capped(errors))
    }
}

/// Token text with its byte offset in the file.
type Token<'a> = (&'a str, usize);

struct RawLine<'a> {
    line: usize,
    /// By `FieldId`: the field's tokens.
    fields: Vec<Vec<Token<'a>>>,
}

/// Appends a note when the error list was cut short.
fn capped(mut errors: Vec<DataError>) -> Vec<DataError> {
    if errors.len() >= MAX_ERRORS {
        errors.push(DataError {
            kind: DataErrorKind::TooMany(MAX_ERRORS),
            span: None,
            hint: Some("fix these and run again to see the rest".into()),
        });
    }
    errors
}

fn split_lines<'a>(model: &Model, text: &'a str) -> Result<Vec<RawLine<'a>>, Vec<DataError>> {
    if text.trim().is_empty() {
        return Err(vec![empty()]);
    }
    split_lines_from(model, text, 0)
}

fn empty() -> DataError {
    DataError {
        kind: DataErrorKind::Empty,
        span: None,
        hint: Some("one instance per line".into()),
    }
}

/// The lines of `text`, numbered from `before + 1` (`text` is a file's lines after its first
/// `before`; only a file's first line can start with a byte-order mark).
fn split_lines_from<'a>(
    model: &Model,
    text: &'a str,
    before: usize,
) -> Result<Vec<RawLine<'a>>, Vec<DataError>> {
    // As `text::decode` reads a file: a byte-order mark at the start is not data, and a
    // carriage return not followed by a line feed is a line break (so a library caller that
    // passes undecoded text gets the same lines as the CLI).
    let mut offset = if before == 0 && text.starts_with('\u{FEFF}') {
        3
    } else {
        0
    };
    let body = &text[offset..];
    let body = body.strip_suffix('\n').unwrap_or(body);
    let body = body.strip_suffix('\r').unwrap_or(body);
    let mut lines: Vec<(usize, &str)> = Vec::new();
    for line in body.split('\n') {
        let (content, crlf) = match line.strip_suffix('\r') {
            Some(c) => (c, 1),
            None => (line, 0),
        };
        for part in content.split('\r') {
            lines.push((offset, part));
            offset += part.len() + 1;
        }
        offset += crlf;
    }
    first_errors(
        lines
            .par_iter()
            .enumerate()
            .map(|(n, (start, line))| split_line(model, line, *start, before + n + 1))
            .collect(),
    )
}

fn split_line<'a>(
    model: &Model,
    line: &'a str,
    start: usize,
    number: usize,
) -> Result<RawLine<'a>, DataError> {
    let line_span = Span::new(start, start + line.len());
    if line.trim().is_empty() {
        return Err(DataError {
            kind: DataErrorKind::Blank { line: number },
            span: Some(line_span),
            hint: Some("every line is one instance; remove blank lines".into()),
        });
    }
    let mut groups: Vec<Vec<Token>> = vec![Vec::new()];
    for tok in line.split_ascii_whitespace() {
        // A token is a slice of the line: its offset is where it starts.
        let at = tok.as_ptr() as usize - line.as_ptr() as usize;
        if tok == SEPARATOR {
            groups.push(Vec::new());
        } else if let Some(g) = groups.last_mut() {
            g.push((tok, start + at));
        }
    }
    if groups.len() != model.groups.len() {
        return Err(DataError {
            kind: DataErrorKind::Groups {
                line: number,
                expected: model.groups.len(),
                found: groups.len(),
            },
            span: Some(line_span),
            hint: Some(layout_hint(model)),
        });
    }
    let mut fields = vec![Vec::new(); model.fields.len()];
    for (group, tokens) in model.groups.iter().zip(groups) {
        // A scalar `Real[D]` field takes D values; every other scalar field one.
        let width = |f: usize| match (&model.fields[f].kind, model.fields[f].real) {
            (FieldKind::Scalar, Some(d)) => d,
            _ => 1,
        };
        let scalars: usize = group
            .iter()
            .filter(|f| model.fields[**f].kind != FieldKind::Sequence)
            .map(|f| width(*f))
            .sum();
        let sequences = group
            .iter()
            .filter(|f| model.fields[**f].kind == FieldKind::Sequence)
            .count();
        let has_seq = sequences > 0;
        if tokens.len() < scalars || (!has_seq && tokens.len() != scalars) {
            // Point at the first value too many, or just past the last value there is.
            let span = match tokens.get(scalars) {
                Some((tok, at)) => Span::new(*at, at + tok.len()),
                None => {
                    let end = tokens
                        .last()
                        .map_or(line_span.start, |(t, at)| at + t.len());
                    Span::new(end, end + 1)
                }
            };
            return Err(DataError {
                kind: DataErrorKind::Fields {
                    line: number,
                    expected: if has_seq {
                        format!("at least {scalars}")
                    } else {
                        scalars.to_string()
                    },
                    found: tokens.len(),
                },
                span: Some(span),
                hint: Some(layout_hint(model)),
            });
        }
        let mut it = tokens.into_iter();
        for f in group {
            if model.fields[*f].kind == FieldKind::Sequence {
                fields[*f] = it.by_ref().collect();
            } else {
                fields[*f] = it.by_ref().take(width(*f)).collect();
            }
        }
    }
    Ok(RawLine {
        line: number,
        fields,
    })
}

/// What a line should look like, spelled from the declaration.
fn layout_hint(model: &Model) -> String {
    let groups: Vec<String> = model
        .groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|f| {
                    let field = &model.fields[*f];
                    match field.kind {
                        FieldKind::Sequence => format!("{}...", field.name),
                        _ => field.name.clone(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    format!("each line reads `{}`", groups.join(" ||| "))
}

fn collect_domains(model: &Model, lines: &[RawLine]) -> Result<Domains, DataError> {
    let mut symbols: Vec<Vec<String>> = Vec::with_capacity(model.domains.len());
    for d in 0..model.domains.len() {
        let s = domain_symbols(model, d, lines, &symbols)?;
        symbols.push(s);
    }
    Ok(Domains::new(symbols))
}

/// A symbol `+ {X}` adds to a domain collected from the data, which the data holds as a
/// word too: the two would silently be one value. The checker refuses the repeats it can
/// see; this is the one only the data shows, located at its first appearance.
/// `None` when the data does not hold it (the vocabulary's own `unknown` symbol).
fn added_symbol_in_data(
    model: &Model,
    d: DomainId,
    x: &str,
    lines: &[RawLine],
) -> Option<DataError> {
    let (line, at) = lines.iter().find_map(|l| {
        l.fields
            .iter()
            .flatten()
            .find(|(tok, _)| *tok == x)
            .map(|(_, at)| (l.line, *at))
    })?;
    Some(DataError {
        kind: DataErrorKind::AddedSymbolInData {
            line,
            token: x.to_string(),
            domain: model.domains[d].name.clone(),
        },
        span: Some(Span::new(at, at + x.len())),
        hint: Some(format!(
            "the word and the added symbol would be one value: rename the symbol in the model (e.g. `{x}_`)"
        )),
    })
}

fn domain_symbols(
    model: &Model,
    d: DomainId,
    lines: &[RawLine],
    done: &[Vec<String>],
) -> Result<Vec<String>, DataError> {
    if let Some(symbols) = model.closed_symbols(d) {
        return Ok(symbols);
    }
    let dom = &model.domains[d];
    let mut symbols = match &dom.base {
        DomainBase::Symbols(_) | DomainBase::Range(..) => {
            unreachable!("closed domains returned above")
        }
        DomainBase::Extends(b) if *b < done.len() => done[*b].clone(),
        DomainBase::Extends(b) => domain_symbols(model, *b, lines, done)?,
        DomainBase::Substrings { field, max_len } => substrings(lines, *field, *max_len),
        DomainBase::Vocabulary(v) => {
            // Counted per block of lines in parallel, merged in order: the symbols keep the
            // order of their first appearance.
            let blocks: Vec<(HashMap<&str, u64>, Vec<&str>)> = lines
                .par_chunks(VOCABULARY_BLOCK)
                .map(|block| {
                    let mut counts: HashMap<&str, u64> = HashMap::default();
                    let mut order: Vec<&str> = Vec::new();
                    for l in block {
                        for f in &v.fields {
                            for (tok, _) in &l.fields[*f] {
                                let c = counts.entry(tok).or_insert(0);
                                if *c == 0 {
                                    order.push(tok);
                                }
                                *c += 1;
                            }
                        }
                    }
                    (counts, order)
                })
                .collect();
            let mut counts: HashMap<&str, u64> = HashMap::default();
            let mut order: Vec<&str> = Vec::new();
            for (block_counts, block_order) in blocks {
                for tok in block_order {
                    let c = counts.entry(tok).or_insert(0);
                    if *c == 0 {
                        order.push(tok);
                    }
                    *c += block_counts[tok];
                }
            }
            let mut s: Vec<String> = v.unknown.iter().cloned().collect();
            s.extend(
                order
                    .into_iter()
                    .filter(|t| counts[t] >= v.min_count && Some(*t) != v.unknown.as_deref())
                    .map(str::to_string),
            );
            s
        }
    };
    for x in &dom.extra {
        if !symbols.contains(x) {
            symbols.push(x.clone());
        } else if let Some(e) = added_symbol_in_data(model, d, x, lines) {
            return Err(e);
        }
    }
    Ok(symbols)
}

/// Every span of length 1 to `max_len` of the field on some line, as its tokens joined, in
/// order of first appearance (line by line, by start, then by length).
fn substrings(lines: &[RawLine], field: crate::model::FieldId, max_len: usize) -> Vec<String> {
    let mut seen: HashMap<String, ()> = HashMap::default();
    let mut out = Vec::new();
    for l in lines {
        let toks = &l.fields[field];
        for i in 0..toks.len() {
            let mut s = String::new();
            for (tok, _) in toks.iter().skip(i).take(max_len) {
                s.push_str(tok);
                if seen.insert(s.clone(), ()).is_none() {
                    out.push(s.clone());
                }
            }
        }
    }
    out
}

fn is_vocabulary(model: &Model, d: DomainId) -> bool {
    match &model.domains[d].base {
        DomainBase::Vocabulary(_) => true,
        DomainBase::Extends(b) => is_vocabulary(model, *b),
        _ => false,
    }
}

/// The unknown-word symbol of a vocabulary domain, if it has one.
fn unknown_symbol(model: &Model, d: DomainId) -> Option<&str> {
    match &model.domains[d].base {
        DomainBase::Vocabulary(v) => v.unknown.as_deref(),
        DomainBase::Extends(b) => unknown_symbol(model, *b),
        _ => None,
    }
}

fn instance(model: &Model, domains: &Domains, raw: &RawLine) -> Result<Instance, DataError> {
    let mut values = Vec::with_capacity(model.fields.len());
    let mut weight = 1.0;
    for (f, tokens) in model.fields.iter().zip(&raw.fields) {
        let v = match f.kind {
            FieldKind::Weight => {
                let (tok, at) = tokens[0];
                weight = parse_weight(tok).ok_or_else(|| DataError {
                    kind: DataErrorKind::Weight {
                        line: raw.line,
                        token: tok.into(),
                    },
                    span: Some(Span::new(at, at + tok.len())),
                    hint: Some("a weight is a finite number >= 0, e.g. `186`".into()),
                })?;
                FieldValue::Weight(weight)
            }
            FieldKind::Scalar if f.real.is_some() => FieldValue::Real(
                tokens
                    .iter()
                    .map(|t| real(*t, raw.line))
                    .collect::<Result<_, _>>()?,
            ),
            FieldKind::Sequence if f.real.is_some() => FieldValue::RealSequence(
                tokens
                    .iter()
                    .map(|t| real_vector(*t, f.real.unwrap_or(1), raw.line))
                    .collect::<Result<_, _>>()?,
            ),
            FieldKind::Scalar => {
                FieldValue::Scalar(symbol(model, domains, f.domain, tokens[0], raw.line)?)
            }
            FieldKind::Sequence => FieldValue::Sequence(
                tokens
                    .iter()
                    .map(|t| symbol(model, domains, f.domain, *t, raw.line))
                    .collect::<Result<_, _>>()?,
            ),
        };
        values.push(v);
    }
    Ok(Instance {
        line: raw.line,
        values,
        weight,
    })
}

/// A finite number, or `?` (NaN: a missing coordinate, marginalised).
fn real((tok, at): Token, line: usize) -> Result<f64, DataError> {
    if tok == MISSING {
        return Ok(f64::NAN);
    }
    tok.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| DataError {
            kind: DataErrorKind::Real {
                line,
                token: tok.into(),
                expected: "a finite number".into(),
            },
            span: Some(Span::new(at, at + tok.len())),
            hint: Some("real values are numbers like `3.6` or `-1e-3`, or `?` when missing".into()),
        })
}

/// `D` numbers joined by commas (`1.5,-2`), one element of a sequence of `Real[D]`.
fn real_vector((tok, at): Token, dim: usize, line: usize) -> Result<Vec<f64>, DataError> {
    let parts: Vec<&str> = tok.split(',').collect();
    if parts.len() != dim {
        return Err(DataError {
            kind: DataErrorKind::Real {
                line,
                token: tok.into(),
                expected: format!("{dim} comma-separated numbers"),
            },
            span: Some(Span::new(at, at + tok.len())),
            hint: Some(format!(
                "each element of a sequence of `Real[{dim}]` is written like `{}`",
                vec!["0.5"; dim].join(",")
            )),
        });
    }
    let mut offset = at;
    let mut out = Vec::with_capacity(dim);
    for p in parts {
        out.push(real((p, offset), line)?);
        offset += p.len() + 1;
    }
    Ok(out)
}

/// Largest sum of the weights of a data file. The log-likelihood is a weighted sum of line
/// log-probabilities and the counts are weighted sums of posteriors: bounding the weights
/// keeps both finite (a line's log-probability is far above -1e290).
pub const MAX_TOTAL_WEIGHT: f64 = 1e15;

/// Refuses weights whose sum passes `MAX_TOTAL_WEIGHT`, at the line where it does.
fn total_weight(
    model: &Model,
    lines: &[RawLine],
    instances: &[Instance],
    sum: &mut f64,
) -> Result<(), DataError> {
    let Some(wf) = model
        .fields
        .iter()
        .position(|f| f.kind == FieldKind::Weight)
    else {
        return Ok(());
    };
    for (raw, inst) in lines.iter().zip(instances) {
        *sum += inst.weight;
        if *sum > MAX_TOTAL_WEIGHT {
            let (tok, at) = raw.fields[wf][0];
            return Err(DataError {
                kind: DataErrorKind::WeightSum {
                    line: raw.line,
                    limit: MAX_TOTAL_WEIGHT,
                },
                span: Some(Span::new(at, at + tok.len())),
                hint: Some("a weight says how often a line counts: scale the weights down".into()),
            });
        }
    }
    Ok(())
}

fn parse_weight(tok: &str) -> Option<f64> {
    tok.parse::<f64>()
        .ok()
        .filter(|w| w.is_finite() && *w >= 0.0)
}

fn symbol(
    model: &Model,
    domains: &Domains,
    d: DomainId,
    (tok, at): Token,
    line: usize,
) -> Result<Option<u32>, DataError> {
    if tok == MISSING && !is_vocabulary(model, d) {
        return Ok(None);
    }
    if let Some(i) = domains.lookup(d, tok) {
        return Ok(Some(i));
    }
    if let Some(unk) = unknown_symbol(model, d) {
        if let Some(i) = domains.lookup(d, unk) {
            return Ok(Some(i));
        }
    }
    let name = &model.domains[d].name;
    let hint = match &model.domains[d].base {
        DomainBase::Vocabulary(_) => Some(format!(
            "`{name}` holds the words of the parameters' training data; declare it with `unknown = \"<unk>\"` and train again, so that new words become `<unk>`"
        )),
        _ => did_you_mean(tok, domains.symbols[d].iter().map(String::as_str)),
    };
    Err(DataError {
        kind: DataErrorKind::Symbol {
            line,
            token: tok.into(),
            domain: name.clone(),
        },
        span: Some(Span::new(at, at + tok.len())),
        hint,
    })
}
