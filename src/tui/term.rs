//! The real terminal: raw mode and the alternate screen, restored on every exit path (normal
//! return, error, panic, SIGTERM/SIGHUP); buffered output wrapped in synchronized updates;
//! `/dev/tty` when stdout is captured; mouse capture only when enabled.

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute, queue};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub type Output = Box<dyn Write + Send>;
pub type Term = Terminal<CrosstermBackend<BufWriter<Output>>>;

/// Where frames go: stdout when it is a terminal, else the controlling terminal.
fn output() -> io::Result<Output> {
    if io::stdout().is_terminal() {
        return Ok(Box::new(io::stdout()));
    }
    let tty = std::fs::OpenOptions::new().write(true).open("/dev/tty")?;
    Ok(Box::new(tty))
}

/// Leaves raw mode and the alternate screen; safe to call more than once.
fn restore(out: &mut impl Write, mouse: bool) {
    let _ = disable_raw_mode();
    if mouse {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, LeaveAlternateScreen, cursor::Show);
    let _ = out.flush();
}

/// The terminal while the UI runs; dropping it restores the terminal.
pub struct Session {
    pub terminal: Term,
    mouse: bool,
    /// Set by SIGTERM/SIGHUP/SIGINT: the loop stops and the guard restores the terminal.
    pub signalled: Arc<AtomicBool>,
    previous_hook: Option<Hook>,
}

impl Session {
    pub fn start(mouse: bool) -> io::Result<Session> {
        let mut out = output()?;
        let previous_hook = install_panic_hook(mouse);
        let signalled = Arc::new(AtomicBool::new(false));
        for signal in [
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
            signal_hook::consts::SIGINT,
        ] {
            signal_hook::flag::register(signal, signalled.clone())?;
        }
        enable_raw_mode()?;
        let entered = execute!(out, EnterAlternateScreen, cursor::Hide).and_then(|_| {
            if mouse {
                execute!(out, EnableMouseCapture)
            } else {
                Ok(())
            }
        });
        if let Err(e) = entered {
            restore(&mut out, mouse);
            return Err(e);
        }
        let terminal = match Terminal::new(CrosstermBackend::new(BufWriter::new(out))) {
            Ok(t) => t,
            Err(e) => {
                restore(&mut io::stdout(), mouse);
                return Err(e);
            }
        };
        Ok(Session {
            terminal,
            mouse,
            signalled,
            previous_hook: Some(previous_hook),
        })
    }

    /// Draws one frame inside a synchronized update, so terminals never show half a frame.
    pub fn draw(&mut self, render: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
        queue!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        self.terminal.draw(render)?;
        execute!(self.terminal.backend_mut(), EndSynchronizedUpdate)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        restore(self.terminal.backend_mut(), self.mouse);
        if let Some(previous) = self.previous_hook.take() {
            std::panic::set_hook(Box::new(move |info| previous(info)));
        }
    }
}

type Hook = Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync>;

thread_local! {
    /// The last panic message of a worker thread, for its error result.
    pub static WORKER_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// On the UI thread: restores the terminal before the panic message prints, so it is
/// readable. On workers: keeps the message for the job's error instead of writing over the
/// screen (the job's panic is caught and reported in the status line).
fn install_panic_hook(mouse: bool) -> Hook {
    let previous: Hook = Arc::from(std::panic::take_hook());
    let ui = std::thread::current().id();
    let chained = previous.clone();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui {
            if let Ok(mut out) = output() {
                restore(&mut out, mouse);
            }
            chained(info);
        } else {
            WORKER_PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
        }
    }));
    previous
}

/// True once a termination signal arrived.
pub fn signalled(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Relaxed)
}
