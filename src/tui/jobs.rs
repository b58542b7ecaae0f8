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
    Applied, EntryId, History, HistoryError, HistoryResult, NotebookInfo, Timestamp,
};
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
        gens: Vec<u64>,
    },
    /// `gens` has one timeline generation per apply.
    Undo {
        applied: Vec<Applied>,
        gens: Vec<u64>,
    },
    SetPinned {
        notebook: String,
        ids: Vec<EntryId>,
        pinned: bool,
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
        result: Option<Result<Preview, String>>,
    },
    Removed {
        results: Vec<(String, HistoryResult<Applied>)>,
        timelines: Vec<Loaded>,
    },
    Restored {
        results: Vec<(String, HistoryResult<usize>)>,
        /// Applies whose undo failed, kept so the user can try again.
        retry: Vec<Applied>,
        timelines: Vec<Loaded>,
    },
    Pinned {
        pinned: bool,
        result: HistoryResult<usize>,
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
            let result = previews::build(history, &key, view.as_deref(), context);
            JobOutput::Preview {
                key,
                result: Some(result),
            }
        }
        Job::Remove { groups, gens } => {
            let results = groups
                .iter()
                .map(|(nb, ids)| (nb.clone(), history.remove(nb, ids)))
                .collect();
            let timelines = reload(history, groups.into_iter().map(|(nb, _)| nb), gens);
            JobOutput::Removed { results, timelines }
        }
        Job::Undo { applied, gens } => {
            let notebooks: Vec<String> = applied.iter().map(|a| a.notebook.clone()).collect();
            let mut results = Vec::new();
            let mut retry = Vec::new();
            for a in applied {
                let result = history.undo(&a);
                if result.is_err() {
                    retry.push(a.clone());
                }
                results.push((a.notebook, result));
            }
            let timelines = reload(history, notebooks.into_iter(), gens);
            JobOutput::Restored {
                results,
                retry,
                timelines,
            }
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
            let result = history.set_pinned(&notebook, &ids, pinned);
            JobOutput::Pinned {
                pinned,
                result,
                timeline: load(history, notebook, generation),
            }
        }
    }
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
            Job::Remove { .. } | Job::Undo { .. } | Job::SetPinned { .. }
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
    Undo(Vec<String>),
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
            } => Tag::Timeline(notebook.clone(), *generation),
            Job::Preview { key, .. } => Tag::Preview(key.clone()),
            Job::Remove { groups, .. } => {
                Tag::Remove(groups.iter().map(|(nb, _)| nb.clone()).collect())
            }
            Job::Undo { applied, .. } => {
                Tag::Undo(applied.iter().map(|a| a.notebook.clone()).collect())
            }
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
                timelines: Vec::new(),
            },
            Tag::Policy => JobOutput::Policy(Err(err().message)),
            Tag::Undo(notebooks) => JobOutput::Restored {
                results: notebooks.into_iter().map(|nb| (nb, Err(err()))).collect(),
                retry: Vec::new(),
                timelines: Vec::new(),
            },
        }
    }
}
