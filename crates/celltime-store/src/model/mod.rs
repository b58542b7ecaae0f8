//! The domain: keys, entries and the in-memory index of a notebook. No I/O here.

mod combined;
mod entry;
mod history;
mod index;
mod keys;
mod time;

pub use combined::{CacheTie, LINK_TOLERANCE_MS, Merged, Owner, merge};
pub use entry::{Entry, NewEntry, NewPart, PartKind, PartMask, PartRef, check_part_labels};
pub use history::{
    Applied, BackendKind, Change, ContentRef, Copies, Detail, History, HistoryError, HistoryResult,
    Journal, NotebookInfo, ParentInfo, PartInfo, PlanCheck, Removal, Row, Timeline,
};
pub use index::{
    BorrowedEntry, CellSummary, EntryView, IndexSummary, InsertOutcome, InternedKey, NotebookIndex,
    ParentView, PartView,
};
pub(crate) use keys::decode_hex;
pub use keys::{
    CellKey, ContentHash, EntryId, ExecKey, KeyError, MIN_ID_PREFIX, MarimoKey, ModuleHash,
    NotebookKey, RESERVED_COMPONENTS, SHORT_ID_LEN, Version,
};
pub use time::{Timestamp, TimestampError};
