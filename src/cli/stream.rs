//! The data file of `emc run --stream`, read about a megabyte of whole lines at a time.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use emc::stream::TextSource;

use super::files::{Budget, Failure};

/// Bytes read at a time, then up to the end of the line they stop in.
const CHUNK_BYTES: u64 = 1 << 20;

pub struct FileSource {
    reader: BufReader<File>,
    /// The longest line read (`EMC_MAX_LINE_BYTES`), as for a file read whole.
    line_budget: u64,
}

impl FileSource {
    pub fn open(path: &Path) -> Result<FileSource, Failure> {
        let file = File::open(path)
            .map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))?;
        Ok(FileSource {
            reader: BufReader::with_capacity(1 << 20, file),
            line_budget: Budget::from_env()?.line,
        })
    }
}

impl TextSource for FileSource {
    fn rewind(&mut self) -> std::io::Result<()> {
        self.reader.seek(SeekFrom::Start(0)).map(|_| ())
    }

    fn read_lines(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        let start = buf.len();
        (&mut self.reader).take(CHUNK_BYTES).read_to_end(buf)?;
        if buf.len() == start {
            return Ok(false);
        }
        if buf.last() != Some(&b'\n') {
            // The rest of the line the chunk stopped in; a line longer than the budget (a
            // file without line breaks) is refused before it is held.
            let before = buf.len();
            (&mut self.reader)
                .take(self.line_budget)
                .read_until(b'\n', buf)?;
            let ended = buf.last() == Some(&b'\n') || self.reader.fill_buf()?.is_empty();
            if !ended && (buf.len() - before) as u64 >= self.line_budget {
                return Err(std::io::Error::other(format!(
                    "a line is longer than {} bytes (EMC_MAX_LINE_BYTES)",
                    self.line_budget
                )));
            }
        }
        Ok(true)
    }
}

/// `checkpoint::inputs_fingerprint` of the model, the data file read a part at a time, and
/// the overrides: a streamed run's checkpoints resume in-memory runs and back.
pub fn fingerprint(
    model: &str,
    source: &mut FileSource,
    set: &[(String, String)],
) -> Result<u64, Failure> {
    let io = |e: std::io::Error| Failure::Io(format!("cannot read the data file: {e}"));
    let mut f = emc::checkpoint::Fingerprint::new();
    f.text(model.as_bytes());
    source.rewind().map_err(io)?;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if !source.read_lines(&mut buf).map_err(io)? {
            break;
        }
        f.part(&buf);
    }
    f.end_text();
    for (k, v) in set {
        f.text(format!("{k}={v}").as_bytes());
    }
    Ok(f.value())
}
