//! The outputs of one `emc run` (or `emc select`) as one unit. Every file is first written into a staging
//! directory inside the output directory (`.emc-new-<pid>`), synced, and only when all are
//! written are they renamed into place, with the outputs of an earlier run that this one does
//! not write removed: a reader sees the old run's files or the new run's, never a mix, unless
//! the machine itself fails during the renames. A failed write (a full disk) leaves the old
//! files and no temporary ones.
//!
//! A second Ctrl-C quits at once, but not in the middle of a file or of the renames: the
//! handler takes the same lock that writing holds (`WRITING`), removes the staging directory
//! and exits.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::files::Failure;

/// Every file a run may leave in its output directory. One that a run does not write (no
/// `--decode`, a finished run's checkpoint) is removed when the run's files go in, so that
/// it cannot pass for the new run's.
pub const UNIT: [&str; 7] = [
    "params.json",
    "params.tsv",
    "trace.tsv",
    "trace.svg",
    "decode.txt",
    "select.tsv",
    emc::checkpoint::FILE_NAME,
];

/// Held while a file is written or the outputs are renamed into place; holds the staging
/// directory to remove when the process quits in between.
static WRITING: Mutex<Option<PathBuf>> = Mutex::new(None);

fn writing() -> std::sync::MutexGuard<'static, Option<PathBuf>> {
    WRITING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the second Ctrl-C does: waits for the file being written, removes the staging
/// directory, and ends the process.
pub fn quit_now() -> ! {
    let staging = writing();
    if let Some(dir) = staging.as_ref() {
        let _ = std::fs::remove_dir_all(dir);
    }
    std::process::exit(130)
}

/// The output directory of a run, checked writable, with its staging directory.
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    written: Vec<&'static str>,
    /// The output directory did not exist before: a run that fails removes it again.
    created: bool,
    committed: bool,
}

impl Staging {
    /// Creates the output directory and checks that a directory and a file can be made in
    /// it: one that cannot be written fails here, before any training. The staging directory
    /// itself is made by the first write, so that a run killed before then leaves nothing.
    pub fn begin(out: &Path) -> Result<Staging, Failure> {
        let cannot = |what: &str, p: &Path, e: std::io::Error| {
            Failure::Io(format!(
                "cannot {what} {}: {e} (the outputs go there; choose another with --out)",
                p.display()
            ))
        };
        let created = !out.exists();
        std::fs::create_dir_all(out).map_err(|e| cannot("create", out, e))?;
        let dir = out.join(format!(".emc-new-{}", std::process::id()));
        // A directory of that name is a leftover of a killed process with our id.
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| cannot("remove", &dir, e))?;
        }
        let staging = Staging {
            out: out.to_path_buf(),
            dir,
            written: Vec::new(),
            created,
            committed: false,
        };
        // A file, not only a directory: some read-only mounts refuse only files.
        let probe = staging.dir.join("probe");
        std::fs::create_dir(&staging.dir)
            .and_then(|()| std::fs::write(&probe, b""))
            .map_err(|e| cannot("write into", out, e))?;
        std::fs::remove_dir_all(&staging.dir).map_err(|e| cannot("write into", out, e))?;
        Ok(staging)
    }

    /// Writes `name` into the staging directory.
    pub fn write(&mut self, name: &'static str, text: &str) -> Result<(), Failure> {
        self.write_with(name, |w| w.write_all(text.as_bytes()))
    }

    /// Writes `name` into the staging directory as `fill` makes it, through a buffer: a
    /// file of tens of megabytes is never held whole.
    pub fn write_with(
        &mut self,
        name: &'static str,
        fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), Failure> {
        let mut lock = writing();
        if lock.is_none() {
            std::fs::create_dir(&self.dir).map_err(|e| {
                Failure::Io(format!("cannot write into {}: {e}", self.out.display()))
            })?;
            *lock = Some(self.dir.clone());
        }
        let path = self.dir.join(name);
        write_synced_with(&path, fill).map_err(|e| {
            Failure::Io(format!(
                "cannot write {}: {e}",
                self.out.join(name).display()
            ))
        })?;
        self.written.push(name);
        Ok(())
    }

    /// Renames every staged file into place and removes the unit's other files: the moment
    /// the old outputs become the new ones.
    pub fn commit(mut self) -> Result<(), Failure> {
        let mut lock = writing();
        for name in &self.written {
            let to = self.out.join(name);
            std::fs::rename(self.dir.join(name), &to)
                .map_err(|e| Failure::Io(format!("cannot write {}: {e}", to.display())))?;
        }
        for name in UNIT.iter().filter(|n| !self.written.contains(n)) {
            remove_if_there(&self.out.join(name))?;
        }
        // The renames are durable once the directory is synced (where the OS can sync one).
        if let Ok(d) = std::fs::File::open(&self.out) {
            let _ = d.sync_all();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        *lock = None;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    /// A run that fails leaves no staging directory (after a commit there is none).
    fn drop(&mut self) {
        let mut lock = writing();
        if self.dir.exists() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        if lock.as_ref() == Some(&self.dir) {
            *lock = None;
        }
        // Only if empty: a failed run leaves no directory it made, and nothing else goes.
        if self.created && !self.committed {
            let _ = std::fs::remove_dir(&self.out);
        }
    }
}

/// Stages params.json and params.tsv of `params`, as `emc run` and `emc mstep` write them.
pub fn stage_params(
    staging: &mut Staging,
    program: &emc::program::Program,
    params: &emc::params::Params,
) -> Result<[&'static str; 2], Failure> {
    let (m, domains, layout) = (&program.model, &program.domains, &program.layout);
    staging.write_with("params.json", |mut w| {
        emc::params::write_json(m, domains, layout, params, &mut w)
    })?;
    staging.write_with("params.tsv", |mut w| {
        emc::params::write_tsv(m, domains, layout, params, &mut w)
    })?;
    Ok(["params.json", "params.tsv"])
}

pub fn remove_if_there(path: &Path) -> Result<(), Failure> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Failure::Io(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Writes through a temporary file in the same directory and renames it into place, so a
/// failed write never leaves a half-written file where a good one was, nor the temporary
/// file. For files written on their own (checkpoints during training).
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), Failure> {
    let _lock = writing();
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = write_synced(&tmp, bytes.as_ref()).and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Failure::Io(format!("cannot write {}: {e}", path.display()))
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_synced_with(path, |w| w.write_all(bytes))
}

fn write_synced_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write;
    let f = std::fs::File::create(path)?;
    // After the file exists, as a full disk fails: so that the tests see it removed.
    fault::before_write(path)?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, f);
    fill(&mut buffered)?;
    buffered.flush()?;
    buffered
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .sync_all()
}

/// Faults for the tests, in builds with debug assertions only (the test profile):
/// `EMC_TEST_FAIL_WRITE=NAME` makes writing every file whose name starts with NAME fail as a
/// full disk would (`params.tsv`, `checkpoint`), and `EMC_TEST_WRITE_DELAY_MS=T` makes every
/// write take T ms longer, so that a signal can arrive while one is under way.
mod fault {
    use std::path::Path;

    #[cfg(debug_assertions)]
    pub fn before_write(path: &Path) -> std::io::Result<()> {
        let delay = std::env::var("EMC_TEST_WRITE_DELAY_MS").ok();
        if let Some(ms) = delay.and_then(|v| v.parse::<u64>().ok()) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        match std::env::var("EMC_TEST_FAIL_WRITE") {
            Ok(prefix) if name.is_some_and(|n| n.starts_with(&prefix)) => Err(
                std::io::Error::other("no space left on device (injected by EMC_TEST_FAIL_WRITE)"),
            ),
            _ => Ok(()),
        }
    }

    #[cfg(not(debug_assertions))]
    pub fn before_write(_: &Path) -> std::io::Result<()> {
        Ok(())
    }
}
