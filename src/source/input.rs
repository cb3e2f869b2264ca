//! Opening an input path once, for reading as a stream: regular files, and pipes (`/dev/stdin`,
//! `<(…)`, FIFOs) whose bytes must not be lost to a second open.
//!
//! Opening a FIFO blocks until a writer opens it, so `flightrec import FIFO` with no writer
//! would hang without a word. Instead a FIFO is opened non-blocking and polled: when nothing
//! arrives within a moment the caller is told (to say "waiting for a writer on FIFO X"), and
//! after [`fifo_wait`] (60 s unless `FLIGHTREC_FIFO_WAIT_SECS` says otherwise; 0 waits without
//! limit) the open fails with [`SourceError::NoWriter`]. A pipe whose writer already wrote and
//! left (`echo … | flightrec import /dev/stdin`) reads at once: its bytes are waiting.

use std::io::BufReader;
use std::path::Path;
use std::time::Duration;

use super::SourceError;

/// How long to wait for a FIFO's writer; `None`: without limit.
pub fn fifo_wait() -> Option<Duration> {
    let secs = std::env::var("FLIGHTREC_FIFO_WAIT_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(60);
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// Opens `path` for reading; its size (0 when it is no regular file). `on_wait` is called once
/// if a FIFO has no data or writer after a moment.
pub fn open_input(
    path: &Path,
    on_wait: &mut dyn FnMut(),
) -> Result<(BufReader<std::fs::File>, u64), SourceError> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(SourceError::Io(std::io::Error::other("is a directory")));
    }
    let file = if is_fifo(&meta) {
        open_fifo(path, on_wait)?
    } else {
        std::fs::File::open(path)?
    };
    let size = if meta.is_file() { meta.len() } else { 0 };
    Ok((BufReader::with_capacity(1 << 16, file), size))
}

#[cfg(unix)]
fn is_fifo(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_fifo()
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
fn open_fifo(path: &Path, on_wait: &mut dyn FnMut()) -> Result<std::fs::File, SourceError> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::NONBLOCK.bits() as i32)
        .open(path)?;
    // Ready when data came, or a writer came and went (end of input); never for a FIFO no
    // writer has opened since (Linux reports no hang-up before a first writer).
    let ready = |wait: Duration| -> std::io::Result<bool> {
        let mut fds = [PollFd::new(&file, PollFlags::IN)];
        let ts = Timespec {
            tv_sec: wait.as_secs() as _,
            tv_nsec: wait.subsec_nanos() as _,
        };
        match poll(&mut fds, Some(&ts)) {
            Ok(n) => Ok(n > 0),
            Err(rustix::io::Errno::INTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    };
    if !ready(Duration::from_millis(300))? {
        on_wait();
        let limit = fifo_wait();
        let started = std::time::Instant::now();
        loop {
            let left = match limit {
                Some(l) => l.saturating_sub(started.elapsed()),
                None => Duration::from_secs(1),
            };
            if left.is_zero() {
                return Err(SourceError::NoWriter {
                    secs: limit.map_or(0, |l| l.as_secs()),
                });
            }
            if ready(left.min(Duration::from_secs(1)))? {
                break;
            }
        }
    }
    let flags = fcntl_getfl(&file).map_err(std::io::Error::from)?;
    fcntl_setfl(&file, flags - OFlags::NONBLOCK).map_err(std::io::Error::from)?;
    Ok(file)
}

#[cfg(not(unix))]
fn open_fifo(path: &Path, _: &mut dyn FnMut()) -> Result<std::fs::File, SourceError> {
    Ok(std::fs::File::open(path)?)
}
