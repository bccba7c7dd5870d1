//! The retention policy: which backups to keep and which to remove, and why.
//!
//! Pure: [`RetentionPolicy::apply`] takes the list of backups, the policy and
//! `now`, and returns a [`RetentionPlan`] with one [`Decision`] per backup. It
//! never reads the clock and deletes nothing; pruning applies the plan later,
//! and a dry run (`GET /v1/retention`) shows it.
//!
//! # Semantics
//!
//! The grandfather-father-son rules follow restic's `ApplyPolicy`
//! (`internal/data/snapshot_policy.go`). Backups are walked newest first, ties
//! broken by id, descending. Each rule with a count `n > 0` remembers the
//! period of the last backup it kept; a backup is kept by the rule when its
//! period differs from that one and the rule has count left, and each keep
//! uses up one count. The periods are, in UTC: the calendar day, the ISO-8601
//! week (weeks start on Monday, week 1 holds January 4th), the month and the
//! year. So a rule keeps the newest backup of each of its `n` newest periods
//! that contain a backup: gaps use no count. The rules are OR'd, and a backup
//! kept by several rules records every reason.
//!
//! On top of the counted rules, and unlike restic:
//!
//! - a pinned backup is always kept, and still takes part in the rules;
//! - a pre-restore backup (a snapshot of a database in trouble, taken just
//!   before a restore) is kept for [`PRE_RESTORE_KEEP_DAYS`] days after it was
//!   created, and takes no part in the rules, so it never displaces a nightly
//!   backup from a daily or weekly slot;
//! - an imported backup (a dump an operator brought in on purpose) is kept
//!   until an operator deletes it, and takes no part in the rules either: an
//!   import at 10:00 never displaces that day's 02:00 backup;
//! - the newest backup not dated after `now`, of any kind, is always kept;
//! - a backup dated after `now` is ignored by the rules and kept: a clock
//!   problem must never delete anything.
//!
//! restic's newer "keep the oldest snapshot while counts are left" extension is
//! deliberately not implemented: it would break the invariants below.
//!
//! # Invariants
//!
//! - Every backup gets exactly one decision; a kept backup has at least one
//!   reason, a removed one exactly one.
//! - Pinned, future-dated and the newest non-future backups are kept.
//! - A rule keeps at most its count, each from a different period; they are
//!   the newest backups of the rule's `n` newest periods.
//! - The plan does not depend on the order of the input.
//! - Raising a count never removes a backup that was kept; adding a backup
//!   older than all others never changes the decisions for the others.
//! - `now` matters only for the future, pre-restore and newest rules.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::RetentionCounts;
use crate::time::{Civil, Timestamp};

/// How long a pre-restore backup is kept after it was created, in days.
pub const PRE_RESTORE_KEEP_DAYS: i64 = 30;

const MILLIS_PER_DAY: i64 = 86_400_000;

/// How a backup came to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackupKind {
    /// Taken by the nightly cron trigger.
    Scheduled,
    /// Requested by an operator through the API.
    Manual,
    /// Taken automatically just before a restore overwrote the database.
    PreRestore,
    /// Uploaded from outside, e.g. a dump made before d1-vault was deployed.
    Imported,
}

impl BackupKind {
    /// Whether backups of this kind take part in the counted rules: the
    /// scheduled and manual ones. Pre-restore and imported backups keep to
    /// rules of their own and never take a day, week, month or year slot.
    pub const fn takes_part_in_the_rules(self) -> bool {
        matches!(self, Self::Scheduled | Self::Manual)
    }

    /// The name used in JSON and in the plan's text: `scheduled`, `manual`,
    /// `pre-restore` or `imported`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Manual => "manual",
            Self::PreRestore => "pre-restore",
            Self::Imported => "imported",
        }
    }
}

impl fmt::Display for BackupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What the policy needs to know about one backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRef {
    /// The backup's id (unique among backups).
    pub id: String,
    /// When the backup was taken.
    pub created_at: Timestamp,
    /// How it came to exist.
    pub kind: BackupKind,
    /// An operator asked to keep it regardless of the policy.
    pub pinned: bool,
}

/// A counted rule of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// One backup per UTC calendar day.
    Daily,
    /// One backup per ISO-8601 week.
    Weekly,
    /// One backup per calendar month.
    Monthly,
    /// One backup per calendar year.
    Yearly,
}

impl Rule {
    /// Every rule, in the order reasons are listed.
    pub const ALL: [Rule; 4] = [Rule::Daily, Rule::Weekly, Rule::Monthly, Rule::Yearly];

    /// The rule's name, as reasons show it: `daily`, `weekly`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Yearly => "yearly",
        }
    }

    /// How many periods the rule keeps under `counts`.
    pub const fn count(self, counts: &RetentionCounts) -> u32 {
        match self {
            Self::Daily => counts.daily,
            Self::Weekly => counts.weekly,
            Self::Monthly => counts.monthly,
            Self::Yearly => counts.yearly,
        }
    }

    /// The period of this rule that contains `at`.
    pub fn period(self, at: Timestamp) -> Period {
        let c = at.civil();
        match self {
            Self::Daily => Period::Day {
                year: c.year,
                month: c.month,
                day: c.day,
            },
            Self::Weekly => Period::Week(IsoWeek::of(at)),
            Self::Monthly => Period::Month {
                year: c.year,
                month: c.month,
            },
            Self::Yearly => Period::Year { year: c.year },
        }
    }

    /// How the rule's periods are named in the policy's text (`days`, ...).
    const fn unit(self, n: u32) -> &'static str {
        match (self, n) {
            (Self::Daily, 1) => "day",
            (Self::Daily, _) => "days",
            (Self::Weekly, 1) => "ISO week",
            (Self::Weekly, _) => "ISO weeks",
            (Self::Monthly, 1) => "month",
            (Self::Monthly, _) => "months",
            (Self::Yearly, 1) => "year",
            (Self::Yearly, _) => "years",
        }
    }
}

/// An ISO-8601 week: weeks start on Monday, and week 1 of a year is the week
/// that holds January 4th (so its Thursday is in that year). The week's year
/// can differ from the calendar year near January 1st: 2024-12-30 is in
/// 2025-W01, and 2021-01-03 in 2020-W53.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    /// The ISO week-numbering year: the calendar year of the week's Thursday.
    pub year: i64,
    /// The week number, 1 to 53.
    pub week: u32,
}

impl IsoWeek {
    /// The ISO week that contains `at` (in UTC).
    pub fn of(at: Timestamp) -> Self {
        let day = at.as_millis().div_euclid(MILLIS_PER_DAY);
        // 1970-01-01 was a Thursday: day 0 has weekday 3 counting Monday as 0.
        let weekday = (day + 3).rem_euclid(7);
        let thursday = day - weekday + 3;
        let year = Timestamp::from_millis(thursday.saturating_mul(MILLIS_PER_DAY))
            .civil()
            .year;
        let january_1st = Timestamp::from_civil(Civil {
            year,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            millisecond: 0,
        })
        .as_millis()
        .div_euclid(MILLIS_PER_DAY);
        // The Thursday is the n-th Thursday of its year, n = its 0-based day
        // of the year / 7 + 1 (so 1 to 53), and every ISO week has exactly one
        // Thursday.
        let week = ((thursday - january_1st) / 7 + 1) as u32;
        Self { year, week }
    }
}

impl fmt::Display for IsoWeek {
    /// `2026-W47`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

/// A period that a counted rule keeps one backup of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A UTC calendar day ([`Rule::Daily`]).
    Day {
        /// Calendar year.
        year: i64,
        /// Month, 1 to 12.
        month: u32,
        /// Day of the month, 1 to 31.
        day: u32,
    },
    /// An ISO-8601 week ([`Rule::Weekly`]).
    Week(IsoWeek),
    /// A calendar month ([`Rule::Monthly`]).
    Month {
        /// Calendar year.
        year: i64,
        /// Month, 1 to 12.
        month: u32,
    },
    /// A calendar year ([`Rule::Yearly`]).
    Year {
        /// Calendar year.
        year: i64,
    },
}

impl Period {
    /// The rule whose periods these are.
    pub const fn rule(&self) -> Rule {
        match self {
            Self::Day { .. } => Rule::Daily,
            Self::Week(_) => Rule::Weekly,
            Self::Month { .. } => Rule::Monthly,
            Self::Year { .. } => Rule::Yearly,
        }
    }
}

impl fmt::Display for Period {
    /// `2026-11-20`, `ISO week 2026-W47`, `2026-11` or `2026`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Day { year, month, day } => write!(f, "{year:04}-{month:02}-{day:02}"),
            Self::Week(week) => write!(f, "ISO week {week}"),
            Self::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Self::Year { year } => write!(f, "{year:04}"),
        }
    }
}

/// Why a backup is kept or removed. The text ([`fmt::Display`], also used in
/// JSON) is written for an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Kept: an operator pinned the backup.
    Pinned,
    /// Kept: the newest backup not dated in the future.
    Newest,
    /// Kept: a pre-restore backup younger than [`PRE_RESTORE_KEEP_DAYS`].
    PreRestore {
        /// When its time is up.
        until: Timestamp,
    },
    /// Kept: an imported backup, until an operator deletes it.
    Imported,
    /// Kept: the newest backup of a period that a counted rule keeps.
    NewestOf(Period),
    /// Kept: dated after `now`, so the policy does not judge it.
    DatedInFuture,
    /// Removed: a pre-restore backup older than [`PRE_RESTORE_KEEP_DAYS`].
    PreRestoreExpired {
        /// When its time was up.
        until: Timestamp,
    },
    /// Removed: no rule keeps it.
    NotNewestOfKeptPeriod,
}

impl Reason {
    /// Whether this reason keeps the backup (every decision's reasons agree).
    pub const fn keeps(&self) -> bool {
        !matches!(
            self,
            Self::PreRestoreExpired { .. } | Self::NotNewestOfKeptPeriod
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pinned => f.write_str("pinned"),
            Self::Newest => f.write_str("newest backup"),
            Self::PreRestore { until } => write!(f, "pre-restore backup, kept until {until}"),
            Self::Imported => f.write_str("imported backup, kept until deleted by hand"),
            Self::NewestOf(period) => {
                write!(f, "{}: newest backup of {period}", period.rule().name())
            }
            Self::DatedInFuture => {
                f.write_str("dated in the future (after now): ignored by the policy and kept")
            }
            Self::PreRestoreExpired { until } => {
                write!(
                    f,
                    "pre-restore backup, its {PRE_RESTORE_KEEP_DAYS} days ended {until}"
                )
            }
            Self::NotNewestOfKeptPeriod => {
                f.write_str("not the newest of any kept day, week, month or year")
            }
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The retention policy: the counted rules from configuration, plus the fixed
/// rules for pinned, pre-restore, imported, newest and future-dated backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// How many days, ISO weeks, months and years keep their newest backup
    /// (`RETENTION_*`; 0 turns a rule off).
    pub counts: RetentionCounts,
}

impl RetentionPolicy {
    /// The policy with these counts.
    pub const fn new(counts: RetentionCounts) -> Self {
        Self { counts }
    }

    /// Decides every backup in `backups` as of `now`; see the module doc.
    pub fn apply(&self, backups: &[BackupRef], now: Timestamp) -> RetentionPlan {
        let mut newest_first: Vec<&BackupRef> = backups.iter().collect();
        newest_first.sort_by(|a, b| newer_first(a, b));
        let newest = newest_first
            .iter()
            .position(|backup| backup.created_at <= now);
        let mut rules = Rule::ALL.map(|rule| RuleState {
            rule,
            left: rule.count(&self.counts),
            last: None,
        });
        let decisions = newest_first
            .iter()
            .enumerate()
            .map(|(index, backup)| {
                let mut reasons = Vec::new();
                if backup.pinned {
                    reasons.push(Reason::Pinned);
                }
                let mut expired = None;
                if backup.created_at > now {
                    reasons.push(Reason::DatedInFuture);
                } else {
                    if newest == Some(index) {
                        reasons.push(Reason::Newest);
                    }
                    if backup.kind == BackupKind::Imported {
                        reasons.push(Reason::Imported);
                    } else if backup.kind == BackupKind::PreRestore {
                        let until = Timestamp::from_millis(
                            backup
                                .created_at
                                .as_millis()
                                .saturating_add(PRE_RESTORE_KEEP_DAYS * MILLIS_PER_DAY),
                        );
                        if now < until {
                            reasons.push(Reason::PreRestore { until });
                        } else {
                            expired = Some(until);
                        }
                    } else {
                        reasons.extend(
                            rules
                                .iter_mut()
                                .filter_map(|rule| rule.offer(backup.created_at)),
                        );
                    }
                }
                let keep = !reasons.is_empty();
                if !keep {
                    reasons.push(match expired {
                        Some(until) => Reason::PreRestoreExpired { until },
                        None => Reason::NotNewestOfKeptPeriod,
                    });
                }
                Decision {
                    id: backup.id.clone(),
                    created_at: backup.created_at,
                    kind: backup.kind,
                    pinned: backup.pinned,
                    keep,
                    reasons,
                }
            })
            .collect();
        RetentionPlan {
            policy: *self,
            now,
            decisions,
        }
    }
}

/// Newest first, then by id descending; kind and pinned only make the order
/// total, so that even duplicate ids cannot make the plan depend on the input
/// order.
fn newer_first(a: &BackupRef, b: &BackupRef) -> Ordering {
    b.created_at
        .cmp(&a.created_at)
        .then_with(|| b.id.cmp(&a.id))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.pinned.cmp(&b.pinned))
}

/// One counted rule during the walk.
struct RuleState {
    rule: Rule,
    /// Periods it may still keep.
    left: u32,
    /// The period of the last backup it kept.
    last: Option<Period>,
}

impl RuleState {
    /// Keeps the backup created at `at` if it opens a new period and the rule
    /// has count left.
    fn offer(&mut self, at: Timestamp) -> Option<Reason> {
        if self.left == 0 {
            return None;
        }
        let period = self.rule.period(at);
        if self.last == Some(period) {
            return None;
        }
        self.left -= 1;
        self.last = Some(period);
        Some(Reason::NewestOf(period))
    }
}

impl fmt::Display for RetentionPolicy {
    /// The policy in words, e.g. "keep the newest backup of each of the last 7
    /// days, 4 ISO weeks, 12 months and 7 years that contain a backup; ...".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules: Vec<String> = Rule::ALL
            .iter()
            .map(|rule| (rule, rule.count(&self.counts)))
            .filter(|(_, n)| *n > 0)
            .map(|(rule, n)| format!("{n} {}", rule.unit(n)))
            .collect();
        match rules.split_last() {
            None => write!(
                f,
                "keep only pinned and imported backups, pre-restore backups for \
                 {PRE_RESTORE_KEEP_DAYS} days and the newest backup"
            ),
            Some((last, rest)) => {
                let list = if rest.is_empty() {
                    last.clone()
                } else {
                    format!("{} and {last}", rest.join(", "))
                };
                write!(
                    f,
                    "keep the newest backup of each of the last {list} that contain a backup; \
                     pinned and imported backups always; pre-restore backups for \
                     {PRE_RESTORE_KEEP_DAYS} days; the newest backup always"
                )
            }
        }
    }
}

impl Serialize for RetentionPolicy {
    /// The counts, the pre-restore window and the policy in words.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut policy = serializer.serialize_struct("RetentionPolicy", 6)?;
        policy.serialize_field("daily", &self.counts.daily)?;
        policy.serialize_field("weekly", &self.counts.weekly)?;
        policy.serialize_field("monthly", &self.counts.monthly)?;
        policy.serialize_field("yearly", &self.counts.yearly)?;
        policy.serialize_field("pre_restore_keep_days", &PRE_RESTORE_KEEP_DAYS)?;
        policy.serialize_field("description", &self.to_string())?;
        policy.end()
    }
}

/// The verdict on one backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The backup's id.
    pub id: String,
    /// When the backup was taken.
    pub created_at: Timestamp,
    /// How it came to exist.
    pub kind: BackupKind,
    /// Whether an operator pinned it.
    pub pinned: bool,
    /// Keep it (`true`) or remove it (`false`).
    pub keep: bool,
    /// Why: every rule that keeps it, or the one reason it goes.
    pub reasons: Vec<Reason>,
}

/// The result of applying a [`RetentionPolicy`]: one decision per backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionPlan {
    /// The policy applied.
    pub policy: RetentionPolicy,
    /// The instant it was applied at.
    pub now: Timestamp,
    /// One per input backup, newest first (ties: id descending).
    pub decisions: Vec<Decision>,
}

impl RetentionPlan {
    /// Ids of the backups to keep, newest first.
    pub fn keep_ids(&self) -> Vec<&str> {
        self.ids_where(true)
    }

    /// Ids of the backups to remove, newest first.
    pub fn remove_ids(&self) -> Vec<&str> {
        self.ids_where(false)
    }

    fn ids_where(&self, keep: bool) -> Vec<&str> {
        self.decisions
            .iter()
            .filter(|decision| decision.keep == keep)
            .map(|decision| decision.id.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NONE: RetentionCounts = RetentionCounts {
        daily: 0,
        weekly: 0,
        monthly: 0,
        yearly: 0,
    };

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn backup(id: &str, created_at: &str, kind: BackupKind) -> BackupRef {
        BackupRef {
            id: id.to_owned(),
            created_at: at(created_at),
            kind,
            pinned: false,
        }
    }

    fn scheduled(id: &str, created_at: &str) -> BackupRef {
        backup(id, created_at, BackupKind::Scheduled)
    }

    fn pinned(mut backup: BackupRef) -> BackupRef {
        backup.pinned = true;
        backup
    }

    fn counts(daily: u32, weekly: u32, monthly: u32, yearly: u32) -> RetentionCounts {
        RetentionCounts {
            daily,
            weekly,
            monthly,
            yearly,
        }
    }

    fn apply(counts: RetentionCounts, backups: &[BackupRef], now: &str) -> RetentionPlan {
        RetentionPolicy::new(counts).apply(backups, at(now))
    }

    fn reasons(plan: &RetentionPlan, id: &str) -> Vec<String> {
        let decision = plan.decisions.iter().find(|d| d.id == id).unwrap();
        decision.reasons.iter().map(Reason::to_string).collect()
    }

    #[test]
    fn iso_weeks_at_year_boundaries() {
        for (date, year, week) in [
            ("2020-12-31", 2020, 53),
            ("2021-01-01", 2020, 53),
            ("2021-01-03", 2020, 53),
            ("2021-01-04", 2021, 1),
            ("2024-12-29", 2024, 52),
            ("2024-12-30", 2025, 1),
            ("2025-01-05", 2025, 1),
            ("2025-01-06", 2025, 2),
            ("2026-11-20", 2026, 47),
            ("2026-12-28", 2026, 53),
            ("2027-01-03", 2026, 53),
            ("2027-01-04", 2027, 1),
            ("2008-12-29", 2009, 1),
            ("2010-01-03", 2009, 53),
            ("2005-01-01", 2004, 53),
            ("2007-01-01", 2007, 1),
            ("1970-01-01", 1970, 1),
            ("1969-12-29", 1970, 1),
            ("1969-12-28", 1969, 52),
        ] {
            for time in ["00:00:00.000", "23:59:59.999"] {
                assert_eq!(
                    IsoWeek::of(at(&format!("{date}T{time}Z"))),
                    IsoWeek { year, week },
                    "{date}T{time}"
                );
            }
        }
        assert_eq!(
            IsoWeek::of(at("2026-12-31T12:00:00Z")).to_string(),
            "2026-W53"
        );
        assert_eq!(
            IsoWeek::of(at("2025-01-06T12:00:00Z")).to_string(),
            "2025-W02"
        );
    }

    /// Day number (since 1970-01-01) of the Monday of week 1 of ISO year `year`.
    fn monday_of_week_1(year: i64) -> i64 {
        let civil = |day| Civil {
            year,
            month: 1,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            millisecond: 0,
        };
        let january_4th = Timestamp::from_civil(civil(4)).as_millis() / MILLIS_PER_DAY;
        january_4th - (january_4th + 3).rem_euclid(7)
    }

    proptest! {
        /// The definition, checked literally: the ISO year is the one whose
        /// week 1 starts on or before the day and whose successor's does not.
        #[test]
        fn iso_week_matches_its_definition(day in -40_000i64..80_000, ms in 0..MILLIS_PER_DAY) {
            let week = IsoWeek::of(Timestamp::from_millis(day * MILLIS_PER_DAY + ms));
            let start = monday_of_week_1(week.year);
            prop_assert!(start <= day && day < monday_of_week_1(week.year + 1));
            prop_assert_eq!(i64::from(week.week), (day - start) / 7 + 1);
        }
    }

    /// restic's example: with `daily 7`, several backups on one day keep only
    /// the newest of that day.
    #[test]
    fn several_backups_on_one_day_keep_only_the_newest() {
        let backups = [
            scheduled("a", "2026-11-20T02:00:00Z"),
            scheduled("b", "2026-11-20T09:00:00Z"),
            scheduled("c", "2026-11-20T17:30:00Z"),
            scheduled("d", "2026-11-19T02:00:00Z"),
        ];
        let plan = apply(counts(7, 0, 0, 0), &backups, "2026-11-21T00:00:00Z");
        assert_eq!(plan.keep_ids(), ["c", "d"]);
        assert_eq!(plan.remove_ids(), ["b", "a"]);
        assert_eq!(
            reasons(&plan, "c"),
            ["newest backup", "daily: newest backup of 2026-11-20"]
        );
        assert_eq!(reasons(&plan, "d"), ["daily: newest backup of 2026-11-19"]);
        assert_eq!(
            reasons(&plan, "a"),
            ["not the newest of any kept day, week, month or year"]
        );
    }

    #[test]
    fn days_without_a_backup_use_no_count() {
        let backups = [
            scheduled("d01", "2026-11-01T02:00:00Z"),
            scheduled("d02", "2026-11-02T02:00:00Z"),
            scheduled("d05", "2026-11-05T02:00:00Z"),
            scheduled("d10", "2026-11-10T02:00:00Z"),
        ];
        let plan = apply(counts(3, 0, 0, 0), &backups, "2026-11-30T00:00:00Z");
        assert_eq!(plan.keep_ids(), ["d10", "d05", "d02"]);
        assert_eq!(plan.remove_ids(), ["d01"]);
    }

    #[test]
    fn rules_are_ored_and_every_reason_is_recorded() {
        let backups = [
            scheduled("new", "2026-11-20T02:00:00Z"),
            scheduled("old", "2025-06-11T02:00:00Z"),
        ];
        let plan = apply(counts(1, 1, 1, 2), &backups, "2026-11-21T00:00:00Z");
        assert_eq!(
            reasons(&plan, "new"),
            [
                "newest backup",
                "daily: newest backup of 2026-11-20",
                "weekly: newest backup of ISO week 2026-W47",
                "monthly: newest backup of 2026-11",
                "yearly: newest backup of 2026",
            ]
        );
        assert_eq!(reasons(&plan, "old"), ["yearly: newest backup of 2025"]);
    }

    #[test]
    fn weeks_are_iso_weeks_across_the_new_year() {
        let backups = [
            scheduled("sun", "2024-12-29T02:00:00Z"),
            scheduled("mon", "2024-12-30T02:00:00Z"),
            scheduled("wed", "2025-01-01T02:00:00Z"),
        ];
        let plan = apply(counts(0, 2, 0, 0), &backups, "2025-01-02T00:00:00Z");
        assert_eq!(plan.keep_ids(), ["wed", "sun"]);
        assert_eq!(
            reasons(&plan, "sun"),
            ["weekly: newest backup of ISO week 2024-W52"]
        );
        let plan = apply(counts(0, 0, 0, 2), &backups, "2025-01-02T00:00:00Z");
        assert_eq!(plan.keep_ids(), ["wed", "mon"]);
    }

    #[test]
    fn a_pinned_backup_is_kept_and_still_takes_its_slot() {
        let backups = [
            pinned(scheduled("pinned", "2026-11-20T03:00:00Z")),
            scheduled("nightly", "2026-11-20T02:00:00Z"),
            pinned(scheduled("old", "2020-01-01T02:00:00Z")),
        ];
        let plan = apply(counts(1, 0, 0, 0), &backups, "2026-11-21T00:00:00Z");
        assert_eq!(plan.keep_ids(), ["pinned", "old"]);
        assert_eq!(
            reasons(&plan, "pinned"),
            [
                "pinned",
                "newest backup",
                "daily: newest backup of 2026-11-20"
            ]
        );
        assert_eq!(reasons(&plan, "old"), ["pinned"]);
    }

    #[test]
    fn pre_restore_backups_are_kept_30_days_and_take_no_slot() {
        let backups = [
            backup("pre", "2026-11-20T10:00:00Z", BackupKind::PreRestore),
            scheduled("nightly", "2026-11-20T02:00:00Z"),
            scheduled("older", "2026-11-19T02:00:00Z"),
        ];
        let plan = apply(counts(1, 0, 0, 0), &backups, "2026-11-21T00:00:00Z");
        assert_eq!(plan.keep_ids(), ["pre", "nightly"]);
        assert_eq!(
            reasons(&plan, "pre"),
            [
                "newest backup",
                "pre-restore backup, kept until 2026-12-20T10:00:00.000Z"
            ]
        );
        assert_eq!(
            reasons(&plan, "nightly"),
            ["daily: newest backup of 2026-11-20"]
        );

        let just_before = apply(counts(1, 0, 0, 0), &backups, "2026-12-20T09:59:59.999Z");
        assert_eq!(just_before.keep_ids(), ["pre", "nightly"]);

        let mut with_next = backups.to_vec();
        with_next.push(scheduled("next", "2026-12-20T02:00:00Z"));
        let later = apply(counts(2, 0, 0, 0), &with_next, "2026-12-20T10:00:00Z");
        assert_eq!(later.keep_ids(), ["next", "nightly"]);
        assert_eq!(
            reasons(&later, "pre"),
            ["pre-restore backup, its 30 days ended 2026-12-20T10:00:00.000Z"]
        );
    }

    #[test]
    fn the_newest_backup_is_kept_whatever_its_kind_and_age() {
        let backups = [backup(
            "pre",
            "2020-01-01T00:00:00Z",
            BackupKind::PreRestore,
        )];
        let plan = apply(NONE, &backups, "2026-11-21T00:00:00Z");
        assert_eq!(plan.keep_ids(), ["pre"]);
        assert_eq!(reasons(&plan, "pre"), ["newest backup"]);
    }

    #[test]
    fn future_backups_are_kept_and_ignored_by_the_rules() {
        let backups = [
            pinned(scheduled("far", "2030-01-01T00:00:00Z")),
            scheduled("tomorrow", "2026-11-21T02:00:00Z"),
            scheduled("now", "2026-11-20T12:00:00Z"),
            scheduled("morning", "2026-11-20T02:00:00Z"),
            scheduled("yesterday", "2026-11-19T02:00:00Z"),
        ];
        let plan = apply(counts(2, 0, 0, 0), &backups, "2026-11-20T12:00:00Z");
        assert_eq!(plan.keep_ids(), ["far", "tomorrow", "now", "yesterday"]);
        assert_eq!(
            reasons(&plan, "far"),
            [
                "pinned",
                "dated in the future (after now): ignored by the policy and kept"
            ]
        );
        assert_eq!(
            reasons(&plan, "now"),
            ["newest backup", "daily: newest backup of 2026-11-20"]
        );
        assert_eq!(plan.remove_ids(), ["morning"]);
    }

    #[test]
    fn with_all_counts_zero_only_the_fixed_rules_keep() {
        let backups = [
            scheduled("a", "2026-11-20T02:00:00Z"),
            scheduled("b", "2026-11-19T02:00:00Z"),
            pinned(scheduled("c", "2026-11-18T02:00:00Z")),
            backup("d", "2026-11-17T02:00:00Z", BackupKind::PreRestore),
            backup("e", "2026-11-16T02:00:00Z", BackupKind::Manual),
        ];
        let plan = apply(NONE, &backups, "2026-11-21T00:00:00Z");
        assert_eq!(plan.keep_ids(), ["a", "c", "d"]);
        assert_eq!(plan.remove_ids(), ["b", "e"]);
    }

    #[test]
    fn equal_timestamps_are_ordered_by_id_descending() {
        let backups = [
            scheduled("x-1", "2026-11-20T02:00:00Z"),
            scheduled("x-2", "2026-11-20T02:00:00Z"),
        ];
        for order in [[0, 1], [1, 0]] {
            let input = order.map(|i| backups[i].clone());
            let plan = apply(counts(7, 0, 0, 0), &input, "2026-11-21T00:00:00Z");
            assert_eq!(plan.keep_ids(), ["x-2"]);
            assert_eq!(plan.remove_ids(), ["x-1"]);
        }
    }

    #[test]
    fn counts_run_out() {
        let backups: Vec<BackupRef> = (1..=9)
            .map(|month| scheduled(&format!("m{month}"), &format!("2026-0{month}-15T02:00:00Z")))
            .collect();
        let plan = apply(counts(0, 0, 3, 0), &backups, "2026-11-21T00:00:00Z");
        assert_eq!(plan.keep_ids(), ["m9", "m8", "m7"]);
        let plan = apply(
            counts(u32::MAX, u32::MAX, u32::MAX, u32::MAX),
            &backups,
            "2026-11-21T00:00:00Z",
        );
        assert_eq!(plan.keep_ids().len(), 9);
    }

    #[test]
    fn no_backups_give_an_empty_plan() {
        let plan = apply(counts(7, 4, 12, 7), &[], "2026-11-21T00:00:00Z");
        assert!(plan.decisions.is_empty());
    }

    #[test]
    fn the_policy_says_itself_in_words() {
        let fixed = "pinned and imported backups always; pre-restore backups for 30 days; the \
                     newest backup always";
        for (counts, rules) in [
            (
                counts(7, 4, 12, 7),
                "7 days, 4 ISO weeks, 12 months and 7 years",
            ),
            (counts(1, 1, 1, 1), "1 day, 1 ISO week, 1 month and 1 year"),
            (counts(0, 0, 24, 0), "24 months"),
            (counts(3, 0, 0, 1), "3 days and 1 year"),
            (counts(0, 2, 6, 0), "2 ISO weeks and 6 months"),
        ] {
            assert_eq!(
                RetentionPolicy::new(counts).to_string(),
                format!("keep the newest backup of each of the last {rules} that contain a backup; {fixed}")
            );
        }
        assert_eq!(
            RetentionPolicy::new(NONE).to_string(),
            "keep only pinned and imported backups, pre-restore backups for 30 days and the newest \
             backup"
        );
    }

    #[test]
    fn an_import_never_takes_the_daily_slot_of_that_days_scheduled_backup() {
        let backups = [
            backup("import", "2026-11-20T10:00:00Z", BackupKind::Imported),
            scheduled("nightly", "2026-11-20T02:00:00Z"),
            scheduled("yesterday", "2026-11-19T02:00:00Z"),
            scheduled("older", "2026-11-18T02:00:00Z"),
        ];
        let plan = apply(counts(2, 0, 0, 0), &backups, "2026-11-21T01:00:00Z");
        assert_eq!(plan.keep_ids(), ["import", "nightly", "yesterday"]);
        assert_eq!(
            reasons(&plan, "import"),
            [
                "newest backup",
                "imported backup, kept until deleted by hand"
            ]
        );
        assert_eq!(
            reasons(&plan, "nightly"),
            ["daily: newest backup of 2026-11-20"]
        );
        let later = apply(counts(2, 0, 0, 0), &backups, "2027-11-21T01:00:00Z");
        assert!(later.keep_ids().contains(&"import"), "kept a year on");
    }

    #[test]
    fn kinds_use_their_json_names() {
        for kind in [
            BackupKind::Scheduled,
            BackupKind::Manual,
            BackupKind::PreRestore,
            BackupKind::Imported,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(serde_json::from_str::<BackupKind>(&json).unwrap(), kind);
        }
        assert!(serde_json::from_str::<BackupKind>("\"pre_restore\"").is_err());
        let text = r#"{"id":"b1","created_at":"2026-11-20T02:00:00.000Z","kind":"pre-restore","pinned":true}"#;
        let parsed: BackupRef = serde_json::from_str(text).unwrap();
        assert_eq!(
            parsed,
            pinned(backup("b1", "2026-11-20T02:00:00Z", BackupKind::PreRestore))
        );
        assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
    }

    #[test]
    fn the_plan_serializes_with_reasons_as_text() {
        let backups = [
            scheduled("new", "2026-11-20T02:00:00Z"),
            scheduled("old", "2026-11-20T01:00:00Z"),
        ];
        let plan = apply(counts(1, 0, 0, 0), &backups, "2026-11-21T00:00:00Z");
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "policy": {
                    "daily": 1, "weekly": 0, "monthly": 0, "yearly": 0,
                    "pre_restore_keep_days": 30,
                    "description": RetentionPolicy::new(counts(1, 0, 0, 0)).to_string(),
                },
                "now": "2026-11-21T00:00:00.000Z",
                "decisions": [
                    {
                        "id": "new", "created_at": "2026-11-20T02:00:00.000Z", "kind": "scheduled",
                        "pinned": false, "keep": true,
                        "reasons": ["newest backup", "daily: newest backup of 2026-11-20"],
                    },
                    {
                        "id": "old", "created_at": "2026-11-20T01:00:00.000Z", "kind": "scheduled",
                        "pinned": false, "keep": false,
                        "reasons": ["not the newest of any kept day, week, month or year"],
                    },
                ],
            })
        );
    }
}
