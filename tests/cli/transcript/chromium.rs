//! Chromium for the HTML export's tests: the browser (or a failure saying how to install it), its
//! DOM after scripts ran, and a loopback proxy that records every request it is sent.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::tempdir;

/// Chromium, or a failure that says how to get it.
pub fn chromium() -> PathBuf {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "chromium is missing: the HTML export is tested in a real headless Chromium; \
         install it with `DEBIAN_FRONTEND=noninteractive apt-get install -y chromium` (as .ci/run does)"
    );
}

/// A TCP listener on loopback that counts the connections it is offered.
pub struct Trap {
    pub port: u16,
    /// The first line of each request: `GET http://host/… HTTP/1.1` or `CONNECT host:443 …`.
    pub requests: Arc<Mutex<Vec<String>>>,
}

pub fn trap() -> Trap {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let mut line = String::from("(no request line)");
            if let Ok(mut c) = conn {
                let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 2048];
                let n = c.read(&mut buf).unwrap_or(0);
                let text = String::from_utf8_lossy(&buf[..n]);
                line = text.lines().next().unwrap_or(&line).to_string();
            }
            seen.lock().unwrap().push(line);
        }
    });
    Trap { port, requests }
}

/// The host a proxied request line is for.
fn host_of(line: &str) -> String {
    let target = line.split(' ').nth(1).unwrap_or("");
    let target = target
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let host = target.split('/').next().unwrap_or("");
    host.rsplit_once(':').map_or(host, |(h, _)| h).to_string()
}

/// Debian's Chromium talks to its own services (extension updates, sign-in) whatever the flags,
/// on an empty page too: those requests are the browser's, never the page's.
fn is_browser_service(host: &str) -> bool {
    [
        ".google.com",
        ".googleapis.com",
        ".gvt1.com",
        ".gstatic.com",
    ]
    .iter()
    .any(|d| host.ends_with(d))
}

/// Every request that reached the trap came from the browser itself, none from the page.
pub fn assert_page_made_no_request(trap: &Trap) {
    let all = trap.requests.lock().unwrap().clone();
    let page: Vec<&String> = all
        .iter()
        .filter(|l| !is_browser_service(&host_of(l)))
        .collect();
    assert!(page.is_empty(), "the page made network requests: {page:?}");
}

/// Chromium's DOM of `url` after its scripts ran, with every http(s) request sent to `trap`.
pub fn dump_dom(url: &str, trap: &Trap) -> String {
    let profile = tempdir();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-features=NetworkTimeServiceQuerying",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{}", trap.port))
        .arg("--proxy-bypass-list=<-loopback>")
        .arg("--dump-dom")
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let dom = reader.join().unwrap();
    assert!(
        dom.contains("<body"),
        "chromium dumped no DOM for {url}:\n{dom}"
    );
    dom
}

/// The `<body …>` opening tag of a dumped DOM.
pub fn body_tag(dom: &str) -> &str {
    let at = dom.find("<body").unwrap();
    &dom[at..at + dom[at..].find('>').unwrap()]
}
