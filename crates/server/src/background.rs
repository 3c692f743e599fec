//! Work that must not slow the bars down: the guest pages' database reads
//! and rendering run on a few threads of their own at a lower CPU priority
//! (nice 10) than the tills' requests. When the machine is busy, the
//! kernel gives the tills' threads about nine times the CPU share of these
//! (CFS weights 1024 against 110); when it is idle, guests get all of it.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::ServerError;

/// Threads for the guest pages.
const THREADS: usize = 2;
/// Their niceness: lower priority than everything else in the process.
const NICENESS: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

fn queue() -> &'static Mutex<mpsc::Sender<Job>> {
    static QUEUE: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..THREADS {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("guest-pages-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match receiver.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("start a guest pages thread");
        }
        Mutex::new(sender)
    })
}

/// This thread's CPU priority, lowered (on Linux `setpriority` for the
/// calling process id 0 is the calling thread).
pub(crate) fn lower_priority() {
    if let Err(error) = rustix::process::setpriority_process(None, NICENESS) {
        tracing::warn!(%error, "cannot lower the guest pages' priority: they compete with the tills");
    }
}

/// Runs `work` on the low-priority threads and waits for it.
pub async fn low_priority<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    queue()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send(job)
        .map_err(|_| ServerError::Internal("the guest pages' threads stopped".into()))?;
    result
        .await
        .map_err(|_| ServerError::Internal("a guest page's work failed".into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_at_a_lower_priority_and_answers() {
        let niceness = low_priority(|| {
            rustix::process::getpriority_process(None)
                .map_err(|e| ServerError::Internal(e.to_string()))
        })
        .await
        .unwrap();
        assert_eq!(niceness, NICENESS);
        let failed: Result<(), _> = low_priority(|| Err(ServerError::NotFound("x".into()))).await;
        assert!(matches!(failed, Err(ServerError::NotFound(_))));
    }
}
