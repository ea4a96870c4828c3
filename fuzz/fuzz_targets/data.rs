//! A zoo model picked by the first byte, the rest a data file: compile, unroll every instance,
//! E-step and MAP under uniform parameters; nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: emc_fuzz::init(), |bytes: &[u8]| {
    if let Some((first, rest)) = bytes.split_first() {
        emc_fuzz::known::run(|| {
            let _ = emc_fuzz::data(emc_fuzz::model_for_byte(*first), rest);
        });
    }
});
