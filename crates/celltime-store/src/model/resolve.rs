//! Entry ids as people type them: a prefix of at least [`MIN_ID_PREFIX`] hex digits, in any
//! case, resolved to the one entry it names in any notebook of a [`History`]. `show`, `diff`,
//! `pin`, `unpin` and `put --parent` resolve through [`resolve`]; the UI's search matches ids
//! with [`EntryId::has_prefix`], the same rule.

use super::history::{History, HistoryError, Timeline};
use super::keys::{ECHOED_CHARS, MIN_ID_PREFIX};

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "{0:?} is not an entry id: ids are hex; give at least {MIN_ID_PREFIX} characters (`celltime ls` shows them)"
    )]
    NotAnId(String),
    #[error("no entry id starts with {prefix:?}{}", unreadable_note(.unreadable))]
    NoMatch {
        prefix: String,
        /// Notebooks that could not be read, with why: the entry may be in one of them.
        unreadable: Vec<String>,
    },
    #[error("{prefix:?} matches {count} entries; give more characters of the id")]
    Ambiguous { prefix: String, count: usize },
    #[error(transparent)]
    History(#[from] HistoryError),
}

fn unreadable_note(unreadable: &[String]) -> String {
    match unreadable {
        [] => String::new(),
        [first, rest @ ..] => format!(
            " in the notebooks that could be read; {} could not ({first})",
            rest.len() + 1
        ),
    }
}

/// Checks and lower-cases an id prefix as typed.
pub fn id_prefix(text: &str) -> Result<String, ResolveError> {
    let prefix = text.to_ascii_lowercase();
    if prefix.len() < MIN_ID_PREFIX || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ResolveError::NotAnId(
            celltime_text::excerpt(text, ECHOED_CHARS).into_owned(),
        ));
    }
    Ok(prefix)
}

/// The one entry whose id starts with `prefix`, in any notebook of `history`: its notebook's
/// timeline and its row there. A notebook that cannot be read is passed over (and named if
/// nothing matches): one damaged notebook does not hide the entries of the others.
pub fn resolve(history: &dyn History, prefix: &str) -> Result<(Timeline, usize), ResolveError> {
    let prefix = id_prefix(prefix)?;
    let mut found = None;
    let mut count = 0;
    let mut unreadable = Vec::new();
    for info in history.notebooks()? {
        let timeline = match history.timeline(&info.notebook) {
            Ok(timeline) => timeline,
            Err(e) if e.busy => return Err(e.into()),
            Err(e) => {
                unreadable.push(e.message);
                continue;
            }
        };
        let mut matches =
            (0..timeline.rows.len()).filter(|i| timeline.rows[*i].id.has_prefix(&prefix));
        if let Some(first) = matches.next() {
            count += 1 + matches.count();
            found = Some((timeline, first));
        }
    }
    match (count, found) {
        (1, Some(found)) => Ok(found),
        (0, _) | (_, None) => Err(ResolveError::NoMatch { prefix, unreadable }),
        (count, _) => Err(ResolveError::Ambiguous { prefix, count }),
    }
}
