//! Pest's errors phrased in plain words: the tokens a user knows, and the real cause when it
//! lies elsewhere than where the parser stopped.

use super::ast::Span;
use super::parse::{strip_comments, Rule, SyntaxError};

/// Turns pest's error into our own, naming the expected tokens in words a user knows.
pub(super) fn from_pest(e: pest::error::Error<Rule>, source: &str) -> SyntaxError {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let end = next_token_end(source, pos);
    let found = if pos >= source.len() {
        "the end of the file".to_string()
    } else {
        format!("`{}`", &source[pos..end])
    };
    let (message, hint) = match e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<&str> = positives.iter().map(|r| rule_name(*r)).collect();
            words.sort();
            words.dedup();
            let expected = join_or(&words);
            (
                format!("expected {expected}, found {found}"),
                hint_for(&positives, source, pos),
            )
        }
        pest::error::ErrorVariant::CustomError { message } => (message, None),
    };
    if let Some(better) = special_case(source, pos) {
        return better;
    }
    if let Some(better) = super::unsupported::explain(source, pos) {
        return better;
    }
    SyntaxError {
        message,
        span: Span::new(pos, end.max(pos)),
        hint,
    }
}

/// Errors whose real cause is elsewhere than where the parser stopped: an unclosed `{` seen
/// at the end of the file, an unterminated string, a name with non-ASCII letters.
fn special_case(source: &str, pos: usize) -> Option<SyntaxError> {
    let code = strip_comments(source);
    if let Some(open) = unclosed_brace(&code) {
        if pos >= source.trim_end().len() {
            return Some(SyntaxError {
                message: "the file ends inside a block: this `{` is never closed".into(),
                span: Span::new(open, open + 1),
                hint: Some("add the matching `}`".into()),
            });
        }
    }
    let line_start = source[..pos.min(source.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line_end = source[line_start..]
        .find('\n')
        .map_or(source.len(), |i| line_start + i);
    let line = &code[line_start..line_end];
    if line.matches('"').count() % 2 == 1 {
        let at = line_start + line.rfind('"').unwrap_or(0);
        return Some(SyntaxError {
            message: "this string is never closed".into(),
            span: Span::new(at, line_end),
            hint: Some("close it with `\"` on the same line".into()),
        });
    }
    if let Some((i, c)) = line.char_indices().find(|(_, c)| !c.is_ascii()) {
        let at = line_start + i;
        if c == '\u{FEFF}' {
            return Some(SyntaxError {
                message: "a byte-order mark (U+FEFF) in the middle of the file".into(),
                span: Span::new(at, at + c.len_utf8()),
                hint: Some(
                    "remove it: only a byte-order mark at the very start of a file is skipped"
                        .into(),
                ),
            });
        }
        return Some(SyntaxError {
            message: format!("`{c}` cannot appear in a name or a symbol"),
            span: Span::new(at, at + c.len_utf8()),
            hint: Some("names and symbols are ASCII letters, digits and `_`".into()),
        });
    }
    None
}

/// The offset of the last `{` that has no matching `}`.
fn unclosed_brace(code: &str) -> Option<usize> {
    let mut open = Vec::new();
    for (i, c) in code.char_indices() {
        match c {
            '{' => open.push(i),
            '}' => {
                open.pop();
            }
            _ => {}
        }
    }
    open.pop()
}

fn next_token_end(source: &str, pos: usize) -> usize {
    if pos >= source.len() {
        return source.len();
    }
    let rest = &source[pos..];
    let mut len = 0;
    for (i, c) in rest.char_indices() {
        if c.is_whitespace() {
            break;
        }
        len = i + c.len_utf8();
        if !(c.is_alphanumeric() || c == '_') {
            break;
        }
    }
    pos + len.max(rest.chars().next().map_or(0, char::len_utf8))
}

fn join_or(words: &[&str]) -> String {
    match words {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn hint_for(positives: &[Rule], source: &str, pos: usize) -> Option<String> {
    let rest = source.get(pos..).unwrap_or("");
    let before = source.get(..pos).unwrap_or("").trim_end();
    if positives.contains(&Rule::call) || before.ends_with('~') || before.ends_with('=') {
        return Some(
            "a draw reads `target ~ family(conditions)`, e.g. `z[i] ~ trans(z[i-1])`".into(),
        );
    }
    if rest.starts_with('{') || rest.starts_with('}') {
        return Some("check that every `{` has a matching `}`".into());
    }
    if positives.iter().any(|r| {
        matches!(
            r,
            Rule::const_decl
                | Rule::domain_decl
                | Rule::data_decl
                | Rule::param_decl
                | Rule::table_decl
                | Rule::train_decl
                | Rule::model_decl
                | Rule::proc_decl
        )
    }) {
        return Some(
            "a model file is a list of `const`, `domain`, `data`, `param`, `table`, `train`, `proc` and `model` declarations".into(),
        );
    }
    None
}

/// The words a user sees for each grammar rule.
fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "the end of the file",
        Rule::const_decl => "`const`",
        Rule::domain_decl => "`domain`",
        Rule::data_decl => "`data`",
        Rule::param_decl => "`param`",
        Rule::table_decl => "`table`",
        Rule::train_decl => "`train`",
        Rule::model_decl => "`model`",
        Rule::symbol_set => "a symbol set like `{A, B}`",
        Rule::vocabulary | Rule::kw_vocabulary => "`vocabulary(field)`",
        Rule::range => "a range like `0..K`",
        Rule::field_group | Rule::field => "a data field like `words : [Word]`",
        Rule::seq_type => "a sequence type like `[Word]`",
        Rule::real_type | Rule::kw_real => "a real type like `Real[2]`",
        Rule::table_row => "a table row like `A O -> A`",
        Rule::options => "an option block `{ ... }`",
        Rule::option => "an option like `key: value`",
        Rule::array => "an array like `[0.5, 0.5]`",
        Rule::value_call => "a template like `suffix(3)`",
        Rule::block => "a block `{ ... }`",
        Rule::hidden_stmt | Rule::kw_hidden => "`hidden`",
        Rule::hidden_array => "an array type like `[State; len(w)]`",
        Rule::domain_ref => "a domain",
        Rule::let_stmt | Rule::kw_let => "`let`",
        Rule::for_stmt | Rule::for_head | Rule::kw_for => "`for`",
        Rule::kw_in => "`in`",
        Rule::draw_stmt | Rule::assign_stmt => "a statement",
        Rule::call => "a distribution like `trans(z[i-1])`",
        Rule::expr | Rule::int_expr | Rule::sum | Rule::product | Rule::postfix => "an expression",
        Rule::index => "an index `[...]`",
        Rule::len_call | Rule::kw_len => "`len(...)`",
        Rule::list => "a list `[...]`",
        Rule::concat_op => "`++`",
        Rule::add_op => "`+` or `-`",
        Rule::neg_sign => "`-`",
        Rule::mul_op => "`*`",
        Rule::keyword => "a keyword",
        Rule::ident => "a name",
        Rule::symbol => "a symbol",
        Rule::number => "a number",
        Rule::string => "a string",
        Rule::file | Rule::item | Rule::stmt | Rule::primary | Rule::value => "a declaration",
        Rule::domain_base | Rule::field_type | Rule::hidden_type => "a type",
        Rule::ident_char | Rule::WHITESPACE | Rule::COMMENT => "text",
        Rule::proc_decl | Rule::kw_proc => "`proc`",
        Rule::proc_param => "a parameter like `i` or `x : Domain`",
        Rule::if_stmt | Rule::kw_if => "`if`",
        Rule::kw_else => "`else`",
        Rule::some_stmt | Rule::kw_some => "`for some`",
        Rule::draw_from | Rule::kw_from => "`from` and a base position",
        Rule::draw_within | Rule::kw_within => "`within lo .. hi`",
        Rule::call_stmt => "a procedure call",
        Rule::output_stmt | Rule::kw_output => "`output`",
        Rule::output_at => "an output like `head[m] = h + 1`",
        Rule::output_bracket => "an output like `(x words[i..k])`",
        Rule::weight_stmt | Rule::kw_weight => "`weight exp(...)`",
        Rule::kw_exp => "`exp(...)`",
        Rule::weight_term => "a term like `-(j - i) ^ 1.6` or `0.5 * n`",
        Rule::pow_op => "`^`",
        Rule::cond | Rule::conj | Rule::neg | Rule::compare => "a condition like `i < len(w)`",
        Rule::cmp_op => "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::substrings | Rule::kw_substrings => "`substrings(field, max_len = N)`",
        Rule::minmax | Rule::kw_minmax => "`min(a, b)` or `max(a, b)`",
    }
}
