//! The golden fixture: 40 entries chosen to sit on the edges the calendar rules must get
//! right in both UTC and Europe/Berlin.

use celltime_store::policy::{Candidate, PlanInput};
use chrono::{DateTime, Utc};

/// The injected "now" of every golden run: a Wednesday in ISO week 2027-W03.
pub const NOW: &str = "2027-01-20T12:00:00Z";

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("fixture timestamps are RFC 3339")
        .with_timezone(&Utc)
}

struct Row {
    notebook: &'static str,
    cell: &'static str,
    module: &'static str,
    version: &'static str,
    created: &'static str,
    /// `None`: never used since created.
    used: Option<&'static str>,
    pinned: bool,
    contents: &'static [u32],
}

const fn row(
    notebook: &'static str,
    cell: &'static str,
    module: &'static str,
    version: &'static str,
    created: &'static str,
    contents: &'static [u32],
) -> Row {
    Row {
        notebook,
        cell,
        module,
        version,
        created,
        used: None,
        pinned: false,
        contents,
    }
}

const fn used(mut r: Row, when: &'static str) -> Row {
    r.used = Some(when);
    r
}

const fn pinned(mut r: Row) -> Row {
    r.pinned = true;
    r
}

const EDA: &str = "analysis/eda";
const DEEP: &str = "analysis/deep/model";
const REPORTS: &str = "reports/summary";

// Contents 0..=6 are code snapshots shared by every entry of a module; 10 + i is entry i's
// own output, except where two entries deduplicated onto one (e07 → 16, e22 → 31).
#[rustfmt::skip]
const ROWS: [Row; 40] = [
    // e00: 23:30 UTC on 31 Jan is 00:30 on 1 Feb in Berlin: another day, week and month.
    row(EDA, "fit", "m-fit-a", "0", "2026-01-31T23:30:00Z", &[0, 10]),
    used(row(EDA, "fit", "m-fit-a", "0", "2026-02-15T10:00:00Z", &[0, 11]), "2027-01-02T08:00:00Z"),
    // e02-e04: the night of the spring DST change; all on 29 March in Berlin.
    row(EDA, "fit", "m-fit-a", "0", "2026-03-28T23:30:00Z", &[0, 12]),
    row(EDA, "fit", "m-fit-a", "0", "2026-03-29T01:30:00Z", &[0, 13]),
    row(EDA, "fit", "m-fit-a", "1", "2026-03-29T00:59:59.999Z", &[0, 14]),
    // e05: 30 April UTC, 1 May in Berlin.
    row(EDA, "fit", "m-fit-a", "1", "2026-04-30T22:30:00Z", &[0, 15]),
    // e06/e07: equal timestamps, deduplicated output.
    used(row(EDA, "fit", "m-fit-a", "0", "2026-06-10T08:00:00.250Z", &[0, 16]), "2026-12-01T09:00:00Z"),
    row(EDA, "fit", "m-fit-a", "1", "2026-06-10T08:00:00.250Z", &[0, 16]),
    // e08/e09: the last second of August and the first of September in Berlin.
    row(EDA, "fit", "m-fit-a", "0", "2026-08-31T21:59:59Z", &[0, 18]),
    row(EDA, "fit", "m-fit-a", "0", "2026-08-31T22:00:00Z", &[0, 19]),
    // e10/e11: 02:30 in Berlin twice, on both sides of the autumn DST change; e12 is
    // 24 October in UTC but 25 October in Berlin.
    row(EDA, "fit", "m-fit-b", "0", "2026-10-25T00:30:00Z", &[1, 20]),
    row(EDA, "fit", "m-fit-b", "1", "2026-10-25T01:30:00Z", &[1, 21]),
    row(EDA, "fit", "m-fit-b", "0", "2026-10-24T22:30:00Z", &[1, 22]),
    // e13: 1 December in Berlin.
    row(EDA, "fit", "m-fit-b", "1", "2026-11-30T23:30:00Z", &[1, 23]),
    // e14-e16: ISO week 2026-W53 (28 Dec - 3 Jan); e14 is W52 in UTC, e16 is 2027-W01 in Berlin.
    row(EDA, "fit", "m-fit-b", "0", "2026-12-27T23:30:00Z", &[1, 24]),
    row(EDA, "fit", "m-fit-b", "1", "2026-12-31T12:00:00Z", &[1, 25]),
    row(EDA, "fit", "m-fit-b", "0", "2027-01-03T23:30:00Z", &[1, 26]),
    row(EDA, "fit", "m-fit-b", "1", "2027-01-10T09:00:00Z", &[1, 27]),
    used(row(EDA, "fit", "m-fit-b", "0", "2027-01-19T18:00:00Z", &[1, 28]), "2027-01-20T11:00:00Z"),
    // e19-e22: a second cell of the same notebook; e21/e22 equal and deduplicated.
    pinned(row(EDA, "load", "m-load", "0", "2026-05-05T05:05:05.005Z", &[2, 29])),
    used(row(EDA, "load", "m-load", "0", "2026-09-01T00:00:00Z", &[2, 30]), "2027-01-18T00:00:00Z"),
    row(EDA, "load", "m-load", "0", "2027-01-05T10:00:00Z", &[2, 31]),
    row(EDA, "load", "m-load", "0", "2027-01-05T10:00:00Z", &[2, 31]),
    // e23-e30: non-deterministic alternatives: two modules, several versions each.
    row(DEEP, "train", "m-train-1", "0", "2026-07-01T10:00:00Z", &[3, 33]),
    row(DEEP, "train", "m-train-1", "1", "2026-07-01T11:00:00Z", &[3, 34]),
    row(DEEP, "train", "m-train-1", "0", "2026-07-02T10:00:00Z", &[3, 35]),
    row(DEEP, "train", "m-train-1", "2", "2026-07-03T10:00:00Z", &[3, 36]),
    row(DEEP, "train", "m-train-2", "0", "2026-12-01T10:00:00Z", &[4, 37]),
    row(DEEP, "train", "m-train-2", "a", "2026-12-02T10:00:00Z", &[4, 38]),
    row(DEEP, "train", "m-train-2", "0", "2026-12-02T10:00:00Z", &[4, 39]),
    used(row(DEEP, "train", "m-train-2", "a", "2027-01-18T10:00:00Z", &[4, 40]), "2027-01-20T09:00:00Z"),
    // e31-e36: pins and clock skew: e34, e35 and e36 are after NOW; e36's cell has no other entry.
    pinned(row(REPORTS, "plot", "m-plot", "0", "2026-02-01T00:00:00Z", &[5, 41])),
    used(row(REPORTS, "plot", "m-plot", "0", "2026-10-01T00:00:00Z", &[5, 42]), "2027-01-01T00:00:00Z"),
    row(REPORTS, "plot", "m-plot", "0", "2027-01-15T00:00:00Z", &[5, 43]),
    row(REPORTS, "plot", "m-plot", "0", "2027-02-01T00:00:00Z", &[5, 44]),
    pinned(row(REPORTS, "plot", "m-plot", "0", "2030-01-01T00:00:00Z", &[5, 45])),
    row(REPORTS, "table", "m-table", "0", "2027-03-01T00:00:00Z", &[5, 46]),
    // e37-e39: a scratch notebook, the target of the unsafe flag.
    row("scratch", "tmp", "m-tmp", "0", "2026-12-20T10:00:00Z", &[6, 47]),
    row("scratch", "tmp", "m-tmp", "0", "2026-12-21T10:00:00Z", &[6, 48]),
    used(row("scratch", "tmp", "m-tmp", "0", "2026-12-22T10:00:00Z", &[6, 49]), "2027-01-19T00:00:00Z"),
];

/// The fixture's rows and content sizes; borrow a [`PlanInput`] from it.
pub struct Fixture {
    pub entries: Vec<Candidate<'static>>,
    pub sizes: Vec<u64>,
}

impl Fixture {
    pub fn new() -> Self {
        let entries = ROWS
            .iter()
            .map(|r| Candidate {
                notebook: r.notebook,
                cell: r.cell,
                module: r.module,
                version: r.version,
                created_at: at(r.created),
                last_used: at(r.used.unwrap_or(r.created)),
                pinned: r.pinned,
                contents: r.contents,
            })
            .collect();
        // Code snapshots of 1-7 kB; outputs of 0.1-1.3 MB in a scrambled order so that size
        // and age do not line up.
        let sizes = (0..50u64)
            .map(|c| {
                if c < 10 {
                    (c + 1) * 1_000
                } else {
                    100_000 * ((c * 7) % 13 + 1)
                }
            })
            .collect();
        Fixture { entries, sizes }
    }

    pub fn input(&self) -> PlanInput<'_> {
        PlanInput {
            entries: &self.entries,
            content_sizes: &self.sizes,
        }
    }
}

/// Display ids of the golden output: `e00`..`e39`.
pub fn id(i: usize) -> String {
    format!("e{i:02}")
}
