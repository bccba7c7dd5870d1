//! The CLI's failure paths: the exit code, one line on stderr, and no output
//! file (not even a `.partial`) left behind.

mod cli_support;

use std::fs;

use cli_support::{key_id, noisy_sql, sql, Cli, KEY_A, KEY_B};

/// An object of several chunks with one bit flipped in chunk 2, so the
/// first frame of SQL has already been written out when the failure is
/// found.
fn tampered(cli: &Cli) {
    let object = cli.encrypt(&noisy_sql(1_000_000), "b1", "t.enc");
    let mut bytes = fs::read(&object).unwrap();
    let offset = d1_vault::format::header_len(2) + 2 * (65_536 + 16) + 100;
    bytes[offset] ^= 0x01;
    fs::write(&object, bytes).unwrap();
}

#[test]
fn wrong_key_fails_with_the_unknown_key_message() {
    let mut cli = Cli::new();
    cli.encrypt(&sql(1000), "b1", "a.enc");
    cli.key = Some(KEY_B.into());
    let run = cli.run(&["decrypt", "a.enc", "-o", "a.sql"]).expect(1);
    let expected = format!(
        "d1-vault: a.enc: encrypted with key {}; available keys: {} (",
        key_id(KEY_A),
        key_id(KEY_B)
    );
    assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
    assert!(run.stderr.contains("BACKUP_ENCRYPTION_KEYS_PREVIOUS"));
    assert_eq!(cli.files(), ["a.enc"]);
}

#[test]
fn tampered_object_leaves_no_output_behind() {
    let cli = Cli::new();
    tampered(&cli);
    let run = cli.run(&["decrypt", "t.enc", "-o", "t.sql"]).expect(1);
    assert!(
        run.stderr.contains("chunk 2 failed authentication"),
        "{}",
        run.stderr
    );
    assert_eq!(cli.files(), ["t.enc"], "no t.sql, no t.sql.partial");

    let run = cli.run(&["decrypt", "t.enc", "-o", "-"]).expect(1);
    assert!(
        run.stdout.is_empty(),
        "stdout output is verified before it is written"
    );

    let run = cli.run(&["verify", "t.enc", "--json"]).expect(1);
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["error"]["code"], "chunk_tampered");
    assert_eq!(json["error"]["stage"], "chunk");
}

#[test]
fn truncated_object_is_reported_against_the_manifest_first() {
    let cli = Cli::new();
    let object = cli.encrypt(&noisy_sql(1_000_000), "b1", "c.enc");
    let (manifest, _) = cli.manifest(&object, "m.json");
    let full = fs::read(&object).unwrap();
    fs::write(&object, &full[..100_000]).unwrap();
    let run = cli
        .run(&[
            "decrypt",
            "c.enc",
            "--manifest",
            manifest.to_str().unwrap(),
            "-o",
            "c.sql",
        ])
        .expect(1);
    assert_eq!(
        run.stderr,
        format!(
            "d1-vault: truncated: 100000 bytes, manifest says {}; download the object again\n",
            full.len()
        )
    );
    assert_eq!(cli.files(), ["c.enc", "m.json"]);

    // Without a manifest the format itself catches it.
    let run = cli.run(&["verify", "c.enc"]).expect(1);
    assert!(
        run.stderr.contains("(the last) failed authentication"),
        "{}",
        run.stderr
    );
}

#[test]
fn manifest_mismatches_fail_and_leave_nothing() {
    let cli = Cli::new();
    let object = cli.encrypt(&sql(100_000), "b1", "d.enc");
    let (_, manifest) = cli.manifest(&object, "m.json");

    let mut digest = manifest.clone();
    digest["plaintext"]["sha256"] = "00".repeat(32).into();
    cli.write("digest.json", digest.to_string().as_bytes());
    let run = cli
        .run(&[
            "decrypt",
            "d.enc",
            "--manifest",
            "digest.json",
            "-o",
            "d.sql",
        ])
        .expect(1);
    assert!(
        run.stderr.contains("plaintext SHA-256 is"),
        "{}",
        run.stderr
    );
    assert!(!cli.files().iter().any(|f| f.starts_with("d.sql")));

    let mut key = manifest.clone();
    key["encryption"]["key_id"] = key_id(KEY_B).into();
    cli.write("key.json", key.to_string().as_bytes());
    let run = cli
        .run(&["verify", "d.enc", "--manifest", "key.json"])
        .expect(1);
    assert!(
        run.stderr.contains("but the manifest says key"),
        "{}",
        run.stderr
    );

    let mut other = manifest.clone();
    other["id"] = "b2".into();
    cli.write("other.json", other.to_string().as_bytes());
    let run = cli
        .run(&["verify", "d.enc", "--manifest", "other.json"])
        .expect(1);
    assert!(
        run.stderr.contains("belongs to backup b1, not b2"),
        "{}",
        run.stderr
    );

    cli.run(&["verify", "d.enc", "--manifest", "m.json", "--id", "b2"])
        .expect(2);
    cli.write("broken.json", b"{\"id\": ");
    cli.run(&["verify", "d.enc", "--manifest", "broken.json"])
        .expect(3);
}

#[test]
fn usage_errors_exit_2() {
    let cli = Cli::new();
    cli.encrypt(b"x", "b1", "u.enc");
    for args in [
        &[][..],
        &["frobnicate"],
        &["decrypt"],
        &["decrypt", "u.enc"],
        &["decrypt", "u.enc", "-o", "x.sql", "--bogus"],
        &["decrypt", "u.enc", "extra", "-o", "x.sql"],
        &["verify", "u.enc", "--id", "../etc"],
        &["encrypt", "u.enc", "-o", "x.enc"],
        &["encrypt", "u.enc", "--id", "b1", "-o", "-", "--json"],
        &["keygen", "now"],
        &["inspect"],
        &["job"],
        &["cancel"],
        &["jobs", "--limit", "0"],
        &["backup", "now"],
        &["job", "j1", "--no-wait"],
    ] {
        let run = cli.run(args).expect(2);
        assert!(run.stderr.contains("--help"), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn configuration_and_io_errors_exit_3_naming_the_cause() {
    let mut cli = Cli::new();
    cli.encrypt(b"x", "b1", "k.enc");

    cli.key = None;
    let run = cli.run(&["verify", "k.enc"]).expect(3);
    assert!(
        run.stderr.contains("BACKUP_ENCRYPTION_KEY is not set"),
        "{}",
        run.stderr
    );

    cli.key = Some("abc".into());
    let run = cli.run(&["verify", "k.enc"]).expect(3);
    assert_eq!(
        run.stderr,
        "d1-vault: BACKUP_ENCRYPTION_KEY: expected 64 hex characters, got 3\n"
    );

    cli.key = Some(KEY_A.into());
    cli.previous = Some(format!("{KEY_B},nothex"));
    let run = cli.run(&["verify", "k.enc"]).expect(3);
    assert!(
        run.stderr
            .starts_with("d1-vault: BACKUP_ENCRYPTION_KEYS_PREVIOUS entry 2: "),
        "{}",
        run.stderr
    );

    cli.previous = None;
    cli.run(&["verify", "missing.enc"]).expect(3);
    cli.write("k.sql", b"keep me");
    let run = cli.run(&["decrypt", "k.enc", "-o", "k.sql"]).expect(3);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(fs::read(cli.path("k.sql")).unwrap(), b"keep me");
    cli.run(&["decrypt", "k.enc", "-o", "k.sql", "--force"])
        .expect(0);
    assert_eq!(fs::read(cli.path("k.sql")).unwrap(), b"x");
}

#[test]
fn inspect_rejects_what_is_not_an_object() {
    let cli = Cli::new();
    cli.write("plain.sql", b"CREATE TABLE t(x);\n");
    let run = cli.run(&["inspect", "plain.sql"]).expect(1);
    assert!(
        run.stderr.contains("not a d1-vault object"),
        "{}",
        run.stderr
    );
}
