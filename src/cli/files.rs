//! Reading the inputs and writing the outputs: model and data texts with their names for
//! diagnostics, atomic writes, stdout that tolerates a closed pipe, and how a command fails.

use std::io::Write;
use std::path::Path;

use emc::data;
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
            Some(p) => {
                let bytes = std::fs::read(p)
                    .map_err(|e| Failure::Io(format!("cannot read {}: {e}", p.display())))?;
                match data::utf8(&bytes) {
                    Ok(s) => Some(s.to_string()),
                    Err(e) => {
                        let lossy = String::from_utf8_lossy(&bytes);
                        let d = e.to_diagnostic();
                        return Err(Failure::User(d.render(&p.display().to_string(), &lossy)));
                    }
                }
            }
            None => None,
        };
        Ok(Files {
            model_path: model.display().to_string(),
            model: model_text,
            data_path: data.map(|p| p.display().to_string()).unwrap_or_default(),
            data: data_text,
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

    pub fn render(&self, e: &Error) -> Failure {
        self.render_with(e, Path::new("command line"))
    }

    /// Renders every diagnostic against the file it points into; `other` names the rest.
    pub fn render_with(&self, e: &Error, other: &Path) -> Failure {
        let model = Named {
            name: &self.model_path,
            text: &self.model,
        };
        let data = Named {
            name: &self.data_path,
            text: self.data_text(),
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

pub fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))
}

pub fn print_lines(lines: &[String]) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // A closed pipe (`emc decode ... | head`) is not an error.
    let closed_ok = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Ok(())
        } else {
            Err(Failure::Io(e.to_string()))
        }
    };
    for l in lines {
        if let Err(e) = writeln!(out, "{l}") {
            return closed_ok(e);
        }
    }
    out.flush().or_else(closed_ok)
}

/// Writes through a temporary file in the same directory and renames it into place, so a
/// failed run never leaves a half-written file where a good one was.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), Failure> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let io = |e: std::io::Error| Failure::Io(format!("cannot write {}: {e}", path.display()));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
