//! The domain: keys, entries and the in-memory index of a notebook. No I/O here.

mod combined;
mod entry;
mod glob;
mod history;
mod index;
mod keys;
mod resolve;
mod time;

pub use combined::{CacheTie, LINK_TOLERANCE_MS, Merged, Owner, merge};
pub use entry::{Entry, NewEntry, NewPart, PartKind, PartMask, PartRef, check_part_labels};
pub use glob::{GlobError, NotebookGlobs};
pub use history::{
    Applied, BackendKind, Change, ContentRef, Copies, Detail, History, HistoryError, HistoryResult,
    Journal, NotebookInfo, ParentInfo, PartInfo, PlanCheck, Removal, Row, Timeline,
    previous_code_version,
};
pub use index::{
    BorrowedEntry, CellSummary, EntryView, IndexSummary, InsertOutcome, InternedKey, NotebookIndex,
    ParentView, PartView,
};
pub(crate) use keys::decode_hex;
pub use keys::{
    CellKey, ContentHash, EntryId, ExecKey, KeyError, MIN_ID_PREFIX, MarimoKey, ModuleHash,
    NotebookKey, RESERVED_COMPONENTS, SHORT_ID_LEN, Version, colliding_folder,
};
pub use resolve::{ResolveError, id_prefix, resolve};
pub use time::{Timestamp, TimestampError, Zone, ZoneOffset};
