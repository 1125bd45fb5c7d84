//! Where reqwest runs. reqwest needs a tokio reactor: the tokio runtimes call
//! it directly; smol and async-std cannot, so, as in the original study, each
//! model call (the request, its whole streamed answer and its parsing) is a
//! task spawned onto the "HTTP bridge", a lazily built multi-thread tokio
//! runtime with 2 workers, and the agent awaits that task's handle from its
//! own executor.
use once_cell::sync::Lazy;

pub static BRIDGE: Lazy<tokio::runtime::Runtime> = Lazy::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pb-http-bridge")
        .enable_all()
        .build()
        .expect("pb-agent: cannot start the tokio HTTP bridge (threads)")
});

#[derive(Clone, Copy)]
pub enum Transport {
    /// reqwest on the runtime that polls the agent (the tokio runtimes).
    Direct,
    /// each model call a task on BRIDGE (smol, async-std).
    Bridge,
}

/// The name of the thread running now, for `PB_AGENT_VERBOSE` (which shows
/// where the agents and their HTTP calls actually ran).
pub fn thread_name() -> String {
    std::thread::current().name().unwrap_or("unnamed").to_string()
}
