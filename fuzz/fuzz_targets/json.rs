#![no_main]
//! The json decoder on arbitrary bytes cut into reads where the input says: see
//! `mixerlead_fuzz::check_decoder` for the input's layout and the invariants checked.

use libfuzzer_sys::fuzz_target;
use mixerlead_fuzz::{check_decoder, Format};

fuzz_target!(|data: &[u8]| check_decoder(Format::Json, data));
