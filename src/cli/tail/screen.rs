//! Where following writes: lines straight to stdout, or above a status line on a terminal; and
//! the Ctrl-C flag that ends it.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where lines go: straight to stdout, or above the status line on a terminal.
pub struct Screen {
    bar: Option<ProgressBar>,
}

impl Screen {
    pub fn new(terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template("{wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        Screen { bar }
    }

    pub fn drawn(&self) -> bool {
        self.bar.is_some()
    }

    pub fn line(&self, line: &str) -> std::io::Result<()> {
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                Ok(())
            }
            None => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")?;
                out.flush()
            }
        }
    }

    pub fn status(&self, text: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(text);
        }
    }

    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A flag that Ctrl-C (or SIGTERM) sets, so that following ends with exit 0 and the status
/// line cleared, instead of the signal killing the process mid-line. Installed on first use.
pub fn interrupted() -> &'static AtomicBool {
    static FLAG: OnceLock<&'static AtomicBool> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(rt) = rt {
            std::thread::spawn(move || {
                rt.block_on(async {
                    let _ = crate::cli::api_args::shutdown_signal().changed().await;
                });
                flag.store(true, Ordering::Relaxed);
            });
        }
        flag
    })
}
