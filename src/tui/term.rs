//! The real terminal: raw mode and the alternate screen, restored on every exit path (normal
//! return, error, panic, SIGTERM/SIGHUP/SIGINT) and around a suspend (Ctrl-Z, SIGTSTP) or a
//! pager; buffered output wrapped in synchronized updates; `/dev/tty` when stdout is
//! captured; mouse capture only when enabled.

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
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

/// Whether the UI has a terminal to draw on and read keys from: stdin and stdout, or the
/// controlling terminal.
pub fn available() -> bool {
    (io::stdout().is_terminal() && io::stdin().is_terminal())
        || std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok()
}

/// `TERM=dumb`: a terminal without cursor movement, where a full-screen UI cannot be drawn.
pub fn dumb() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
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
    /// The number of the SIGTERM/SIGHUP/SIGINT that arrived (0: none): the loop stops, the
    /// guard restores the terminal, and the program exits with 128 + that number.
    pub signalled: Arc<AtomicUsize>,
    /// Set by SIGTSTP from outside (`kill -TSTP`): the loop suspends as Ctrl-Z does.
    pub stop_requested: Arc<AtomicBool>,
    /// The handlers above, removed when the UI ends (the program may go on: the demo).
    handlers: Vec<signal_hook::SigId>,
    previous_hook: Option<Hook>,
}

impl Session {
    pub fn start(mouse: bool) -> io::Result<Session> {
        let mut out = output()?;
        let previous_hook = install_panic_hook(mouse);
        let signalled = Arc::new(AtomicUsize::new(0));
        let mut handlers = Vec::new();
        for signal in [
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
            signal_hook::consts::SIGINT,
        ] {
            handlers.push(signal_hook::flag::register_usize(
                signal,
                signalled.clone(),
                signal as usize,
            )?);
        }
        let stop_requested = Arc::new(AtomicBool::new(false));
        handlers.push(signal_hook::flag::register(
            signal_hook::consts::SIGTSTP,
            stop_requested.clone(),
        )?);
        if let Err(e) = enter(&mut out, mouse) {
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
            stop_requested,
            handlers,
            previous_hook: Some(previous_hook),
        })
    }

    /// Gives the terminal back as it was, runs `outside` (a pager, or being stopped), then
    /// takes it again and redraws everything on the next frame.
    pub fn outside<T>(&mut self, outside: impl FnOnce() -> T) -> io::Result<T> {
        restore(self.terminal.backend_mut(), self.mouse);
        let result = outside();
        enter(self.terminal.backend_mut(), self.mouse)?;
        // A resize clears the screen and forgets the last frame, so the next one is drawn
        // whole (without `clear`'s cursor query, which not every terminal answers).
        let size = self.terminal.size()?;
        self.terminal
            .resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))?;
        Ok(result)
    }

    /// Ctrl-Z: the terminal restored, the process stopped as a shell expects (SIGSTOP, so a
    /// handler cannot swallow it); `fg` continues here and the UI comes back.
    pub fn suspend(&mut self) -> io::Result<()> {
        self.stop_requested.store(false, Ordering::Relaxed);
        self.outside(|| {
            signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGTSTP)
        })?
    }

    /// Asks the terminal to put `text` on the clipboard (OSC 52; terminals may refuse).
    pub fn copy(&mut self, text: &str) -> io::Result<()> {
        let out = self.terminal.backend_mut();
        out.write_all(osc52(text).as_bytes())?;
        out.flush()
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
        for handler in self.handlers.drain(..) {
            signal_hook::low_level::unregister(handler);
        }
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

/// The termination signal that arrived, if one did.
pub fn signalled(flag: &AtomicUsize) -> Option<i32> {
    match flag.load(Ordering::Relaxed) {
        0 => None,
        signal => i32::try_from(signal).ok(),
    }
}

/// Raw mode, the alternate screen, the mouse if wanted.
fn enter(out: &mut impl Write, mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    execute!(out, EnterAlternateScreen, cursor::Hide)?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    Ok(())
}

/// The OSC 52 sequence that sets the clipboard to `text`.
pub fn osc52(text: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{encoded}\x07")
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_carries_the_text_in_base64() {
        assert_eq!(super::osc52("48b6"), "\x1b]52;c;NDhiNg==\x07");
    }
}
