//! What the bytes of a file mean (README "Limits", **Files**): a UTF-8 byte-order mark at the
//! start is dropped, UTF-16 is refused by name, a lone carriage return is a line break, and the
//! library reads text handed over undecoded the same way.

use emc::pipeline::{front_end, program};
use emc::text::{decode, TextError};

const MODEL: &str = "domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)
model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
";

fn lines_read(data: &str) -> Vec<usize> {
    let m = front_end(MODEL, &[]).unwrap();
    let (_, d) = program(m, data, None).unwrap_or_else(|e| panic!("{e}"));
    d.instances
        .iter()
        .map(|i| match &i.values[0] {
            emc::data::FieldValue::Sequence(s) => s.len(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_byte_order_mark_at_the_start_is_dropped() {
    let bytes = [b"\xEF\xBB\xBF".as_slice(), MODEL.as_bytes()].concat();
    let text = decode(&bytes).unwrap();
    assert_eq!(text, MODEL);
    // Handed over undecoded, the model and the data read the same.
    front_end(&format!("\u{FEFF}{MODEL}"), &[]).expect("a leading BOM parses");
    assert_eq!(lines_read("\u{FEFF}H T\nT T T\n"), [2, 3]);
}

#[test]
fn lone_carriage_returns_are_line_breaks() {
    let data = decode(b"H T\rT T T\rH\r").unwrap();
    assert_eq!(lines_read(&data), [2, 3, 1]);
    // Undecoded text gives the same lines; CRLF stays one break.
    assert_eq!(lines_read("H T\rT T T\r\nH\r"), [2, 3, 1]);
    assert_eq!(lines_read("H T\r\nT T T\r\n"), [2, 3]);
    // A model with old Mac OS line endings: its comments end at the line's end.
    let mac = format!("# a comment\r{}", MODEL.replace('\n', "\r"));
    front_end(&decode(mac.as_bytes()).unwrap(), &[]).expect("a CR-only model");
}

#[test]
fn utf16_is_refused_by_name_and_bad_bytes_are_located() {
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(MODEL.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let e = decode(&utf16).unwrap_err();
    assert!(matches!(e, TextError::Utf16 { .. }));
    assert!(e.render("m.em", &utf16).contains("UTF-16"));
    let latin1 = MODEL.replace("Coin = {A, B}", "Coin = {A, B\u{e9}}");
    let bytes: Vec<u8> = latin1.chars().map(|c| c as u32 as u8).collect();
    let rendered = decode(&bytes).unwrap_err().render("m.em", &bytes);
    assert!(rendered.contains("m.em:1:20"), "{rendered}");
}
