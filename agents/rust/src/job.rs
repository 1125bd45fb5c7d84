//! The job file of exec runtimes: `collect` writes it once per phase and
//! names it in `PARBENCH_JOB` (agents/README.md, data/ documents the format).
//! Checked whole before any request leaves, so a bad job never half-runs.
use serde_json::Value;

/// One agent of the phase, ready to send: the job's `request` as given.
pub struct Agent {
    pub id: String,
    /// The OpenAI dialects stream server-sent events, Ollama's NDJSON.
    pub sse: bool,
    /// `endpoint` + `request.path`.
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// `request.body`, serialised once: sent verbatim, as parbench's driver would.
    pub body: Vec<u8>,
    /// `X-Parbench-Request` when the job gives one (it names the request in
    /// the proxy's and the emulator's traces), else the agent id.
    pub request_id: String,
}

const APIS: [&str; 4] = ["generate", "chat", "openai-chat", "openai-completions"];

fn text<'a>(v: &'a Value, key: &str, what: &str) -> Result<&'a str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{}: \"{}\" must be a string", what, key))
}

fn agent(v: &Value, i: usize) -> Result<Agent, String> {
    let at = format!("agents[{}]", i);
    let id = text(v, "id", &at)?.to_string();
    let at = format!("agent \"{}\"", id);
    let api = text(v, "api", &at)?;
    if !APIS.contains(&api) {
        return Err(format!("{}: unknown api \"{}\" (one of {})", at, api, APIS.join(", ")));
    }
    let endpoint = text(v, "endpoint", &at)?.trim_end_matches('/');
    if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") {
        return Err(format!("{}: endpoint \"{}\" is not an http:// URL", at, endpoint));
    }
    if v.get("request").is_none() && v.get("steps").is_some() {
        return Err(format!("{}: a workflow agent (\"steps\"): pb-agent runs one request per agent", at));
    }
    let req = v
        .get("request")
        .filter(|r| r.is_object())
        .ok_or_else(|| format!("{}: \"request\" must be an object", at))?;
    let method = req.get("method").and_then(Value::as_str).unwrap_or("POST");
    if method != "POST" {
        return Err(format!("{}: request.method \"{}\": only POST streams a model's answer", at, method));
    }
    let path = text(req, "path", &format!("{} request", at))?;
    if !path.starts_with('/') {
        return Err(format!("{}: request.path \"{}\" must start with /", at, path));
    }
    let body = req
        .get("body")
        .filter(|b| b.is_object())
        .ok_or_else(|| format!("{}: request.body must be a JSON object", at))?;
    let mut headers = Vec::new();
    if let Some(h) = req.get("headers") {
        let h = h.as_object().ok_or_else(|| format!("{}: request.headers must be an object", at))?;
        for (k, val) in h {
            let val = val
                .as_str()
                .ok_or_else(|| format!("{}: request header \"{}\" must be a string", at, k))?;
            headers.push((k.clone(), val.to_string()));
        }
    }
    let request_id = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("X-Parbench-Request"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| id.clone());
    Ok(Agent {
        sse: api.starts_with("openai"),
        url: format!("{}{}", endpoint, path),
        headers,
        body: serde_json::to_vec(body).map_err(|e| format!("{}: request.body: {}", at, e))?,
        request_id,
        id,
    })
}

/// Reads and checks the job file at `path`; the error names what is wrong.
pub fn load(path: &str) -> Result<(Vec<Agent>, Option<f64>), String> {
    let raw = std::fs::read(path).map_err(|e| format!("cannot read job file {}: {}", path, e))?;
    let root: Value =
        serde_json::from_slice(&raw).map_err(|e| format!("job file {}: not JSON: {}", path, e))?;
    if root.get("parbench_job").and_then(Value::as_i64) != Some(1) {
        return Err(format!("job file {}: \"parbench_job\": 1 missing (not a parbench job, or a newer format)", path));
    }
    let list = root
        .get("agents")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| format!("job file {}: \"agents\" must be a non-empty array", path))?;
    let agents = list
        .iter()
        .enumerate()
        .map(|(i, v)| agent(v, i).map_err(|e| format!("job file {}: {}", path, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let timeout = root.get("timeout_s").and_then(Value::as_f64).filter(|t| *t > 0.0);
    Ok((agents, timeout))
}
