//! The split of an evaluation set into a tuning half and a test half, shared
//! by the agreement benches and the tests that read those sets.

/// Whether a labelled text (a request, an error message) is in the tuning
/// half: FNV-1a (64 bit) of its bytes is even. Deterministic and independent
/// of the file's order, so adding texts never moves the others.
pub fn in_tuning_half(text: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.is_multiple_of(2)
}
