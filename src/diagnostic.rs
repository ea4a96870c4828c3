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
        let mut out = format!("error: {}\n", printable_message(&self.message));
        match self.span {
            Some(span) => out.push_str(&render_snippet(name, source, span, self.label.as_deref())),
            None => out.push_str(&format!("  --> {name}\n")),
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("   = hint: {}\n", printable_message(hint)));
        }
        out
    }
}

/// Longest quoted text (a name, a token, a value between backticks) a message shows whole.
const MAX_QUOTED: usize = 60;

/// A message as it may reach a terminal: control characters escaped, and any quoted text
/// longer than `MAX_QUOTED` characters (a 64 KiB bad token) cut in its middle.
fn printable_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(4 * MAX_QUOTED));
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let quoted = i % 2 == 1;
        let n = part.chars().count();
        if quoted && n > MAX_QUOTED {
            let keep = MAX_QUOTED / 2;
            part.chars()
                .take(keep)
                .for_each(|c| push_printable(&mut out, c));
            out.push_str(&format!("...({} characters)...", n - 2 * keep));
            part.chars()
                .skip(n - keep)
                .for_each(|c| push_printable(&mut out, c));
        } else {
            part.chars().for_each(|c| push_printable(&mut out, c));
        }
    }
    out
}

/// How a character of the user's text is shown: itself, or an escape for what a terminal
/// would act on or hide (control characters, a byte-order mark, direction overrides).
fn printable(c: char) -> Option<String> {
    let hidden = c.is_control()
        || matches!(c, '\u{FEFF}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    match c {
        '\t' => Some(" ".into()),
        _ if hidden => Some(format!("\\u{{{:X}}}", c as u32)),
        _ => None,
    }
}

/// As `printable`, keeping the line breaks a message may have.
fn push_printable(out: &mut String, c: char) {
    match printable(c).filter(|_| c != '\n') {
        Some(s) => out.push_str(&s),
        None => out.push(c),
    }
}

/// The columns a character takes once shown.
fn shown_width(c: char) -> usize {
    printable(c).map_or(1, |s| s.chars().count())
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
    let caret_col = (col - 1).min(text.len());
    let (from, prefix) = if caret_col > MAX_SHOWN / 2 {
        (caret_col - MAX_SHOWN / 2, "...")
    } else {
        (0, "")
    };
    let to = (from + MAX_SHOWN).min(text.len());
    let suffix = if to < text.len() { "..." } else { "" };
    let window = &text[from.min(to)..to];
    let shown: String = window
        .iter()
        .map(|c| printable(*c).unwrap_or_else(|| c.to_string()))
        .collect();
    // Escaped characters take several columns: the caret follows what is shown.
    let pad_cols: usize = window[..caret_col - from.min(caret_col)]
        .iter()
        .map(|c| shown_width(*c))
        .sum();
    let span_chars = window
        .iter()
        .skip(caret_col - from.min(caret_col))
        .take(width);
    let width = span_chars
        .map(|c| shown_width(*c))
        .sum::<usize>()
        .clamp(1, MAX_SHOWN);

    let gutter = line.to_string().len();
    let pad = " ".repeat(gutter);
    let caret_pad = " ".repeat(prefix.len() + pad_cols);
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
    fn control_characters_are_escaped_and_long_tokens_cut() {
        let token = "x".repeat(65536);
        let src = format!("model {{ a\0b ~ {token} }}\n");
        let at = src.find('\0').unwrap();
        let text = Diagnostic::error(
            format!("unknown name `{token}` near `\0`"),
            Span::new(at, at + 1),
        )
        .with_hint("a \u{1b}[31m red")
        .render("m.em", &src);
        assert!(!text.contains('\0') && !text.contains('\u{1b}'), "{text}");
        assert!(text.len() < 1000, "{} bytes", text.len());
        assert!(text.contains("a\\u{0}b"), "{text}");
        // The caret sits under the escaped character, and covers all of its columns.
        let lines: Vec<&str> = text.lines().collect();
        let shown = lines.iter().find(|l| l.starts_with("1 |")).unwrap();
        let caret = lines.iter().find(|l| l.contains('^')).unwrap();
        assert_eq!(shown.find('\\'), caret.find('^'), "{text}");
        assert_eq!(caret.matches('^').count(), "\\u{0}".len(), "{text}");
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
