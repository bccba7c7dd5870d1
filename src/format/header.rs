//! Writing and parsing the object header (layout in the [module
//! specification](super)). Parsing needs no key; authenticating the parsed
//! header is the decryptor's job, after it has found the key.

use super::keys::{HeaderKey, KeyId, MasterKey};
use super::{
    header_len, BackupId, ChunkSize, FormatError, FormatVersion, BACKUP_ID_LEN_OFFSET,
    BACKUP_ID_OFFSET, CHUNK_SIZE_OFFSET, HEADER_MAC_SIZE, KEY_ID_OFFSET, KEY_ID_SIZE, MAGIC,
    MAX_BACKUP_ID_LEN, SALT_OFFSET, SALT_SIZE, SUITE_OFFSET, SUITE_V1, VERSION_OFFSET,
};

/// `HMAC[header_key](header bytes before the MAC)`; also the aad of every chunk.
pub type HeaderMac = [u8; HEADER_MAC_SIZE];

/// The fields of a parsed header.
///
/// Parsing does not authenticate: until a decryptor has verified `mac`, every
/// field may have been forged. `inspect` shows these values as claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderInfo {
    /// Format version.
    pub version: FormatVersion,
    /// Cipher suite (always [`SUITE_V1`] once parsed).
    pub suite: u8,
    /// Plaintext bytes per non-final chunk.
    pub chunk_size: ChunkSize,
    /// Id of the master key the object claims to be encrypted with.
    pub key_id: KeyId,
    /// The object's salt.
    pub salt: [u8; SALT_SIZE],
    /// The backup the object claims to belong to.
    pub backup_id: BackupId,
    /// The header MAC.
    pub mac: HeaderMac,
    /// Length of the whole header in bytes, MAC included.
    pub len: usize,
}

/// A header ready to be written, and its MAC (the aad of every chunk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedHeader {
    /// The header bytes, MAC included.
    pub bytes: Vec<u8>,
    /// The header MAC.
    pub mac: HeaderMac,
}

/// Builds and authenticates the header of a new object.
pub fn seal_header(
    version: FormatVersion,
    key: &MasterKey,
    chunk_size: ChunkSize,
    salt: &[u8; SALT_SIZE],
    backup_id: &BackupId,
) -> SealedHeader {
    let id = backup_id.as_bytes();
    let mut bytes = Vec::with_capacity(header_len(id.len()));
    bytes.extend_from_slice(&MAGIC);
    bytes.push(version.byte());
    bytes.push(SUITE_V1);
    bytes.extend_from_slice(&chunk_size.get().to_be_bytes());
    bytes.extend_from_slice(&key.id().0);
    bytes.extend_from_slice(salt);
    // BackupId guarantees 1 to 64 bytes.
    bytes.push(id.len() as u8);
    bytes.extend_from_slice(id);
    let mac = HeaderKey::derive(key, salt).mac(&bytes);
    bytes.extend_from_slice(&mac);
    SealedHeader { bytes, mac }
}

/// The outcome of parsing what has arrived so far.
pub(crate) enum Parsed {
    /// Valid so far; at least `needed` bytes in total are required to go on.
    Incomplete { needed: usize },
    /// A complete header.
    Complete(HeaderInfo),
}

/// Parses a header from the start of `bytes`, which may hold more than the
/// header. Fails as soon as a field is invalid, even before the rest arrives,
/// checking fields in header order.
pub(crate) fn parse_prefix(bytes: &[u8]) -> Result<Parsed, FormatError> {
    let have = bytes.len();
    let magic_seen = have.min(MAGIC.len());
    if bytes[..magic_seen] != MAGIC[..magic_seen] {
        return Err(FormatError::NotAnObject);
    }
    let incomplete = |needed| Ok(Parsed::Incomplete { needed });
    if have <= VERSION_OFFSET {
        return incomplete(VERSION_OFFSET + 1);
    }
    let version =
        FormatVersion::from_byte(bytes[VERSION_OFFSET]).ok_or(FormatError::UnsupportedVersion {
            version: bytes[VERSION_OFFSET],
        })?;
    if have <= SUITE_OFFSET {
        return incomplete(SUITE_OFFSET + 1);
    }
    let suite = bytes[SUITE_OFFSET];
    if suite != SUITE_V1 {
        return Err(FormatError::UnsupportedSuite { suite });
    }
    if have < KEY_ID_OFFSET {
        return incomplete(KEY_ID_OFFSET);
    }
    let chunk_size = ChunkSize::new(u32::from_be_bytes(array_at(bytes, CHUNK_SIZE_OFFSET)))?;
    if have <= BACKUP_ID_LEN_OFFSET {
        return incomplete(BACKUP_ID_OFFSET);
    }
    let id_len = usize::from(bytes[BACKUP_ID_LEN_OFFSET]);
    if !(1..=MAX_BACKUP_ID_LEN).contains(&id_len) {
        return Err(FormatError::MalformedHeader {
            detail: format!("backup id length {id_len} is outside 1 to {MAX_BACKUP_ID_LEN}"),
        });
    }
    let len = header_len(id_len);
    if have < len {
        return incomplete(len);
    }
    let backup_id = BackupId::from_bytes(&bytes[BACKUP_ID_OFFSET..BACKUP_ID_OFFSET + id_len])
        .map_err(|err| FormatError::MalformedHeader {
            detail: format!("invalid backup id ({err})"),
        })?;
    Ok(Parsed::Complete(HeaderInfo {
        version,
        suite,
        chunk_size,
        key_id: KeyId(array_at::<KEY_ID_SIZE>(bytes, KEY_ID_OFFSET)),
        salt: array_at(bytes, SALT_OFFSET),
        backup_id,
        mac: array_at(bytes, len - HEADER_MAC_SIZE),
        len,
    }))
}

/// Parses the header at the start of `bytes` without a key (for `inspect`).
/// The result is unauthenticated; see [`HeaderInfo`].
pub fn parse_header(bytes: &[u8]) -> Result<HeaderInfo, FormatError> {
    match parse_prefix(bytes)? {
        Parsed::Complete(info) => Ok(info),
        Parsed::Incomplete { .. } => Err(FormatError::TruncatedHeader { got: bytes.len() }),
    }
}

/// The `N` bytes at `offset`; callers have checked the length.
fn array_at<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[offset..offset + N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_specification() {
        let key = MasterKey::from_bytes([9; 32]);
        let id: BackupId = "b1".parse().unwrap();
        let sealed = seal_header(
            FormatVersion::V2,
            &key,
            ChunkSize::DEFAULT,
            &[5; SALT_SIZE],
            &id,
        );
        let b = &sealed.bytes;
        assert_eq!(b.len(), 87 + 2);
        assert_eq!(&b[0..8], b"D1VAULT\n");
        assert_eq!(b[8..10], [2, 1]);
        assert_eq!(b[10..14], [0, 1, 0, 0]);
        assert_eq!(b[14..22], key.id().0);
        assert_eq!(b[22..54], [5; 32]);
        assert_eq!(b[54], 2);
        assert_eq!(&b[55..57], b"b1");
        assert_eq!(b[57..89], sealed.mac);
        assert!(HeaderKey::derive(&key, &[5; 32]).verify(&b[..57], &sealed.mac));

        let info = parse_header(b).unwrap();
        assert_eq!((info.len, info.backup_id, info.key_id), (89, id, key.id()));
    }

    #[test]
    fn fails_on_the_first_bad_field_even_before_the_rest_arrives() {
        assert!(matches!(
            parse_prefix(b"D1V"),
            Ok(Parsed::Incomplete { needed: 9 })
        ));
        assert_eq!(parse_prefix(b"D1X").err(), Some(FormatError::NotAnObject));
        assert_eq!(
            parse_prefix(b"D1VAULT\n\x07").err(),
            Some(FormatError::UnsupportedVersion { version: 7 })
        );
        assert_eq!(
            parse_prefix(b"D1VAULT\n\x01\x02").err(),
            Some(FormatError::UnsupportedSuite { suite: 2 })
        );
        assert_eq!(
            parse_prefix(b"D1VAULT\n\x01\x01\x00\x00\x03\xe8").err(),
            Some(FormatError::BadChunkSize { chunk_size: 1000 })
        );
        assert_eq!(
            parse_header(b"D1VAULT\n").err(),
            Some(FormatError::TruncatedHeader { got: 8 })
        );
    }
}
