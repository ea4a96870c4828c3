//! Arbitrary bytes as a model file: parse, check and plan; nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: emc_fuzz::init(), |bytes: &[u8]| {
    emc_fuzz::known::run(|| {
        let _ = emc_fuzz::model(bytes);
    });
});
