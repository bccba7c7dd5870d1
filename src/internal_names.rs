//! The one rule for which table names are internal: never dumped, never
//! dropped or written by a restore, never counted as user data.
//!
//! A name is internal when it starts, ASCII case-insensitively, with one of
//! [`INTERNAL_PREFIXES`]: D1's own tables (`_cf_KV`, `_cf_METADATA`),
//! SQLite's (`sqlite_schema`, `sqlite_sequence`, `sqlite_stat1`, ...) and
//! d1-vault's own progress tables (`_d1vault_*`). SQLite itself refuses to
//! create user objects named `sqlite_*`, whatever the case.

/// D1's internal tables.
pub const D1_PREFIX: &str = "_cf_";

/// SQLite's internal tables and autoindexes.
pub const SQLITE_PREFIX: &str = "sqlite_";

/// d1-vault's own tables (for example the restore's progress table).
pub const D1VAULT_PREFIX: &str = "_d1vault_";

/// Every prefix that makes a name internal.
pub const INTERNAL_PREFIXES: [&str; 3] = [D1_PREFIX, SQLITE_PREFIX, D1VAULT_PREFIX];

/// Whether `name` (of a table, or of the table an index or trigger is on)
/// is internal to D1, SQLite or d1-vault, compared ASCII case-insensitively.
pub fn is_internal_name(name: &str) -> bool {
    INTERNAL_PREFIXES.iter().any(|prefix| {
        name.len() >= prefix.len()
            && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d1_sqlite_and_own_tables_are_internal_in_any_case() {
        for name in [
            "_cf_KV",
            "_CF_METADATA",
            "sqlite_sequence",
            "SQLITE_stat1",
            "sqlite_autoindex_t_1",
            "_d1vault_progress",
            "_D1VAULT_x",
        ] {
            assert!(is_internal_name(name), "{name}");
        }
    }

    #[test]
    fn user_names_are_not_internal() {
        for name in [
            "",
            "_cf",
            "cf_kv",
            "sqlite",
            "my_sqlite_table",
            "_d1vault",
            "d1vault_x",
            "users",
            "_çf_x",
            "ſqlite_x",
        ] {
            assert!(!is_internal_name(name), "{name}");
        }
    }
}
