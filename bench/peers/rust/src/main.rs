//! peer-tokio: N agents stream one /api/generate request each, at once, from
//! an Ollama-compatible server, with tokio + reqwest (the stack a Rust user
//! would pick). Prints absolute CLOCK_MONOTONIC times (ns) per agent on
//! stdout, in the format every peer shares (bench/peers/README.md):
//!   A <request_id> <start> <first_token> <end> <tokens> <bytes>
//!   C <request_id> <t_line_1> <t_line_2> ...   (one time per line received)
//!   R <cpu_us> <user_us> <system_us>   (CPU used while streaming, every thread)
//! Usage: peer-tokio URL N TOKENS current|multi [PROMPT]
use std::io::Write;

fn mono_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The process's CPU time so far in microseconds, every thread: total
/// (CLOCK_PROCESS_CPUTIME_ID, exact), user, system (getrusage, tick-split).
fn cpu_us() -> (i64, i64, i64) {
    // SAFETY: clock_gettime and getrusage write into structs we own.
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts);
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
    }
    (ts.tv_sec as i64 * 1_000_000 + ts.tv_nsec as i64 / 1000,
     ru.ru_utime.tv_sec as i64 * 1_000_000 + ru.ru_utime.tv_usec as i64,
     ru.ru_stime.tv_sec as i64 * 1_000_000 + ru.ru_stime.tv_usec as i64)
}

struct Agent {
    id: String,
    start: u64,
    first: u64,
    end: u64,
    tokens: u64,
    bytes: u64,
    lines: Vec<u64>,
    error: Option<String>,
}

async fn agent(client: reqwest::Client, url: String, id: String, body: String) -> Agent {
    let mut a = Agent { id, start: mono_ns(), first: 0, end: 0, tokens: 0, bytes: 0,
                        lines: Vec::with_capacity(1024), error: None };
    let resp = client
        .post(format!("{}/api/generate", url))
        .header("X-Parbench-Request", a.id.as_str())
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await;
    let mut resp = match resp {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => { a.error = Some(format!("HTTP {}", r.status())); a.end = mono_ns(); return a; }
        Err(e) => { a.error = Some(e.to_string()); a.end = mono_ns(); return a; }
    };
    // NDJSON: split the byte stream into lines; a line is stamped when the
    // chunk that completes it arrives.
    let mut pending: Vec<u8> = Vec::with_capacity(4096);
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let t = mono_ns();
                a.bytes += chunk.len() as u64;
                pending.extend_from_slice(&chunk);
                while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=nl).collect();
                    a.lines.push(t);
                    let v: serde_json::Value = match serde_json::from_slice(&line) {
                        Ok(v) => v,
                        Err(e) => { a.error = Some(format!("bad line: {}", e)); continue; }
                    };
                    if v.get("done").and_then(|d| d.as_bool()) == Some(true) {
                        a.end = t;
                    } else {
                        if a.tokens == 0 { a.first = t; }
                        a.tokens += 1;
                    }
                }
            }
            Ok(None) => break,
            Err(e) => { a.error = Some(e.to_string()); break; }
        }
    }
    if a.end == 0 { a.end = mono_ns(); }
    a
}

async fn run(url: String, n: usize, tokens: u32, prompt: String) -> Vec<Agent> {
    // A pool as large as the agents: every agent gets its own connection at once.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(n)
        .no_proxy()
        .build()
        .expect("reqwest client");
    let pid = std::process::id();
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let body = serde_json::json!({
            "model": "gemma3:latest", "prompt": prompt, "stream": true,
            "options": {"num_predict": tokens}
        }).to_string();
        handles.push(tokio::spawn(agent(client.clone(), url.clone(), format!("tokio-{}-{}", pid, i + 1), body)));
    }
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.expect("agent task"));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: peer-tokio URL N TOKENS current|multi [PROMPT]");
        std::process::exit(2);
    }
    let url = args[1].clone();
    let n: usize = args[2].parse().expect("N");
    let tokens: u32 = args[3].parse().expect("TOKENS");
    let prompt = args.get(5).cloned().unwrap_or_else(|| "Benchmark prompt.".to_string());
    let rt = match args[4].as_str() {
        "current" => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        "multi" => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
        f => { eprintln!("peer-tokio: flavour must be current or multi, got {}", f); std::process::exit(2); }
    }
    .expect("tokio runtime");
    // CPU of the streaming alone (client set-up, connections, streams),
    // as collect records per phase: start-up and output stay outside.
    let cpu0 = cpu_us();
    let agents = rt.block_on(run(url, n, tokens, prompt));
    let cpu1 = cpu_us();
    let stdout = std::io::stdout();
    let mut o = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0;
    for a in &agents {
        if let Some(e) = &a.error { eprintln!("peer-tokio: {}: {}", a.id, e); failed += 1; }
        writeln!(o, "A {} {} {} {} {} {}", a.id, a.start, a.first, a.end, a.tokens, a.bytes).unwrap();
        write!(o, "C {}", a.id).unwrap();
        for t in &a.lines { write!(o, " {}", t).unwrap(); }
        writeln!(o).unwrap();
    }
    writeln!(o, "R {} {} {}", cpu1.0 - cpu0.0, cpu1.1 - cpu0.1, cpu1.2 - cpu0.2).unwrap();
    o.flush().unwrap();
    std::process::exit(if failed > 0 { 1 } else { 0 });
}
