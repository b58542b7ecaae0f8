//! The keep rules of one group: restic's bucket walk plus `--keep-within` and
//! `--keep-versions`. Reasons are collected as bits, one word per entry, and turned into
//! [`KeepReason`]s only for the report.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::{Serialize, Serializer};

use super::Candidate;
use super::rules::Policy;
use crate::units::{Count, Span};

/// Why an entry is kept. Displayed as restic-style reason words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeepReason {
    Last,
    Within(Span),
    Daily,
    OldestDaily,
    Weekly,
    OldestWeekly,
    Monthly,
    OldestMonthly,
    Version,
    Pinned,
    NewestOfCell,
    /// Created after `now` (clock skew): no time-based rule can judge it, so it stays.
    Future,
    /// Unprotected, but the budgets did not need it gone.
    UnderBudget,
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self {
            KeepReason::Within(span) => return write!(f, "within {span}"),
            KeepReason::Last => "last",
            KeepReason::Daily => "daily",
            KeepReason::OldestDaily => "oldest daily",
            KeepReason::Weekly => "weekly",
            KeepReason::OldestWeekly => "oldest weekly",
            KeepReason::Monthly => "monthly",
            KeepReason::OldestMonthly => "oldest monthly",
            KeepReason::Version => "version",
            KeepReason::Pinned => "pinned",
            KeepReason::NewestOfCell => "newest of cell",
            KeepReason::Future => "future",
            KeepReason::UnderBudget => "under budget",
        };
        f.write_str(word)
    }
}

impl Serialize for KeepReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The reasons of one entry as bits, in [`KeepReason`] order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Marks(u16);

impl Marks {
    pub const LAST: u16 = 1;
    pub const WITHIN: u16 = 1 << 1;
    pub const DAILY: u16 = 1 << 2;
    pub const OLDEST_DAILY: u16 = 1 << 3;
    pub const WEEKLY: u16 = 1 << 4;
    pub const OLDEST_WEEKLY: u16 = 1 << 5;
    pub const MONTHLY: u16 = 1 << 6;
    pub const OLDEST_MONTHLY: u16 = 1 << 7;
    pub const VERSION: u16 = 1 << 8;
    pub const PINNED: u16 = 1 << 9;
    pub const NEWEST_OF_CELL: u16 = 1 << 10;
    pub const FUTURE: u16 = 1 << 11;
    pub const UNDER_BUDGET: u16 = 1 << 12;

    pub fn set(&mut self, bit: u16) {
        self.0 |= bit;
    }

    /// Protected = kept by anything but the budgets' leftovers.
    pub fn is_protected(self) -> bool {
        self.0 & !Self::UNDER_BUDGET != 0
    }

    pub fn reasons(self, within: Option<Span>) -> Vec<KeepReason> {
        const ORDER: [(u16, KeepReason); 12] = [
            (Marks::LAST, KeepReason::Last),
            (Marks::DAILY, KeepReason::Daily),
            (Marks::OLDEST_DAILY, KeepReason::OldestDaily),
            (Marks::WEEKLY, KeepReason::Weekly),
            (Marks::OLDEST_WEEKLY, KeepReason::OldestWeekly),
            (Marks::MONTHLY, KeepReason::Monthly),
            (Marks::OLDEST_MONTHLY, KeepReason::OldestMonthly),
            (Marks::VERSION, KeepReason::Version),
            (Marks::PINNED, KeepReason::Pinned),
            (Marks::NEWEST_OF_CELL, KeepReason::NewestOfCell),
            (Marks::FUTURE, KeepReason::Future),
            (Marks::UNDER_BUDGET, KeepReason::UnderBudget),
        ];
        let mut out: Vec<KeepReason> = ORDER
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|&(_, reason)| reason)
            .collect();
        if let Some(span) = within.filter(|_| self.0 & Self::WITHIN != 0) {
            out.push(KeepReason::Within(span));
        }
        out.sort();
        out
    }
}

/// One calendar bucket rule (restic): a period key per entry, a count left, the last key kept.
struct Bucket {
    left: Option<u32>,
    last_key: Option<i32>,
    key: fn(NaiveDate) -> i32,
    bit: u16,
    oldest_bit: u16,
}

impl Bucket {
    fn new(
        count: Option<Count>,
        key: fn(NaiveDate) -> i32,
        bit: u16,
        oldest_bit: u16,
    ) -> Option<Self> {
        let left = match count? {
            Count::N(0) => return None,
            Count::N(n) => Some(n),
            Count::All => None,
        };
        Some(Bucket {
            left,
            last_key: None,
            key,
            bit,
            oldest_bit,
        })
    }

    /// restic's rule: keep the first entry of each new period while count is left; at the
    /// oldest entry, keep it anyway if count is left ("oldest daily" when its period was
    /// already kept), so a short history is kept whole.
    fn visit(&mut self, date: NaiveDate, oldest: bool) -> u16 {
        if self.left == Some(0) {
            return 0;
        }
        let key = (self.key)(date);
        let new_period = self.last_key != Some(key);
        if !new_period && !oldest {
            return 0;
        }
        self.last_key = Some(key);
        if let Some(left) = &mut self.left {
            *left -= 1;
        }
        if new_period {
            self.bit
        } else {
            self.oldest_bit
        }
    }
}

fn day_key(d: NaiveDate) -> i32 {
    d.year() * 10_000 + d.month() as i32 * 100 + d.day() as i32
}

fn week_key(d: NaiveDate) -> i32 {
    let week = d.iso_week();
    week.year() * 100 + week.week() as i32
}

fn month_key(d: NaiveDate) -> i32 {
    d.year() * 100 + d.month() as i32
}

/// Applies the keep rules to one group. `walk` holds the group's entries that are not in
/// the future, newest first; reasons are or-ed into `marks` (indexed by entry).
pub(super) fn mark_group<Tz: TimeZone>(
    entries: &[Candidate<'_>],
    walk: &[usize],
    policy: &Policy,
    tz: &Tz,
    marks: &mut [Marks],
) {
    let Some(&newest) = walk.first() else {
        return;
    };
    if let Some(count) = policy.keep_last {
        let n = match count {
            Count::N(n) => n as usize,
            Count::All => walk.len(),
        };
        for &i in walk.iter().take(n) {
            marks[i].set(Marks::LAST);
        }
    }
    if let Some(span) = policy.keep_within {
        // restic: relative to the group's newest non-future entry, strictly after the cutoff.
        let cutoff: DateTime<Utc> = span.before(entries[newest].created_at);
        for &i in walk.iter().take_while(|&&i| entries[i].created_at > cutoff) {
            marks[i].set(Marks::WITHIN);
        }
    }
    let mut buckets: Vec<Bucket> = [
        Bucket::new(
            policy.keep_daily,
            day_key,
            Marks::DAILY,
            Marks::OLDEST_DAILY,
        ),
        Bucket::new(
            policy.keep_weekly,
            week_key,
            Marks::WEEKLY,
            Marks::OLDEST_WEEKLY,
        ),
        Bucket::new(
            policy.keep_monthly,
            month_key,
            Marks::MONTHLY,
            Marks::OLDEST_MONTHLY,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !buckets.is_empty() {
        for (nr, &i) in walk.iter().enumerate() {
            let date = entries[i].created_at.with_timezone(tz).date_naive();
            let oldest = nr + 1 == walk.len();
            for bucket in &mut buckets {
                let bit = bucket.visit(date, oldest);
                marks[i].set(bit);
            }
        }
    }
    if let Some(n) = policy.keep_versions.filter(|&n| n > 0) {
        mark_versions(entries, walk, n, marks);
    }
}

/// Per module: the newest entry of each of the `n` versions whose newest entry is most
/// recent. Walking newest first, a version's first appearance is its newest entry, so the
/// ranking is the order of first appearances.
fn mark_versions(entries: &[Candidate<'_>], walk: &[usize], n: u32, marks: &mut [Marks]) {
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut ranked: HashMap<&str, u32> = HashMap::new();
    for &i in walk {
        let e = &entries[i];
        let taken = ranked.entry(e.module).or_default();
        if *taken < n && seen.insert((e.module, e.version)) {
            *taken += 1;
            marks[i].set(Marks::VERSION);
        }
    }
}
