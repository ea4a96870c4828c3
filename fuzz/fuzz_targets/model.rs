//! Arbitrary bytes as a model file: parse, check and plan; nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = emc_fuzz::model(bytes);
});
