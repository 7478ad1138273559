//! Simulator throughput: issue GET and issue edit over loopback HTTP/1.1 keep-alive.
//!
//! The simulator runs on one thread (a current-thread runtime, so one core); a raw HTTP client
//! on another thread keeps a few connections busy. Prints requests per second for each case.
//! Run: `cargo bench -p twinsync-jira-sim --bench sim` (set SIM_BENCH_SECS to change the duration).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use twinsync_jira_sim::{SimOptions, Simulator};

const CONNECTIONS: usize = 8;

/// Reads one HTTP/1.1 response; returns its status.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let total = end + 4 + len;
            while buf.len() < total {
                let mut chunk = [0u8; 65536];
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..total);
            return Ok(status);
        }
        let mut chunk = [0u8; 65536];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Keeps `CONNECTIONS` connections sending requests made by `make(i)` for `secs`; returns requests/s.
fn drive(
    addr: String,
    secs: f64,
    expect: u16,
    make: fn(usize, &str) -> Vec<u8>,
    auth: String,
) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    rt.block_on(async move {
        let deadline = Instant::now() + Duration::from_secs_f64(secs);
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CONNECTIONS {
            let addr = addr.clone();
            let auth = auth.clone();
            tasks.push(tokio::spawn(async move {
                let mut s = TcpStream::connect(&addr).await.expect("connect");
                s.set_nodelay(true).expect("nodelay");
                let mut buf = Vec::new();
                let mut n = 0usize;
                while Instant::now() < deadline {
                    let req = make(c * 1_000_000 + n, &auth);
                    s.write_all(&req).await.expect("write");
                    let status = read_response(&mut s, &mut buf).await.expect("response");
                    assert_eq!(status, expect, "unexpected status");
                    n += 1;
                }
                n
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("client task");
        }
        total as f64 / start.elapsed().as_secs_f64()
    })
}

fn get_issue(_: usize, auth: &str) -> Vec<u8> {
    format!("GET /rest/api/3/issue/SUP-1 HTTP/1.1\r\nHost: bench\r\nAuthorization: {auth}\r\nAccept: application/json\r\n\r\n").into_bytes()
}

fn edit_issue(n: usize, auth: &str) -> Vec<u8> {
    // Spread edits over the bench's 200 issues so no single history grows without bound.
    let key = format!("DEV-{}", 3 + n % 200);
    let body = format!("{{\"fields\":{{\"summary\":\"edit {n}\"}}}}");
    format!(
        "PUT /rest/api/3/issue/{key} HTTP/1.1\r\nHost: bench\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn main() {
    let secs: f64 = std::env::var("SIM_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let (tx, rx) = std::sync::mpsc::channel();
    // The simulators get their own thread and a current-thread runtime: one core.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let mut handles = Vec::new();
            for cache in [true, false] {
                let mut o = SimOptions::cloud();
                o.render_cache = cache;
                let h = Simulator::start(o).await.expect("simulator starts");
                for n in 0..200 {
                    h.create_issue("DEV", "Task", &format!("bench {n}"))
                        .expect("create");
                }
                let addr = h.url().trim_start_matches("http://").to_string();
                tx.send((addr, h.auth_header())).expect("hand over");
                handles.push(h);
            }
            std::future::pending::<()>().await;
        });
    });
    let (cached, auth) = rx.recv().expect("simulator address");
    let (uncached, auth2) = rx.recv().expect("simulator address");
    let note = format!("{CONNECTIONS} keep-alive connections, server on one core");
    let get = drive(cached.clone(), secs, 200, get_issue, auth.clone());
    println!(
        "sim: issue GET  {get:>9.0} requests/s (Cloud v3 full issue, unchanged: render cache; {note})"
    );
    let fresh = drive(uncached, secs, 200, get_issue, auth2);
    println!(
        "sim: issue GET  {fresh:>9.0} requests/s (Cloud v3 full issue, rendered every time; {note})"
    );
    let edit = drive(cached, secs, 204, edit_issue, auth);
    println!("sim: issue edit {edit:>9.0} requests/s (Cloud v3 PUT summary; {note})");
}
