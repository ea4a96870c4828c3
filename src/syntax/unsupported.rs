//! Constructs users bring from other languages that the model language does not have: a
//! domain extended by another domain (`if`, procedures, calls and slices are in the language
//! now). The grammar does not know it, so pest fails somewhere after its start with an
//! "expected ..." that names neither the construct nor the alternative. When the parse has
//! failed, this pass looks at the statement around the failure and, if it is one of them,
//! says so at the construct itself.
//!
//! It only ever runs on text that did not parse, so it cannot change what a valid model means.

use super::ast::Span;
use super::parse::{strip_comments, SyntaxError};

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
    lines.iter().find_map(|&line| {
        let on_line: Vec<Tok> = toks.iter().copied().filter(|t| t.line == line).collect();
        domain_plus_domain(&on_line)
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
}
