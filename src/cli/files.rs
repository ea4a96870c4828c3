//! Reading the inputs and writing the outputs: model and data texts with their names for
//! diagnostics, atomic writes, stdout that tolerates a closed pipe, and how a command fails.

use std::io::Write;
use std::path::{Path, PathBuf};

use emc::diagnostic::Diagnostic;
use emc::error::{Error, Named};
use emc::model::Model;
use emc::pipeline::front_end;

/// Why a command stopped.
pub enum Failure {
    /// Model or data problems, already rendered (exit 1).
    User(String),
    /// Usage problems, already rendered (exit 2).
    Usage(String),
    /// I/O, and usage problems said in one line (exit 2).
    Io(String),
    /// Stopped by Ctrl-C after writing the outputs (exit 130).
    Interrupted,
}

/// The model text and, where given, the data text, with their paths for diagnostics.
pub struct Files {
    pub model_path: String,
    pub model: String,
    pub data_path: String,
    pub data: Option<String>,
    /// DATA's path: with `data` gone (`take_data`), an error's line is quoted from the file.
    data_file: Option<PathBuf>,
}

impl Files {
    /// Reads MODEL and, for the commands that take one, DATA. Arguments that look swapped (a
    /// data file where the model goes and a model file where the data goes) are a usage
    /// error that says so, rather than a parse error about the data's first line.
    pub fn read(model: &Path, data: Option<&Path>) -> Result<Files, Failure> {
        let is_model = |p: &Path| p.extension().is_some_and(|e| e == "em");
        if let Some(d) = data {
            if !is_model(model) && is_model(d) {
                return Err(swapped(model, d));
            }
        }
        let model_text = read_text(model)?;
        let data_text = match data {
            Some(p) => Some(read_text(p)?),
            None => None,
        };
        Ok(Files {
            model_path: model.display().to_string(),
            model: model_text,
            data_path: data.map(|p| p.display().to_string()).unwrap_or_default(),
            data: data_text,
            data_file: data.map(Path::to_path_buf),
        })
    }

    /// The checked model. When MODEL does not parse but DATA does, the two were swapped.
    pub fn front_end(&self, set: &[(String, String)]) -> Result<Model, Failure> {
        front_end(&self.model, set).map_err(|e| {
            let data_is_model = matches!(&e, Error::Syntax(_) | Error::Check(_))
                && self
                    .data
                    .as_deref()
                    .is_some_and(|d| front_end(d, set).is_ok());
            if data_is_model {
                swapped(Path::new(&self.model_path), Path::new(&self.data_path))
            } else {
                self.render(&e)
            }
        })
    }

    pub fn data_text(&self) -> &str {
        self.data.as_deref().unwrap_or("")
    }

    /// DATA's text, for a command that lets it go once it is read: the instances and the
    /// kernel hold what training needs, and the text is as large again as the instances
    /// (the Hansards of IBM Model 1: 5.8 MB). An error met afterwards reads DATA again to
    /// quote the line it names; the error's line number does not depend on it. Empty
    /// without DATA.
    pub fn take_data(&mut self) -> String {
        self.data.take().unwrap_or_default()
    }

    pub fn render(&self, e: &Error) -> Failure {
        self.render_with(e, Path::new("command line"))
    }

    /// Renders every diagnostic against the file it points into; `other` names the rest.
    pub fn render_with(&self, e: &Error, other: &Path) -> Failure {
        let model = Named {
            name: &self.model_path,
            text: &self.model,
        };
        // A file that cannot be read again (removed meanwhile) is quoted as empty.
        let reread = match (&self.data, &self.data_file) {
            (None, Some(path)) => read_text(path).ok(),
            _ => None,
        };
        let data = Named {
            name: &self.data_path,
            text: reread.as_deref().unwrap_or(self.data_text()),
        };
        Failure::User(e.render(model, data, &other.display().to_string()))
    }
}

fn swapped(model: &Path, data: &Path) -> Failure {
    let d = Diagnostic::unlocated(format!(
        "MODEL and DATA look swapped: `{}` is given as the model, `{}` as the data",
        model.display(),
        data.display()
    ))
    .with_hint(format!(
        "the model file comes first: `{} {}`",
        data.display(),
        model.display()
    ));
    Failure::Usage(d.render("command line", ""))
}

/// Reads an input file (model, data, parameters, gold or predicted lines) within the input
/// budgets, and turns its bytes into text.
pub fn read_text(path: &Path) -> Result<String, Failure> {
    let budget = Budget::from_env()?;
    let bytes = read_bounded(path, budget, false)?;
    to_text(path, bytes)
}

/// Reads a JSON file emc wrote (params.json, checkpoint.json) within the file budget: these
/// are one line, as long as the model is large, so the line budget does not apply; instead a
/// file that does not start as a JSON object does (`/dev/zero`) is refused at its first byte.
pub fn read_json(path: &Path) -> Result<String, Failure> {
    let budget = Budget {
        line: u64::MAX,
        ..Budget::from_env()?
    };
    let bytes = read_bounded(path, budget, true)?;
    to_text(path, bytes)
}

/// The bytes of an input file as text (`emc::text::decode`: a leading byte-order mark
/// dropped, UTF-16 refused with a hint, a byte that is not UTF-8 located, lone carriage
/// returns read as line breaks). The one place where bytes become text, for every input.
fn to_text(path: &Path, bytes: Vec<u8>) -> Result<String, Failure> {
    emc::text::decode(&bytes)
        .map_err(|e| Failure::User(e.render(&path.display().to_string(), &bytes)))
}

/// How much of an input emc reads before it refuses it: the whole file, and one line. Both
/// fail as soon as they are passed, before the text is held or parsed, so that `/dev/zero`
/// or a runaway line costs at most the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub file: u64,
    pub line: u64,
}

/// Environment variables that set the budgets, in bytes (a suffix K, M or G multiplies by
/// 2^10, 2^20, 2^30).
pub const FILE_BUDGET_VAR: &str = "EMC_MAX_INPUT_BYTES";
pub const LINE_BUDGET_VAR: &str = "EMC_MAX_LINE_BYTES";

/// Defaults: a data file of 1 GiB already compiles into tens of gigabytes, and the longest
/// line that any story can run (2^22 loop passes) is well under 16 MiB of tokens.
pub const DEFAULT_FILE_BUDGET: u64 = 1 << 30;
pub const DEFAULT_LINE_BUDGET: u64 = 16 << 20;

impl Budget {
    pub fn from_env() -> Result<Budget, Failure> {
        Ok(Budget {
            file: budget_var(FILE_BUDGET_VAR, DEFAULT_FILE_BUDGET)?,
            line: budget_var(LINE_BUDGET_VAR, DEFAULT_LINE_BUDGET)?,
        })
    }
}

fn budget_var(name: &str, default: u64) -> Result<u64, Failure> {
    let Some(value) = std::env::var_os(name) else {
        return Ok(default);
    };
    let text = value.to_string_lossy();
    parse_bytes(&text).ok_or_else(|| {
        usage(
            format!("{name}={text} is not a number of bytes"),
            "a whole number >= 1, optionally with K, M or G (2^10, 2^20, 2^30), e.g. 64M",
        )
    })
}

/// `123`, `64K`, `16M`, `2G`; at least 1.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, shift) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 10),
        (i, 'm' | 'M') => (&t[..i], 20),
        (i, 'g' | 'G') => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: u64 = digits.parse().ok()?;
    n.checked_mul(1 << shift).filter(|n| *n >= 1)
}

/// Reads `path` in chunks, counting bytes and line lengths as they come: an endless or
/// oversized input fails after reading at most a budget's worth. A bare CR ends a line for
/// the budget too, so that a file of CR line endings is not one long line.
/// `json`: the first byte other than white space must open an object.
pub fn read_bounded(path: &Path, budget: Budget, json: bool) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    let name = path.display().to_string();
    let io = |e: std::io::Error| Failure::Io(format!("cannot read {name}: {e}"));
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut bytes: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut line = 1u64;
    let mut line_len = 0u64;
    let mut prev = 0u8;
    let mut opened = !json;
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        let read = &chunk[..n];
        if bytes.len() as u64 + n as u64 > budget.file {
            return Err(over_budget(
                format!("{name} is larger than {} bytes", budget.file),
                FILE_BUDGET_VAR,
                &name,
            ));
        }
        for b in read {
            if !opened && !b.is_ascii_whitespace() {
                if *b != b'{' {
                    let d = Diagnostic::unlocated(format!("{name} is not a JSON file"))
                        .with_hint("give the params.json (or checkpoint.json) an `emc run` wrote");
                    return Err(Failure::User(d.render(&format!("{name}:{line}"), "")));
                }
                opened = true;
            }
            if *b == b'\n' || *b == b'\r' {
                // "\r\n" counts one line, as the readers do.
                if !(*b == b'\n' && prev == b'\r') {
                    line += 1;
                }
                line_len = 0;
            } else {
                line_len += 1;
                if line_len > budget.line {
                    return Err(over_budget(
                        format!("line {line} of {name} is longer than {} bytes", budget.line),
                        LINE_BUDGET_VAR,
                        &format!("{name}:{line}"),
                    ));
                }
            }
            prev = *b;
        }
        // An allocation that fails is an error, not an abort: the budget may be more than
        // the machine has.
        bytes.try_reserve(n).map_err(|_| {
            Failure::Io(format!(
                "cannot read {name}: out of memory after {} bytes",
                bytes.len()
            ))
        })?;
        bytes.extend_from_slice(read);
    }
    Ok(bytes)
}

fn over_budget(message: String, var: &str, at: &str) -> Failure {
    let d = Diagnostic::unlocated(message).with_hint(format!(
        "is this the right file? A larger budget can be set with {var}=BYTES (e.g. {var}=4G)"
    ));
    Failure::User(d.render(at, ""))
}

/// Line numbers as a message lists them: the first ten, and how many more there are.
pub fn some_lines(lines: impl IntoIterator<Item = usize>) -> String {
    let (mut shown, mut n) = (Vec::new(), 0);
    for line in lines {
        if n < 10 {
            shown.push(line.to_string());
        }
        n += 1;
    }
    let more = if n > 10 {
        format!(" and {} more", n - 10)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

pub fn print_lines(lines: &[String]) -> Result<(), Failure> {
    let mut out = LinePrinter::new();
    for l in lines {
        if !out.line(l) {
            break;
        }
    }
    out.finish()
}

/// Lines to stdout as they come. A closed pipe (`emc sample ... | head`) is not an error: it
/// stops the command, which then succeeds.
pub struct LinePrinter {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    error: Option<std::io::Error>,
}

impl LinePrinter {
    pub fn new() -> LinePrinter {
        LinePrinter {
            out: std::io::BufWriter::new(std::io::stdout().lock()),
            error: None,
        }
    }

    /// Prints `l`; false once stdout is gone, so the caller stops producing lines.
    pub fn line(&mut self, l: &str) -> bool {
        if self.error.is_some() {
            return false;
        }
        match writeln!(self.out, "{l}") {
            Ok(()) => true,
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }

    pub fn finish(mut self) -> Result<(), Failure> {
        let result = match self.error.take() {
            Some(e) => Err(e),
            None => self.out.flush(),
        };
        match result {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Io(e.to_string())),
            _ => Ok(()),
        }
    }
}

/// A usage problem with a hint, rendered against the command line.
pub fn usage(message: String, hint: &str) -> Failure {
    let d = Diagnostic::unlocated(message).with_hint(hint.to_string());
    Failure::Usage(d.render("command line", ""))
}
