//! Byte vectors in serde as standard base64 text, for the checkpoints of
//! jobs: they are stored as JSON, where a `Vec<u8>` would otherwise be an
//! array of numbers, up to four times its size.
//!
//! Use with `#[serde(with = "crate::serde_base64")]` on a `Vec<u8>` field.
//! Invariant: `deserialize(serialize(bytes)) == bytes` for every byte vector.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serializer};

/// Writes `bytes` as one base64 string.
pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&STANDARD.encode(bytes))
}

/// Reads a base64 string back into bytes.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(deserializer)?;
    STANDARD.decode(text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        bytes: Vec<u8>,
    }

    #[test]
    fn bytes_round_trip_as_one_string() {
        let holder = Holder {
            bytes: (0..=255).collect(),
        };
        let json = serde_json::to_string(&holder).unwrap();
        assert!(json.len() < 2 * 256, "{json}");
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), holder);
        let empty = Holder { bytes: Vec::new() };
        assert_eq!(serde_json::to_string(&empty).unwrap(), r#"{"bytes":""}"#);
    }

    #[test]
    fn text_that_is_not_base64_is_refused() {
        assert!(serde_json::from_str::<Holder>(r#"{"bytes":"*!"}"#).is_err());
    }
}
