//! An import uploaded in parts, one request per part: the checks and bucket
//! calls behind `POST /v1/imports`, `PUT /v1/imports/{id}/parts/{n}`,
//! `POST /v1/imports/{id}/complete` and `DELETE /v1/imports/{id}`.
//!
//! The upload is an R2 multipart upload to the backup's object key, and its
//! upload id is the client's handle between requests: the worker keeps
//! nothing in between. Each part request resumes the upload at its part
//! number, so uploading a part again replaces it (a client may retry a
//! part); completing takes exactly the parts the client lists, with the
//! etags their uploads answered. Part 1 must start with an object header
//! that names this backup and a key this worker has, so a wrong file is
//! refused before the rest of it is sent. A refusal that makes the upload
//! useless discards it; any other leaves it for the client to retry or
//! abort (R2 also aborts an upload left alone for 7 days).

use super::backup::PART_SIZE;
use super::store::{next_part_number, EdgeError, ObjectStore, PartUpload, UploadedPart};
use crate::format::keys::Keyring;
use crate::format::{
    parse_header, BackupId, BackupIdError, FormatError, HeaderInfo, MAX_HEADER_LEN,
};
use crate::layout::{manifest_key, object_key};

/// The most parts an upload may have (R2's limit).
pub const MAX_PARTS: u16 = 10_000;

/// Why a step of an upload in parts was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// The id in the path or body is not a backup id.
    #[error("{given:?} is not a backup id: {reason}")]
    InvalidId {
        /// What was given.
        given: String,
        /// Why it is not one.
        reason: BackupIdError,
    },
    /// A backup with this id is listed already.
    #[error("a backup with id {0} exists already; encrypt the dump again with another --id")]
    Exists(String),
    /// The object of this id exists without a manifest: an import or
    /// backup of it is under way, or was left unfinished.
    #[error(
        "an object for backup {0} exists without a manifest: an import of it is under way \
         (GET /v1/jobs lists it), or one was left unfinished (the next backup removes it); \
         import the dump with another id"
    )]
    Pending(String),
    /// The part number in the path is not one of 1 to [`MAX_PARTS`].
    #[error("part number {0:?} is not a number from 1 to {MAX_PARTS}")]
    PartNumber(String),
    /// A part without bytes.
    #[error("part {0} is empty: send the part's bytes as the request body")]
    EmptyPart(u16),
    /// A part over [`PART_SIZE`].
    #[error(
        "part {number} is {bytes} bytes, over the part size of {PART_SIZE} bytes that \
         POST /v1/imports answered: cut the object into parts of exactly that size (the \
         last one may be smaller)"
    )]
    PartTooLarge {
        /// The part's number.
        number: u16,
        /// Its size.
        bytes: u64,
    },
    /// The parts listed to complete an upload are not 1, 2, 3, ... with
    /// their etags.
    #[error(
        "{0}; list every part uploaded, in order, as {{\"part_number\": 1, \"etag\": \"...\"}} \
         with the etag its upload answered"
    )]
    PartList(String),
    /// Part 1 (or the completed object) does not start with a header of an
    /// object this worker can import; the upload was discarded.
    #[error(
        "the object is not importable: {0}. The upload was discarded: make the object with \
         'd1-vault encrypt --id <id>' under a key this worker has, and upload it again"
    )]
    NotAnObject(FormatError),
    /// Part 1 is the start of another backup's object; the upload was
    /// discarded.
    #[error(
        "the object belongs to backup {found}, not {id}. The upload was discarded: start the \
         upload with the id in the object's header ({found})"
    )]
    WrongId {
        /// The backup being uploaded.
        id: String,
        /// The backup the object's header names.
        found: String,
    },
    /// The bucket failed; the detail is for the log.
    #[error(transparent)]
    Edge(#[from] EdgeError),
}

/// Checks that no backup has `id` yet and starts the upload of its object;
/// returns the upload id.
pub async fn start(store: &impl ObjectStore, id: &str) -> Result<String, UploadError> {
    let id = backup_id(id)?;
    ensure_free(store, &id).await?;
    let upload = store.start_upload(&object_key(id.as_str())).await?;
    Ok(upload.upload_id().to_owned())
}

/// The part number in a path: 1 to [`MAX_PARTS`].
pub fn part_number(text: &str) -> Result<u16, UploadError> {
    text.parse::<u16>()
        .ok()
        .filter(|number| (1..=MAX_PARTS).contains(number))
        .ok_or_else(|| UploadError::PartNumber(text.to_owned()))
}

/// Checks the size of part `number`: 1 to [`PART_SIZE`] bytes.
pub fn check_part_size(number: u16, bytes: u64) -> Result<(), UploadError> {
    match bytes {
        0 => Err(UploadError::EmptyPart(number)),
        bytes if bytes > PART_SIZE as u64 => Err(UploadError::PartTooLarge { number, bytes }),
        _ => Ok(()),
    }
}

/// Uploads `bytes` as part `number` of `id`'s upload `upload_id`,
/// replacing any earlier upload of that part; returns the part with its
/// etag. Part 1 must start with a header naming `id` and a key of
/// `keyring`, or the upload is discarded.
pub async fn put_part(
    store: &impl ObjectStore,
    keyring: &Keyring,
    id: &str,
    upload_id: &str,
    number: u16,
    bytes: Vec<u8>,
) -> Result<UploadedPart, UploadError> {
    let id = backup_id(id)?;
    check_part_size(number, bytes.len() as u64)?;
    let key = object_key(id.as_str());
    // Resuming at part `number` needs only the count of the parts before
    // it; their etags matter to completing, which takes the client's list.
    let before = (1..number)
        .map(|part_number| UploadedPart {
            part_number,
            etag: String::new(),
        })
        .collect();
    let mut upload = store.resume_upload(&key, upload_id, before).await?;
    if number == 1 {
        if let Err(error) = check_header(&bytes, &id, keyring) {
            // Best effort: an upload left open is aborted by R2 after 7 days.
            let _ = upload.abort().await;
            return Err(error);
        }
    }
    upload.upload_part(bytes).await?;
    let uploaded = upload.parts().last().cloned();
    uploaded.ok_or_else(|| {
        let operation = format!("upload part {number} of {key}");
        EdgeError::new(operation, "the bucket recorded no part").into()
    })
}

/// Completes `id`'s upload `upload_id` with `parts` (as their uploads
/// answered) and returns the object's header, for the import job. If a
/// backup of `id` appeared meanwhile, the upload is discarded instead; an
/// object whose header does not pass is deleted.
pub async fn complete(
    store: &impl ObjectStore,
    keyring: &Keyring,
    id: &str,
    upload_id: &str,
    parts: Vec<UploadedPart>,
) -> Result<HeaderInfo, UploadError> {
    let id = backup_id(id)?;
    check_part_list(&parts)?;
    let key = object_key(id.as_str());
    let upload = store.resume_upload(&key, upload_id, parts).await?;
    match ensure_free(store, &id).await {
        Ok(()) => {}
        Err(error @ (UploadError::Exists(_) | UploadError::Pending(_))) => {
            // Best effort, as in `put_part`.
            let _ = upload.abort().await;
            return Err(error);
        }
        Err(error) => return Err(error),
    }
    upload.complete().await?;
    let first = store
        .get_range(&key, 0, MAX_HEADER_LEN as u64)
        .await?
        .unwrap_or_default();
    match check_header(&first, &id, keyring) {
        Ok(header) => Ok(header),
        Err(error) => {
            // Were the delete to fail, the object would be an orphan, which
            // the next backup removes.
            let _ = store.delete(&key).await;
            Err(error)
        }
    }
}

/// Aborts `id`'s upload `upload_id`: its parts are dropped, nothing appears.
pub async fn abort(store: &impl ObjectStore, id: &str, upload_id: &str) -> Result<(), UploadError> {
    let id = backup_id(id)?;
    let upload = store
        .resume_upload(&object_key(id.as_str()), upload_id, Vec::new())
        .await?;
    Ok(upload.abort().await?)
}

/// `text` as a backup id.
fn backup_id(text: &str) -> Result<BackupId, UploadError> {
    BackupId::parse(text).map_err(|reason| UploadError::InvalidId {
        given: text.to_owned(),
        reason,
    })
}

/// `Ok` if neither a manifest nor an object of `id` exists.
async fn ensure_free(store: &impl ObjectStore, id: &BackupId) -> Result<(), UploadError> {
    let id = id.as_str();
    if store.size(&manifest_key(id)).await?.is_some() {
        return Err(UploadError::Exists(id.to_owned()));
    }
    if store.size(&object_key(id)).await?.is_some() {
        return Err(UploadError::Pending(id.to_owned()));
    }
    Ok(())
}

/// The parts listed to complete an upload: 1 to [`MAX_PARTS`] of them,
/// numbered 1, 2, 3, ... in order, each with an etag.
fn check_part_list(parts: &[UploadedPart]) -> Result<(), UploadError> {
    if parts.is_empty() {
        return Err(UploadError::PartList("no parts are listed".into()));
    }
    if parts.len() > usize::from(MAX_PARTS) {
        return Err(UploadError::PartList(format!(
            "{} parts are listed, over R2's {MAX_PARTS}",
            parts.len()
        )));
    }
    next_part_number("complete", parts).map_err(|error| UploadError::PartList(error.detail))?;
    match parts.iter().find(|part| part.etag.is_empty()) {
        Some(part) => Err(UploadError::PartList(format!(
            "part {} has no etag",
            part.part_number
        ))),
        None => Ok(()),
    }
}

/// The header at the start of `first`, if it names `id` and a key of
/// `keyring`.
fn check_header(first: &[u8], id: &BackupId, keyring: &Keyring) -> Result<HeaderInfo, UploadError> {
    let header = parse_header(first).map_err(UploadError::NotAnObject)?;
    if header.backup_id != *id {
        return Err(UploadError::WrongId {
            id: id.as_str().to_owned(),
            found: header.backup_id.as_str().to_owned(),
        });
    }
    if keyring.find(&header.key_id).is_none() {
        return Err(UploadError::NotAnObject(FormatError::UnknownKey {
            found: header.key_id,
            available: keyring.ids(),
        }));
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Encryptor, MasterKey};
    use crate::jobs::testing::{block_on, noise, MemoryStore};

    fn key() -> MasterKey {
        MasterKey::from_bytes([7; 32])
    }

    fn keyring() -> Keyring {
        Keyring::new(key())
    }

    /// An object of backup `id` over some SQL, under `key`.
    fn object(id: &str, key: &MasterKey) -> Vec<u8> {
        let mut encryptor = Encryptor::new(key, &BackupId::parse(id).unwrap(), [3; 32]);
        let mut object = Vec::new();
        let sql: String = (0..400)
            .map(|i| {
                let blob: String = noise(i, 24).iter().map(|b| format!("{b:02x}")).collect();
                format!("INSERT INTO t VALUES(X'{blob}');\n")
            })
            .collect();
        encryptor.update(sql.as_bytes(), &mut object);
        encryptor.finish(&mut object);
        object
    }

    fn put(
        store: &MemoryStore,
        id: &str,
        upload: &str,
        number: u16,
        bytes: &[u8],
    ) -> Result<UploadedPart, UploadError> {
        block_on(put_part(
            store,
            &keyring(),
            id,
            upload,
            number,
            bytes.to_vec(),
        ))
    }

    #[test]
    fn parts_uploaded_in_any_order_and_again_complete_into_the_object() {
        let store = MemoryStore::default();
        let whole = object("imp-1", &key());
        let upload = block_on(start(&store, "imp-1")).unwrap();
        assert_eq!(store.open_uploads(), [object_key("imp-1")]);
        let pieces: Vec<&[u8]> = whole.chunks(whole.len() / 3 + 1).collect();
        assert_eq!(pieces.len(), 3);
        let third = put(&store, "imp-1", &upload, 3, pieces[2]).unwrap();
        let first = put(&store, "imp-1", &upload, 1, pieces[0]).unwrap();
        let stale = put(&store, "imp-1", &upload, 2, pieces[1]).unwrap();
        // A retried part replaces the first try, with a new etag.
        let second = put(&store, "imp-1", &upload, 2, pieces[1]).unwrap();
        assert_eq!(
            (second.part_number, first.part_number, third.part_number),
            (2, 1, 3)
        );
        assert_ne!(second.etag, stale.etag);
        let listed = vec![first.clone(), stale, third.clone()];
        assert!(
            matches!(
                block_on(complete(&store, &keyring(), "imp-1", &upload, listed)),
                Err(UploadError::Edge(_))
            ),
            "the replaced part's etag is refused"
        );
        let header = block_on(complete(
            &store,
            &keyring(),
            "imp-1",
            &upload,
            vec![first, second, third],
        ))
        .unwrap();
        assert_eq!(header.backup_id.as_str(), "imp-1");
        assert_eq!(header.chunk_size.get(), 64 * 1024);
        assert_eq!(store.body(&object_key("imp-1")), Some(whole));
        assert!(store.open_uploads().is_empty());
    }

    #[test]
    fn an_upload_starts_only_for_a_new_valid_id() {
        let store = MemoryStore::default();
        assert!(matches!(
            block_on(start(&store, "../x")),
            Err(UploadError::InvalidId { .. })
        ));
        block_on(store.put(&manifest_key("listed"), b"{}".to_vec(), &[])).unwrap();
        block_on(store.put(&object_key("pending"), vec![1], &[])).unwrap();
        assert_eq!(
            block_on(start(&store, "listed")),
            Err(UploadError::Exists("listed".into()))
        );
        assert_eq!(
            block_on(start(&store, "pending")),
            Err(UploadError::Pending("pending".into()))
        );
        assert!(store.open_uploads().is_empty());
    }

    #[test]
    fn a_first_part_that_is_not_this_backups_object_discards_the_upload() {
        let store = MemoryStore::default();
        let other_key = MasterKey::from_bytes([8; 32]);
        let cases: [(&[u8], &str); 3] = [
            (b"CREATE TABLE t(a);", "not_an_object"),
            (&object("imp-2", &key()), "wrong_id"),
            (&object("imp-1", &other_key), "unknown_key"),
        ];
        for (bytes, case) in cases {
            let upload = block_on(start(&store, "imp-1")).unwrap();
            let refused = put(&store, "imp-1", &upload, 1, bytes).unwrap_err();
            match (&refused, case) {
                (UploadError::NotAnObject(FormatError::NotAnObject), "not_an_object")
                | (UploadError::WrongId { .. }, "wrong_id")
                | (UploadError::NotAnObject(FormatError::UnknownKey { .. }), "unknown_key") => {}
                _ => panic!("{case}: {refused:?}"),
            }
            assert!(store.open_uploads().is_empty(), "{case}: discarded");
        }
        let upload = block_on(start(&store, "imp-1")).unwrap();
        put(&store, "imp-1", &upload, 2, b"anything").unwrap();
        assert_eq!(store.open_uploads().len(), 1, "only part 1 is checked");
    }

    #[test]
    fn part_numbers_and_sizes_are_checked_before_any_upload() {
        for text in ["0", "10001", "x", "-1", ""] {
            assert_eq!(part_number(text), Err(UploadError::PartNumber(text.into())));
        }
        assert_eq!(
            (part_number("1"), part_number("10000")),
            (Ok(1), Ok(10_000))
        );
        assert_eq!(check_part_size(4, 0), Err(UploadError::EmptyPart(4)));
        assert_eq!(check_part_size(4, PART_SIZE as u64), Ok(()));
        let too_large = check_part_size(4, PART_SIZE as u64 + 1).unwrap_err();
        assert!(
            too_large.to_string().contains("part 4 is 8388609 bytes"),
            "{too_large}"
        );
    }

    #[test]
    fn a_bad_part_list_leaves_the_upload_open_to_complete_again() {
        let store = MemoryStore::default();
        let upload = block_on(start(&store, "imp-1")).unwrap();
        let part = put(&store, "imp-1", &upload, 1, &object("imp-1", &key())).unwrap();
        let unnumbered = UploadedPart {
            part_number: 2,
            ..part.clone()
        };
        let no_etag = UploadedPart {
            etag: String::new(),
            ..part.clone()
        };
        for parts in [vec![], vec![unnumbered], vec![no_etag]] {
            let refused = block_on(complete(&store, &keyring(), "imp-1", &upload, parts));
            assert!(
                matches!(refused, Err(UploadError::PartList(_))),
                "{refused:?}"
            );
        }
        assert_eq!(store.open_uploads().len(), 1);
        block_on(complete(&store, &keyring(), "imp-1", &upload, vec![part])).unwrap();
    }

    #[test]
    fn completing_after_the_id_was_taken_discards_the_upload() {
        let store = MemoryStore::default();
        let upload = block_on(start(&store, "imp-1")).unwrap();
        let part = put(&store, "imp-1", &upload, 1, &object("imp-1", &key())).unwrap();
        block_on(store.put(&manifest_key("imp-1"), b"{}".to_vec(), &[])).unwrap();
        assert_eq!(
            block_on(complete(&store, &keyring(), "imp-1", &upload, vec![part])),
            Err(UploadError::Exists("imp-1".into()))
        );
        assert!(store.open_uploads().is_empty());
        assert_eq!(
            store.keys(),
            [manifest_key("imp-1")],
            "the backup is untouched"
        );
    }

    #[test]
    fn an_aborted_upload_is_gone() {
        let store = MemoryStore::default();
        let upload = block_on(start(&store, "imp-1")).unwrap();
        let part = put(&store, "imp-1", &upload, 1, &object("imp-1", &key())).unwrap();
        block_on(abort(&store, "imp-1", &upload)).unwrap();
        assert!(store.open_uploads().is_empty());
        let completed = block_on(complete(&store, &keyring(), "imp-1", &upload, vec![part]));
        assert!(
            matches!(completed, Err(UploadError::Edge(_))),
            "{completed:?}"
        );
        assert!(store.keys().is_empty());
    }
}
