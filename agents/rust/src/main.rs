//! pb-agent: the original study's Rust agent runtimes as one program, an exec
//! runtime of `collect` (agents/README.md). It reads the phase's job file
//! (`PARBENCH_JOB`), runs every agent of it concurrently on the chosen
//! runtime (a join of the agents), streams each answer to its end, prints one
//! JSON line per agent on stdout and exits 0 when every request succeeded.
mod agent;
mod http;
mod job;
mod stream;

use agent::Outcome;
use futures::future::join_all;
use http::Transport;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: PARBENCH_JOB=job.json pb-agent --runtime NAME [--study-harness] [--timeout SECONDS]
       pb-agent --runtime NAME [--study-harness] --describe
  --runtime NAME   tokio-default | tokio-localset | smol | smol-1kb | async-std
  --study-harness  run the agents the way the study's harness did: joined in
                   one task on every runtime (tokio-localset: a LocalSet on a
                   multi-thread runtime), each holding its runtime's 2-permit
                   coordinator for its whole run; async-std's coordinator
                   was an async Mutex, so there the agents run one at a time
  --describe       print how NAME runs the agents and their HTTP calls, and exit
  --timeout S      bound on each request, headers to last byte (default: the job's
                   timeout_s, else 600)
Env: PARBENCH_JOB (the job file), PB_AGENT_VERBOSE=1 (stderr: the threads that
polled each agent and ran its HTTP calls).
Exit: 0 every request streamed to its final line, 1 a request failed (one line
on stderr), 2 bad command line or job file.";

#[derive(Clone, Copy, PartialEq)]
enum Runtime {
    TokioDefault,
    TokioLocalSet,
    Smol,
    Smol1Kb,
    AsyncStd,
}

impl Runtime {
    fn parse(s: &str) -> Option<Runtime> {
        Some(match s {
            "tokio-default" => Runtime::TokioDefault,
            "tokio-localset" => Runtime::TokioLocalSet,
            "smol" => Runtime::Smol,
            "smol-1kb" => Runtime::Smol1Kb,
            "async-std" => Runtime::AsyncStd,
            _ => return None,
        })
    }

    fn transport(self) -> Transport {
        match self {
            Runtime::TokioDefault | Runtime::TokioLocalSet => Transport::Direct,
            _ => Transport::Bridge,
        }
    }

    fn rechunk(self) -> Option<usize> {
        if self == Runtime::Smol1Kb { Some(1024) } else { None }
    }

    fn describe(self) -> &'static str {
        match self {
            Runtime::TokioDefault => "tokio-default: agents tokio::spawn'ed on a multi-thread tokio runtime (work-stealing, one worker per CPU), joined; HTTP: reqwest on that runtime; body pieces as reqwest returns them",
            Runtime::TokioLocalSet => "tokio-localset: agents spawn_local'ed on a tokio LocalSet of a current-thread runtime (one thread), joined; HTTP: reqwest on that runtime; body pieces as reqwest returns them",
            Runtime::Smol => "smol: agents joined (futures::join_all) under smol::block_on on the main thread; HTTP: each model call (request, streamed answer, parsing) a task spawned onto the HTTP bridge (once_cell::Lazy multi-thread tokio runtime, 2 workers); body pieces as reqwest returns them",
            Runtime::Smol1Kb => "smol-1kb: agents joined (futures::join_all) under smol::block_on on the main thread; HTTP: each model call (request, streamed answer, parsing) a task spawned onto the HTTP bridge (once_cell::Lazy multi-thread tokio runtime, 2 workers); body re-cut into pieces of at most 1024 bytes before line parsing",
            Runtime::AsyncStd => "async-std: agents joined (futures::join_all) under async_std::task::block_on on the main thread; HTTP: each model call (request, streamed answer, parsing) a task spawned onto the HTTP bridge (once_cell::Lazy multi-thread tokio runtime, 2 workers); body pieces as reqwest returns them",
        }
    }
}

/// The study harness's "resource coordinator": every agent ran inside it.
/// A semaphore of 2 permits on the tokio and smol runtimes (no limit for its
/// two agents); on async-std an async Mutex, which lets one agent run at a
/// time. Reproduced to measure what that did, not as a recommendation.
#[derive(Clone)]
enum Coordinator {
    None,
    Permits(Arc<tokio::sync::Semaphore>),
    Lock(Arc<async_std::sync::Mutex<()>>),
}

impl Coordinator {
    async fn run<F: Future>(self, f: F) -> F::Output {
        match self {
            Coordinator::None => f.await,
            Coordinator::Permits(s) => {
                let _permit = s.acquire().await;
                f.await
            }
            Coordinator::Lock(m) => {
                let _held = m.lock().await;
                f.await
            }
        }
    }
}

fn usage_error(msg: &str) -> ! {
    eprintln!("pb-agent: {}\n{}", msg, USAGE);
    std::process::exit(2);
}

fn joined(r: Result<Outcome, String>, id: &str) -> Outcome {
    r.unwrap_or_else(|e| Outcome::failed(id, "", format!("agent task: {}", e)))
}

fn tokio_runtime(b: &mut tokio::runtime::Builder) -> tokio::runtime::Runtime {
    b.enable_all()
        .build()
        .unwrap_or_else(|e| usage_error(&format!("cannot start the tokio runtime: {}", e)))
}

/// Runs every agent on `rt` and joins them. By default the tokio runtimes
/// spawn one task per agent (so work-stealing, or the LocalSet, has tasks to
/// schedule); `study` runs the study harness's shape instead (Coordinator).
fn run_all(rt: Runtime, study: bool, agents: Vec<job::Agent>, client: reqwest::Client) -> Vec<Outcome> {
    let ids: Vec<String> = agents.iter().map(|a| a.id.clone()).collect();
    let t = rt.transport();
    let c = rt.rechunk();
    let coord = match (study, rt) {
        (false, _) => Coordinator::None,
        (true, Runtime::AsyncStd) => Coordinator::Lock(Arc::new(async_std::sync::Mutex::new(()))),
        (true, _) => Coordinator::Permits(Arc::new(tokio::sync::Semaphore::new(2))),
    };
    let futs = agents.into_iter().map(move |a| coord.clone().run(agent::run(a, client.clone(), t, c)));
    let ok = |v: Vec<Outcome>| v.into_iter().map(Ok).collect();
    let out: Vec<Result<Outcome, String>> = match (rt, study) {
        (Runtime::TokioDefault, false) => tokio_runtime(&mut tokio::runtime::Builder::new_multi_thread()).block_on(async {
            let tasks: Vec<_> = futs.map(tokio::spawn).collect();
            join_all(tasks).await.into_iter().map(|r| r.map_err(|e| e.to_string())).collect()
        }),
        (Runtime::TokioDefault, true) => {
            ok(tokio_runtime(&mut tokio::runtime::Builder::new_multi_thread()).block_on(join_all(futs)))
        }
        (Runtime::TokioLocalSet, false) => {
            let r = tokio_runtime(&mut tokio::runtime::Builder::new_current_thread());
            tokio::task::LocalSet::new().block_on(&r, async {
                let tasks: Vec<_> = futs.map(tokio::task::spawn_local).collect();
                join_all(tasks).await.into_iter().map(|r| r.map_err(|e| e.to_string())).collect()
            })
        }
        (Runtime::TokioLocalSet, true) => {
            let r = tokio_runtime(&mut tokio::runtime::Builder::new_multi_thread());
            ok(r.block_on(tokio::task::LocalSet::new().run_until(join_all(futs))))
        }
        (Runtime::Smol | Runtime::Smol1Kb, _) => ok(smol::block_on(join_all(futs))),
        (Runtime::AsyncStd, _) => ok(async_std::task::block_on(join_all(futs))),
    };
    out.into_iter().zip(ids.iter()).map(|(r, id)| joined(r, id)).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut runtime = None;
    let mut describe = false;
    let mut study = false;
    let mut timeout: Option<f64> = None;
    let mut i = 0;
    while i < args.len() {
        let value = |i: usize| args.get(i + 1).cloned().unwrap_or_else(|| usage_error(&format!("{} needs a value", args[i])));
        match args[i].as_str() {
            "--runtime" => {
                let v = value(i);
                runtime = Some(Runtime::parse(&v).unwrap_or_else(|| usage_error(&format!("unknown runtime \"{}\"", v))));
                i += 1;
            }
            "--timeout" => {
                let v = value(i);
                timeout = Some(v.parse::<f64>().ok().filter(|t| t.is_finite() && *t > 0.0 && *t <= 86400.0)
                    .unwrap_or_else(|| usage_error(&format!("--timeout \"{}\": seconds, 0 < S <= 86400", v))));
                i += 1;
            }
            "--describe" => describe = true,
            "--study-harness" => study = true,
            "-h" | "--help" => {
                println!("{}", USAGE);
                return;
            }
            a => usage_error(&format!("unknown argument \"{}\"", a)),
        }
        i += 1;
    }
    let rt = runtime.unwrap_or_else(|| usage_error("--runtime is required"));
    if describe {
        println!("{}", rt.describe());
        if study {
            println!("study harness, instead of the agents' scheduling above: {}", match rt {
                Runtime::AsyncStd => "agents joined in one task, each holding an async Mutex for its whole run (one agent at a time)",
                Runtime::TokioLocalSet => "agents joined in one task in a LocalSet on a multi-thread runtime, each holding a 2-permit semaphore",
                _ => "agents joined in one task, each holding a 2-permit semaphore",
            });
        }
        return;
    }
    let path = std::env::var("PARBENCH_JOB")
        .unwrap_or_else(|_| usage_error("PARBENCH_JOB is not set: it names the job file collect writes"));
    let (agents, job_timeout) = job::load(&path).unwrap_or_else(|e| usage_error(&e));
    // One client for every agent, as the study's harness had; the endpoints
    // are parbench's loopback proxies, so proxy variables must not apply.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs_f64(timeout.or(job_timeout).unwrap_or(600.0)))
        .build()
        .unwrap_or_else(|e| usage_error(&format!("cannot build the HTTP client: {}", e)));
    let n = agents.len();
    let outcomes = run_all(rt, study, agents, client);
    let verbose = std::env::var("PB_AGENT_VERBOSE").map_or(false, |v| v == "1");
    let mut failed = Vec::new();
    for o in &outcomes {
        println!(
            "{}",
            serde_json::json!({"agent": o.id, "request": o.request_id, "ok": o.error.is_none(),
                               "status": o.status, "tokens": o.tokens, "bytes": o.bytes})
        );
        if verbose {
            eprintln!("pb-agent: {}: agent polled on thread '{}', HTTP calls on thread '{}'",
                      o.id, o.agent_thread, o.http_thread);
        }
        if let Some(e) = &o.error {
            failed.push(format!("{} ({}): {}", o.id, o.request_id, e));
        }
    }
    if !failed.is_empty() {
        eprintln!("pb-agent: {} of {} requests failed: {}", failed.len(), n, failed.join("; "));
        std::process::exit(1);
    }
}
