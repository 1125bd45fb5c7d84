//! Reads a streamed answer: Ollama's NDJSON (one JSON object a line, the last
//! with `"done": true`) or the OpenAI layer's server-sent events (`data:`
//! lines, ended by `data: [DONE]`). Bytes may arrive cut anywhere: a line is
//! handled when its newline arrives.
use serde_json::Value;

pub struct Parser {
    sse: bool,
    pending: Vec<u8>,
    pub tokens: u64,
    pub bytes: u64,
    done: bool,
    error: Option<String>,
}

fn clip(s: &[u8]) -> String {
    let s = String::from_utf8_lossy(s);
    let s: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if s.chars().count() > 200 {
        s.chars().take(200).collect::<String>() + "..."
    } else {
        s
    }
}

impl Parser {
    pub fn new(sse: bool) -> Parser {
        Parser { sse, pending: Vec::with_capacity(4096), tokens: 0, bytes: 0, done: false, error: None }
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        self.pending.extend_from_slice(data);
        while let Some(nl) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=nl).collect();
            self.line(&line[..nl]);
        }
    }

    fn fail(&mut self, why: String) {
        // The first failure is the cause; later ones follow from it.
        if self.error.is_none() {
            self.error = Some(why);
        }
    }

    fn line(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // After the final line nothing counts; before it a blank line only
        // separates events.
        if self.done || self.error.is_some() || line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let json = if self.sse {
            // Other SSE fields (event:, id:, comments) carry no token.
            let data = match line.strip_prefix(b"data:") {
                Some(d) => d,
                None => return,
            };
            let data = data.strip_prefix(b" ").unwrap_or(data);
            if data == b"[DONE]" {
                self.done = true;
                return;
            }
            data
        } else {
            line
        };
        let v: Value = match serde_json::from_slice(json) {
            Ok(v) => v,
            Err(e) => return self.fail(format!("bad line ({}): {}", e, clip(line))),
        };
        if v.get("error").is_some() {
            return self.fail(format!("server error in the stream: {}", clip(line)));
        }
        if self.sse {
            // A token event has no finish_reason yet; the finish event and
            // the usage-only event (no choices) are not tokens.
            let first = v.get("choices").and_then(Value::as_array).and_then(|c| c.first());
            if first.map_or(false, |c| c.get("finish_reason").map_or(true, Value::is_null)) {
                self.tokens += 1;
            }
        } else if v.get("done").and_then(Value::as_bool) == Some(true) {
            self.done = true;
        } else {
            self.tokens += 1;
        }
    }

    /// At the end of the body: Ok when the final line came and nothing failed.
    pub fn finish(&mut self) -> Result<(), String> {
        if !self.pending.is_empty() {
            // A last line without its newline is still read (and a line cut
            // in half fails to parse, which is the point).
            let rest = std::mem::take(&mut self.pending);
            self.line(&rest);
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if !self.done {
            return Err(format!(
                "the stream ended after {} tokens without its final line ({})",
                self.tokens,
                if self.sse { "data: [DONE]" } else { "\"done\": true" }
            ));
        }
        Ok(())
    }
}
