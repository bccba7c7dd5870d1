//! Ctrl-C while a job is followed: following stops, the job does not (it
//! runs in the worker). A SIGINT handler sets a flag that the follow loop
//! checks between requests and while it waits; a second Ctrl-C ends the
//! process at once, for an operator who does not want to wait for a
//! request in flight. Through `libc`'s `signal`, which Unix and the Windows
//! C runtime both provide.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the handler, read by [`requested`].
static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The SIGINT handler: only an atomic swap and `_exit`, both safe in a
/// signal handler.
extern "C" fn on_interrupt(_signal: libc::c_int) {
    if REQUESTED.swap(true, Ordering::SeqCst) {
        // SAFETY: `_exit` is async-signal-safe and takes any status.
        unsafe { libc::_exit(i32::from(crate::common::EXIT_INTERRUPTED)) }
    }
}

/// Makes Ctrl-C set the flag instead of ending the process. If the handler
/// cannot be installed, Ctrl-C keeps its default (the process ends; the job
/// still goes on), which the follower's first line already explains.
pub fn install() {
    let handler: extern "C" fn(libc::c_int) = on_interrupt;
    // SAFETY: the handler is an `extern "C"` function that only touches an
    // atomic and calls `_exit` (see `on_interrupt`).
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

/// Whether Ctrl-C was pressed since [`install`].
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
