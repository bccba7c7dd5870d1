//! Lowercase hex encoding and strict decoding, for keys, key ids and digests.

/// Encodes `bytes` as lowercase hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// Why [`decode_exact`] refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HexError {
    /// The text is not twice as long as the output.
    WrongLength {
        /// Characters in the text.
        got: usize,
    },
    /// The character at this 1-based position is not a hex digit.
    NotHex {
        /// 1-based character position.
        position: usize,
    },
}

/// Decodes exactly `N` bytes from `2 * N` hex digits (either case).
pub(crate) fn decode_exact<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    let chars = text.chars().count();
    if chars != 2 * N {
        return Err(HexError::WrongLength { got: chars });
    }
    // Exactly 2N chars that are all hex digits are also exactly 2N bytes.
    if let Some(index) = text.chars().position(|c| !c.is_ascii_hexdigit()) {
        return Err(HexError::NotHex {
            position: index + 1,
        });
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        *byte = (nibble(pair[0]) << 4) | nibble(pair[1]);
    }
    Ok(out)
}

fn nibble(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_accepts_upper_case() {
        assert_eq!(encode(&[0x00, 0x9f, 0xff]), "009fff");
        assert_eq!(decode_exact::<3>("009FfF"), Ok([0x00, 0x9f, 0xff]));
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(
            decode_exact::<2>("ééé"),
            Err(HexError::WrongLength { got: 3 })
        );
        assert_eq!(
            decode_exact::<2>("00é0"),
            Err(HexError::NotHex { position: 3 })
        );
    }
}
