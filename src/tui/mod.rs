//! The terminal UI: review the history, compare runs, mark, plan, delete, undo.
//!
//! Shape (Elm-like): one [`state::AppState`]; keys become named [`action::Action`]s through
//! the scoped [`keymap`]; [`update`] turns actions and job results into new state and
//! effects; [`views`] render the state; [`jobs`] run everything slow off the UI thread.
//! The UI sees the data only through [`celltime_store::model::History`].

pub mod action;
pub mod config;
pub mod data;
pub mod format;
pub mod jobs;
pub mod keymap;
mod pictures;
pub mod policy;
mod previews;
pub mod state;
pub mod term;
pub mod theme;
pub mod update;
pub mod views;

use action::{Action, MouseAction};
use celltime_store::model::{History, Timestamp};
use chrono::FixedOffset;
use jobs::{Executor, JobOutput, Pool};
use keymap::{KeyChord, Keymap, Scope};
use ratatui::crossterm::event::{
    self, Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton,
    MouseEvent, MouseEventKind,
};
use ratatui::{Terminal, backend::Backend};
use state::{AppState, Level, Ui};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::time::Duration;
use theme::Theme;
use update::Effect;

/// How `celltime [PATH]` opens the UI.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    /// A config file instead of `$CELLTIME_CONFIG` / `$XDG_CONFIG_HOME/celltime/config.toml`.
    pub config: Option<PathBuf>,
    /// Overrides the config's `mouse` (e.g. `--no-mouse`).
    pub mouse: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

/// The settings a session reads once: config file, `NO_COLOR`, the local zone.
pub fn load_ui(options: &TuiOptions) -> Result<(Ui, Vec<String>), config::ConfigError> {
    let path = options
        .config
        .clone()
        .or_else(|| config::default_path(|name| std::env::var(name).ok()));
    let config = match &path {
        Some(p) => config::load(p)?,
        None => config::Config::default(),
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut theme = Theme::new(!no_color);
    for (role, style) in &config.theme {
        theme.set(*role, *style);
    }
    let (keymap, conflicts) = Keymap::with_overrides(&config.overrides);
    let ui = Ui {
        keymap: Arc::new(keymap),
        theme: Arc::new(theme),
        mouse: options.mouse.unwrap_or(config.mouse),
        tz: local_offset(),
        pictures: Arc::default(),
    };
    Ok((ui, conflicts))
}

fn local_offset() -> FixedOffset {
    *chrono::Local::now().offset()
}

/// The UI over a history, driven by actions and job results; the runtime and the tests
/// both use it.
pub struct App {
    pub state: AppState,
    jobs: Executor,
}

impl App {
    pub fn new(history: &dyn History, ui: Ui, now: Timestamp, jobs: Executor) -> App {
        let state = AppState::new(ui, history.location(), history.kind(), now);
        let mut app = App { state, jobs };
        let effects = update::start(&mut app.state);
        app.run_effects(effects);
        app
    }

    /// An app whose jobs run only when [`App::settle`] is called (tests, benchmarks).
    pub fn inline(history: Arc<dyn History>, ui: Ui, now: Timestamp) -> App {
        App::new(history.as_ref(), ui, now, Executor::inline(history.clone()))
    }

    pub fn act(&mut self, action: Action) {
        let effects = update::update(&mut self.state, action);
        self.run_effects(effects);
    }

    pub fn job_done(&mut self, output: JobOutput) {
        let effects = update::on_job(&mut self.state, output);
        self.run_effects(effects);
    }

    fn run_effects(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Job(job) => self.jobs.submit(job),
                Effect::Quit => self.state.quit = true,
            }
        }
    }

    /// Runs queued jobs and feeds their results back until nothing is pending (inline only).
    pub fn settle(&mut self) {
        loop {
            let outputs = self.jobs.run_pending();
            if outputs.is_empty() {
                return;
            }
            for output in outputs {
                self.job_done(output);
            }
        }
    }

    /// The action a key means in the current scopes; text for prompts.
    pub fn action_for(&self, key: &KeyEvent) -> Option<Action> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        let chain = self.state.scopes();
        let chord = KeyChord::from_event(key);
        if let Some(action) = self.state.ui.keymap.resolve(&chain, chord) {
            return Some(action);
        }
        let typing = chain.first() == Some(&Scope::Prompt)
            && !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match key.code {
            KeyCode::Char(c) if typing => Some(Action::Insert(c)),
            _ => None,
        }
    }

    pub fn key(&mut self, key: KeyEvent) {
        if let Some(action) = self.action_for(&key) {
            self.act(action);
        }
    }

    /// Presses keys given as a string (`"jj<space>D<enter>"`), settling after each one.
    pub fn press(&mut self, keys: &str) {
        for key in keymap::parse_keys(keys).expect("valid key string") {
            self.key(key);
            self.settle();
        }
    }

    pub fn mouse(&mut self, event: MouseEvent) {
        if !self.state.ui.mouse {
            return;
        }
        let (x, y) = (event.column, event.row);
        let action = match event.kind {
            MouseEventKind::Down(MouseButton::Left) => MouseAction::Click { x, y },
            MouseEventKind::ScrollUp => MouseAction::ScrollUp { x, y },
            MouseEventKind::ScrollDown => MouseAction::ScrollDown { x, y },
            _ => return,
        };
        self.act(Action::Mouse(action));
    }

    pub fn draw<B: Backend>(&self, terminal: &mut Terminal<B>) -> Result<(), B::Error> {
        terminal.draw(|frame| frame.render_widget(views::Screen(&self.state), frame.area()))?;
        Ok(())
    }

    pub fn quit(&self) -> bool {
        self.state.quit
    }
}

/// What the event loop waits for.
pub enum Event {
    Term(TermEvent),
    Job(JobOutput),
    /// The follower saw the store or marimo's cache change.
    Changed,
    InputFailed(String),
}

impl From<JobOutput> for Event {
    fn from(output: JobOutput) -> Event {
        Event::Job(output)
    }
}

/// Relative times in the panes move on once a second.
const TICK: Duration = Duration::from_secs(1);
const INPUT_POLL: Duration = Duration::from_millis(100);
const INPUT_STOP_WAIT: Duration = Duration::from_millis(500);

/// Runs the UI until the user quits, following `follow` (the store and marimo's cache) so
/// that runs written by other processes show as they happen. The terminal is restored on
/// every way out.
pub fn run(
    history: Arc<dyn History>,
    follow: Option<celltime_store::follow::Targets>,
    options: TuiOptions,
) -> Result<(), TuiError> {
    let (ui, conflicts) = load_ui(&options)?;
    let mouse = ui.mouse;
    let (tx, rx) = channel::<Event>();
    let changes = tx.clone();
    let follower = follow.map(|targets| {
        celltime_store::follow::Follow::start(targets, move |changed| {
            if changed.any() {
                let _ = changes.send(Event::Changed);
            }
        })
    });
    let pool = Pool::new(history.clone(), tx.clone());
    let mut app = App::new(history.as_ref(), ui, Timestamp::now(), Executor::Pool(pool));
    if !conflicts.is_empty() {
        app.state
            .set_status(Level::Warning, format!("config: {}", conflicts.join("; ")));
    }
    let _follower = match follower {
        Some(Ok(follower)) => Some(follower),
        Some(Err(e)) => {
            app.state.set_status(
                Level::Warning,
                format!("not following changes on disk ({e}); R reloads"),
            );
            None
        }
        None => None,
    };
    let mut session = term::Session::start(mouse)?;
    app.state.ui.pictures = Arc::new(pictures::Pictures::query());
    let stop = Arc::new(AtomicBool::new(false));
    let (input_done, input_ended) = channel::<()>();
    spawn_input(tx, stop.clone(), session.signalled.clone(), input_done);
    let size = session.terminal.size()?;
    app.act(Action::Resize {
        width: size.width,
        height: size.height,
    });
    let result = event_loop(&mut app, &mut session, &rx);
    stop.store(true, Ordering::Relaxed);
    // The reader sees `stop` within one poll. After a hang-up crossterm can spin inside its
    // poll and never return; that thread is left to end with the process instead of
    // blocking the exit (which would leave an orphan behind a closed terminal).
    let _ = input_ended.recv_timeout(INPUT_STOP_WAIT);
    drop(session);
    result
}

fn event_loop(
    app: &mut App,
    session: &mut term::Session,
    rx: &std::sync::mpsc::Receiver<Event>,
) -> Result<(), TuiError> {
    session.draw(|f| f.render_widget(views::Screen(&app.state), f.area()))?;
    loop {
        let first = match rx.recv_timeout(TICK) {
            Ok(event) => Some(event),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        // Everything already waiting is handled before the next frame.
        for event in first.into_iter().chain(rx.try_iter()) {
            handle(app, event)?;
        }
        app.act(Action::Tick(Timestamp::now()));
        if app.quit() || term::signalled(&session.signalled) {
            return Ok(());
        }
        session.draw(|f| f.render_widget(views::Screen(&app.state), f.area()))?;
    }
}

fn handle(app: &mut App, event: Event) -> Result<(), TuiError> {
    match event {
        Event::Term(TermEvent::Key(key)) => app.key(key),
        Event::Term(TermEvent::Mouse(m)) => app.mouse(m),
        Event::Term(TermEvent::Resize(width, height)) => app.act(Action::Resize { width, height }),
        Event::Term(_) => {}
        Event::Job(output) => app.job_done(output),
        Event::Changed => app.act(Action::DiskChanged),
        Event::InputFailed(e) => return Err(TuiError::Terminal(std::io::Error::other(e))),
    }
    Ok(())
}

/// Reads terminal input on its own thread; polls so it can stop when the UI ends.
fn spawn_input(
    tx: Sender<Event>,
    stop: Arc<AtomicBool>,
    signalled: Arc<AtomicBool>,
    done: Sender<()>,
) {
    std::thread::spawn(move || {
        // Dropped when this thread ends, however it ends: `run` waits for that.
        let _done = done;
        while !stop.load(Ordering::Relaxed) {
            if term::signalled(&signalled) {
                // Wake the loop so it sees the signal and leaves.
                let _ = tx.send(Event::Term(TermEvent::FocusGained));
                return;
            }
            match event::poll(INPUT_POLL) {
                Ok(false) => {}
                Ok(true) => match event::read() {
                    Ok(e) => {
                        if tx.send(Event::Term(e)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Event::InputFailed(e.to_string()));
                        return;
                    }
                },
                Err(e) => {
                    let _ = tx.send(Event::InputFailed(e.to_string()));
                    return;
                }
            }
        }
    });
}
