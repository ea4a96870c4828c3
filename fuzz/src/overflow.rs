//! Makes a stack overflow a crash libFuzzer reports (`deadly signal`, with the input saved as
//! an artifact) instead of a silent death.
//!
//! Under libFuzzer the program's `main` is libFuzzer's, so Rust's runtime never gives the main
//! thread an alternate signal stack. A stack overflow then raises SIGSEGV with no stack left to
//! run libFuzzer's handler on, and the process dies without a word or an artifact (the first
//! `grammar` run vanished so at a flat chain). libFuzzer keeps `SA_ONSTACK` when it replaces a
//! handler that had it; so a target's `init`, which runs before libFuzzer installs its
//! handlers, gives the thread an alternate stack and sets `SA_ONSTACK` on the default action.

use std::sync::Once;

/// Size of the alternate signal stack: libFuzzer's handler prints a stack trace and writes the
/// artifact on it.
const ALT_STACK: usize = 1 << 20;

/// Installs the alternate stack and the handlers once; call from a target's `init`.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let stack: &'static mut [u8] = Box::leak(vec![0u8; ALT_STACK].into_boxed_slice());
        // SAFETY: the alternate stack lives for the rest of the process (leaked); the
        // handlers are the ones in place, with one more flag.
        unsafe {
            let ss = libc::stack_t {
                ss_sp: stack.as_mut_ptr().cast(),
                ss_flags: 0,
                ss_size: ALT_STACK,
            };
            libc::sigaltstack(&ss, std::ptr::null_mut());
            for signum in [libc::SIGSEGV, libc::SIGBUS] {
                let mut action: libc::sigaction = std::mem::zeroed();
                libc::sigaction(signum, std::ptr::null(), &mut action);
                // The default action or libFuzzer's own handler, whichever is in place, now
                // on the alternate stack. (A handler of ours would be called *before*
                // libFuzzer's, which calls an `SA_SIGINFO` handler it replaced first.)
                action.sa_flags |= libc::SA_ONSTACK;
                libc::sigaction(signum, &action, std::ptr::null_mut());
            }
        }
    });
}
