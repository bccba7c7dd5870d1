//! Master keys, their ids, the keyring a reader searches, and the per-object
//! keys derived from a master key and a salt.
//!
//! ```text
//! key_id      = SHA-256(KEY_ID_LABEL || master_key)[0..8]
//! header_key  = HKDF[salt, HEADER_KEY_INFO](master_key, 32)      (RFC 5869, SHA-256)
//! payload_key = HKDF[salt, PAYLOAD_KEY_INFO](master_key, 32)
//! ```
//!
//! Nothing here ever prints or serializes key material: `Debug` shows the key
//! id only, and parse errors say what was wrong without quoting the value.

use std::fmt;
use std::str::FromStr;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::hex::{self, HexError};
use super::{
    HEADER_KEY_INFO, HEADER_MAC_SIZE, KEY_ID_LABEL, KEY_ID_SIZE, MASTER_KEY_SIZE, PAYLOAD_KEY_INFO,
    SALT_SIZE,
};

/// The secret holding the current master key, as 64 hex characters.
pub const BACKUP_ENCRYPTION_KEY: &str = "BACKUP_ENCRYPTION_KEY";
/// The secret holding older master keys, comma-separated, for reading older backups.
pub const BACKUP_ENCRYPTION_KEYS_PREVIOUS: &str = "BACKUP_ENCRYPTION_KEYS_PREVIOUS";

/// A 32-byte master key. `Debug` shows only its id.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; MASTER_KEY_SIZE]);

/// Why a string is not a master key. Never contains the string itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The text is not 64 characters long.
    #[error("expected 64 hex characters, got {got}")]
    WrongLength {
        /// Number of characters given.
        got: usize,
    },
    /// A character is not a hex digit.
    #[error("character {position} is not a hex digit (0-9, a-f)")]
    NotHex {
        /// 1-based character position.
        position: usize,
    },
}

impl From<HexError> for KeyError {
    fn from(err: HexError) -> Self {
        match err {
            HexError::WrongLength { got } => KeyError::WrongLength { got },
            HexError::NotHex { position } => KeyError::NotHex { position },
        }
    }
}

impl MasterKey {
    /// Wraps 32 raw key bytes.
    pub fn from_bytes(bytes: [u8; MASTER_KEY_SIZE]) -> Self {
        MasterKey(bytes)
    }

    /// Parses 64 hex characters (either case, nothing else: no spaces, no prefix).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        Ok(MasterKey(hex::decode_exact(text)?))
    }

    /// A new key from the operating system's random number generator
    /// (`crypto.getRandomValues` in a Worker).
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; MASTER_KEY_SIZE];
        getrandom::getrandom(&mut bytes)?;
        Ok(MasterKey(bytes))
    }

    /// The key as 64 lowercase hex characters: this is the secret itself.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// `SHA-256(KEY_ID_LABEL || key)[0..8]`: names the key without revealing it.
    pub fn id(&self) -> KeyId {
        let digest = Sha256::new()
            .chain_update(KEY_ID_LABEL)
            .chain_update(self.0)
            .finalize();
        let mut id = [0u8; KEY_ID_SIZE];
        id.copy_from_slice(&digest[..KEY_ID_SIZE]);
        KeyId(id)
    }

    /// The raw key bytes, for key derivation.
    pub(crate) fn as_bytes(&self) -> &[u8; MASTER_KEY_SIZE] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(id {})", self.id())
    }
}

/// The 8-byte id of a master key, shown as 16 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct KeyId(pub [u8; KEY_ID_SIZE]);

/// A string that is not 16 hex characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a key id is 16 hex characters")]
pub struct KeyIdParseError;

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = KeyIdParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        hex::decode_exact(text)
            .map(KeyId)
            .map_err(|_| KeyIdParseError)
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for KeyId {
    type Error = KeyIdParseError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// The keys a reader may use: the current one (which writers use) and older
/// ones kept for reading older backups. Keys are unique by id.
#[derive(Clone, Debug)]
pub struct Keyring {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

/// A key variable that does not hold valid keys. The message names the
/// variable and, for the list of previous keys, the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}{}: {problem}", .entry.map(|n| format!(" entry {n}")).unwrap_or_default())]
pub struct KeyringError {
    variable: &'static str,
    entry: Option<usize>,
    #[source]
    problem: KeyError,
}

impl KeyringError {
    /// The variable at fault: [`BACKUP_ENCRYPTION_KEY`] or [`BACKUP_ENCRYPTION_KEYS_PREVIOUS`].
    pub fn variable(&self) -> &'static str {
        self.variable
    }

    /// For [`BACKUP_ENCRYPTION_KEYS_PREVIOUS`], the 1-based entry that is bad.
    pub fn entry(&self) -> Option<usize> {
        self.entry
    }

    /// What is wrong with the value.
    pub fn problem(&self) -> KeyError {
        self.problem
    }
}

impl Keyring {
    /// A keyring with only `current`.
    pub fn new(current: MasterKey) -> Self {
        Keyring {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds an older key; a key already present is ignored.
    pub fn with_previous(mut self, key: MasterKey) -> Self {
        if self.find(&key.id()).is_none() {
            self.previous.push(key);
        }
        self
    }

    /// Parses the values of [`BACKUP_ENCRYPTION_KEY`] and
    /// [`BACKUP_ENCRYPTION_KEYS_PREVIOUS`]. Surrounding whitespace is trimmed
    /// (secrets often end in a newline); the previous list is split on commas,
    /// each entry trimmed, and empty entries ignored.
    pub fn from_values(current: &str, previous: Option<&str>) -> Result<Self, KeyringError> {
        let current = MasterKey::from_hex(current.trim()).map_err(|problem| KeyringError {
            variable: BACKUP_ENCRYPTION_KEY,
            entry: None,
            problem,
        })?;
        let mut keyring = Keyring::new(current);
        let entries = previous
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty());
        for (index, entry) in entries.enumerate() {
            let key = MasterKey::from_hex(entry).map_err(|problem| KeyringError {
                variable: BACKUP_ENCRYPTION_KEYS_PREVIOUS,
                entry: Some(index + 1),
                problem,
            })?;
            keyring = keyring.with_previous(key);
        }
        Ok(keyring)
    }

    /// The key writers use.
    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// The key with this id, if the keyring has it.
    pub fn find(&self, id: &KeyId) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id() == *id)
    }

    /// The ids of all keys, current first.
    pub fn ids(&self) -> Vec<KeyId> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(MasterKey::id)
            .collect()
    }
}

/// `header_key = HKDF[salt, HEADER_KEY_INFO](master_key, 32)`: the HMAC-SHA256
/// key for one object's header MAC.
pub struct HeaderKey([u8; 32]);

/// `payload_key = HKDF[salt, PAYLOAD_KEY_INFO](master_key, 32)`: the
/// AES-256-GCM key for one object's chunks.
pub struct PayloadKey([u8; 32]);

type HmacSha256 = Hmac<Sha256>;

/// `HKDF[salt, info](ikm, 32)` with SHA-256 (RFC 5869).
fn hkdf_sha256(salt: &[u8; SALT_SIZE], info: &[u8], ikm: &[u8]) -> [u8; 32] {
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut okm)
        .expect("32 bytes is within HKDF-SHA256's 8160-byte output limit");
    okm
}

impl HeaderKey {
    /// Derives the header key of the object with this `salt`.
    pub fn derive(master: &MasterKey, salt: &[u8; SALT_SIZE]) -> Self {
        HeaderKey(hkdf_sha256(salt, HEADER_KEY_INFO, master.as_bytes()))
    }

    /// `HMAC[header_key](bytes)`.
    pub fn mac(&self, bytes: &[u8]) -> [u8; HEADER_MAC_SIZE] {
        self.hmac(bytes).finalize().into_bytes().into()
    }

    /// Whether `mac` is `HMAC[header_key](bytes)`, compared in constant time.
    pub fn verify(&self, bytes: &[u8], mac: &[u8; HEADER_MAC_SIZE]) -> bool {
        self.hmac(bytes).verify_slice(mac).is_ok()
    }

    fn hmac(&self, bytes: &[u8]) -> HmacSha256 {
        let mut hmac =
            HmacSha256::new_from_slice(&self.0).expect("HMAC-SHA256 accepts keys of any length");
        hmac.update(bytes);
        hmac
    }
}

impl PayloadKey {
    /// Derives the payload key of the object with this `salt`.
    pub fn derive(master: &MasterKey, salt: &[u8; SALT_SIZE]) -> Self {
        PayloadKey(hkdf_sha256(salt, PAYLOAD_KEY_INFO, master.as_bytes()))
    }

    /// The raw AES-256 key, for another AES-GCM implementation (WebCrypto)
    /// that must produce the same chunks as [`ChunkCipher`](super::ChunkCipher).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    // Expected values computed independently with Python's hashlib and hmac.
    #[test]
    fn key_id_is_a_labelled_truncated_sha256() {
        let key = MasterKey::from_hex(KEY_HEX).unwrap();
        assert_eq!(key.id().to_string(), "efb7296d85f649ff");
        assert_eq!("efb7296d85f649ff".parse::<KeyId>(), Ok(key.id()));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = MasterKey::from_hex(KEY_HEX).unwrap();
        let shown = format!("{key:?} {:?}", Keyring::new(key.clone()));
        assert!(!shown.contains(KEY_HEX));
        assert!(!shown.contains("0405060708"));
        assert!(shown.contains(&key.id().to_string()));
    }

    #[test]
    fn hex_errors_never_quote_the_value() {
        let err = MasterKey::from_hex("secret").unwrap_err();
        assert_eq!(err, KeyError::WrongLength { got: 6 });
        assert_eq!(err.to_string(), "expected 64 hex characters, got 6");
        let bad = format!("{}g", &KEY_HEX[..63]);
        assert_eq!(
            MasterKey::from_hex(&bad),
            Err(KeyError::NotHex { position: 64 })
        );
        assert!(MasterKey::from_hex(&KEY_HEX.to_uppercase()).is_ok());
    }

    #[test]
    fn derived_keys_follow_rfc5869_with_distinct_labels() {
        let key = MasterKey::from_hex(KEY_HEX).unwrap();
        let salt = [7u8; SALT_SIZE];
        let header = HeaderKey::derive(&key, &salt);
        let payload = PayloadKey::derive(&key, &salt);
        assert_eq!(
            hex::encode(&header.0),
            "df67b433eef009616dc36d078d4b7c515e6761a2f1a1642dccf3c020c3c6d0cb"
        );
        assert_eq!(
            hex::encode(payload.as_bytes()),
            "91229d96e8cff94ac2eaa1741885046dee84d41dc2fc9118e96e29e40ffc7f85"
        );
        let mac = header.mac(b"abc");
        assert!(header.verify(b"abc", &mac));
        assert!(!header.verify(b"abd", &mac));
    }
}
