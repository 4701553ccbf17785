//! A small blocking W3C WebDriver client for chromedriver: the handful of commands the
//! dashboard test needs, over plain HTTP/1.1 on a local socket (no TLS, no async runtime,
//! no browser download: it drives Debian's `chromium` through `chromedriver`).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The key of an element reference in WebDriver responses.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running chromedriver and one browser session; both end on drop.
pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
    _profile: tempfile::TempDir,
}

/// An element found on the page.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

/// Where chromium and chromedriver are, if installed (`WARDEN_CHROMIUM`,
/// `WARDEN_CHROMEDRIVER`, or Debian's paths).
pub fn installed() -> Option<(String, String)> {
    let find = |var: &str, default: &str| {
        let path = std::env::var(var).unwrap_or_else(|_| default.to_owned());
        std::path::Path::new(&path).exists().then_some(path)
    };
    Some((
        find("WARDEN_CHROMIUM", "/usr/bin/chromium")?,
        find("WARDEN_CHROMEDRIVER", "/usr/bin/chromedriver")?,
    ))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| unreachable!("no free port: {e}"))
}

/// One HTTP request to chromedriver; returns the status and the JSON body.
fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut s =
        TcpStream::connect(addr).unwrap_or_else(|e| unreachable!("chromedriver {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let body = body.map(Value::to_string).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .unwrap_or_else(|e| unreachable!("write to chromedriver: {e}"));
    // chromedriver may keep the connection open: read the head, then Content-Length bytes
    // (or chunks until the last one).
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let complete = |raw: &[u8]| -> Option<(String, String)> {
        let text = String::from_utf8_lossy(raw);
        let (head, rest) = text.split_once("\r\n\r\n")?;
        let lower = head.to_ascii_lowercase();
        if lower.contains("transfer-encoding: chunked") {
            return rest
                .contains("\r\n0\r\n")
                .then(|| (head.to_owned(), dechunk(rest)));
        }
        let len = lower
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        (rest.len() >= len).then(|| (head.to_owned(), rest.to_owned()))
    };
    let (head, body) = loop {
        if let Some(done) = complete(&raw) {
            break done;
        }
        let n = s
            .read(&mut buf)
            .unwrap_or_else(|e| unreachable!("read from chromedriver: {e}"));
        if n == 0 {
            break complete(&raw).unwrap_or_else(|| {
                unreachable!("chromedriver hung up: {}", String::from_utf8_lossy(&raw))
            });
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let value = serde_json::from_str(&body).unwrap_or(Value::Null);
    (status, value)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(after.get(..n).unwrap_or(after));
        rest = after.get(n + 2..).unwrap_or("");
    }
    out
}

/// Decodes standard base64 (screenshots).
fn base64(text: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in text.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap_or(0));
        }
    }
    out
}

impl Browser {
    /// Starts chromedriver on a free port and a headless chromium session with a fresh
    /// profile, `width`×`height` pixels.
    pub fn start(chromium: &str, chromedriver: &str, width: u32, height: u32) -> Browser {
        let port = free_port();
        let mut driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| unreachable!("start chromedriver: {e}"));
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args }
        } } });
        let (status, v) = http(&addr, "POST", "/session", Some(&caps));
        let Some(session) = v["value"]["sessionId"].as_str().map(str::to_owned) else {
            let _ = driver.kill();
            let _ = driver.wait();
            unreachable!("chromedriver opened no session ({status}): {v}")
        };
        Browser {
            driver,
            addr,
            session,
            _profile: profile,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = http(
            &self.addr,
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        );
        assert!(status == 200, "{method} {path}: {status} {v}");
        v["value"].clone()
    }

    /// Opens a URL and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's HTML.
    pub fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching a CSS selector, if any.
    pub fn try_find(&self, css: &str) -> Option<Element<'_>> {
        let (status, v) = http(
            &self.addr,
            "POST",
            &format!("/session/{}/element", self.session),
            Some(&json!({ "using": "css selector", "value": css })),
        );
        (status == 200).then(|| Element {
            browser: self,
            id: v["value"][ELEMENT].as_str().unwrap_or_default().to_owned(),
        })
    }

    /// The first element matching a CSS selector (the test fails without one).
    pub fn find(&self, css: &str) -> Element<'_> {
        self.try_find(css)
            .unwrap_or_else(|| unreachable!("no element `{css}` on {}", self.url()))
    }

    /// The page's visible text (read in one script, retried while a navigation replaces
    /// the document).
    pub fn text(&self) -> String {
        for _ in 0..40 {
            let (status, v) = http(
                &self.addr,
                "POST",
                &format!("/session/{}/execute/sync", self.session),
                Some(&json!({
                    "script": "return document.readyState === 'complete' && document.body ? document.body.innerText : null;",
                    "args": []
                })),
            );
            if let (200, Some(text)) = (status, v["value"].as_str()) {
                return text.to_owned();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        unreachable!("the page at {} never finished loading", self.url())
    }

    /// Waits until the page's text contains `needle` (re-reading it; the page may refresh
    /// itself).
    pub fn wait_for_text(&self, needle: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if self.text().contains(needle) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Runs a script in the page (WebDriver's, not subject to the page's CSP).
    pub fn execute(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Saves a PNG screenshot of the viewport.
    pub fn screenshot(&self, path: &std::path::Path) {
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64(b64.as_str().unwrap_or_default());
        assert!(png.starts_with(b"\x89PNG"), "not a PNG screenshot");
        std::fs::write(path, png).unwrap_or_else(|e| unreachable!("{}: {e}", path.display()));
    }
}

impl Element<'_> {
    fn path(&self, tail: &str) -> String {
        format!("/element/{}{tail}", self.id)
    }

    /// Types text into the element.
    pub fn send_keys(&self, text: &str) {
        self.browser
            .cmd("POST", &self.path("/value"), Some(json!({ "text": text })));
    }

    /// Empties a text field.
    pub fn clear(&self) {
        self.browser
            .cmd("POST", &self.path("/clear"), Some(json!({})));
    }

    /// Clicks a link or submit button and waits for the next page to load.
    pub fn click(&self) {
        self.browser.execute("window.__wardenOld = true;");
        self.browser
            .cmd("POST", &self.path("/click"), Some(json!({})));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (status, v) = http(
                &self.browser.addr,
                "POST",
                &format!("/session/{}/execute/sync", self.browser.session),
                Some(&json!({
                    "script": "return !window.__wardenOld && document.readyState === 'complete';",
                    "args": []
                })),
            );
            if status == 200 && v["value"] == true {
                return;
            }
            assert!(Instant::now() < deadline, "the click led to no new page");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(
            &self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[test]
fn base64_decodes() {
    assert_eq!(base64("aGVsbG8="), b"hello");
    assert_eq!(base64("aGk="), b"hi");
}
