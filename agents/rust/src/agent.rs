//! One agent: one streamed request, read to its end.
use crate::http::{self, Transport};
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

async fn error_body(t: Transport, mut resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_MAX {
        match http::chunk(t, resp).await {
            (Some(r), Ok(Some(c))) => {
                body.extend_from_slice(&c);
                resp = r;
            }
            _ => break,
        }
    }
    let s = String::from_utf8_lossy(&body[..body.len().min(300)]).replace(['\n', '\r'], " ");
    s.trim().to_string()
}

/// Runs `a`; `rechunk` cuts every piece of the body into pieces of at most
/// that many bytes before the line parser sees it (smol-1kb).
pub async fn run(a: Agent, client: reqwest::Client, t: Transport, rechunk: Option<usize>) -> Outcome {
    let mut o = Outcome {
        id: a.id.clone(),
        request_id: a.request_id.clone(),
        status: 0,
        tokens: 0,
        bytes: 0,
        error: None,
        agent_thread: http::thread_name(),
        http_thread: String::new(),
    };
    let mut req = client.post(&a.url).header("Content-Type", "application/json");
    for (k, v) in &a.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let (sent, thread) = http::send(t, req.body(a.body)).await;
    o.http_thread = thread;
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
        o.error = Some(format!("POST {}: HTTP {}: {}", a.url, why, error_body(t, resp).await));
        return o;
    }
    let mut p = Parser::new(a.sse);
    loop {
        let (r, c) = http::chunk(t, resp).await;
        match c {
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
        match r {
            Some(r) => resp = r,
            None => break,
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
