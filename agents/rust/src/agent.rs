//! One agent: one streamed request, read to its end.
use crate::http::{self, Transport, BRIDGE};
use crate::job::Agent;
use crate::stream::Parser;

pub struct Outcome {
    pub id: String,
    pub request_id: String,
    pub status: u16,
    pub tokens: u64,
    pub bytes: u64,
    pub error: Option<String>,
    /// Threads that polled the agent and that ran its HTTP calls.
    pub agent_thread: String,
    pub http_thread: String,
}

/// An error body is read for its message, up to this many bytes.
const ERROR_BODY_MAX: usize = 4096;

async fn error_body(mut resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_MAX {
        match resp.chunk().await {
            Ok(Some(c)) => body.extend_from_slice(&c),
            _ => break,
        }
    }
    let s = String::from_utf8_lossy(&body[..body.len().min(300)]).replace(['\n', '\r'], " ");
    s.trim().to_string()
}

impl Outcome {
    pub fn failed(id: &str, request_id: &str, why: String) -> Outcome {
        Outcome {
            id: id.to_string(),
            request_id: request_id.to_string(),
            status: 0,
            tokens: 0,
            bytes: 0,
            error: Some(why),
            agent_thread: String::new(),
            http_thread: String::new(),
        }
    }
}

/// Runs `a` on transport `t`; `rechunk` cuts every piece of the body into
/// pieces of at most that many bytes before the line parser sees it
/// (smol-1kb).
pub async fn run(a: Agent, client: reqwest::Client, t: Transport, rechunk: Option<usize>) -> Outcome {
    let agent_thread = http::thread_name();
    let (id, rid) = (a.id.clone(), a.request_id.clone());
    let mut o = match t {
        Transport::Direct => call(a, client, rechunk).await,
        Transport::Bridge => match BRIDGE.spawn(call(a, client, rechunk)).await {
            Ok(o) => o,
            Err(e) => Outcome::failed(&id, &rid, format!("HTTP bridge task: {}", e)),
        },
    };
    o.agent_thread = agent_thread;
    o
}

/// The model call: the request, its streamed answer read to the end, parsed.
async fn call(a: Agent, client: reqwest::Client, rechunk: Option<usize>) -> Outcome {
    let mut o = Outcome::failed(&a.id, &a.request_id, String::new());
    o.error = None;
    let mut req = client.post(&a.url).header("Content-Type", "application/json");
    for (k, v) in &a.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let sent = req.body(a.body).send().await;
    o.http_thread = http::thread_name();
    let mut resp = match sent {
        Ok(r) => r,
        Err(e) => {
            o.error = Some(format!("POST {}: {}", a.url, e));
            return o;
        }
    };
    o.status = resp.status().as_u16();
    if o.status != 200 {
        let why = resp.status().to_string();
        o.error = Some(format!("POST {}: HTTP {}: {}", a.url, why, error_body(resp).await));
        return o;
    }
    let mut p = Parser::new(a.sse);
    loop {
        match resp.chunk().await {
            Ok(Some(bytes)) => match rechunk {
                Some(n) => bytes.chunks(n).for_each(|piece| p.feed(piece)),
                None => p.feed(&bytes),
            },
            Ok(None) => break,
            Err(e) => {
                o.error = Some(format!("POST {}: stream error after {} tokens: {}", a.url, p.tokens, e));
                break;
            }
        }
    }
    if o.error.is_none() {
        if let Err(e) = p.finish() {
            o.error = Some(format!("POST {}: {}", a.url, e));
        }
    }
    o.tokens = p.tokens;
    o.bytes = p.bytes;
    o
}
