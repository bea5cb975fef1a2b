//! The age header: version line, recipient stanzas and the header MAC.
//!
//! Parsing is strict, following the ABNF in the age spec ("ABNF definition
//! of file header"): every line ends in a bare LF, stanza arguments are
//! non-empty runs of visible ASCII separated by single spaces, bodies are
//! canonical unpadded base64 in 64-column lines closed by a shorter line, and
//! the MAC line is `--- ` and exactly 43 base64 characters. Anything else is
//! [`Error::NotAnEnvelope`]. How much header is read is bounded, so a hostile
//! input cannot make the reader buffer without limit.

use std::io::{self, Read};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{FileKey, hkdf_sha256};
use crate::error::{Error, Result};

/// The only version line this module reads or writes ("Version line").
const VERSION_LINE: &[u8] = b"age-encryption.org/v1";
/// Stanza argument lines start with this ("Recipient stanza").
const STANZA_PREFIX: &[u8] = b"-> ";
/// The MAC line starts with this; the MAC covers the header up to and
/// including the three dashes ("Header MAC").
const MAC_MARK: &[u8] = b"---";
const MAC_PREFIX: &[u8] = b"--- ";
/// Body lines are wrapped at 64 columns; the last one is shorter.
const BODY_COLUMNS: usize = 64;
/// 32 bytes of HMAC-SHA-256 in unpadded base64.
const MAC_BASE64_LEN: usize = 43;

/// The largest header accepted. Real headers are a few hundred bytes per
/// recipient; this leaves room for hundreds of recipients.
pub(crate) const MAX_HEADER_LEN: usize = 64 * 1024;
/// The most recipient stanzas accepted in one header (each may cost an X25519
/// operation per identity), and the most this module will write.
pub(crate) const MAX_STANZAS: usize = 256;
/// How much is read from the input at a time while looking for the header's
/// end. Whatever is read past the header is handed back to the caller.
const READ_BLOCK: usize = 4096;

/// One recipient stanza: its arguments (the first names its type) and its
/// decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stanza {
    pub(crate) args: Vec<String>,
    pub(crate) body: Vec<u8>,
}

/// A parsed header whose MAC has not been checked yet.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) stanzas: Vec<Stanza>,
    /// The header exactly as read, from the version line through the LF of
    /// the MAC line. Parsing accepts only the canonical form, so these bytes
    /// are what the sender wrote and authenticated.
    bytes: Vec<u8>,
    /// How many of `bytes` the MAC covers: up to and including `---`.
    mac_covers: usize,
    mac: [u8; 32],
}

impl Stanza {
    /// The stanza type: its first argument (parsing guarantees there is one).
    pub(crate) fn kind(&self) -> &str {
        self.args.first().map_or("", String::as_str)
    }
}

impl Header {
    /// Reads exactly one header from `input`. Returns it together with the
    /// bytes read past its end, which are the start of the payload.
    pub(crate) fn read<R: Read>(input: &mut R) -> Result<(Self, Vec<u8>)> {
        let mut buf = Vec::with_capacity(READ_BLOCK);
        let mut searched = 0;
        let mut at_eof = false;
        loop {
            // Fail early on input that does not even start like an age file.
            if let Some(error) = check_start(&buf, at_eof) {
                return Err(error);
            }

            if let Some(end) = find_end(&buf, &mut searched) {
                let rest = buf.split_off(end);
                return Ok((Self::parse(&buf)?, rest));
            }
            if at_eof {
                return Err(Error::NotAnEnvelope);
            }
            if buf.len() >= MAX_HEADER_LEN {
                return Err(Error::Unsupported("age headers larger than 64 KiB"));
            }

            // Read the next block, never holding more than the limit.
            let old = buf.len();
            let want = READ_BLOCK.min(MAX_HEADER_LEN - old);
            buf.resize(old + want, 0);
            match input.read(&mut buf[old..]) {
                Ok(0) => {
                    at_eof = true;
                    buf.truncate(old);
                }
                Ok(n) => buf.truncate(old + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(old),
                Err(e) => return Err(Error::Io(e)),
            }
        }
    }

    /// Parses `bytes`, which must be one complete header ending with the LF
    /// of its MAC line and nothing after it.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self> {
        let mut lines = Lines { bytes, pos: 0 };

        // "Version line": exactly `age-encryption.org/v1`; other versions
        // are not files this module can read.
        match lines.next() {
            Some((_, line)) if line == VERSION_LINE => {}
            _ => return Err(Error::NotAnEnvelope),
        }

        let mut stanzas = Vec::new();
        loop {
            let (start, line) = lines.next().ok_or(Error::NotAnEnvelope)?;

            if let Some(args) = line.strip_prefix(STANZA_PREFIX) {
                if stanzas.len() == MAX_STANZAS {
                    return Err(Error::Unsupported(
                        "age files with more than 256 recipients",
                    ));
                }
                let args = parse_args(args)?;
                let body = parse_body(&mut lines)?;
                stanzas.push(Stanza { args, body });
                continue;
            }

            // "ABNF definition of file header": header = v1-line 1*stanza end.
            let encoded = line.strip_prefix(MAC_PREFIX).ok_or(Error::NotAnEnvelope)?;
            if stanzas.is_empty() || lines.next().is_some() {
                return Err(Error::NotAnEnvelope);
            }
            let mac = decode_mac(encoded)?;
            return Ok(Self {
                stanzas,
                bytes: bytes.to_vec(),
                mac_covers: start + MAC_MARK.len(),
                mac,
            });
        }
    }

    /// The header as it appears in the file.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Checks the header MAC under `file_key` in constant time ("Header
    /// MAC"). A mismatch is [`Error::Unauthentic`].
    pub(crate) fn verify_mac(&self, file_key: &FileKey) -> Result<()> {
        header_mac(file_key, &self.bytes[..self.mac_covers])
            .verify_slice(&self.mac)
            .map_err(|_| Error::Unauthentic)
    }
}

/// Serialises a header for `stanzas` and MACs it under `file_key`. Stanza
/// arguments must already be valid (non-empty visible ASCII).
pub(crate) fn write(stanzas: &[Stanza], file_key: &FileKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + stanzas.len() * 128);
    out.extend_from_slice(VERSION_LINE);
    out.push(b'\n');

    for stanza in stanzas {
        out.extend_from_slice(STANZA_PREFIX);
        out.extend_from_slice(stanza.args.join(" ").as_bytes());
        out.push(b'\n');
        // "Recipient stanza": the body is wrapped at 64 columns and must end
        // with a shorter line, which is empty when the last full line ends
        // exactly at the wrap (and for an empty body).
        let encoded = BASE64.encode(&stanza.body);
        for line in encoded.as_bytes().chunks(BODY_COLUMNS) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        if encoded.len() % BODY_COLUMNS == 0 {
            out.push(b'\n');
        }
    }

    // "Header MAC": the MAC covers everything up to and including `---`.
    out.extend_from_slice(MAC_MARK);
    let mac = header_mac(file_key, &out).finalize().into_bytes();
    out.push(b' ');
    out.extend_from_slice(BASE64.encode(mac).as_bytes());
    out.push(b'\n');
    out
}

/// HMAC-SHA-256 over `covered` under the header key
/// ("HMAC key = HKDF-SHA-256(ikm = file key, salt = empty, info = "header")").
fn header_mac(file_key: &FileKey, covered: &[u8]) -> Hmac<Sha256> {
    let key = hkdf_sha256(b"", file_key.as_ref(), b"header");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref())
        .expect("HMAC accepts keys of any length");
    mac.update(covered);
    mac
}

/// Decides from the first bytes whether the input can be an age v1 file.
/// `None` means "so far so good, or too little to tell".
fn check_start(buf: &[u8], at_eof: bool) -> Option<Error> {
    let expected: &[u8] = b"age-encryption.org/v1\n";
    let n = buf.len().min(expected.len());
    if buf[..n] == expected[..n] {
        return None;
    }

    // Not the binary format. Armored files ("ASCII armor") are valid age but
    // not accepted; they start with a PEM line, perhaps after whitespace.
    let armor: &[u8] = b"-----BEGIN";
    let trimmed = buf.trim_ascii_start();
    if trimmed.starts_with(armor) {
        return Some(Error::Unsupported("ASCII-armored age files"));
    }
    let may_become_armor = armor.starts_with(trimmed) && buf.len() < READ_BLOCK;
    if may_become_armor && !at_eof {
        return None;
    }
    Some(Error::NotAnEnvelope)
}

/// Finds the end of the header in `buf`: the LF closing the first line that
/// starts with `---`. No other line of a valid header can start that way
/// (stanza lines start with `->`, body lines are base64), and `parse` checks
/// everything before it. `searched` remembers how far earlier calls got.
fn find_end(buf: &[u8], searched: &mut usize) -> Option<usize> {
    let mut from = *searched;
    while let Some(offset) = buf[from..].iter().position(|&b| b == b'\n') {
        let lf = from + offset;
        let line_start = lf + 1;
        let Some(start) = buf.get(line_start..line_start + MAC_MARK.len()) else {
            *searched = lf;
            return None;
        };
        if start == MAC_MARK {
            let Some(end) = buf[line_start..].iter().position(|&b| b == b'\n') else {
                *searched = lf;
                return None;
            };
            return Some(line_start + end + 1);
        }
        from = line_start;
    }
    *searched = buf.len();
    None
}

/// Splits stanza arguments: `argument *(SP argument)` with
/// `argument = 1*VCHAR` ("ABNF definition of file header").
fn parse_args(text: &[u8]) -> Result<Vec<String>> {
    text.split(|&b| b == b' ')
        .map(|arg| {
            let visible = !arg.is_empty() && arg.iter().all(|b| (0x21..=0x7e).contains(b));
            if !visible {
                return Err(Error::NotAnEnvelope);
            }
            String::from_utf8(arg.to_vec()).map_err(|_| Error::NotAnEnvelope)
        })
        .collect()
}

/// Reads a stanza body: `*full-line final-line`, where a full line is
/// exactly 64 base64 characters and the final line is 0 to 63. The joined
/// text must be canonical unpadded base64 ("Conventions used in this
/// document").
fn parse_body(lines: &mut Lines<'_>) -> Result<Vec<u8>> {
    let mut text = Vec::new();
    loop {
        let (_, line) = lines.next().ok_or(Error::NotAnEnvelope)?;
        if line.len() > BODY_COLUMNS {
            return Err(Error::NotAnEnvelope);
        }
        text.extend_from_slice(line);
        if line.len() < BODY_COLUMNS {
            break;
        }
    }
    // Full lines are a multiple of four characters, so decoding the joined
    // text is the same as decoding line by line.
    BASE64.decode(&text).map_err(|_| Error::NotAnEnvelope)
}

/// Decodes the MAC: exactly 43 canonical base64 characters, 32 bytes.
fn decode_mac(encoded: &[u8]) -> Result<[u8; 32]> {
    if encoded.len() != MAC_BASE64_LEN {
        return Err(Error::NotAnEnvelope);
    }
    let mut mac = [0u8; 32];
    match BASE64.decode_slice(encoded, &mut mac) {
        Ok(32) => Ok(mac),
        _ => Err(Error::NotAnEnvelope),
    }
}

/// The LF-terminated lines of a header, each with its start offset. Bytes
/// after the last LF are not a line (and `parse` never passes any).
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.bytes.get(self.pos..)?;
        let len = rest.iter().position(|&b| b == b'\n')?;
        let start = self.pos;
        self.pos += len + 1;
        Some((start, &rest[..len]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn stanza(args: &[&str], body: &[u8]) -> Stanza {
        Stanza {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            body: body.to_vec(),
        }
    }

    fn key() -> FileKey {
        Zeroizing::new(*b"YELLOW SUBMARINE")
    }

    #[test]
    fn written_headers_parse_back_with_a_valid_mac() {
        // Bodies that end mid-line, exactly at the wrap, and empty.
        for len in [0, 1, 32, 47, 48, 49, 96, 200] {
            let stanzas = vec![
                stanza(&["X25519", "abc"], &vec![7u8; len]),
                stanza(&["x"], b""),
            ];
            let bytes = write(&stanzas, &key());
            let header = Header::parse(&bytes).expect("own output parses");
            assert_eq!(header.stanzas, stanzas);
            header.verify_mac(&key()).expect("own MAC verifies");
            assert!(matches!(
                header.verify_mac(&Zeroizing::new([0u8; 16])),
                Err(Error::Unauthentic)
            ));
        }
    }

    #[test]
    fn reading_stops_at_the_header_and_returns_the_rest() {
        let mut bytes = write(&[stanza(&["a"], b"body")], &key());
        let header_len = bytes.len();
        bytes.extend_from_slice(b"payload bytes");
        // A reader that hands out one byte at a time finds the same end.
        let mut slow = OneByte(&bytes);
        let (header, rest) = Header::read(&mut slow).expect("reads");
        assert_eq!(header.stanzas.len(), 1);
        let mut all = rest;
        slow.read_to_end(&mut all).expect("rest");
        assert_eq!(all, &bytes[header_len..]);
    }

    #[test]
    fn malformed_headers_are_not_envelopes() {
        let good = String::from_utf8(write(&[stanza(&["a"], b"body")], &key())).expect("ascii");
        let cases = [
            good.replacen("v1", "v2", 1),
            good.replacen('\n', "\r\n", 1),
            good.replacen("-> a", "->  a", 1),
            good.replacen("-> a", "-> a ", 1),
            good.replacen("-> a", "->", 1),
            good.replacen("--- ", "---", 1),
            good.replacen("--- ", "---  ", 1),
            "age-encryption.org/v1\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".to_owned(),
            String::new(),
            "garbage".to_owned(),
        ];
        for case in cases {
            let result = Header::read(&mut case.as_bytes());
            assert!(matches!(result, Err(Error::NotAnEnvelope)), "{case:?}");
        }
    }

    #[test]
    fn armor_is_unsupported() {
        let armored = b"  \n-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n";
        assert!(matches!(
            Header::read(&mut &armored[..]),
            Err(Error::Unsupported(_))
        ));
    }

    #[test]
    fn oversized_headers_are_refused() {
        let mut big = b"age-encryption.org/v1\n-> a\n".to_vec();
        big.extend(std::iter::repeat_n(b'A', MAX_HEADER_LEN));
        assert!(matches!(
            Header::read(&mut &big[..]),
            Err(Error::Unsupported(_))
        ));

        let many: Vec<Stanza> = (0..=MAX_STANZAS).map(|_| stanza(&["a"], b"")).collect();
        let bytes = write(&many, &key());
        assert!(matches!(Header::parse(&bytes), Err(Error::Unsupported(_))));
    }

    /// A reader that returns at most one byte per call.
    struct OneByte<'a>(&'a [u8]);

    impl Read for OneByte<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((&b, rest)), Some(slot)) => {
                    *slot = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }
}
