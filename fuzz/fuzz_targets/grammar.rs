//! Fuzzer bytes drive a printer of models (`emc_fuzz::grammar`): valid-looking models of every
//! construct, long flat chains and large sizes, through the `model` pipeline; nothing may
//! panic. `EMC_FUZZ_PRINT=1` prints each generated model to stderr (to save or minimise one).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: emc_fuzz::init(), |bytes: &[u8]| {
    let text = emc_fuzz::grammar::model(bytes);
    if std::env::var_os("EMC_FUZZ_PRINT").is_some() {
        eprintln!("{text}");
    }
    emc_fuzz::known::run(|| {
        let _ = emc_fuzz::model(text.as_bytes());
    });
});
