//! A backup's proof that the restore will accept it, computed while it is
//! written.
//!
//! Every byte of SQL the dump writes also goes through the restore's own
//! [`StatementReader`] and [`Validator`], the very code that steps 2-5 of a
//! restore run. When the dump ends, what the validator computed (tables,
//! rows, indexes, views, triggers, schema hash) is compared with the
//! manifest about to be written, by the same comparison the restore's step
//! 5 uses ([`compare_summary`]). So a backup that our own restore would
//! refuse is never stored: the backup fails instead, naming the statement or
//! table, and the operator hears of it that night rather than during an
//! incident.
//!
//! Invariants: memory is what the reader and validator hold (one statement,
//! the schema, one entry per table); statements are dropped once checked,
//! so between two pushes the whole check serializes (for a job's
//! checkpoint) without any statement in it.

use serde::{Deserialize, Serialize};

use super::restore::compare_summary;
use crate::manifest::{Manifest, SelfCheckRecord};
use crate::restore::{ReadError, Rejection, RestoreSummary, Statement, StatementReader, Validator};

/// Why a dump failed its self-check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelfCheckError {
    /// The restore's reader cannot split the dump into statements.
    #[error("the restore could not read the dump: {0}")]
    Unreadable(#[from] ReadError),
    /// The restore's validator refuses a statement of the dump.
    #[error("the restore would refuse the dump at {0}")]
    Refused(#[from] Rejection),
    /// The validator's account of the dump differs from the dump's own.
    #[error("the restore would find {detail}")]
    Mismatch {
        /// What differs, naming tables or schema objects.
        detail: String,
    },
}

/// The self-check of one dump in progress; see the module documentation.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SelfCheck {
    reader: StatementReader,
    validator: Validator,
    /// Statements read and not yet validated: empty between pushes.
    #[serde(skip)]
    statements: Vec<Statement>,
}

impl SelfCheck {
    /// A check at the start of a dump.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads and validates the next bytes of the dump, in order.
    pub fn push(&mut self, sql: &[u8]) -> Result<(), SelfCheckError> {
        self.reader.push(sql, &mut self.statements)?;
        for statement in self.statements.drain(..) {
            self.validator.check(&statement)?;
        }
        Ok(())
    }

    /// Ends the check: the dump must be complete and agree with `manifest`
    /// (built from the dump's own summary) as a restore's step 5 requires.
    pub fn finish(self, manifest: &Manifest) -> Result<SelfCheckRecord, SelfCheckError> {
        self.reader.finish()?;
        let summary = self.validator.finish();
        compare_summary(manifest, &summary)
            .map_err(|detail| SelfCheckError::Mismatch { detail })?;
        if summary.statements != manifest.statements.count {
            return Err(SelfCheckError::Mismatch {
                detail: format!(
                    "{} statements where the dump wrote {}",
                    summary.statements, manifest.statements.count
                ),
            });
        }
        Ok(record(&summary))
    }
}

fn record(summary: &RestoreSummary) -> SelfCheckRecord {
    SelfCheckRecord {
        statements: summary.statements,
        tables: summary.tables.len() as u64,
        rows: summary.tables.iter().map(|table| table.rows).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::tests::sample;

    const SQL: &str = "PRAGMA defer_foreign_keys=ON;\n\
        CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);\n\
        INSERT INTO \"t\"(\"a\",\"b\") VALUES(1,'x'),(2,'y;\nz');\n";

    fn checked_in_pieces(sql: &str, piece: usize) -> SelfCheck {
        let mut check = SelfCheck::new();
        for bytes in sql.as_bytes().chunks(piece) {
            check.push(bytes).unwrap();
        }
        check
    }

    fn manifest_for(sql: &str) -> Manifest {
        let mut check = SelfCheck::new();
        check.push(sql.as_bytes()).unwrap();
        check.reader.finish().unwrap();
        let summary = check.validator.finish();
        let mut manifest = sample();
        manifest.tables = summary
            .tables
            .iter()
            .map(crate::manifest::TableEntry::from)
            .collect();
        manifest.indexes = summary.indexes.clone();
        manifest.views = summary.views.clone();
        manifest.triggers = summary.triggers.clone();
        manifest.schema_hash = summary.schema_sha256.clone();
        manifest.statements.count = summary.statements;
        manifest
    }

    #[test]
    fn a_dump_that_agrees_with_its_manifest_passes_whatever_the_pieces() {
        let manifest = manifest_for(SQL);
        for piece in [1, 7, SQL.len()] {
            let record = checked_in_pieces(SQL, piece).finish(&manifest).unwrap();
            assert_eq!((record.statements, record.tables, record.rows), (3, 1, 2));
        }
    }

    #[test]
    fn a_row_count_that_differs_fails_naming_the_table() {
        let mut manifest = manifest_for(SQL);
        manifest.tables[0].rows = 3;
        let error = checked_in_pieces(SQL, 5).finish(&manifest).unwrap_err();
        let SelfCheckError::Mismatch { detail } = &error else {
            panic!("{error}")
        };
        assert!(
            detail.contains("\"t\", 2") && detail.contains("\"t\", 3"),
            "{detail}"
        );
    }

    #[test]
    fn a_schema_object_the_dump_did_not_list_fails() {
        let manifest = manifest_for(SQL);
        let extra = format!("{SQL}CREATE VIEW v AS SELECT 1;\n");
        let error = checked_in_pieces(&extra, 64).finish(&manifest).unwrap_err();
        assert!(error.to_string().contains("views [\"v\"]"), "{error}");
    }

    #[test]
    fn a_statement_the_restore_refuses_fails_with_its_line() {
        let mut check = SelfCheck::new();
        let error = check
            .push(format!("{SQL}DROP TABLE t;\n").as_bytes())
            .unwrap_err();
        // Line 5: the string literal in the INSERT spans two lines.
        assert!(
            matches!(error, SelfCheckError::Refused(ref r) if r.line == 5),
            "{error}"
        );
    }

    #[test]
    fn a_dump_cut_inside_a_statement_fails() {
        let manifest = manifest_for(SQL);
        let cut = &SQL[..SQL.len() - 6];
        let error = checked_in_pieces(cut, 9).finish(&manifest).unwrap_err();
        assert!(matches!(error, SelfCheckError::Unreadable(_)), "{error}");
    }
}
