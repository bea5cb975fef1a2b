//! Padmé padding: round a length up so that it leaks at most O(log log n)
//! bits about the exact size (Nikitin et al., "Reducing Metadata Leakage from
//! Encrypted Files and Communication with PURBs", PoPETs 2019, section 4).

/// The padded length for content of `len` bytes. The overhead is at most
/// about 12% and shrinks as files grow.
pub(crate) fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    // E = floor(log2 L), S = floor(log2 E) + 1; the lowest E - S bits of the
    // result are zero.
    let e = 63 - u64::from(len.leading_zeros());
    let s = 64 - u64::from(e.leading_zeros());
    let last_bits = e - s;
    let mask = (1u64 << last_bits) - 1;
    (len + mask) & !mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_lengths_are_unchanged() {
        for len in 0..=8 {
            assert_eq!(padme(len), len);
        }
    }

    #[test]
    fn known_values() {
        // Worked by hand from the definition.
        assert_eq!(padme(9), 10);
        assert_eq!(padme(100), 104);
        assert_eq!(padme(1000), 1024);
        assert_eq!(padme(65_537), 65_536 + 2048);
        assert_eq!(padme(1 << 20), 1 << 20);
        assert_eq!(padme((1 << 20) + 1), (1 << 20) + (1 << 15));
    }

    #[test]
    fn padding_never_shrinks_and_stays_within_twelve_percent() {
        let mut len = 1u64;
        while len < (1 << 40) {
            for probe in [len, len + 1, len * 3 / 2] {
                let padded = padme(probe);
                assert!(padded >= probe, "{probe}");
                assert!(padded - probe <= probe / 8 + 1, "{probe} -> {padded}");
                assert_eq!(padme(padded), padded, "padded lengths are fixed points");
            }
            len *= 2;
        }
    }
}
