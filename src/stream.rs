//! Data larger than memory (`emc run --stream`): the data file is read a part at a time,
//! once for its vocabularies, once to intern the tables every line scores with, then once per
//! E-step, a block of lines at a time (`kernel::StreamKernel`). The library does no I/O of
//! its own: the caller hands it a [`TextSource`] over the file.

/// A data file read from its start, a few whole lines at a time.
pub trait TextSource: Send {
    /// Back to the file's first line.
    fn rewind(&mut self) -> std::io::Result<()>;
    /// Appends the next lines to `buf`, whole (each with its line break, but the file's last
    /// line may lack one), at least one unless the file has no more: then returns false.
    fn read_lines(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool>;
}

/// A text held in memory as a source, cut after every `lines` lines: for tests and for
/// callers that want the streamed path on a small text.
pub struct InMemory {
    text: Vec<u8>,
    lines: usize,
    at: usize,
}

impl InMemory {
    pub fn new(text: impl Into<Vec<u8>>, lines: usize) -> InMemory {
        InMemory {
            text: text.into(),
            lines: lines.max(1),
            at: 0,
        }
    }
}

impl TextSource for InMemory {
    fn rewind(&mut self) -> std::io::Result<()> {
        self.at = 0;
        Ok(())
    }

    fn read_lines(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        let rest = &self.text[self.at..];
        if rest.is_empty() {
            return Ok(false);
        }
        let end = (rest.iter().enumerate())
            .filter(|(_, b)| **b == b'\n')
            .nth(self.lines - 1)
            .map_or(rest.len(), |(i, _)| i + 1);
        buf.extend_from_slice(&rest[..end]);
        self.at += end;
        Ok(true)
    }
}

/// Why a streamed run cannot go on, or cannot start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StreamError {
    #[error("cannot read the data file: {0}")]
    Io(String),
    /// What `--stream` does not cover.
    #[error("--stream does not cover {what}")]
    Refused { what: String, hint: String },
    /// The file held other lines on a later pass than on the first.
    #[error("the data file changed while it was read (line {line})")]
    Changed { line: usize },
}

impl StreamError {
    pub fn hint(&self) -> String {
        match self {
            StreamError::Io(_) => "check that the file is readable and stays in place".into(),
            StreamError::Refused { hint, .. } => format!(
                "--stream trains EM (or VB) on a model whose plan compiles to the chain kernel \
                 (HMMs, mixtures, their relatives); {hint}"
            ),
            StreamError::Changed { .. } => {
                "a streamed run reads the file once per iteration: leave it unchanged".into()
            }
        }
    }
}
