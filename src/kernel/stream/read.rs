//! Reading a data file a part at a time: its domains in a first pass, then its instances a
//! block at a time, line numbers counted from the file's start.

use crate::data::{self, DataError, DataErrorKind, DomainScan, Domains, Instance};
use crate::error::Error;
use crate::model::Model;
use crate::stream::{StreamError, TextSource};

fn io(e: std::io::Error) -> Error {
    Error::Stream(StreamError::Io(e.to_string()))
}

/// A refusal of something `--stream` does not cover.
pub fn refuse(what: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Stream(StreamError::Refused {
        what: what.into(),
        hint: hint.into(),
    })
}

/// The next lines of `source` as text: `None` at the end. `before` is the lines read
/// already, for naming a line that is not UTF-8.
fn next_text<'b>(
    source: &mut dyn TextSource,
    buf: &'b mut Vec<u8>,
    before: usize,
) -> Result<Option<&'b str>, Error> {
    loop {
        buf.clear();
        if !source.read_lines(buf).map_err(io)? {
            return Ok(None);
        }
        if !buf.is_empty() {
            break;
        }
    }
    data::utf8(buf).map(Some).map_err(|e| {
        let kind = match e.kind {
            DataErrorKind::Utf8 { line } => DataErrorKind::Utf8 {
                line: before + line,
            },
            other => other,
        };
        Error::Data(vec![DataError { kind, ..e }])
    })
}

/// The first pass: the domains of every line, in the order reading the whole file gives.
pub fn scan_domains(model: &Model, source: &mut dyn TextSource) -> Result<Domains, Error> {
    source.rewind().map_err(io)?;
    let mut scan = DomainScan::new(model);
    let mut buf = Vec::new();
    while let Some(text) = next_text(source, &mut buf, scan.lines())? {
        scan.add(model, text).map_err(Error::Data)?;
    }
    scan.finish(model).map_err(|e| Error::Data(vec![e]))
}

/// The file's instances a block at a time, from its start.
pub struct Blocks<'s> {
    source: &'s mut dyn TextSource,
    buf: Vec<u8>,
    pending: Vec<Instance>,
    lines: usize,
    weights: f64,
    end: bool,
}

impl<'s> Blocks<'s> {
    pub fn new(source: &'s mut dyn TextSource) -> Result<Blocks<'s>, Error> {
        source.rewind().map_err(io)?;
        Ok(Blocks {
            source,
            buf: Vec::new(),
            pending: Vec::new(),
            lines: 0,
            weights: 0.0,
            end: false,
        })
    }

    /// The next `block_lines` instances (fewer at the end of the file), `None` after the
    /// last. Lines are read in the caller's thread pool.
    pub fn next(
        &mut self,
        model: &Model,
        domains: &Domains,
        block_lines: usize,
    ) -> Result<Option<Vec<Instance>>, Error> {
        while self.pending.len() < block_lines && !self.end {
            match next_text(self.source, &mut self.buf, self.lines)? {
                None => self.end = true,
                Some(text) => {
                    let (instances, lines) =
                        data::read_part(model, text, domains, self.lines, &mut self.weights)
                            .map_err(Error::Data)?;
                    self.lines += lines;
                    self.pending.extend(instances);
                }
            }
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let rest = self.pending.split_off(block_lines.min(self.pending.len()));
        Ok(Some(std::mem::replace(&mut self.pending, rest)))
    }

    /// Lines read so far.
    pub fn lines(&self) -> usize {
        self.lines
    }
}
