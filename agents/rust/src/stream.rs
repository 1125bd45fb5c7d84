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

#[cfg(test)]
mod tests {
    // The fixtures of tests/agents/test_pb_job.py (the Python reader's),
    // token counts counted by hand; every stream also cut at every byte.
    use super::Parser;

    const NDJSON: &[u8] = b"{\"model\":\"m\",\"response\":\"a\",\"done\":false}\n\
{\"model\":\"m\",\"response\":\"b\",\"done\":false}\r\n\
\n\
{\"model\":\"m\",\"response\":\"c\",\"done\":false}\n\
{\"model\":\"m\",\"response\":\"\",\"done\":true,\"eval_count\":3}\n";
    const SSE: &[u8] = b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"a\"},\"finish_reason\":null}]}\n\n\
: a comment\n\
event: message\n\
data: {\"choices\":[{\"delta\":{\"content\":\"b\"},\"finish_reason\":null}]}\n\n\
data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}\n\n\
data: {\"choices\":[],\"usage\":{\"completion_tokens\":2}}\n\n\
data: [DONE]\n\n";

    fn read(s: &[u8], sse: bool, cut: usize) -> (Parser, Result<(), String>) {
        let mut p = Parser::new(sse);
        p.feed(&s[..cut]);
        p.feed(&s[cut..]);
        let r = p.finish();
        (p, r)
    }

    #[test]
    fn ndjson_at_every_cut() {
        for cut in 0..=NDJSON.len() {
            let (p, r) = read(NDJSON, false, cut);
            assert_eq!(r, Ok(()), "cut {}", cut);
            assert_eq!((p.tokens, p.bytes), (3, NDJSON.len() as u64), "cut {}", cut);
        }
    }

    #[test]
    fn sse_at_every_cut() {
        // 2 token events; the finish event and the usage event are not tokens.
        for cut in 0..=SSE.len() {
            let (p, r) = read(SSE, true, cut);
            assert_eq!(r, Ok(()), "cut {}", cut);
            assert_eq!(p.tokens, 2, "cut {}", cut);
        }
    }

    fn find(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).position(|w| w == needle).unwrap()
    }

    #[test]
    fn clean_end_without_final_line() {
        let end = find(NDJSON, b"{\"model\":\"m\",\"response\":\"\",\"done\":true");
        let (p, r) = read(&NDJSON[..end], false, 0);
        assert_eq!(p.tokens, 3);
        assert!(r.unwrap_err().contains("without its final line (\"done\": true)"));
        let (_, r) = read(&SSE[..find(SSE, b"data: [DONE]")], true, 0);
        assert!(r.unwrap_err().contains("without its final line (data: [DONE])"));
    }

    #[test]
    fn cut_final_line() {
        let (_, r) = read(&NDJSON[..NDJSON.len() - 20], false, 0);
        assert!(r.unwrap_err().starts_with("bad line"));
    }

    #[test]
    fn error_line() {
        let (_, r) = read(b"{\"response\":\"a\",\"done\":false}\n{\"error\":\"runner died\"}\n", false, 0);
        assert!(r.unwrap_err().contains("server error in the stream"));
        let (_, r) = read(b"data: {\"error\":{\"message\":\"x\"}}\n\n", true, 0);
        assert!(r.unwrap_err().contains("server error in the stream"));
    }

    #[test]
    fn after_final_line_ignored() {
        let mut s = NDJSON.to_vec();
        s.extend_from_slice(b"{\"response\":\"late\",\"done\":false}\n");
        let (p, r) = read(&s, false, 0);
        assert_eq!((r, p.tokens), (Ok(()), 3));
    }
}
