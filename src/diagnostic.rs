//! One place that turns an error into text: `file:line:col`, the offending line with a caret
//! under the span, and a hint. Every stage's typed error converts into a `Diagnostic`; only this
//! module knows how they look on a terminal.

/// A byte range `[start, end)` in the text a diagnostic points into (the model or the data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    /// Where in the source the problem is; `None` for problems of the file as a whole.
    pub span: Option<Span>,
    pub label: Option<String>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span: Some(span),
            label: None,
            hint: None,
        }
    }

    /// An error about a file as a whole (empty file, unreadable bytes).
    pub fn unlocated(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span: None,
            label: None,
            hint: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_hint_opt(mut self, hint: Option<String>) -> Diagnostic {
        self.hint = hint;
        self
    }

    /// Renders against the text the span points into; `name` is the file name shown to the user.
    pub fn render(&self, name: &str, source: &str) -> String {
        let mut out = format!(
            "error: {}
",
            self.message
        );
        match self.span {
            Some(span) => out.push_str(&render_snippet(name, source, span, self.label.as_deref())),
            None => out.push_str(&format!("  --> {name}\n")),
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("   = hint: {hint}\n"));
        }
        out
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Longest stretch of a source line shown; longer lines are cut around the caret.
const MAX_SHOWN: usize = 100;

fn render_snippet(name: &str, source: &str, span: Span, label: Option<&str>) -> String {
    let (line, col) = line_col(source, span.start);
    let start = floor_char_boundary(source, span.start.min(source.len()));
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[line_start..]
        .find('\n')
        .map_or(source.len(), |i| line_start + i);
    let text: Vec<char> = source[line_start..line_end]
        .trim_end_matches('\r')
        .chars()
        .collect();
    let span_end = floor_char_boundary(source, span.end.clamp(start, line_end));
    let width = source[start..span_end].chars().count().max(1);

    // Cut very long lines (a 10 MB data line) to a window around the caret.
    let caret_col = col - 1;
    let (from, prefix) = if caret_col > MAX_SHOWN / 2 {
        (caret_col - MAX_SHOWN / 2, "...")
    } else {
        (0, "")
    };
    let to = (from + MAX_SHOWN).min(text.len());
    let suffix = if to < text.len() { "..." } else { "" };
    let shown: String = text[from.min(to)..to].iter().collect();
    let width = width.min(MAX_SHOWN);

    let gutter = line.to_string().len();
    let pad = " ".repeat(gutter);
    let caret_pad = " ".repeat(prefix.len() + caret_col - from);
    let mut out = format!("{pad}--> {name}:{line}:{col}\n{pad} |\n");
    out.push_str(&format!("{line} | {prefix}{shown}{suffix}\n"));
    out.push_str(&format!("{pad} | {caret_pad}{}", "^".repeat(width)));
    if let Some(label) = label {
        out.push(' ');
        out.push_str(label);
    }
    out.push('\n');
    out
}

/// The candidate closest to `name` by edit distance, when it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // One edit turns any short name into any other: suggest only for names of 3+ characters.
    let len = name.chars().count();
    if len < 3 {
        return None;
    }
    let limit = (len / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// "did you mean `x`?" or a list of what exists, whichever helps more.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<String> {
    if let Some(s) = suggest(name, candidates.clone()) {
        return Some(format!("did you mean `{s}`?"));
    }
    let all: Vec<&str> = candidates.into_iter().collect();
    match all.len() {
        0 => None,
        1..=8 => Some(format!(
            "declared here: {}",
            all.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => None,
    }
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring letters (`wrods` is one edit from `words`), ignoring case.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j - 1] + cost)
                .min(d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let src = "const K = 2\nparam t : Categorcal(A)\n";
        let start = src.find("Categorcal").unwrap();
        let d = Diagnostic::error(
            "unknown family kind `Categorcal`",
            Span::new(start, start + 10),
        )
        .with_label("not a family kind")
        .with_hint("did you mean `Categorical`?");
        let text = d.render("m.em", src);
        assert_eq!(
            text,
            "error: unknown family kind `Categorcal`\n --> m.em:2:11\n  |\n2 | param t : Categorcal(A)\n  |           ^^^^^^^^^^ not a family kind\n   = hint: did you mean `Categorical`?\n"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("tran", ["trans", "emit"]), Some("trans"));
        assert_eq!(suggest("xyz", ["trans", "emit"]), None);
    }

    #[test]
    fn long_lines_are_windowed() {
        let src = format!("{}X{}", "a ".repeat(5000), "b ".repeat(5000));
        let at = src.find('X').unwrap();
        let text = Diagnostic::error("bad", Span::new(at, at + 1)).render("d.txt", &src);
        assert!(text.lines().all(|l| l.len() < 200), "{text}");
        assert!(text.contains(" a a Xb b "), "{text}");
    }
}
