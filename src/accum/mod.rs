//! Accumulator files: the expected counts of one shard of the data, as `emc estep` writes
//! them and `emc mstep` sums them (GMTK's pattern: any job scheduler runs the shards). The
//! core does no I/O: this is the format as bytes and values, and the checks that a set of
//! files is one complete E-step of the inputs given.
//!
//! A shard is a range of the kernel's units of work, and the file holds each unit's counts
//! unmerged (`kernel::UnitCounts`): sums depend on their order, so only adding the units'
//! own numbers in unit order, as one process does, gives `emc run`'s bits.
//!
//! Layout, little-endian throughout: the magic `EMCACCUM`, the version (u32), the header
//! (the kernel's name as a length-prefixed string, then u64s: fingerprints of the model
//! with its `--set` values, of the data and of the parameters; the shard and the number of
//! shards; the first and end unit of the shard and the units of the whole; the bounds of
//! the coordinates, of the parameters and of the data lines a unit may name), the units
//! (each: log-likelihood f64, instances u64, then four counted lists: the leading
//! coordinates' values as f64s, later values as (u64, f64) pairs, extra counts as (u64, f64)
//! pairs, lines as u64s), and a checksum (u64, [`checksum`])
//! of every byte before it.

use std::ops::Range;

use crate::diagnostic::Diagnostic;
use crate::kernel::UnitCounts;

pub const MAGIC: &[u8; 8] = b"EMCACCUM";
/// 2: the checksum reads words, not bytes. 3: the hypergraph kernel cuts its units at
/// 16,384 hyperedges, not 4,096, so a file of version 2 names other units of the same data.
pub const VERSION: u32 = 3;

/// What a file was counted from and which part of the E-step it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The kernel's name (`Kernel::shard_kind`: its kind, and `/f32` when its messages are
    /// single precision).
    pub kernel: String,
    /// Of the model text and its `--set` overrides ([`model_fingerprint`]).
    pub model: u64,
    /// Of the data text.
    pub data: u64,
    /// Of the parameter file's text.
    pub params: u64,
    pub shard: u64,
    pub shards: u64,
    /// The units this shard counted...
    pub units: Range<u64>,
    /// ...of this many.
    pub total_units: u64,
    /// Every value's coordinate is below this.
    pub coordinates: u64,
    /// Every extra count's parameter is below this (the parameter vector's length).
    pub parameters: u64,
    /// Every line a unit names is below this, when its lines index the data.
    pub lines: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ShardFile {
    pub header: Header,
    /// The counts of units `header.units`, in unit order.
    pub units: Vec<UnitCounts>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a from `h` over `bytes`.
fn fnv(h: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes
        .into_iter()
        .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// FNV-1a over the texts, each followed by a separator byte: which inputs a file (an
/// accumulator file, a checkpoint) was made from. Not proof against a forger, only against
/// mistakes.
pub fn fingerprint(texts: &[&str]) -> u64 {
    texts
        .iter()
        .fold(FNV_OFFSET, |h, t| fnv(h, t.bytes().chain([0xff])))
}

/// Of a model text and its constant overrides.
pub fn model_fingerprint(model: &str, set: &[(String, String)]) -> u64 {
    let overrides: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut texts = vec![model];
    texts.extend(overrides.iter().map(String::as_str));
    fingerprint(&texts)
}

pub fn text_fingerprint(text: &str) -> u64 {
    fingerprint(&[text])
}

/// FNV-1a over bytes (a parameter vector's bits).
pub fn bytes_fingerprint(bytes: &[u8]) -> u64 {
    checksum(bytes)
}

/// The units of shard `shard` of `shards`: the units split as evenly as whole units go,
/// in order, so the shards together cover every unit once.
pub fn shard_units(total_units: u64, shard: u64, shards: u64) -> Range<u64> {
    let at = |i: u64| (u128::from(total_units) * u128::from(i) / u128::from(shards.max(1))) as u64;
    at(shard)..at(shard + 1)
}

/// Why an accumulator file, or a set of them, is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccumError {
    #[error("`{file}` is not an accumulator file (it does not start with `EMCACCUM`)")]
    NotAccumulator { file: String },
    #[error(
        "`{file}` is an accumulator file of version {found}; this emc reads version {VERSION}"
    )]
    Version { file: String, found: u32 },
    #[error("`{file}` is truncated: it ends inside its {what}")]
    Truncated { file: String, what: &'static str },
    #[error("`{file}` is damaged: {why}")]
    Damaged { file: String, why: String },
    #[error("`{file}` was counted from another {what} than the one given")]
    OtherInputs { file: String, what: &'static str },
    #[error(
        "`{file}` was counted with {precision} messages, but `{first}` with {first_precision}"
    )]
    OtherPrecision {
        file: String,
        precision: &'static str,
        first: String,
        first_precision: &'static str,
    },
    #[error("`{file}` is shard {shard} of {shards}, but `{first}` is of {first_shards} shards")]
    OtherSplit {
        file: String,
        shard: u64,
        shards: u64,
        first: String,
        first_shards: u64,
    },
    #[error("`{file}` and `{other}` are both shard {shard} of {shards}")]
    Duplicate {
        file: String,
        other: String,
        shard: u64,
        shards: u64,
    },
    #[error("shard(s) {missing} of {shards} are missing")]
    Missing { missing: String, shards: u64 },
    #[error("no accumulator files given")]
    Empty,
}

impl AccumError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        let hint = match self {
            AccumError::NotAccumulator { .. } | AccumError::Damaged { .. } => {
                "give the files `emc estep` wrote; run the shard's estep again"
            }
            AccumError::Version { .. } => {
                "files are read by the emc that wrote them: run the shard's estep again"
            }
            AccumError::Truncated { .. } => {
                "estep writes a file whole or not at all; a copy may have been cut short: \
                 run the shard's estep again"
            }
            AccumError::OtherInputs { .. } => {
                "run estep and mstep with the same MODEL, DATA, --set values and --params \
                 (files of an earlier iteration are of other parameters)"
            }
            AccumError::OtherPrecision { .. } => {
                "count every shard with the same `emc estep --precision` (f64 or f32; auto \
                 picks single only on processors with AVX2 and FMA, so hosts can differ)"
            }
            AccumError::OtherSplit { .. } | AccumError::Duplicate { .. } => {
                "give one file per shard, all from estep runs with the same `--shard i/N`'s N"
            }
            AccumError::Missing { .. } => {
                "run estep for the missing shards (`--shard i/N` for every i from 0 to N-1)"
            }
            AccumError::Empty => "give the files estep wrote, e.g. `counts/*.acc`",
        };
        Diagnostic::unlocated(self.to_string()).with_hint(hint)
    }

    /// The file the error is about, when it is about one.
    pub fn file(&self) -> Option<&str> {
        match self {
            AccumError::NotAccumulator { file }
            | AccumError::Version { file, .. }
            | AccumError::Truncated { file, .. }
            | AccumError::Damaged { file, .. }
            | AccumError::OtherInputs { file, .. }
            | AccumError::OtherPrecision { file, .. }
            | AccumError::OtherSplit { file, .. }
            | AccumError::Duplicate { file, .. } => Some(file),
            AccumError::Missing { .. } | AccumError::Empty => None,
        }
    }

    /// A problem with the inputs given together (the rest are problems of one file).
    pub fn is_user(&self) -> bool {
        matches!(self, AccumError::OtherInputs { .. })
    }
}

/// The bytes of an accumulator file.
pub fn encode(file: &ShardFile) -> Vec<u8> {
    let h = &file.header;
    // Sized first: the counts of a unit are megabytes, which growing by doubling copies.
    let units: usize = (file.units.iter())
        .map(|u| 48 + 8 * u.dense.len() + 16 * (u.values.len() + u.extra.len()) + 8 * u.lines.len())
        .sum();
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + 8 + h.kernel.len() + 88 + units + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    let u64s = |out: &mut Vec<u8>, xs: &[u64]| xs.iter().for_each(|x| out.extend(x.to_le_bytes()));
    u64s(&mut out, &[h.kernel.len() as u64]);
    out.extend_from_slice(h.kernel.as_bytes());
    u64s(
        &mut out,
        &[
            h.model,
            h.data,
            h.params,
            h.shard,
            h.shards,
            h.units.start,
            h.units.end,
            h.total_units,
            h.coordinates,
            h.parameters,
            h.lines.map_or(u64::MAX, |l| l),
        ],
    );
    for u in &file.units {
        out.extend(u.log_likelihood.to_le_bytes());
        u64s(&mut out, &[u.instances, u.dense.len() as u64]);
        // Into bytes made room for first: pushing eight bytes at a time cost a distributed
        // run's relay milliseconds per megabyte-sized sum.
        let at = out.len();
        out.resize(at + 8 * u.dense.len(), 0);
        for (b, v) in out[at..].chunks_exact_mut(8).zip(&u.dense) {
            b.copy_from_slice(&v.to_le_bytes());
        }
        for list in [&u.values, &u.extra] {
            u64s(&mut out, &[list.len() as u64]);
            let at = out.len();
            out.resize(at + 16 * list.len(), 0);
            for (b, (k, v)) in out[at..].chunks_exact_mut(16).zip(list.iter()) {
                b[..8].copy_from_slice(&k.to_le_bytes());
                b[8..].copy_from_slice(&v.to_le_bytes());
            }
        }
        u64s(&mut out, &[u.lines.len() as u64]);
        u64s(&mut out, &u.lines);
    }
    let sum = checksum(&out);
    out.extend(sum.to_le_bytes());
    out
}

/// A hash of `bytes` read as little-endian words in four independent lanes: FNV-1a's one
/// byte per multiply made checking a distributed run's counts (tens of MiB per iteration)
/// cost a fifth of its E-step. Each step is a bijection of its lane given the word, and the
/// lanes are combined by bijections, so changing any one word always changes the sum.
pub fn checksum(bytes: &[u8]) -> u64 {
    const MUL: u64 = 0x9e37_79b9_7f4a_7c15;
    let step = |h: u64, w: u64| (h ^ w).wrapping_mul(MUL).rotate_left(29);
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let mut lanes = [FNV_OFFSET, FNV_OFFSET ^ 1, FNV_OFFSET ^ 2, FNV_OFFSET ^ 3];
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, w) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            *lane = step(*lane, word(w));
        }
    }
    let rest = blocks.remainder();
    for (i, w) in rest.chunks(8).enumerate() {
        lanes[i] = step(lanes[i], word(w));
    }
    // The length tells apart inputs that differ only by trailing zero bytes.
    let h = lanes.iter().fold(bytes.len() as u64, |h, l| step(h, *l));
    step(h, 0)
}

/// Reads the bytes of a file named `file` (the name is for the errors).
pub fn decode(file: &str, bytes: &[u8]) -> Result<ShardFile, AccumError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(AccumError::NotAccumulator { file: file.into() });
    }
    let mut r = Reader {
        file,
        bytes,
        at: MAGIC.len(),
    };
    let version = u32::from_le_bytes(r.take::<4>("version")?);
    if version != VERSION {
        return Err(AccumError::Version {
            file: file.into(),
            found: version,
        });
    }
    // The structure first, then the checksum: a file cut short is reported as truncated,
    // and a flipped bit in a file of the right shape as damaged.
    let body = &bytes[..bytes.len().saturating_sub(8).max(r.at)];
    r.bytes = body;
    let header = r.header()?;
    if header.units.start > header.units.end || header.units.end > header.total_units {
        return Err(r.damaged(format!(
            "units {}..{} of {}",
            header.units.start, header.units.end, header.total_units
        )));
    }
    let n = header.units.end - header.units.start;
    let mut units = Vec::new();
    for _ in 0..n {
        units.push(r.unit(&header)?);
    }
    if r.at < body.len() {
        return Err(r.damaged("it has bytes after its last unit".into()));
    }
    let sum = bytes
        .get(body.len()..)
        .and_then(|s| <[u8; 8]>::try_from(s).ok());
    let Some(sum) = sum else {
        return Err(r.truncated("checksum"));
    };
    if checksum(body) != u64::from_le_bytes(sum) {
        return Err(r.damaged("its checksum does not match its contents".into()));
    }
    Ok(ShardFile { header, units })
}

/// Eight bytes as a word's.
fn word(b: &[u8]) -> [u8; 8] {
    let mut w = [0; 8];
    w.copy_from_slice(b);
    w
}

struct Reader<'a> {
    file: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn truncated(&self, what: &'static str) -> AccumError {
        AccumError::Truncated {
            file: self.file.into(),
            what,
        }
    }

    fn damaged(&self, why: String) -> AccumError {
        AccumError::Damaged {
            file: self.file.into(),
            why,
        }
    }

    fn take<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], AccumError> {
        let end = self.at.checked_add(N).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or_else(|| self.truncated(what))?;
        let mut out = [0; N];
        out.copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        Ok(out)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, AccumError> {
        self.take::<8>(what).map(u64::from_le_bytes)
    }

    fn f64(&mut self, what: &'static str) -> Result<f64, AccumError> {
        self.take::<8>(what).map(f64::from_le_bytes)
    }

    /// A list's length, refused before anything is allocated when the bytes left cannot
    /// hold it (a damaged length would otherwise ask for terabytes).
    fn len(&mut self, item: usize, what: &'static str) -> Result<usize, AccumError> {
        let n = self.u64(what)?;
        let left = (self.bytes.len() - self.at) as u64;
        if n.checked_mul(item as u64).is_none_or(|b| b > left) {
            return Err(self.truncated(what));
        }
        Ok(n as usize)
    }

    fn header(&mut self) -> Result<Header, AccumError> {
        let n = self.len(1, "header")?;
        let name = self.bytes[self.at..self.at + n].to_vec();
        self.at += n;
        let kernel = String::from_utf8(name).map_err(|_| self.damaged("its kernel name".into()))?;
        let mut next = || self.u64("header");
        let (model, data, params) = (next()?, next()?, next()?);
        let (shard, shards) = (next()?, next()?);
        let (start, end, total_units) = (next()?, next()?, next()?);
        let (coordinates, parameters, lines) = (next()?, next()?, next()?);
        Ok(Header {
            kernel,
            model,
            data,
            params,
            shard,
            shards,
            units: start..end,
            total_units,
            coordinates,
            parameters,
            lines: (lines != u64::MAX).then_some(lines),
        })
    }

    /// A list of items of `size` bytes, its length first: the bytes are checked to be there
    /// once for the whole list, not item by item.
    fn items(
        &mut self,
        size: usize,
        what: &'static str,
    ) -> Result<std::slice::ChunksExact<'_, u8>, AccumError> {
        let n = self.len(size, what)?;
        let bytes = &self.bytes[self.at..self.at + n * size];
        self.at += n * size;
        Ok(bytes.chunks_exact(size))
    }

    fn f64s(&mut self, what: &'static str) -> Result<Vec<f64>, AccumError> {
        Ok((self.items(8, what)?)
            .map(|b| f64::from_le_bytes(word(b)))
            .collect())
    }

    fn pairs(&mut self, bound: u64, what: &'static str) -> Result<Vec<(u64, f64)>, AccumError> {
        let out: Vec<(u64, f64)> = (self.items(16, what)?)
            .map(|b| {
                (
                    u64::from_le_bytes(word(&b[..8])),
                    f64::from_le_bytes(word(&b[8..])),
                )
            })
            .collect();
        if let Some((k, _)) = out.iter().find(|(k, _)| *k >= bound) {
            return Err(self.damaged(format!("a unit's {what} names {k}, past {bound}")));
        }
        Ok(out)
    }

    fn unit(&mut self, h: &Header) -> Result<UnitCounts, AccumError> {
        let log_likelihood = self.f64("units")?;
        let instances = self.u64("units")?;
        let dense = self.f64s("counts")?;
        if dense.len() as u64 > h.coordinates {
            return Err(self.damaged(format!(
                "a unit has {} counts in a run, past {}",
                dense.len(),
                h.coordinates
            )));
        }
        let values = self.pairs(h.coordinates, "counts")?;
        let extra = self.pairs(h.parameters, "counts")?;
        let n = self.len(8, "units")?;
        let mut lines = Vec::with_capacity(n);
        for _ in 0..n {
            let l = self.u64("units")?;
            if h.lines.is_some_and(|bound| l >= bound) {
                return Err(self.damaged(format!("a unit names instance {l}")));
            }
            lines.push(l);
        }
        Ok(UnitCounts {
            dense,
            values,
            extra,
            log_likelihood,
            instances,
            lines,
        })
    }
}

/// A shard kernel name's kind, without the precision.
fn kind(kernel: &str) -> &str {
    kernel.split('/').next().unwrap_or(kernel)
}

fn precision(kernel: &str) -> &'static str {
    if kernel.ends_with(crate::kernel::SINGLE_SUFFIX) {
        "single-precision"
    } else {
        "double-precision"
    }
}

/// Checks that `files` (name, contents) are every shard of one E-step of the inputs
/// `expected` describes (its shard fields aside), and returns every unit's counts in unit
/// order.
pub fn assemble(
    files: Vec<(String, ShardFile)>,
    expected: &Header,
) -> Result<Vec<UnitCounts>, AccumError> {
    let Some((first, f0)) = files.first() else {
        return Err(AccumError::Empty);
    };
    let shards = f0.header.shards;
    let mut by_shard: std::collections::BTreeMap<u64, usize> = Default::default();
    for (i, (name, f)) in files.iter().enumerate() {
        let h = &f.header;
        let other = |what| {
            Err(AccumError::OtherInputs {
                file: name.clone(),
                what,
            })
        };
        if h.model != expected.model {
            return other("model (or other --set values)");
        }
        if h.data != expected.data {
            return other("data file");
        }
        if h.params != expected.params {
            return other("parameter file (--params)");
        }
        if h.kernel != f0.header.kernel && kind(&h.kernel) == kind(&f0.header.kernel) {
            return Err(AccumError::OtherPrecision {
                file: name.clone(),
                precision: precision(&h.kernel),
                first: first.clone(),
                first_precision: precision(&f0.header.kernel),
            });
        }
        // mstep finishes the sum alike in either precision: the kind must be this
        // program's, the precision only the same in every file.
        if kind(&h.kernel) != kind(&expected.kernel)
            || h.total_units != expected.total_units
            || h.coordinates != expected.coordinates
            || h.parameters != expected.parameters
            || h.lines != expected.lines
        {
            return other("compiled program (another emc version, or other data)");
        }
        if h.shards != shards {
            return Err(AccumError::OtherSplit {
                file: name.clone(),
                shard: h.shard,
                shards: h.shards,
                first: first.clone(),
                first_shards: shards,
            });
        }
        if h.shard >= shards || h.units != shard_units(h.total_units, h.shard, shards) {
            return Err(AccumError::Damaged {
                file: name.clone(),
                why: format!(
                    "shard {} of {} holds units {}..{}",
                    h.shard, shards, h.units.start, h.units.end
                ),
            });
        }
        if let Some(j) = by_shard.insert(h.shard, i) {
            return Err(AccumError::Duplicate {
                file: name.clone(),
                other: files[j].0.clone(),
                shard: h.shard,
                shards,
            });
        }
    }
    let absent = shards - by_shard.len() as u64;
    if absent > 0 {
        let mut shown: Vec<String> = (0..shards)
            .filter(|s| !by_shard.contains_key(s))
            .take(10)
            .map(|s| s.to_string())
            .collect();
        if absent > 10 {
            shown.push(format!("and {} more", absent - 10));
        }
        return Err(AccumError::Missing {
            missing: shown.join(", "),
            shards,
        });
    }
    let mut files: Vec<Option<(String, ShardFile)>> = files.into_iter().map(Some).collect();
    let mut units = Vec::new();
    for slot in by_shard.into_values() {
        if let Some((_, f)) = files[slot].take() {
            units.extend(f.units);
        }
    }
    Ok(units)
}

#[cfg(test)]
mod tests;
