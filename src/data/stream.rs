//! A data file read a part at a time (`emc run --stream`): its domains gathered line by line
//! in a first pass, then its lines read against them part by part, numbered as in the file.

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use super::*;

/// Reads the lines of a file after its first `before`, against the file's domains, for a
/// file read a part at a time (`stream`): the instances and how many lines `text` held.
/// `weights` is the sum of the weights before, which the lines' are added to. Byte spans
/// are left out of the errors: they would count from the part, not the file.
pub fn read_part(
    model: &Model,
    text: &str,
    domains: &Domains,
    before: usize,
    weights: &mut f64,
) -> Result<(Vec<Instance>, usize), Vec<DataError>> {
    let unlocated = |es: Vec<DataError>| {
        es.into_iter()
            .map(|e| DataError { span: None, ..e })
            .collect::<Vec<_>>()
    };
    let lines = split_lines_from(model, text, before).map_err(unlocated)?;
    let instances = first_errors(
        lines
            .par_iter()
            .map(|l| instance(model, domains, l))
            .collect(),
    )
    .map_err(unlocated)?;
    total_weight(model, &lines, &instances, weights).map_err(|e| unlocated(vec![e]))?;
    Ok((instances, lines.len()))
}

/// Strings with a value each, and the strings in order of first appearance.
type InOrder<V> = (HashMap<String, V>, Vec<String>);

/// The domains of a file read a part at a time: what `collect_domains` finds in the whole
/// text, gathered line by line in file order, so that the symbols come in the same order.
pub struct DomainScan {
    /// Per vocabulary domain: each word's count, and the words in order of first appearance.
    vocabularies: Vec<Option<InOrder<u64>>>,
    /// Per substring domain: the spans seen, in order.
    substrings: Vec<Option<InOrder<()>>>,
    /// The symbols models add to domains (`+ {X}`), with the first line that holds each.
    added: HashMap<String, Option<usize>>,
    lines: usize,
}

impl DomainScan {
    pub fn new(model: &Model) -> DomainScan {
        let vocabularies = (model.domains.iter())
            .map(|d| match d.base {
                DomainBase::Vocabulary(_) => Some(Default::default()),
                _ => None,
            })
            .collect();
        let substrings = (model.domains.iter())
            .map(|d| match d.base {
                DomainBase::Substrings { .. } => Some(Default::default()),
                _ => None,
            })
            .collect();
        let added = (model.domains.iter())
            .flat_map(|d| d.extra.iter().map(|x| (x.clone(), None)))
            .collect();
        DomainScan {
            vocabularies,
            substrings,
            added,
            lines: 0,
        }
    }

    /// Lines read so far.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Reads the next lines of the file.
    pub fn add(&mut self, model: &Model, text: &str) -> Result<(), Vec<DataError>> {
        let lines = split_lines_from(model, text, self.lines).map_err(|es| {
            es.into_iter()
                .map(|e| DataError { span: None, ..e })
                .collect::<Vec<_>>()
        })?;
        self.lines += lines.len();
        for (d, vocabulary) in self.vocabularies.iter_mut().enumerate() {
            let (Some((counts, order)), DomainBase::Vocabulary(v)) =
                (vocabulary, &model.domains[d].base)
            else {
                continue;
            };
            for l in &lines {
                for f in &v.fields {
                    for (tok, _) in &l.fields[*f] {
                        match counts.get_mut(*tok) {
                            Some(c) => *c += 1,
                            None => {
                                counts.insert(tok.to_string(), 1);
                                order.push(tok.to_string());
                            }
                        }
                    }
                }
            }
        }
        for (d, seen) in self.substrings.iter_mut().enumerate() {
            let (Some((seen, out)), DomainBase::Substrings { field, max_len }) =
                (seen, &model.domains[d].base)
            else {
                continue;
            };
            for s in substrings(&lines, *field, *max_len) {
                if seen.insert(s.clone(), ()).is_none() {
                    out.push(s);
                }
            }
        }
        if self.added.values().any(Option::is_none) {
            for l in &lines {
                for (tok, _) in l.fields.iter().flatten() {
                    if let Some(first @ None) = self.added.get_mut(*tok) {
                        *first = Some(l.line);
                    }
                }
            }
        }
        Ok(())
    }

    /// The domains of every line read.
    pub fn finish(self, model: &Model) -> Result<Domains, DataError> {
        if self.lines == 0 {
            return Err(empty());
        }
        let mut symbols: Vec<Vec<String>> = Vec::with_capacity(model.domains.len());
        for d in 0..model.domains.len() {
            let s = self.symbols(model, d, &symbols)?;
            symbols.push(s);
        }
        Ok(Domains::new(symbols))
    }

    /// `domain_symbols` from what the scan gathered.
    fn symbols(
        &self,
        model: &Model,
        d: DomainId,
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
            DomainBase::Extends(b) => self.symbols(model, *b, done)?,
            DomainBase::Substrings { .. } => (self.substrings[d].as_ref())
                .map(|(_, out)| out.clone())
                .unwrap_or_default(),
            DomainBase::Vocabulary(v) => {
                let mut s: Vec<String> = v.unknown.iter().cloned().collect();
                if let Some((counts, order)) = &self.vocabularies[d] {
                    s.extend(
                        (order.iter())
                            .filter(|t| counts[*t] >= v.min_count && Some(*t) != v.unknown.as_ref())
                            .cloned(),
                    );
                }
                s
            }
        };
        for x in &dom.extra {
            if !symbols.contains(x) {
                symbols.push(x.clone());
            } else if let Some(Some(line)) = self.added.get(x) {
                return Err(DataError {
                    kind: DataErrorKind::AddedSymbolInData {
                        line: *line,
                        token: x.to_string(),
                        domain: dom.name.clone(),
                    },
                    span: None,
                    hint: Some(format!(
                        "the word and the added symbol would be one value: rename the symbol in the model (e.g. `{x}_`)"
                    )),
                });
            }
        }
        Ok(symbols)
    }
}
