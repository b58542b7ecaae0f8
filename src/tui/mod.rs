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
pub mod open;
pub mod pictures;
pub mod policy;
mod previews;
pub mod state;
pub mod term;
pub mod theme;
pub mod update;
pub mod views;

use action::{Action, MouseAction};
use celltime_store::model::Zone;
use celltime_store::model::{History, Timestamp};
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
    /// The workspace's saved default policy as policy text (`P` starts from it).
    pub default_policy: Option<String>,
}

/// How a UI session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Quit,
    /// A termination signal arrived (its number); the terminal was restored first.
    Signal(i32),
}

/// What the UI asks of the terminal around it (the runtime does it; tests read it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Suspend,
    /// Put this text on the clipboard (OSC 52).
    Copy(String),
    Open(open::Target),
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
        tz: Zone::Local,
        pictures: Arc::default(),
        wrap: config.wrap,
        default_policy: options.default_policy.clone(),
    };
    Ok((ui, conflicts))
}

/// The UI over a history, driven by actions and job results; the runtime and the tests
/// both use it.
pub struct App {
    pub state: AppState,
    jobs: Executor,
    /// Requests for the terminal, in order, until the runtime takes them.
    requests: Vec<Request>,
}

impl App {
    pub fn new(history: &dyn History, ui: Ui, now: Timestamp, jobs: Executor) -> App {
        let state = AppState::new(ui, history.location(), history.kind(), now);
        let mut app = App {
            state,
            jobs,
            requests: Vec::new(),
        };
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
                Effect::Request(request) => self.requests.push(request),
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

    /// What the UI asks of the terminal since the last call.
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    /// The action a key means in the current scopes; text for prompts. Ctrl-C and Ctrl-Z
    /// mean what they mean in every terminal program, whatever the key map says.
    pub fn action_for(&self, key: &KeyEvent) -> Option<Action> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        let chain = self.state.scopes();
        let chord = KeyChord::from_event(key);
        if let Some(action) = keymap::reserved(chord) {
            return Some(action);
        }
        if let Some(action) = self.state.ui.keymap.resolve(chain, chord) {
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
) -> Result<Ending, TuiError> {
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
    app.state.ui.pictures = Arc::new(pictures::Pictures::for_this_terminal());
    let stop = Arc::new(AtomicBool::new(false));
    let gate = Arc::new(Gate::default());
    let (input_done, input_ended) = channel::<()>();
    spawn_input(
        tx,
        stop.clone(),
        session.signalled.clone(),
        gate.clone(),
        input_done,
    );
    let size = session.terminal.size()?;
    app.act(Action::Resize {
        width: size.width,
        height: size.height,
    });
    let mut runtime = Runtime {
        session: &mut session,
        history: history.as_ref(),
        gate: &gate,
    };
    let result = event_loop(&mut app, &mut runtime, &rx);
    stop.store(true, Ordering::Relaxed);
    // The reader sees `stop` within one poll. After a hang-up crossterm can spin inside its
    // poll and never return; that thread is left to end with the process instead of
    // blocking the exit (which would leave an orphan behind a closed terminal).
    let _ = input_ended.recv_timeout(INPUT_STOP_WAIT);
    drop(session);
    result
}

/// What the event loop needs besides the app: the terminal, the history (for `o`), and the
/// gate that holds the input reader while the terminal is lent out.
struct Runtime<'a> {
    session: &'a mut term::Session,
    history: &'a dyn History,
    gate: &'a Gate,
}

impl Runtime<'_> {
    /// The terminal lent to `outside` with the input reader held, so nothing it reads (a
    /// pager's keys) reaches the UI.
    fn outside<T>(&mut self, outside: impl FnOnce() -> T) -> std::io::Result<T> {
        self.gate.hold();
        let result = self.session.outside(outside);
        self.gate.release();
        result
    }

    fn serve(&mut self, app: &mut App, request: Request) -> Result<(), TuiError> {
        match request {
            Request::Suspend => {
                self.gate.hold();
                let suspended = self.session.suspend();
                self.gate.release();
                suspended?;
                let size = self.session.terminal.size()?;
                app.act(Action::Resize {
                    width: size.width,
                    height: size.height,
                });
            }
            Request::Copy(text) => self.session.copy(&text)?,
            Request::Open(target) => {
                if let Err(e) = self.open(&target) {
                    app.state.set_status(Level::Error, format!("open: {e}"));
                }
            }
        }
        Ok(())
    }

    fn open(&mut self, target: &open::Target) -> Result<(), String> {
        let (bytes, name, viewer) = open::resolve(self.history, target)?;
        let path = open::write_temp(&bytes, &name).map_err(|e| e.to_string())?;
        match viewer {
            open::Viewer::System => open::launch(&open::system_command(), &path, false),
            open::Viewer::Pager => {
                let pager = open::pager_command(|name| std::env::var(name).ok());
                self.outside(|| open::launch(&pager, &path, true))
                    .map_err(|e| e.to_string())?
            }
        }
    }
}

fn event_loop(
    app: &mut App,
    runtime: &mut Runtime<'_>,
    rx: &std::sync::mpsc::Receiver<Event>,
) -> Result<Ending, TuiError> {
    let draw = |app: &App, runtime: &mut Runtime<'_>| {
        runtime
            .session
            .draw(|f| f.render_widget(views::Screen(&app.state), f.area()))
    };
    draw(app, runtime)?;
    loop {
        let first = match rx.recv_timeout(TICK) {
            Ok(event) => Some(event),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return Ok(Ending::Quit),
        };
        // Everything already waiting is handled before the next frame.
        for event in first.into_iter().chain(rx.try_iter()) {
            handle(app, event)?;
        }
        app.act(Action::Tick(Timestamp::now()));
        if let Some(signal) = term::signalled(&runtime.session.signalled) {
            return Ok(Ending::Signal(signal));
        }
        if app.quit() {
            return Ok(Ending::Quit);
        }
        if runtime.session.stop_requested.load(Ordering::Relaxed) {
            app.act(Action::Suspend);
        }
        for request in app.take_requests() {
            runtime.serve(app, request)?;
        }
        draw(app, runtime)?;
    }
}

/// Holds the input reader while the terminal is lent out (a pager, a suspend).
#[derive(Default)]
struct Gate {
    state: std::sync::Mutex<GateState>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct GateState {
    held: bool,
    /// The reader is waiting at the gate (it reads nothing until released).
    parked: bool,
}

impl Gate {
    /// Asks the reader to stop and waits until it has (within one input poll), or until it
    /// has ended.
    fn hold(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.held = true;
        while !state.parked {
            let (next, timeout) = self
                .changed
                .wait_timeout(state, INPUT_STOP_WAIT)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            if timeout.timed_out() {
                return; // the reader ended (or hangs in a dead terminal): nothing to hold
            }
        }
    }

    fn release(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.held = false;
        self.changed.notify_all();
    }

    /// The reader's checkpoint: waits here while the gate is held.
    fn pass(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.held {
            state.parked = true;
            self.changed.notify_all();
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.parked = false;
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
    signalled: Arc<std::sync::atomic::AtomicUsize>,
    gate: Arc<Gate>,
    done: Sender<()>,
) {
    std::thread::spawn(move || {
        // Dropped when this thread ends, however it ends: `run` waits for that.
        let _done = done;
        while !stop.load(Ordering::Relaxed) {
            gate.pass();
            if term::signalled(&signalled).is_some() {
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
