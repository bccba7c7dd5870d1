//! Unit tests that need the encryptor's and decryptor's private buffers.

use super::*;

/// Feeds `total` bytes through an encryptor and a decryptor in odd-sized
/// pieces and checks that neither ever holds more than one chunk (plus tag and
/// lookahead byte) however the input is cut.
#[test]
fn memory_stays_bounded_for_many_megabytes_in_odd_pieces() {
    let key = MasterKey::from_bytes([1; 32]);
    let id: BackupId = "memory".parse().unwrap();
    let keyring = Keyring::new(key.clone());
    let chunk = ChunkSize::DEFAULT.plaintext_len();
    let bound = chunk + TAG_SIZE + 1;
    let total = 6 * 1024 * 1024 + 12_345;
    let piece_sizes = [1, 7, 4093, 65_535, 65_536, 65_553, 65_554, 300_001, 1 << 20];

    let mut encryptor = Encryptor::new(&key, &id, [2; SALT_SIZE]);
    let mut decryptor = Decryptor::new(&keyring, Some(&id));
    let mut sealed = Vec::new();
    let mut opened = Vec::new();
    let plaintext: Vec<u8> = (0..(1 << 20) + 7).map(|i| (i % 251) as u8).collect();
    let (mut fed, mut turn) = (0, 0);
    while fed < total {
        let len = piece_sizes[turn % piece_sizes.len()].min(total - fed);
        let start = fed % (plaintext.len() - len);
        encryptor.update(&plaintext[start..start + len], &mut sealed);
        assert!(
            encryptor.buffer_capacity() <= chunk,
            "encryptor buffer grew"
        );
        // Hand the ciphertext over in different odd pieces.
        for piece in sealed.chunks(piece_sizes[(turn + 3) % piece_sizes.len()]) {
            decryptor.update(piece, &mut opened).unwrap();
            assert!(
                decryptor.buffer_capacity() <= bound,
                "decryptor buffer grew"
            );
        }
        sealed.clear();
        opened.clear();
        fed += len;
        turn += 1;
    }
    encryptor.finish(&mut sealed);
    decryptor.update(&sealed, &mut opened).unwrap();
    assert!(decryptor.buffer_capacity() <= bound);
    let summary = decryptor.finish(&mut opened).unwrap();
    assert_eq!(summary.plaintext_bytes, total as u64);
}
