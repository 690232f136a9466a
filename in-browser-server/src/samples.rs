//! The samples every simulated maildrop starts with: [`popwire::server::SAMPLES`], except that
//! the ~1 MB `07-large.eml` is generated here instead of shipped in the module. Its attachment
//! is 750,000 pseudo-random bytes (splitmix64, seed 20261110, little-endian) in base64, so the
//! message is its head (text and the attachment's headers, `07-large-head.eml`), the base64
//! lines and the closing boundary; a test checks the result is the shipped file byte for byte.

use base64::Engine as _;
use popwire::server::SAMPLES;

/// Where the large sample goes among the others.
const LARGE_AT: usize = 6;

/// The samples other than the large one, picked at compile time so that the large one's bytes
/// are not in the module.
const SMALL: [&[u8]; SAMPLES.len() - 1] = {
    let mut out: [&[u8]; SAMPLES.len() - 1] = [&[]; SAMPLES.len() - 1];
    let mut i = 0;
    while i < out.len() {
        out[i] = SAMPLES[if i < LARGE_AT { i } else { i + 1 }].1;
        i += 1;
    }
    out
};

/// The large sample up to its attachment's base64.
const LARGE_HEAD: &[u8] = include_bytes!("07-large-head.eml");
/// The large sample after its attachment's base64.
const LARGE_TAIL: &[u8] = b"\r\n--=_popwire_large_07--\r\n";
/// The attachment's size.
const LARGE_ATTACHMENT: usize = 750_000;
/// The seed of the attachment's splitmix64 stream.
const LARGE_SEED: u64 = 20_261_110;

/// The samples in the order of [`SAMPLES`], the large one generated.
pub(crate) fn samples() -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = SMALL.iter().map(|s| s.to_vec()).collect();
    all.insert(LARGE_AT.min(all.len()), large());
    all
}

/// `07-large.eml`, generated.
pub(crate) fn large() -> Vec<u8> {
    let mut raw = Vec::with_capacity(LARGE_ATTACHMENT + 8);
    let mut state = LARGE_SEED;
    while raw.len() < LARGE_ATTACHMENT {
        raw.extend_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    raw.truncate(LARGE_ATTACHMENT);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
    let mut out = Vec::with_capacity(LARGE_HEAD.len() + b64.len() * 78 / 76 + LARGE_TAIL.len());
    out.extend_from_slice(LARGE_HEAD);
    for (i, line) in b64.as_bytes().chunks(76).enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(LARGE_TAIL);
    out
}

/// The next output of splitmix64 (Steele, Lea and Flood 2014).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Generated, the samples are exactly the shipped files, in the same order.
    #[test]
    fn generated_samples_are_the_shipped_ones() {
        let ours = samples();
        assert_eq!(ours.len(), SAMPLES.len());
        for (mine, (name, shipped)) in ours.iter().zip(SAMPLES.iter()) {
            assert!(mine.as_slice() == *shipped, "{name} differs");
        }
    }
}
