//! Where reqwest runs. reqwest needs a tokio reactor: the tokio runtimes call
//! it directly; smol and async-std cannot, so, as in the original study,
//! every reqwest call is spawned onto the "HTTP bridge", a lazily built
//! multi-thread tokio runtime with 2 workers, and the agent awaits the
//! spawned task's handle from its own executor.
use bytes::Bytes;
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
    /// every reqwest call a task on BRIDGE (smol, async-std).
    Bridge,
}

/// The name of the thread running now, for `PB_AGENT_VERBOSE` (which shows
/// where the agents and their HTTP calls actually ran).
pub fn thread_name() -> String {
    std::thread::current().name().unwrap_or("unnamed").to_string()
}

pub type Sent = (Result<reqwest::Response, String>, String);

/// Sends the request; also says on which thread the call completed.
pub async fn send(t: Transport, req: reqwest::RequestBuilder) -> Sent {
    let call = async move {
        let r = req.send().await.map_err(|e| e.to_string());
        (r, thread_name())
    };
    match t {
        Transport::Direct => call.await,
        Transport::Bridge => match BRIDGE.spawn(call).await {
            Ok(sent) => sent,
            Err(e) => (Err(format!("HTTP bridge task: {}", e)), thread_name()),
        },
    }
}

pub type Chunk = Result<Option<Bytes>, String>;

/// The next piece of the body as reqwest hands it over (None at the end).
/// The response moves into the call and back, so a bridge task can own it.
pub async fn chunk(t: Transport, mut resp: reqwest::Response) -> (Option<reqwest::Response>, Chunk) {
    let call = async move {
        let c = resp.chunk().await.map_err(|e| e.to_string());
        (Some(resp), c)
    };
    match t {
        Transport::Direct => call.await,
        Transport::Bridge => match BRIDGE.spawn(call).await {
            Ok(r) => r,
            Err(e) => (None, Err(format!("HTTP bridge task: {}", e))),
        },
    }
}
