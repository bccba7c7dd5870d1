//! The object `import` uploads, cut into parts as it is read: a file made
//! by `d1-vault encrypt` is sent as it is, a plain SQL file is compressed
//! and encrypted on the way (so its object's size is known only at its
//! end). Only one part (and one read) is held in memory at a time, whatever
//! the size of the file.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use d1_vault::format::{parse_header, BackupId, Encryptor, MasterKey, MAGIC, MAX_HEADER_LEN};

use crate::common::{CliError, READ_SIZE};

/// A file opened for import, sorted by its first bytes.
pub enum Opened {
    /// An object made by `d1-vault encrypt`: its parts are the file's bytes.
    Object(ObjectParts),
    /// Plain SQL, to encrypt with [`SqlFile::encrypt`].
    Sql(SqlFile),
}

/// A plain SQL file whose first bytes have been read.
pub struct SqlFile {
    path: PathBuf,
    file: File,
    start: Vec<u8>,
    len: u64,
}

/// An object read part by part.
pub struct ObjectParts {
    path: PathBuf,
    file: File,
    /// Encrypts the SQL read; `None` for an object read as it is, or once
    /// the SQL has ended.
    encryptor: Option<Box<Encryptor>>,
    /// Object bytes read and not yet handed out.
    pending: Vec<u8>,
    /// The file has been read to its end.
    ended: bool,
    id: BackupId,
    /// Whether the file is SQL, compressed and encrypted here.
    from_sql: bool,
    /// The file's size.
    file_len: u64,
    /// Bytes of the file read so far.
    file_read: u64,
}

impl ObjectParts {
    /// Opens `path`: an object if it starts with the format's magic bytes
    /// (its header must parse), else plain SQL.
    pub fn open(path: &Path) -> Result<Opened, CliError> {
        let mut file = File::open(path)
            .map_err(|err| CliError::io(format!("opening {}", path.display()), err))?;
        let len = file
            .metadata()
            .map_err(|err| CliError::io(format!("reading {}", path.display()), err))?
            .len();
        let start = read_up_to(&mut file, MAX_HEADER_LEN, path)?;
        if !start.starts_with(&MAGIC) {
            return Ok(Opened::Sql(SqlFile {
                path: path.to_owned(),
                file,
                start,
                len,
            }));
        }
        let header = parse_header(&start).map_err(|err| CliError::format(path, &err))?;
        Ok(Opened::Object(ObjectParts {
            path: path.to_owned(),
            file,
            encryptor: None,
            file_read: start.len() as u64,
            pending: start,
            ended: false,
            id: header.backup_id,
            from_sql: false,
            file_len: len,
        }))
    }

    /// The backup id in the object's header.
    pub fn id(&self) -> &BackupId {
        &self.id
    }

    /// The object's size in bytes, when known in advance: for an object
    /// sent as it is, not for SQL compressed on the way.
    pub fn len(&self) -> Option<u64> {
        (!self.from_sql).then_some(self.file_len)
    }

    /// The file's size in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Bytes of the file read so far.
    pub fn file_read(&self) -> u64 {
        self.file_read
    }

    /// The next part: `size` bytes, fewer only for the last one; `None`
    /// once every byte has been handed out.
    pub fn next_part(&mut self, size: usize) -> Result<Option<Vec<u8>>, CliError> {
        while self.pending.len() < size && !self.ended {
            self.read()?;
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let rest = if self.pending.len() > size {
            self.pending.split_off(size)
        } else {
            Vec::new()
        };
        Ok(Some(std::mem::replace(&mut self.pending, rest)))
    }

    /// Reads the file on, encrypting if it is SQL.
    fn read(&mut self) -> Result<(), CliError> {
        let bytes = read_up_to(&mut self.file, READ_SIZE, &self.path)?;
        self.file_read += bytes.len() as u64;
        if bytes.is_empty() {
            self.ended = true;
            if let Some(encryptor) = self.encryptor.take() {
                encryptor.finish(&mut self.pending);
            }
            return Ok(());
        }
        match &mut self.encryptor {
            Some(encryptor) => encryptor.update(&bytes, &mut self.pending),
            None => self.pending.extend_from_slice(&bytes),
        }
        Ok(())
    }
}

impl SqlFile {
    /// The object this SQL makes, encrypted as it is read with `key` (and a
    /// fresh random salt) for backup `id`.
    pub fn encrypt(self, key: &MasterKey, id: BackupId) -> Result<ObjectParts, CliError> {
        let mut encryptor = Encryptor::with_random_salt(key, &id)
            .map_err(|err| CliError::Io(format!("cannot draw a random salt: {err}")))?;
        let mut pending = Vec::with_capacity(READ_SIZE);
        encryptor.update(&self.start, &mut pending);
        Ok(ObjectParts {
            from_sql: true,
            file_len: self.len,
            file_read: self.start.len() as u64,
            path: self.path,
            file: self.file,
            encryptor: Some(Box::new(encryptor)),
            pending,
            ended: false,
            id,
        })
    }
}

/// Up to `limit` bytes from `file`: fewer only at its end.
fn read_up_to(file: &mut File, limit: usize, path: &Path) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::with_capacity(limit);
    file.take(limit as u64)
        .read_to_end(&mut bytes)
        .map_err(|err| CliError::io(format!("reading {}", path.display()), err))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes([5; 32])
    }

    fn parts_of(parts: &mut ObjectParts, size: usize) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| parts.next_part(size).unwrap()).collect()
    }

    fn sql(len: usize) -> Vec<u8> {
        b"INSERT INTO t VALUES('0123456789');\n"
            .iter()
            .copied()
            .cycle()
            .take(len)
            .collect()
    }

    #[test]
    fn sql_is_encrypted_into_equal_parts_and_a_last_smaller_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sql");
        let text = sql(3 * READ_SIZE + 12_345);
        std::fs::write(&path, &text).unwrap();
        let Opened::Sql(file) = ObjectParts::open(&path).unwrap() else {
            panic!("plain SQL")
        };
        let id = BackupId::parse("imp-1").unwrap();
        let mut parts = file.encrypt(&key(), id.clone()).unwrap();
        // Repetitive SQL compresses to a few KiB: small parts, several of them.
        let size = 1_000;
        let all = parts_of(&mut parts, size);
        assert!(all.len() > 2, "{} parts", all.len());
        let object = all.concat();
        assert_eq!(
            parts.len(),
            None,
            "compressed: the size is not known in advance"
        );
        assert_eq!(parts.file_read(), text.len() as u64);
        assert!(all[..all.len() - 1].iter().all(|part| part.len() == size));
        assert!(!all.last().unwrap().is_empty() && all.last().unwrap().len() <= size);
        assert_eq!(all.len(), object.len().div_ceil(size));
        let keyring = d1_vault::format::Keyring::new(key());
        let mut decryptor = d1_vault::format::Decryptor::new(&keyring, Some(&id));
        let mut plaintext = Vec::new();
        decryptor.update(&object, &mut plaintext).unwrap();
        decryptor.finish(&mut plaintext).unwrap();
        assert!(plaintext == text);
    }

    #[test]
    fn an_object_is_sent_as_it_is_under_the_id_in_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.enc");
        let id = BackupId::parse("imp-2").unwrap();
        let mut object = Vec::new();
        let mut encryptor = Encryptor::new(&key(), &id, [1; 32]);
        encryptor.update(&sql(200_000), &mut object);
        encryptor.finish(&mut object);
        std::fs::write(&path, &object).unwrap();
        let Opened::Object(mut parts) = ObjectParts::open(&path).unwrap() else {
            panic!("an object")
        };
        assert_eq!((parts.id(), parts.len()), (&id, Some(object.len() as u64)));
        let all = parts_of(&mut parts, 65_536);
        assert_eq!(all.len(), object.len().div_ceil(65_536));
        assert!(all.concat() == object);

        std::fs::write(&path, &object[..MAGIC.len() + 4]).unwrap();
        let Err(err) = ObjectParts::open(&path) else {
            panic!("a cut header")
        };
        assert_eq!(err.exit_code(), crate::common::EXIT_FAILED);
        assert!(err.to_string().contains("inside its header"), "{err}");
    }
}
