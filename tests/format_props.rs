//! Property tests of the write path against the read path, in both format
//! versions: round trips under any cutting of the input on either side, and
//! failure (without releasing the affected chunk) for any single-bit flip or
//! truncation.

use d1_vault::format::{
    BackupId, ChunkSize, DecryptError, Decryptor, Encryptor, FormatError, FormatVersion, Keyring,
    MasterKey, SoftwareEngine,
};
use proptest::prelude::*;
use proptest::sample::Index;
use std::future::Future;
use std::task::{Context, Poll, Waker};

const CHUNK: usize = 1024;

fn key() -> MasterKey {
    MasterKey::from_bytes([0x42; 32])
}

fn id() -> BackupId {
    "props".parse().unwrap()
}

/// Deterministic bytes from a seed (xorshift), cheaper than a proptest Vec.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Lengths around every chunk boundary that matters, and anything else.
fn plaintext_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(CHUNK - 1),
        Just(CHUNK),
        Just(CHUNK + 1),
        Just(2 * CHUNK),
        Just(3 * CHUNK + 7),
        0..6 * CHUNK,
    ]
}

/// Cuts `data` into pieces whose sizes cycle through `sizes`.
fn pieces<'a>(data: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at((*size).min(rest.len()));
        out.push(piece);
        rest = tail;
    }
    out
}

fn versions() -> impl Strategy<Value = FormatVersion> {
    prop_oneof![Just(FormatVersion::V1), Just(FormatVersion::V2)]
}

fn encryptor(version: FormatVersion, salt: [u8; 32]) -> Encryptor {
    let chunk = ChunkSize::new(CHUNK as u32).unwrap();
    Encryptor::with_version(version, &key(), &id(), salt, chunk)
}

fn encrypt(version: FormatVersion, plaintext: &[u8], salt: [u8; 32], sizes: &[usize]) -> Vec<u8> {
    let mut encryptor = encryptor(version, salt);
    let mut object = Vec::new();
    for piece in pieces(plaintext, sizes) {
        encryptor.update(piece, &mut object);
    }
    let summary = encryptor.finish(&mut object);
    assert_eq!(summary.ciphertext_bytes, object.len() as u64);
    assert_eq!(summary.plaintext_bytes, plaintext.len() as u64);
    object
}

/// The value of a future that never waits ([`SoftwareEngine`] seals at once).
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("SoftwareEngine never waits"),
    }
}

/// [`encrypt`] through the asynchronous path, the one the worker's jobs
/// take, with the crates compressing and sealing.
fn encrypt_with_engine(
    version: FormatVersion,
    plaintext: &[u8],
    salt: [u8; 32],
    sizes: &[usize],
) -> Vec<u8> {
    let mut encryptor = encryptor(version, salt);
    let mut object = Vec::new();
    for piece in pieces(plaintext, sizes) {
        ready(encryptor.update_with(piece, &mut object, &SoftwareEngine)).unwrap();
    }
    let summary = ready(encryptor.finish_with(&mut object, &SoftwareEngine)).unwrap();
    assert_eq!(summary.ciphertext_bytes, object.len() as u64);
    object
}

/// Decrypts; returns the result and every plaintext byte released.
fn decrypt(object: &[u8], sizes: &[usize]) -> (Result<(), FormatError>, Vec<u8>) {
    let keyring = Keyring::new(key());
    let mut decryptor = Decryptor::new(&keyring, Some(&id()));
    let mut out = Vec::new();
    let result = pieces(object, sizes)
        .into_iter()
        .try_for_each(|piece| decryptor.update(piece, &mut out))
        .and_then(|()| decryptor.finish(&mut out).map(drop));
    (result, out)
}

/// [`decrypt`] through the asynchronous path, the one the worker's jobs
/// take, with the crates opening and inflating.
fn decrypt_with_engine(object: &[u8], sizes: &[usize]) -> (Result<(), FormatError>, Vec<u8>) {
    let keyring = Keyring::new(key());
    let mut decryptor = Decryptor::new(&keyring, Some(&id()));
    let mut out = Vec::new();
    let result = pieces(object, sizes)
        .into_iter()
        .try_for_each(|piece| {
            ready(decryptor.update_with(piece, &mut out, &SoftwareEngine)).map_err(|e| match e {
                DecryptError::Format(e) => e,
                DecryptError::Crypto(e) => panic!("SoftwareEngine failed: {e}"),
            })
        })
        .and_then(|()| decryptor.finish(&mut out).map(drop));
    (result, out)
}

fn header_len() -> usize {
    d1_vault::format::header_len(id().as_str().len())
}

/// The chunk that holds byte `offset` of the object (0 for the header).
fn chunk_of(offset: usize) -> usize {
    offset.saturating_sub(header_len()) / (CHUNK + 16)
}

/// The most plaintext a reader may release before the chunk that holds
/// byte `offset` fails: the chunks before it in version 1; in version 2,
/// with the whole (single) frame in the final chunk's reach, nothing is
/// released before the end of the payload.
fn released_before(version: FormatVersion, offset: usize) -> usize {
    match version {
        FormatVersion::V1 => chunk_of(offset) * CHUNK,
        FormatVersion::V2 => 0,
    }
}

fn piece_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..2 * CHUNK + 40, 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn round_trips_under_any_cutting(
        version in versions(),
        len in plaintext_len(),
        seed in any::<u64>(),
        salt in any::<[u8; 32]>(),
        write_sizes in piece_sizes(),
        read_sizes in piece_sizes(),
    ) {
        let plaintext = bytes(len, seed);
        let object = encrypt(version, &plaintext, salt, &write_sizes);
        prop_assert_eq!(&object, &encrypt(version, &plaintext, salt, &[object.len() + 1]));
        if version == FormatVersion::V1 {
            let chunks = len.div_ceil(CHUNK).max(1);
            prop_assert_eq!(object.len(), header_len() + len + 16 * chunks);
        }
        let (result, out) = decrypt(&object, &read_sizes);
        prop_assert_eq!(result, Ok(()));
        prop_assert!(out == plaintext);
    }

    #[test]
    fn the_asynchronous_path_writes_the_same_object_under_any_cutting(
        version in versions(),
        len in plaintext_len(),
        seed in any::<u64>(),
        salt in any::<[u8; 32]>(),
        sync_sizes in piece_sizes(),
        async_sizes in piece_sizes(),
    ) {
        let plaintext = bytes(len, seed);
        prop_assert_eq!(
            encrypt_with_engine(version, &plaintext, salt, &async_sizes),
            encrypt(version, &plaintext, salt, &sync_sizes)
        );
    }

    #[test]
    fn the_asynchronous_read_path_releases_and_refuses_the_same(
        version in versions(),
        len in plaintext_len(),
        seed in any::<u64>(),
        flip in prop::option::of((any::<Index>(), 0u8..8)),
        sync_sizes in piece_sizes(),
        async_sizes in piece_sizes(),
    ) {
        let plaintext = bytes(len, seed);
        let mut object = encrypt(version, &plaintext, [5; 32], &[CHUNK]);
        if let Some((at, bit)) = flip {
            let offset = at.index(object.len());
            object[offset] ^= 1 << bit;
        }
        let (sync_result, sync_out) = decrypt(&object, &sync_sizes);
        let (async_result, async_out) = decrypt_with_engine(&object, &async_sizes);
        prop_assert_eq!(async_result, sync_result);
        // Pieces end at different places, so the provisional plaintext of a
        // failure may stop at a different chunk; all of it is authentic.
        prop_assert!(plaintext.starts_with(&async_out));
        if flip.is_none() {
            prop_assert!(async_out == sync_out);
        }
    }

    #[test]
    fn any_bit_flip_fails_without_releasing_the_chunk(
        version in versions(),
        len in plaintext_len(),
        seed in any::<u64>(),
        at in any::<Index>(),
        bit in 0u8..8,
        read_sizes in piece_sizes(),
    ) {
        let plaintext = bytes(len, seed);
        let mut object = encrypt(version, &plaintext, [7; 32], &[CHUNK]);
        let offset = at.index(object.len());
        object[offset] ^= 1 << bit;
        let (result, out) = decrypt(&object, &read_sizes);
        prop_assert!(result.is_err(), "flip at {} accepted", offset);
        prop_assert!(out.len() <= released_before(version, offset), "released the flipped chunk");
        prop_assert!(plaintext.starts_with(&out));
    }

    #[test]
    fn any_truncation_fails_without_releasing_the_cut_chunk(
        version in versions(),
        len in plaintext_len(),
        seed in any::<u64>(),
        at in any::<Index>(),
        read_sizes in piece_sizes(),
    ) {
        let plaintext = bytes(len, seed);
        let object = encrypt(version, &plaintext, [9; 32], &[CHUNK]);
        let cut = at.index(object.len());
        let (result, out) = decrypt(&object[..cut], &read_sizes);
        prop_assert!(result.is_err(), "cut at {} accepted", cut);
        prop_assert!(out.len() <= released_before(version, cut), "released the cut chunk");
        prop_assert!(plaintext.starts_with(&out));
    }
}
