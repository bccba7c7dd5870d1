//! The worker's configuration: binding, variable and secret names in one place,
//! parsed once into a typed [`Config`].
//!
//! Parsing is pure: it takes a lookup function (the edge passes one that reads
//! the Worker's `env`), so every rule is tested natively. A present but bad
//! value is an error that names the variable and says what is expected, and
//! never echoes a secret. A missing secret is not an error here: the routes
//! that need it answer 503 (fail closed), while `/health` keeps working.

use crate::auth::Tokens;
use crate::format::keys::{Keyring, BACKUP_ENCRYPTION_KEY, BACKUP_ENCRYPTION_KEYS_PREVIOUS};
use crate::jobs::backup::BackupFault;
use crate::jobs::slice::Budget;
use crate::platform::PlatformLimits;

/// The D1 binding of the database being backed up.
pub const DB_BINDING: &str = "DB";
/// The R2 binding of the bucket that holds the backups.
pub const BACKUPS_BINDING: &str = "BACKUPS";

/// Variable: the environment's name (`staging`, `production`, ...).
pub const ENVIRONMENT: &str = "ENVIRONMENT";
/// Variable: the D1 database's name, which a restore must confirm.
pub const DATABASE_NAME: &str = "DATABASE_NAME";
/// Variable: daily backups to keep.
pub const RETENTION_DAILY: &str = "RETENTION_DAILY";
/// Variable: weekly backups to keep.
pub const RETENTION_WEEKLY: &str = "RETENTION_WEEKLY";
/// Variable: monthly backups to keep.
pub const RETENTION_MONTHLY: &str = "RETENTION_MONTHLY";
/// Variable: yearly backups to keep.
pub const RETENTION_YEARLY: &str = "RETENTION_YEARLY";
/// Variable: hours without a successful backup before `/health` says stale.
pub const STALE_AFTER_HOURS: &str = "STALE_AFTER_HOURS";
/// Variable: `"true"` enables the `/v1/test/*` routes (benchmark and format interop; local test runs only).
pub const ENABLE_TEST_ROUTES: &str = "ENABLE_TEST_ROUTES";
/// Variable: a fault to inject, for tests only (needs `ENABLE_TEST_ROUTES`):
/// `self_check_unlisted_view` (see [`crate::jobs::backup::BackupFault`]).
pub const TEST_FAULT: &str = "TEST_FAULT";
/// Variable: `paid` or `free` makes every invocation fail, as production
/// would, once it goes over that plan's D1 query or subrequest limit (see
/// [`crate::platform`]); set in every end-to-end run and in `./scripts/dev`.
pub const ENFORCE_PLATFORM_LIMITS: &str = "ENFORCE_PLATFORM_LIMITS";
/// Variable: D1 statements one slice of a job may run.
pub const JOB_BUDGET_D1_QUERIES: &str = "JOB_BUDGET_D1_QUERIES";
/// Variable: subrequests (D1 and R2 calls) one slice of a job may make.
pub const JOB_BUDGET_SUBREQUESTS: &str = "JOB_BUDGET_SUBREQUESTS";
/// Variable: KiB of SQL or ciphertext one slice of a job may process.
pub const JOB_BUDGET_KIB: &str = "JOB_BUDGET_KIB";
/// Variable: seconds of wall time one slice of a job may take.
pub const JOB_BUDGET_SECONDS: &str = "JOB_BUDGET_SECONDS";
/// Variable, tests only (needs `ENABLE_TEST_ROUTES`): milliseconds between
/// two slices of a job, so a test can see each step and kill the runtime
/// in it.
pub const JOB_SLICE_PAUSE_MS: &str = "JOB_SLICE_PAUSE_MS";
/// Secret: the token for read routes.
pub const READ_TOKEN: &str = "READ_TOKEN";
/// Secret: the token for every route.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
/// Secret (optional): where failures are POSTed as JSON.
pub const ALERT_WEBHOOK_URL: &str = "ALERT_WEBHOOK_URL";

/// Defaults when a retention variable is absent (restic-style GFS).
pub const DEFAULT_RETENTION: RetentionCounts = RetentionCounts {
    daily: 7,
    weekly: 4,
    monthly: 12,
    yearly: 7,
};
/// Default staleness threshold: a nightly backup plus two hours of slack.
pub const DEFAULT_STALE_AFTER_HOURS: u32 = 26;
/// Default slice budget: half of the Paid plan's 1,000 D1 queries and a
/// tenth of its 10,000 subrequests per invocation, 64 MiB processed (about
/// 2 s of CPU for AES-GCM and SHA-256 in wasm, far below an alarm's 30 s),
/// and 30 s of wall time (an alarm may run 15 minutes).
pub const DEFAULT_JOB_BUDGET: Budget = Budget {
    d1_queries: 500,
    subrequests: 1_000,
    bytes: 64 << 20,
    wall_ms: 30_000,
};
/// The shortest token accepted, so a placeholder like "changeme" is refused.
pub const MIN_TOKEN_LENGTH: usize = 16;

const MAX_RETENTION_COUNT: u32 = 10_000;
const MAX_STALE_AFTER_HOURS: u32 = 24 * 366;

/// How many backups each retention rule keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RetentionCounts {
    /// The newest backup of each of the last `daily` days that have one.
    pub daily: u32,
    /// The newest backup of each of the last `weekly` ISO weeks that have one.
    pub weekly: u32,
    /// The newest backup of each of the last `monthly` months that have one.
    pub monthly: u32,
    /// The newest backup of each of the last `yearly` years that have one.
    pub yearly: u32,
}

/// Everything the worker reads from its environment, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ENVIRONMENT`.
    pub environment: String,
    /// `DATABASE_NAME`.
    pub database_name: String,
    /// `RETENTION_*`.
    pub retention: RetentionCounts,
    /// `STALE_AFTER_HOURS`.
    pub stale_after_hours: u32,
    /// `ENABLE_TEST_ROUTES`.
    pub test_routes: bool,
    /// `TEST_FAULT`: never set outside tests.
    pub backup_fault: Option<BackupFault>,
    /// `READ_TOKEN` and `ADMIN_TOKEN`.
    pub tokens: Tokens,
    /// `BACKUP_ENCRYPTION_KEY` and `BACKUP_ENCRYPTION_KEYS_PREVIOUS`; `None` if not set.
    pub keyring: Option<Keyring>,
    /// `ALERT_WEBHOOK_URL`.
    pub alert_webhook_url: Option<String>,
    /// `ENFORCE_PLATFORM_LIMITS`: the limits to enforce, if any.
    pub platform_limits: Option<PlatformLimits>,
    /// `JOB_BUDGET_*`: what one slice of a job may use.
    pub job_budget: Budget,
    /// `JOB_SLICE_PAUSE_MS`: tests only; 0 otherwise.
    pub slice_pause_ms: u32,
}

/// A variable or secret that is missing where required, or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong and what is expected (never the value of a secret).
    pub problem: String,
}

impl Config {
    /// Parses the configuration from `lookup(name)`, which returns a variable's
    /// or secret's value, or `None` when it is not set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let present = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let environment = required_name(ENVIRONMENT, present(ENVIRONMENT), 32)?;
        let database_name = required_name(DATABASE_NAME, present(DATABASE_NAME), 64)?;
        let count = |name: &'static str, default: u32| {
            bounded_number(name, present(name), default, 0, MAX_RETENTION_COUNT)
        };
        let retention = RetentionCounts {
            daily: count(RETENTION_DAILY, DEFAULT_RETENTION.daily)?,
            weekly: count(RETENTION_WEEKLY, DEFAULT_RETENTION.weekly)?,
            monthly: count(RETENTION_MONTHLY, DEFAULT_RETENTION.monthly)?,
            yearly: count(RETENTION_YEARLY, DEFAULT_RETENTION.yearly)?,
        };
        let stale_after_hours = bounded_number(
            STALE_AFTER_HOURS,
            present(STALE_AFTER_HOURS),
            DEFAULT_STALE_AFTER_HOURS,
            1,
            MAX_STALE_AFTER_HOURS,
        )?;
        let test_routes = match present(ENABLE_TEST_ROUTES).as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError {
                    variable: ENABLE_TEST_ROUTES,
                    problem: format!("must be \"true\" or \"false\", got {other:?}"),
                })
            }
        };
        let backup_fault = match present(TEST_FAULT).as_deref().map(str::trim) {
            None => None,
            Some(_) if !test_routes => {
                return Err(ConfigError {
                    variable: TEST_FAULT,
                    problem:
                        "injects faults for tests and needs ENABLE_TEST_ROUTES=true; remove it"
                            .into(),
                })
            }
            Some("self_check_unlisted_view") => Some(BackupFault::UnlistedView),
            Some(other) => {
                return Err(ConfigError {
                    variable: TEST_FAULT,
                    problem: format!("must be \"self_check_unlisted_view\", got {other:?}"),
                })
            }
        };
        let tokens = Tokens {
            read: token(READ_TOKEN, present(READ_TOKEN))?,
            admin: token(ADMIN_TOKEN, present(ADMIN_TOKEN))?,
        };
        if tokens.read.is_some() && tokens.read == tokens.admin {
            return Err(ConfigError {
                variable: READ_TOKEN,
                problem: "must differ from ADMIN_TOKEN, or the read token could do everything"
                    .into(),
            });
        }
        let keyring = match present(BACKUP_ENCRYPTION_KEY) {
            None => None,
            Some(current) => Some(
                Keyring::from_values(
                    &current,
                    present(BACKUP_ENCRYPTION_KEYS_PREVIOUS).as_deref(),
                )
                .map_err(|error| ConfigError {
                    variable: error.variable(),
                    problem: error.to_string(),
                })?,
            ),
        };
        let alert_webhook_url = match present(ALERT_WEBHOOK_URL) {
            None => None,
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                Some(url.trim().to_owned())
            }
            Some(_) => {
                return Err(ConfigError {
                    variable: ALERT_WEBHOOK_URL,
                    problem: "must be an http(s):// URL".into(),
                })
            }
        };
        let platform_limits = match present(ENFORCE_PLATFORM_LIMITS).as_deref().map(str::trim) {
            None => None,
            Some(name) => Some(PlatformLimits::named(name).ok_or_else(|| ConfigError {
                variable: ENFORCE_PLATFORM_LIMITS,
                problem: format!("must be \"paid\" or \"free\", got {name:?}"),
            })?),
        };
        let budget = |name: &'static str, default: u64, min: u32, max: u32| {
            let fallback = u32::try_from(default).unwrap_or(max);
            bounded_number(name, present(name), fallback, min, max).map(u64::from)
        };
        let job_budget = Budget {
            d1_queries: budget(
                JOB_BUDGET_D1_QUERIES,
                DEFAULT_JOB_BUDGET.d1_queries,
                5,
                1_000,
            )?,
            subrequests: budget(
                JOB_BUDGET_SUBREQUESTS,
                DEFAULT_JOB_BUDGET.subrequests,
                10,
                10_000,
            )?,
            bytes: budget(JOB_BUDGET_KIB, DEFAULT_JOB_BUDGET.bytes >> 10, 16, 1 << 20)? << 10,
            wall_ms: budget(
                JOB_BUDGET_SECONDS,
                DEFAULT_JOB_BUDGET.wall_ms / 1_000,
                1,
                600,
            )? * 1_000,
        };
        let slice_pause_ms = match present(JOB_SLICE_PAUSE_MS) {
            Some(_) if !test_routes => {
                return Err(ConfigError {
                    variable: JOB_SLICE_PAUSE_MS,
                    problem:
                        "slows jobs down for tests and needs ENABLE_TEST_ROUTES=true; remove it"
                            .into(),
                })
            }
            value => bounded_number(JOB_SLICE_PAUSE_MS, value, 0, 0, 60_000)?,
        };
        Ok(Self {
            environment,
            database_name,
            retention,
            stale_after_hours,
            test_routes,
            backup_fault,
            tokens,
            keyring,
            alert_webhook_url,
            platform_limits,
            job_budget,
            slice_pause_ms,
        })
    }
}

fn required_name(
    variable: &'static str,
    value: Option<String>,
    max_len: usize,
) -> Result<String, ConfigError> {
    let value = value.ok_or_else(|| ConfigError {
        variable,
        problem: "is not set; add it under [vars] in wrangler.toml (per environment)".into(),
    })?;
    let value = value.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if value.len() > max_len || !value.chars().all(allowed) {
        return Err(ConfigError {
            variable,
            problem: format!(
                "must be 1 to {max_len} characters of A-Z, a-z, 0-9, '-' and '_', got {value:?}"
            ),
        });
    }
    Ok(value.to_owned())
}

fn bounded_number(
    variable: &'static str,
    value: Option<String>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    match value.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError {
            variable,
            problem: format!("must be a whole number from {min} to {max}, got {value:?}"),
        }),
    }
}

fn token(variable: &'static str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value {
        None => Ok(None),
        Some(token) if token.trim().chars().count() >= MIN_TOKEN_LENGTH => Ok(Some(token.trim().to_owned())),
        Some(token) => Err(ConfigError {
            variable,
            problem: format!(
                "is too short ({} characters); use at least {MIN_TOKEN_LENGTH}, e.g. from 'openssl rand -hex 32'",
                token.trim().chars().count()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn minimal() -> Vec<(&'static str, &'static str)> {
        vec![(ENVIRONMENT, "staging"), (DATABASE_NAME, "app-db")]
    }

    #[test]
    fn minimal_configuration_uses_defaults() {
        let config = parse(&minimal()).unwrap();
        assert_eq!(config.environment, "staging");
        assert_eq!(config.database_name, "app-db");
        assert_eq!(config.retention, DEFAULT_RETENTION);
        assert_eq!(config.stale_after_hours, DEFAULT_STALE_AFTER_HOURS);
        assert!(!config.test_routes);
        assert!(config.keyring.is_none());
        assert!(config.tokens.read.is_none() && config.tokens.admin.is_none());
    }

    #[test]
    fn full_configuration_parses() {
        let mut pairs = minimal();
        pairs.extend([
            (RETENTION_DAILY, "3"),
            (RETENTION_WEEKLY, "0"),
            (RETENTION_MONTHLY, " 24 "),
            (RETENTION_YEARLY, "10"),
            (STALE_AFTER_HOURS, "2"),
            (READ_TOKEN, "read-token-0123456789"),
            (ADMIN_TOKEN, "admin-token-0123456789"),
            (BACKUP_ENCRYPTION_KEY, KEY),
            (ALERT_WEBHOOK_URL, "https://hooks.example.com/d1"),
            (ENABLE_TEST_ROUTES, "true"),
        ]);
        let config = parse(&pairs).unwrap();
        assert_eq!(
            config.retention,
            RetentionCounts {
                daily: 3,
                weekly: 0,
                monthly: 24,
                yearly: 10
            }
        );
        assert_eq!(config.stale_after_hours, 2);
        assert!(config.keyring.is_some());
        assert!(config.test_routes);
        assert_eq!(
            config.alert_webhook_url.as_deref(),
            Some("https://hooks.example.com/d1")
        );
    }

    #[test]
    fn a_test_fault_is_refused_without_test_routes() {
        let mut pairs = minimal();
        pairs.push((TEST_FAULT, "self_check_unlisted_view"));
        let error = parse(&pairs).unwrap_err();
        assert_eq!(error.variable, TEST_FAULT);
        assert!(error.problem.contains("ENABLE_TEST_ROUTES=true"), "{error}");
        pairs.push((ENABLE_TEST_ROUTES, "true"));
        assert_eq!(
            parse(&pairs).unwrap().backup_fault,
            Some(BackupFault::UnlistedView)
        );
    }

    #[test]
    fn job_budgets_default_to_the_paid_plan_and_can_be_made_tiny_for_tests() {
        let config = parse(&minimal()).unwrap();
        assert_eq!(config.job_budget, DEFAULT_JOB_BUDGET);
        assert_eq!(config.platform_limits, None);
        let mut pairs = minimal();
        pairs.extend([
            (ENFORCE_PLATFORM_LIMITS, "free"),
            (JOB_BUDGET_D1_QUERIES, "5"),
            (JOB_BUDGET_SUBREQUESTS, "10"),
            (JOB_BUDGET_KIB, "16"),
            (JOB_BUDGET_SECONDS, "2"),
        ]);
        let config = parse(&pairs).unwrap();
        assert_eq!(config.platform_limits, Some(crate::platform::FREE));
        assert_eq!(
            config.job_budget,
            Budget {
                d1_queries: 5,
                subrequests: 10,
                bytes: 16 << 10,
                wall_ms: 2_000
            }
        );
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases: [(&str, &str); 14] = [
            (TEST_FAULT, "drop_everything"),
            (ENFORCE_PLATFORM_LIMITS, "enterprise"),
            (JOB_SLICE_PAUSE_MS, "100"),
            (JOB_BUDGET_D1_QUERIES, "1001"),
            (JOB_BUDGET_SECONDS, "0"),
            (ENVIRONMENT, "prod env"),
            (DATABASE_NAME, "db;drop"),
            (RETENTION_DAILY, "seven"),
            (RETENTION_WEEKLY, "-1"),
            (STALE_AFTER_HOURS, "0"),
            (READ_TOKEN, "short"),
            (ADMIN_TOKEN, "short"),
            (ALERT_WEBHOOK_URL, "hooks.example.com"),
            (ENABLE_TEST_ROUTES, "yes"),
        ];
        for (variable, value) in cases {
            let mut pairs = minimal();
            pairs.retain(|(name, _)| *name != variable);
            pairs.push((variable, value));
            let error = parse(&pairs).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
            assert!(error.to_string().starts_with(variable), "{error}");
        }
    }

    #[test]
    fn missing_required_variables_say_where_to_set_them() {
        let error = parse(&[(DATABASE_NAME, "app-db")]).unwrap_err();
        assert_eq!(error.variable, ENVIRONMENT);
        assert!(error.problem.contains("wrangler.toml"));
        let error = parse(&[(ENVIRONMENT, "staging")]).unwrap_err();
        assert_eq!(error.variable, DATABASE_NAME);
    }

    #[test]
    fn a_bad_key_is_reported_without_its_value() {
        let mut pairs = minimal();
        pairs.push((BACKUP_ENCRYPTION_KEY, "abcdef"));
        let error = parse(&pairs).unwrap_err();
        assert_eq!(error.variable, BACKUP_ENCRYPTION_KEY);
        assert!(!error.to_string().contains("abcdef"), "{error}");

        let mut pairs = minimal();
        pairs.push((BACKUP_ENCRYPTION_KEY, KEY));
        pairs.push((BACKUP_ENCRYPTION_KEYS_PREVIOUS, "zz"));
        assert_eq!(
            parse(&pairs).unwrap_err().variable,
            BACKUP_ENCRYPTION_KEYS_PREVIOUS
        );
    }

    #[test]
    fn short_tokens_are_refused_without_echoing_them() {
        let mut pairs = minimal();
        pairs.push((ADMIN_TOKEN, "changeme"));
        let error = parse(&pairs).unwrap_err();
        assert!(!error.to_string().contains("changeme"), "{error}");
    }

    #[test]
    fn equal_read_and_admin_tokens_are_refused() {
        let mut pairs = minimal();
        pairs.push((READ_TOKEN, "same-token-0123456789"));
        pairs.push((ADMIN_TOKEN, "same-token-0123456789"));
        assert_eq!(parse(&pairs).unwrap_err().variable, READ_TOKEN);
    }

    #[test]
    fn blank_values_count_as_unset() {
        let mut pairs = minimal();
        pairs.push((READ_TOKEN, "  "));
        pairs.push((RETENTION_DAILY, ""));
        let config = parse(&pairs).unwrap();
        assert!(config.tokens.read.is_none());
        assert_eq!(config.retention.daily, DEFAULT_RETENTION.daily);
    }
}
