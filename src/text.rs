//! Bytes of a model or data file to text, or an error located at the first bad byte. The CLI
//! reads files; this module decides what their bytes mean, the same for both kinds of file:
//!
//! - UTF-8 is the only encoding. A UTF-8 byte-order mark at the start is dropped (editors on
//!   Windows write one); a UTF-16 byte-order mark is refused with a hint naming UTF-16.
//! - A carriage return not followed by a line feed (old Mac OS line endings) is a line break:
//!   it becomes a line feed, byte for byte, so every offset still points at the file's text.
//!   `\r\n` stays as it is (the readers drop the `\r`).

use crate::diagnostic::{Diagnostic, Span};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// `offset` is the first byte that is not UTF-8, in the file without its byte-order mark.
    #[error("the file is not valid UTF-8: byte 0x{byte:02X} cannot appear here")]
    Utf8 { offset: usize, byte: u8 },
    #[error("the file is UTF-16 ({order}), not UTF-8")]
    Utf16 { order: &'static str },
}

/// The text of a file's bytes, decoded as the module documentation says.
pub fn decode(bytes: &[u8]) -> Result<String, TextError> {
    if bytes.starts_with(b"\xFF\xFE") {
        return Err(TextError::Utf16 {
            order: "little-endian",
        });
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Err(TextError::Utf16 {
            order: "big-endian",
        });
    }
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        TextError::Utf8 {
            offset,
            byte: bytes[offset],
        }
    })?;
    Ok(lone_cr_to_lf(text))
}

/// Every `\r` that does not start a `\r\n` becomes `\n`; both are one byte.
fn lone_cr_to_lf(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let out: Vec<u8> = bytes
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if b == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
                b'\n'
            } else {
                b
            }
        })
        .collect();
    // Only ASCII bytes changed, into ASCII bytes: still UTF-8.
    String::from_utf8(out).expect("replacing ASCII with ASCII keeps UTF-8")
}

impl TextError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            TextError::Utf8 { offset, .. } => Diagnostic::error(
                self.to_string(),
                // The bad byte shows as U+FFFD (three bytes) in the lossy text `render` uses.
                Span::new(*offset, offset + 3),
            )
            .with_label("not UTF-8")
            .with_hint("save the file as UTF-8 (for example `iconv -f LATIN1 -t UTF-8`)"),
            TextError::Utf16 { .. } => Diagnostic::error(self.to_string(), Span::new(0, 0))
                .with_label("a UTF-16 byte-order mark")
                .with_hint("save the file as UTF-8 (for example `iconv -f UTF-16 -t UTF-8 FILE`)"),
        }
    }

    /// The error rendered against the file's bytes (`name` is the path shown): the line of
    /// the first bad byte, with that byte as `\u{FFFD}` under the caret.
    pub fn render(&self, name: &str, bytes: &[u8]) -> String {
        let bytes = match self {
            TextError::Utf8 { .. } => bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes),
            TextError::Utf16 { .. } => &[],
        };
        self.to_diagnostic()
            .render(name, &String::from_utf8_lossy(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_a_utf8_bom_and_only_at_the_start() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFconst K = 2\n").unwrap(),
            "const K = 2\n"
        );
        assert_eq!(decode(b"a\xEF\xBB\xBF").unwrap(), "a\u{FEFF}");
    }

    #[test]
    fn refuses_utf16_naming_it() {
        let e = decode(b"\xFF\xFEc\0o\0").unwrap_err();
        assert_eq!(
            e,
            TextError::Utf16 {
                order: "little-endian"
            }
        );
        let text = e.render("m.em", b"\xFF\xFEc\0o\0");
        assert!(text.contains("UTF-16"), "{text}");
        assert!(decode(b"\xFE\xFF\0c").is_err());
    }

    #[test]
    fn locates_the_first_bad_byte() {
        let bytes = b"const K = 2\nparam t : Categ\xE9rical(A)\n";
        let e = decode(bytes).unwrap_err();
        assert_eq!(
            e,
            TextError::Utf8 {
                offset: 27,
                byte: 0xE9
            }
        );
        let text = e.render("m.em", bytes);
        assert!(text.contains("m.em:2:16"), "{text}");
        assert!(text.contains("0xE9"), "{text}");
    }

    #[test]
    fn lone_carriage_returns_are_line_breaks() {
        assert_eq!(decode(b"a\rb\r\nc\r").unwrap(), "a\nb\r\nc\n");
        assert_eq!(decode(b"a\r\r\nb").unwrap(), "a\n\r\nb");
    }
}
