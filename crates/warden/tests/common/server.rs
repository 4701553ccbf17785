//! A real `warden serve` for the binary's integration tests: started on a free port with its
//! address read from stderr, the `warden` command line run beside it in the same folder,
//! requests over a plain HTTP/1.1 socket, and a graceful stop.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `warden ARGS` in `dir`, as `token` (`WARDEN_TOKEN` is unset without one); the caller may
/// add to it before running it.
pub fn command(dir: &Path, token: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.current_dir(dir).args(args).env_remove("WARDEN_TOKEN");
    if let Some(t) = token {
        cmd.env("WARDEN_TOKEN", t);
    }
    cmd
}

/// Runs `warden ARGS` in `dir` as `token` (see [`command`]).
pub fn warden_in(dir: &Path, token: Option<&str>, args: &[&str]) -> Output {
    run(command(dir, token, args))
}

/// Runs a command made by [`command`] to its end.
pub fn run(mut cmd: Command) -> Output {
    cmd.output().unwrap_or_else(|e| unreachable!("warden: {e}"))
}

/// `warden token create ARGS` in `dir` as the admin token `admin`; returns the new secret.
pub fn create_token(dir: &Path, admin: &str, args: &[&str]) -> String {
    let mut all = vec!["token", "create"];
    all.extend_from_slice(args);
    token_from(&warden_in(dir, Some(admin), &all), &format!("{args:?}"))
}

/// A token for `name` with `role` in space `dev`, made by the admin token `admin`.
pub fn token(dir: &Path, admin: &str, role: &str, name: &str) -> String {
    create_token(
        dir,
        admin,
        &["--role", role, "--space", "dev", "--name", name],
    )
}

/// The secret a `warden token create` printed (the test fails with its stderr, naming
/// `what`, if it failed).
pub fn token_from(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "token create {what}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// `warden serve --listen 127.0.0.1:0 EXTRA` in `dir` with `admin` as the bootstrap admin
/// token, stderr piped for [`listening`]; the caller may add to it before spawning it.
pub fn serve_command(dir: &Path, admin: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.current_dir(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("WARDEN_ADMIN_TOKEN", admin)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Spawns a command made by [`serve_command`].
pub fn spawn(mut cmd: Command) -> Child {
    cmd.spawn().unwrap_or_else(|e| unreachable!("serve: {e}"))
}

/// Starts `warden serve` (see [`serve_command`]) and waits until it listens; returns the
/// child and its address.
pub fn serve(dir: &Path, admin: &str, extra: &[&str]) -> (Child, String) {
    let mut child = spawn(serve_command(dir, admin, extra));
    let addr = listening(&mut child);
    (child, addr)
}

/// Waits for a started server's "listening on http://ADDR" line and returns ADDR; stderr is
/// drained from then on so the server never blocks on a full pipe.
pub fn listening(child: &mut Child) -> String {
    let stderr = child
        .stderr
        .take()
        .unwrap_or_else(|| unreachable!("no stderr"));
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = match lines.next() {
            Some(Ok(line)) => line,
            other => {
                let _ = child.kill();
                unreachable!("serve ended before listening: {other:?}")
            }
        };
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    addr
}

/// Sends SIGTERM and waits up to `within` for the server to end: its exit status, or `None`
/// when it had to be killed.
pub fn terminate(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Stops the server gracefully within 10 s; the test fails if it does not, or if it exits
/// with a failure.
pub fn stop(mut child: Child) {
    match terminate(&mut child, Duration::from_secs(10)) {
        Some(status) => assert!(status.success(), "serve exited with {status}"),
        None => unreachable!("serve did not stop on SIGTERM"),
    }
}

/// A minimal HTTP/1.1 request: the status and the body, or what went wrong (no connection,
/// a cut or malformed response).
pub fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut response = String::new();
    s.read_to_string(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("bad response: {response}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line: {head}"))?;
    Ok((status, body.to_owned()))
}

/// [`try_request`] that fails the test on any error.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    try_request(addr, method, path, token, body).unwrap_or_else(|e| unreachable!("{e}"))
}

/// [`request`] with the body parsed as JSON (the test fails if it is not JSON).
pub fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let (status, body) = request(addr, method, path, token, body);
    let value =
        serde_json::from_str(&body).unwrap_or_else(|e| unreachable!("not JSON ({e}): {body}"));
    (status, value)
}

/// Calls `fetch` every 200 ms until `done` holds of its answer, and returns that answer; the
/// test fails after `within`, naming `what` and showing the last answer.
pub fn poll<T: std::fmt::Debug>(
    within: Duration,
    what: &str,
    mut fetch: impl FnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        let now = fetch();
        if done(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {now:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The policy revision `/readyz` reports.
pub fn revision(addr: &str) -> String {
    let (s, v) = http(addr, "GET", "/readyz", None, "");
    assert_eq!(s, 200, "{v}");
    v["policy_revision"].as_str().unwrap_or_default().to_owned()
}

/// Waits (up to 20 s) until `/readyz` reports a revision other than `old`; returns it.
pub fn wait_for_new_revision(addr: &str, old: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let now = revision(addr);
        if now != old {
            return now;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    unreachable!("{addr}: the policy was not reloaded within 20 s")
}
