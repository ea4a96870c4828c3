//! Constructs users bring from other languages that the model language does not have: `if`,
//! procedures, a call standing alone, slices, a domain extended by another domain. The grammar
//! does not know them, so pest fails somewhere after their start with an "expected ..." that
//! names neither the construct nor the alternative, sometimes on the next line. When the parse
//! has failed, this pass looks at the statement around the failure and, if it is one of them,
//! says so at the construct itself.
//!
//! It only ever runs on text that did not parse, so it cannot change what a valid model means.

use super::ast::Span;
use super::parse::{strip_comments, SyntaxError};

/// Words that start a definition in languages users know.
const PROCEDURE_WORDS: [&str; 6] = ["proc", "procedure", "def", "fn", "function", "sub"];

/// Words of the model language that may start a line; a line starting with one is no call.
const KEYWORDS: [&str; 13] = [
    "const",
    "domain",
    "data",
    "param",
    "table",
    "train",
    "model",
    "hidden",
    "let",
    "for",
    "in",
    "len",
    "vocabulary",
];

#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    text: &'a str,
    start: usize,
    end: usize,
    line: usize,
}

impl Tok<'_> {
    fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }

    fn is_word(&self) -> bool {
        self.text
            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    }

    fn is_name(&self) -> bool {
        self.text
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
    }
}

/// Splits code (comments already blanked) into words, strings and operators, with lines.
fn tokens(code: &str) -> Vec<Tok<'_>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            line += 1;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'\'' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'\'')
            {
                i += 1;
            }
        } else if c == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                i += 1;
            }
            i = (i + 1).min(bytes.len());
        } else if code[i..].starts_with("|||") {
            i += 3;
        } else if ["..", "++", "->"]
            .iter()
            .any(|op| code[i..].starts_with(op))
        {
            i += 2;
        } else {
            // One character, whole even when it is not ASCII.
            i += code[i..].chars().next().map_or(1, char::len_utf8);
        }
        out.push(Tok {
            text: &code[start..i],
            start,
            end: i,
            line,
        });
    }
    out
}

/// A plain-words error for an unsupported construct around `pos`, where pest gave up.
pub(super) fn explain(source: &str, pos: usize) -> Option<SyntaxError> {
    let code = strip_comments(source);
    let toks = tokens(&code);
    // The token pest stopped at, and the one before it (the end of the statement it was in).
    let at = toks.iter().position(|t| t.end > pos).unwrap_or(toks.len());
    let mut lines: Vec<usize> = Vec::new();
    if at > 0 {
        lines.push(toks[at - 1].line);
    }
    if let Some(t) = toks.get(at) {
        if !lines.contains(&t.line) {
            lines.push(t.line);
        }
    }
    if let Some(e) = slice(&toks, at) {
        return Some(e);
    }
    lines.iter().find_map(|&line| {
        let on_line: Vec<Tok> = toks.iter().copied().filter(|t| t.line == line).collect();
        branch(&on_line)
            .or_else(|| procedure(&on_line))
            .or_else(|| lone_call(&on_line))
            .or_else(|| domain_plus_domain(&on_line))
    })
}

/// `if cond { ... }` and its `else`.
fn branch(line: &[Tok]) -> Option<SyntaxError> {
    let (first, rest) = match line {
        [close, word, rest @ ..] if close.text == "}" && word.text == "else" => (word, rest),
        [word, rest @ ..] => (word, rest),
        [] => return None,
    };
    if !matches!(first.text, "if" | "else") {
        return None;
    }
    // `if ~ f` would draw a variable that happens to be called `if`.
    let opens = match rest.first() {
        Some(t) => t.is_word() || matches!(t.text, "(" | "!" | "{"),
        None => first.text == "else",
    };
    if !opens {
        return None;
    }
    Some(SyntaxError {
        message: format!(
            "`{}` is not in the language: a story has no branches",
            first.text
        ),
        span: first.span(),
        hint: Some(
            "make the choice a hidden variable and condition on it (`x ~ f(z)` with `param f : Categorical(X | Z)`), or compute a value from symbols with a `table`".into(),
        ),
    })
}

/// `proc name(...) { ... }` and its cousins from other languages.
fn procedure(line: &[Tok]) -> Option<SyntaxError> {
    let [word, name, ..] = line else {
        return None;
    };
    if !PROCEDURE_WORDS.contains(&word.text) || !name.is_name() {
        return None;
    }
    Some(SyntaxError {
        message: format!(
            "`{}` starts a procedure, and the language has no procedures",
            word.text
        ),
        span: word.span(),
        hint: Some(
            "write the steps in the `model` block itself, repeating them with `for` loops".into(),
        ),
    })
}

/// `observe(x)` on a line of its own: a call whose value goes nowhere.
fn lone_call(line: &[Tok]) -> Option<SyntaxError> {
    let [name, open, .., close] = line else {
        return None;
    };
    if !name.is_name() || KEYWORDS.contains(&name.text) || open.text != "(" || close.text != ")" {
        return None;
    }
    if line.iter().any(|t| matches!(t.text, "~" | "=" | ":")) {
        return None;
    }
    Some(SyntaxError {
        message: format!(
            "a call cannot stand alone: `{}(...)` is not a statement, and the language has no procedures",
            name.text
        ),
        span: Span::new(name.start, close.end),
        hint: Some(
            "every statement makes a value: draw it with `x ~ family(...)`, compute it with `x = table(...)`, or name it with `let x = ...`".into(),
        ),
    })
}

/// `s[a..b]`: pest stops at the `..` inside an index.
fn slice(toks: &[Tok], at: usize) -> Option<SyntaxError> {
    let dots = toks.get(at).filter(|t| t.text == "..")?;
    // The `[` this `..` is inside, on the same line.
    let mut depth = 0usize;
    let mut open = None;
    for k in (0..at).rev() {
        let t = &toks[k];
        if t.line != dots.line {
            break;
        }
        match t.text {
            "]" | ")" => depth += 1,
            "(" if depth == 0 => return None,
            "(" => depth -= 1,
            "[" if depth == 0 => {
                open = Some(k);
                break;
            }
            "[" => depth -= 1,
            _ => {}
        }
    }
    let open = open?;
    // An index follows what it indexes; `[0..3]` alone is a list, not a slice.
    let indexed = open.checked_sub(1).map(|k| &toks[k])?;
    if !(indexed.is_name() || matches!(indexed.text, "]" | ")")) {
        return None;
    }
    let close = toks[at..]
        .iter()
        .take_while(|t| t.line == dots.line)
        .find(|t| t.text == "]")
        .map_or(dots.end, |t| t.end);
    Some(SyntaxError {
        message: "slices are not in the language: an index is one position".into(),
        span: Span::new(toks[open].start, close),
        hint: Some(format!(
            "use one element at a time in a loop, e.g. `for i in 0..3: ... {}[i] ...`",
            indexed.text
        )),
    })
}

/// `domain D = A + B`: a domain extends by a set of symbols, not by another domain.
fn domain_plus_domain(line: &[Tok]) -> Option<SyntaxError> {
    if line.first()?.text != "domain" {
        return None;
    }
    let eq = line.iter().position(|t| t.text == "=")?;
    let rest = &line[eq + 1..];
    let added = rest
        .windows(2)
        .find(|w| w[0].text == "+" && w[1].is_name())
        .map(|w| w[1])?;
    Some(SyntaxError {
        message: format!(
            "a domain is extended by a set of symbols, not by another domain like `{}`",
            added.text
        ),
        span: added.span(),
        hint: Some(format!(
            "list the symbols to add, e.g. `+ {{STOP}}`; joining two domains is not in the language yet, so write the union as one set: `domain {} = {{...}}`",
            line.get(1).map_or("D", |t| t.text)
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_operators_whole() {
        let code = "s[0..3] ++ x -> y ||| z";
        let texts: Vec<&str> = tokens(code).iter().map(|t| t.text).collect();
        assert_eq!(
            texts,
            ["s", "[", "0", "..", "3", "]", "++", "x", "->", "y", "|||", "z"]
        );
    }

    #[test]
    fn a_variable_named_if_is_not_a_branch() {
        let line = tokens("if ~ coin(");
        assert!(branch(&line).is_none());
        assert!(branch(&tokens("if coin == A {")).is_some());
    }

    #[test]
    fn a_bracketed_range_is_not_a_slice() {
        let code = "let s = [0..3]";
        let toks = tokens(code);
        let at = toks.iter().position(|t| t.text == "..").unwrap();
        assert!(slice(&toks, at).is_none());
    }
}
