//! Work that touches the disk or takes time, off the UI thread: listing, timelines, previews
//! (reads, highlighting, diffs), and the writes (remove, undo, pin). Every result carries
//! what it was for (a generation or a view key), so the reducer drops stale ones.
//!
//! Two executors run the same jobs: a thread pool for the real UI (one worker for previews,
//! one for everything else, so writes and reloads stay in order) and an inline queue that
//! tests drain synchronously with `settle()`.

use super::data::NotebookView;
use super::policy::PolicyMarks;
use super::previews::{self, PreviewContext};
use super::state::{Preview, ViewKey};
use celltime_store::model::Zone;
use celltime_store::model::{
    Applied, EntryId, History, HistoryError, HistoryResult, Journal, NotebookInfo, Removal,
    Timeline, Timestamp,
};
use celltime_store::ops::{self, OpKind, OpLog, Operation};
use celltime_store::policy::Policy;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

#[derive(Debug, Clone)]
pub enum Job {
    Notebooks {
        generation: u64,
    },
    Timeline {
        notebook: String,
        generation: u64,
    },
    Preview {
        key: ViewKey,
        generation: u64,
        /// The notebook as loaded (the time machine and compare read rows from it).
        view: Option<Arc<NotebookView>>,
        context: PreviewContext,
    },
    /// `gens` has one timeline generation per group, for the reloads that follow.
    Remove {
        groups: Vec<(String, Vec<EntryId>)>,
        /// What the plan relied on, per group: checked under the lock before removing.
        expect: Vec<Expected>,
        gens: Vec<u64>,
    },
    /// Finds the operation `u` would undo.
    LastOp,
    /// `gens` has one timeline generation per notebook the operation touched.
    Undo {
        op: Box<Operation>,
        notebooks: Vec<String>,
        gens: Vec<u64>,
    },
    SetPinned {
        notebook: String,
        ids: Vec<EntryId>,
        pinned: bool,
        generation: u64,
    },
    Serve {
        notebook: String,
        id: EntryId,
        generation: u64,
    },
    Policy {
        views: Vec<Arc<NotebookView>>,
        policy: Box<Policy>,
        now: Timestamp,
        tz: Zone,
    },
}

/// A timeline load, as part of any result that changes a notebook.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub notebook: String,
    pub generation: u64,
    pub result: HistoryResult<Arc<NotebookView>>,
}

#[derive(Debug, Clone)]
pub enum JobOutput {
    Notebooks {
        generation: u64,
        result: HistoryResult<Vec<NotebookInfo>>,
    },
    Timeline(Loaded),
    Preview {
        key: ViewKey,
        /// None when the job was skipped because something newer was asked for.
        result: Option<Result<Box<Preview>, String>>,
    },
    Removed {
        results: Vec<(String, HistoryResult<Applied>)>,
        /// The plan no longer held (something it relied on changed): nothing was removed.
        stale: Option<String>,
        timelines: Vec<Loaded>,
    },
    LastOp(Result<Option<Box<Operation>>, String>),
    Restored {
        result: Result<ops::Undone, String>,
        timelines: Vec<Loaded>,
    },
    Pinned {
        pinned: bool,
        result: HistoryResult<usize>,
        timeline: Loaded,
    },
    Served {
        id: EntryId,
        result: HistoryResult<()>,
        timeline: Loaded,
    },
    Policy(Result<PolicyMarks, String>),
}

/// Runs one job against a history.
pub fn run(history: &dyn History, job: Job) -> JobOutput {
    match job {
        Job::Notebooks { generation } => JobOutput::Notebooks {
            generation,
            result: history.notebooks(),
        },
        Job::Timeline {
            notebook,
            generation,
        } => JobOutput::Timeline(load(history, notebook, generation)),
        Job::Preview {
            key, view, context, ..
        } => {
            let result = previews::build(history, &key, view.as_deref(), context).map(Box::new);
            JobOutput::Preview {
                key,
                result: Some(result),
            }
        }
        Job::Remove {
            groups,
            expect,
            gens,
        } => {
            let (results, stale) = remove(history, &groups, &expect);
            let timelines = reload(history, groups.into_iter().map(|(nb, _)| nb), gens);
            JobOutput::Removed {
                results,
                stale,
                timelines,
            }
        }
        Job::LastOp => JobOutput::LastOp(last_op(history)),
        Job::Undo {
            op,
            notebooks,
            gens,
        } => {
            let result = match OpLog::of_history(history) {
                Some(log) => ops::undo(history, &log, &op, UI_COMMAND).map_err(|e| e.message),
                None => Err("this history has no operation log".into()),
            };
            let timelines = reload(history, notebooks.into_iter(), gens);
            JobOutput::Restored { result, timelines }
        }
        Job::Policy {
            views,
            policy,
            now,
            tz,
        } => JobOutput::Policy(super::policy::plan(&views, &policy, now, &tz)),
        Job::SetPinned {
            notebook,
            ids,
            pinned,
            generation,
        } => {
            let result = pin(history, &notebook, &ids, pinned);
            JobOutput::Pinned {
                pinned,
                result,
                timeline: load(history, notebook, generation),
            }
        }
        Job::Serve {
            notebook,
            id,
            generation,
        } => JobOutput::Served {
            id,
            result: serve(history, &notebook, id),
            timeline: load(history, notebook, generation),
        },
    }
}

/// How the operation log names what the UI did.
const UI_COMMAND: &str = "celltime (terminal UI)";

/// A cell's runs and whether each is pinned, sorted by id.
pub type CellRuns = (Arc<str>, Vec<(EntryId, bool)>);

/// What a deletion plan relied on in one notebook: each touched cell's runs and their pins,
/// as the plan saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub cells: Vec<CellRuns>,
}

impl Expected {
    /// The fingerprint of `cells` in `timeline`.
    pub fn of(timeline: &Timeline, cells: &[Arc<str>]) -> Expected {
        Expected {
            cells: cells
                .iter()
                .map(|cell| {
                    let mut runs: Vec<(EntryId, bool)> = timeline
                        .rows
                        .iter()
                        .filter(|r| r.cell == *cell)
                        .map(|r| (r.id, r.pinned))
                        .collect();
                    runs.sort();
                    (cell.clone(), runs)
                })
                .collect(),
        }
    }

    /// Refuses when a touched cell gained, lost or (un)pinned a run since the plan.
    pub fn check(&self, timeline: &Timeline) -> Result<(), String> {
        let names: Vec<Arc<str>> = self.cells.iter().map(|(c, _)| c.clone()).collect();
        let now = Expected::of(timeline, &names);
        let changed: Vec<&str> = self
            .cells
            .iter()
            .zip(&now.cells)
            .filter(|(a, b)| a != b)
            .map(|((cell, _), _)| &**cell)
            .collect();
        if changed.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} changed since the plan (runs added, removed or pinned by another process)",
                changed
                    .iter()
                    .map(|c| format!("{} · {c}", timeline.notebook))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }
}

/// Removes group by group, each checked and recorded in one `delete` operation; when a group
/// no longer matches its plan, the groups already removed are put back.
fn remove(
    history: &dyn History,
    groups: &[(String, Vec<EntryId>)],
    expect: &[Expected],
) -> (Vec<(String, HistoryResult<Applied>)>, Option<String>) {
    let Some(log) = OpLog::of_history(history) else {
        let err = HistoryError::new("this history has no operation log; nothing was removed");
        return (
            groups
                .iter()
                .map(|(nb, _)| (nb.clone(), Err(err.clone())))
                .collect(),
            None,
        );
    };
    let count: usize = groups.iter().map(|(_, ids)| ids.len()).sum();
    let recorder = match log.begin(
        OpKind::Delete,
        &format!(
            "{UI_COMMAND}: delete {}",
            celltime_store::units::count(count, "run", "runs")
        ),
        None,
    ) {
        Ok(r) => r,
        Err(e) => {
            let err = HistoryError::from(e);
            return (
                groups
                    .iter()
                    .map(|(nb, _)| (nb.clone(), Err(err.clone())))
                    .collect(),
                None,
            );
        }
    };
    let mut results = Vec::new();
    for ((notebook, ids), expected) in groups.iter().zip(expect) {
        let check = |t: &Timeline| expected.check(t);
        let result = history.remove(&Removal {
            notebook,
            ids,
            check: &check,
            journal: &recorder as &dyn Journal,
        });
        if let Err(e) = &result
            && e.stale
        {
            let message = e.message.clone();
            let id = recorder.op_id();
            let _ = recorder.finish(&format!("stale plan: {message}"), false);
            if let Ok(op) = log.find(&id)
                && op.reversible()
            {
                let _ = ops::undo(history, &log, &op, UI_COMMAND);
            }
            return (Vec::new(), Some(message));
        }
        results.push((notebook.clone(), result));
    }
    let removed: usize = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|a| a.removed)
        .sum();
    let _ = recorder.finish(
        &format!(
            "deleted {}",
            celltime_store::units::count(removed, "run", "runs")
        ),
        true,
    );
    (results, None)
}

fn last_op(history: &dyn History) -> Result<Option<Box<Operation>>, String> {
    let Some(log) = OpLog::of_history(history) else {
        return Ok(None);
    };
    let operations = log.list().map_err(|e| e.to_string())?;
    Ok(ops::last_undoable(&operations).cloned().map(Box::new))
}

fn pin(
    history: &dyn History,
    notebook: &str,
    ids: &[EntryId],
    pinned: bool,
) -> HistoryResult<usize> {
    let log = OpLog::of_history(history)
        .ok_or_else(|| HistoryError::new("this history has no operation log"))?;
    let kind = if pinned { OpKind::Pin } else { OpKind::Unpin };
    ops::journaled(
        &log,
        kind,
        UI_COMMAND,
        |journal| history.set_pinned(notebook, ids, pinned, journal),
        |n| {
            format!(
                "{} {}",
                kind.name(),
                celltime_store::units::count(*n, "entry", "entries")
            )
        },
    )
}

fn serve(history: &dyn History, notebook: &str, id: EntryId) -> HistoryResult<()> {
    let log = OpLog::of_history(history)
        .ok_or_else(|| HistoryError::new("this history has no operation log"))?;
    ops::journaled(
        &log,
        OpKind::Serve,
        UI_COMMAND,
        |journal| history.serve(notebook, id, journal),
        |()| format!("serve {} in {notebook}", id.short()),
    )
}

fn load(history: &dyn History, notebook: String, generation: u64) -> Loaded {
    let result = history
        .timeline(&notebook)
        .map(|t| Arc::new(NotebookView::new(t)));
    Loaded {
        notebook,
        generation,
        result,
    }
}

fn reload(
    history: &dyn History,
    notebooks: impl Iterator<Item = String>,
    gens: Vec<u64>,
) -> Vec<Loaded> {
    notebooks
        .zip(gens)
        .map(|(nb, generation)| load(history, nb, generation))
        .collect()
}

/// Where jobs run.
pub enum Executor {
    /// Queued and run on the caller's thread by [`Executor::run_pending`] (tests, replays).
    Inline {
        history: Arc<dyn History>,
        queue: VecDeque<Job>,
    },
    Pool(Pool),
}

impl Executor {
    pub fn inline(history: Arc<dyn History>) -> Executor {
        Executor::Inline {
            history,
            queue: VecDeque::new(),
        }
    }

    pub fn submit(&mut self, job: Job) {
        match self {
            Executor::Inline { queue, .. } => queue.push_back(job),
            Executor::Pool(pool) => pool.submit(job),
        }
    }

    /// Runs every queued job (inline only), returning the outputs in order.
    pub fn run_pending(&mut self) -> Vec<JobOutput> {
        match self {
            Executor::Inline { history, queue } => queue
                .drain(..)
                .map(|job| run(history.as_ref(), job))
                .collect(),
            Executor::Pool(_) => Vec::new(),
        }
    }
}

/// Worker threads; results go to `results`.
pub struct Pool {
    previews: Option<Sender<Job>>,
    general: Option<Sender<Job>>,
    latest_preview: Arc<AtomicU64>,
    /// Set when the UI ends: queued reads are dropped, writes still finish.
    closing: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    pub fn new<E: From<JobOutput> + Send + 'static>(
        history: Arc<dyn History>,
        results: Sender<E>,
    ) -> Pool {
        let latest_preview = Arc::new(AtomicU64::new(0));
        let closing = Arc::new(AtomicBool::new(false));
        let (previews, preview_rx) = channel();
        let (general, general_rx) = channel();
        let workers = vec![
            spawn_worker(
                "celltime-previews",
                Worker {
                    history: history.clone(),
                    jobs: preview_rx,
                    results: results.clone(),
                    latest: Some(latest_preview.clone()),
                    closing: closing.clone(),
                },
            ),
            spawn_worker(
                "celltime-jobs",
                Worker {
                    history,
                    jobs: general_rx,
                    results,
                    latest: None,
                    closing: closing.clone(),
                },
            ),
        ];
        Pool {
            previews: Some(previews),
            general: Some(general),
            latest_preview,
            closing,
            workers,
        }
    }

    fn submit(&mut self, job: Job) {
        let channel = match &job {
            Job::Preview { generation, .. } => {
                self.latest_preview.fetch_max(*generation, Ordering::SeqCst);
                &self.previews
            }
            _ => &self.general,
        };
        if let Some(tx) = channel {
            // A send fails only when the worker died; the reducer shows loading then.
            let _ = tx.send(job);
        }
    }
}

impl Drop for Pool {
    /// Closes the queues and waits for the job in progress, so a write is never cut off.
    fn drop(&mut self) {
        self.closing.store(true, Ordering::SeqCst);
        self.previews.take();
        self.general.take();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

struct Worker<E> {
    history: Arc<dyn History>,
    jobs: Receiver<Job>,
    results: Sender<E>,
    /// For the preview worker: the newest preview generation asked for.
    latest: Option<Arc<AtomicU64>>,
    closing: Arc<AtomicBool>,
}

impl<E: From<JobOutput>> Worker<E> {
    fn is_write(job: &Job) -> bool {
        matches!(
            job,
            Job::Remove { .. } | Job::Undo { .. } | Job::SetPinned { .. } | Job::Serve { .. }
        )
    }

    fn serve(self) {
        while let Ok(job) = self.jobs.recv() {
            if self.closing.load(Ordering::SeqCst) && !Self::is_write(&job) {
                continue;
            }
            let output = match (&job, &self.latest) {
                (
                    Job::Preview {
                        key, generation, ..
                    },
                    Some(latest),
                ) if *generation < latest.load(Ordering::SeqCst) => JobOutput::Preview {
                    key: key.clone(),
                    result: None,
                },
                _ => run_guarded(self.history.as_ref(), job),
            };
            if self.results.send(output.into()).is_err() && !self.closing.load(Ordering::SeqCst) {
                return;
            }
        }
    }
}

fn spawn_worker<E: From<JobOutput> + Send + 'static>(
    name: &str,
    worker: Worker<E>,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || worker.serve())
        .expect("spawning a worker thread")
}

/// A panic in a job (a bug, or a backend bug) becomes an error result, not a dead worker.
fn run_guarded(history: &dyn History, job: Job) -> JobOutput {
    let tag = Tag::of(&job);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(history, job)))
        .unwrap_or_else(|_| tag.failure())
}

/// Enough of a job to report its failure.
enum Tag {
    Notebooks(u64),
    Timeline(String, u64),
    Preview(ViewKey),
    Remove(Vec<String>),
    Undo,
    LastOp,
    Policy,
}

impl Tag {
    fn of(job: &Job) -> Tag {
        match job {
            Job::Notebooks { generation } => Tag::Notebooks(*generation),
            Job::Timeline {
                notebook,
                generation,
            }
            | Job::SetPinned {
                notebook,
                generation,
                ..
            }
            | Job::Serve {
                notebook,
                generation,
                ..
            } => Tag::Timeline(notebook.clone(), *generation),
            Job::Preview { key, .. } => Tag::Preview(key.clone()),
            Job::Remove { groups, .. } => {
                Tag::Remove(groups.iter().map(|(nb, _)| nb.clone()).collect())
            }
            Job::Undo { .. } => Tag::Undo,
            Job::LastOp => Tag::LastOp,
            Job::Policy { .. } => Tag::Policy,
        }
    }

    fn failure(self) -> JobOutput {
        let message = super::term::WORKER_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "unknown".into());
        let err = || {
            HistoryError::new(format!(
                "internal error (a bug; please report it): {message}"
            ))
        };
        match self {
            Tag::Notebooks(generation) => JobOutput::Notebooks {
                generation,
                result: Err(err()),
            },
            Tag::Timeline(notebook, generation) => JobOutput::Timeline(Loaded {
                notebook,
                generation,
                result: Err(err()),
            }),
            Tag::Preview(key) => JobOutput::Preview {
                key,
                result: Some(Err(err().message)),
            },
            Tag::Remove(notebooks) => JobOutput::Removed {
                results: notebooks.into_iter().map(|nb| (nb, Err(err()))).collect(),
                stale: None,
                timelines: Vec::new(),
            },
            Tag::Policy => JobOutput::Policy(Err(err().message)),
            Tag::Undo => JobOutput::Restored {
                result: Err(err().message),
                timelines: Vec::new(),
            },
            Tag::LastOp => JobOutput::LastOp(Err(err().message)),
        }
    }
}
