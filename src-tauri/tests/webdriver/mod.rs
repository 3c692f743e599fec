//! The real app window under Xvfb, driven over WebDriver: Xvfb, Debian's
//! `WebKitWebDriver` (from webkit2gtk-driver) talking W3C WebDriver, and
//! the app binary it launches with `TAURI_WEBVIEW_AUTOMATION`.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How often a wait asks the page again.
const POLL: Duration = Duration::from_millis(10);

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One app window at a time: tests in one binary run on threads, and two
/// Xvfb servers started at once could pick the same display.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Xvfb on a display of its own.
pub struct Display {
    child: Child,
    pub number: u32,
}

impl Display {
    pub fn start() -> Display {
        for number in 90 + std::process::id() % 50..200 {
            clear_stale_display(number);
            if Path::new(&format!("/tmp/.X11-unix/X{number}")).exists() {
                continue;
            }
            let child = Command::new("Xvfb")
                .arg(format!(":{number}"))
                .args(["-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb (scripts/setup.sh installs xvfb)");
            let mut display = Display { child, number };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if Path::new(&format!("/tmp/.X11-unix/X{number}")).exists() {
                    return display;
                }
                if let Ok(Some(_)) = display.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            kill(&mut display.child);
        }
        panic!("no Xvfb display could be started");
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        // SIGTERM first: Xvfb then removes its socket and lock file.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        kill(&mut self.child);
        clear_stale_display(self.number);
    }
}

/// Removes the socket and lock of a display whose Xvfb is gone (killed
/// without a chance to clean up), so the number can be used again.
fn clear_stale_display(number: u32) {
    let lock = format!("/tmp/.X{number}-lock");
    let Ok(text) = std::fs::read_to_string(&lock) else {
        return;
    };
    let alive = text
        .trim()
        .parse::<u32>()
        .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
    if !alive {
        let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{number}"));
        let _ = std::fs::remove_file(&lock);
    }
}

/// A WebDriver session on the app.
pub struct App {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
    /// The app's data dir: its processes are found (and killed) by it.
    pub data_dir: PathBuf,
    pub screenshots: PathBuf,
    shots: std::cell::Cell<usize>,
    _display: Display,
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl App {
    /// Starts the app binary with `args` (plus `--data-dir data_dir`) in a
    /// fresh Xvfb, and waits until its page has loaded.
    pub fn launch(binary: &Path, args: &[&str], data_dir: &Path, screenshots: &Path) -> App {
        App::launch_with_env(binary, args, &[], data_dir, screenshots)
    }

    /// [`App::launch`] with `env` set for the app (through WebKitWebDriver,
    /// which starts it and whose environment it inherits).
    pub fn launch_with_env(
        binary: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        data_dir: &Path,
        screenshots: &Path,
    ) -> App {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let display = Display::start();
        let port = free_port();
        let driver = Command::new("WebKitWebDriver")
            .arg(format!("--port={port}"))
            .envs(env.iter().copied())
            .env("DISPLAY", format!(":{}", display.number))
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("WebKitWebDriver (scripts/setup.sh installs webkit2gtk-driver)");
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http
                .get(format!("{base}/status"))
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "WebKitWebDriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut all_args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all_args.push("--data-dir".into());
        all_args.push(data_dir.display().to_string());
        // Not the settings of whoever runs the tests.
        all_args.push("--config-dir".into());
        all_args.push(data_dir.join("config").display().to_string());
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&json!({
                "capabilities": {
                    "alwaysMatch": {
                        "webkitgtk:browserOptions": {
                            "binary": binary.display().to_string(),
                            "args": all_args,
                        }
                    }
                }
            }))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {response}"))
            .to_string();
        std::fs::create_dir_all(screenshots).unwrap();
        App {
            driver,
            base,
            session,
            http,
            data_dir: data_dir.to_path_buf(),
            screenshots: screenshots.to_path_buf(),
            shots: std::cell::Cell::new(0),
            _display: display,
            _turn: turn,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let response: Value = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .unwrap()
            .json()
            .unwrap();
        response["value"].clone()
    }

    fn get(&self, path: &str) -> Value {
        let response: Value = self
            .http
            .get(self.url(path))
            .send()
            .unwrap()
            .json()
            .unwrap();
        response["value"].clone()
    }

    /// The handles of the app's windows.
    pub fn windows(&self) -> Vec<String> {
        self.get("/window/handles")
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The handle of the window WebDriver talks to now.
    pub fn current_window(&self) -> String {
        self.get("/window").as_str().unwrap_or_default().to_string()
    }

    pub fn switch_to(&self, handle: &str) {
        let result = self.post("/window", json!({ "handle": handle }));
        assert!(result.is_null(), "switch to {handle}: {result}");
    }

    /// Sets the window's size (the screen is 1920×1080).
    pub fn resize(&self, width: u32, height: u32) {
        self.post(
            "/window/rect",
            json!({ "width": width, "height": height, "x": 0, "y": 0 }),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.script("return window.innerWidth;").as_u64() != Some(u64::from(width)) {
            assert!(
                Instant::now() < deadline,
                "the window did not resize to {width}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the element is entirely inside the window.
    pub fn fully_visible(&self, testid: &str) -> bool {
        self.script(&format!(
            "const r = document.querySelector('[data-testid=\"{testid}\"]').getBoundingClientRect(); return r.left >= 0 && r.top >= 0 && r.right <= window.innerWidth && r.bottom <= window.innerHeight;"
        ))
        .as_bool()
            == Some(true)
    }

    /// Runs an async script; its result is what it passes to
    /// `arguments[0]`.
    pub fn post_async(&self, script: &str) -> Value {
        self.post("/execute/async", json!({ "script": script, "args": [] }))
    }

    pub fn script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
    }

    /// The element with `data-testid`, if it is on screen now.
    pub fn find(&self, testid: &str) -> Option<String> {
        let found = self.post(
            "/element",
            json!({ "using": "css selector", "value": format!("[data-testid=\"{testid}\"]") }),
        );
        found[ELEMENT].as_str().map(str::to_string)
    }

    /// Waits up to 15 s for the element with `data-testid`.
    pub fn wait(&self, testid: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(element) = self.find(testid) {
                return element;
            }
            if Instant::now() > deadline {
                let body = self.script("return document.body.innerText;");
                panic!("{testid} did not appear; the screen says:\n{body}");
            }
            std::thread::sleep(POLL);
        }
    }

    pub fn wait_gone(&self, testid: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.find(testid).is_some() {
            assert!(Instant::now() < deadline, "{testid} did not go away");
            std::thread::sleep(POLL);
        }
    }

    pub fn click(&self, testid: &str) {
        // A person waits while something fades out over the button (an
        // overlay leaving); a button still covered after 3 s is an error.
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let element = self.wait(testid);
            // A person scrolls to a button below the fold before tapping it;
            // WebKitWebDriver does not.
            let mut reference = serde_json::Map::new();
            reference.insert(ELEMENT.into(), element.clone().into());
            self.post(
                "/execute/sync",
                json!({
                    "script": "arguments[0].scrollIntoView({ block: 'nearest' });",
                    "args": [reference],
                }),
            );
            let result = self.post(&format!("/element/{element}/click"), json!({}));
            if result.is_null() {
                return;
            }
            if result["error"] != "element click intercepted" || Instant::now() > deadline {
                self.screenshot(&format!("click-failed-{testid}"));
                panic!("click on {testid}: {result}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn text(&self, testid: &str) -> String {
        let element = self.wait(testid);
        self.get(&format!("/element/{element}/text"))
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the element's whole text (also what is cut off with an
    /// ellipsis, which WebDriver's visible text leaves out) contains
    /// `expected`.
    pub fn wait_content(&self, testid: &str, expected: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            self.wait(testid);
            let text = self
                .script(&format!(
                    "return document.querySelector('[data-testid=\"{testid}\"]')?.textContent ?? '';"
                ))
                .as_str()
                .unwrap_or_default()
                .to_string();
            if text.contains(expected) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{testid} holds {text:?}, not {expected:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the element's text contains `expected`.
    pub fn wait_text(&self, testid: &str, expected: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = self.text(testid);
            if text.contains(expected) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{testid} shows {text:?}, not {expected:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// Replaces the text of an input or text area, as typing would.
    pub fn fill(&self, testid: &str, text: &str) {
        let element = self.wait(testid);
        let cleared = self.post(&format!("/element/{element}/clear"), json!({}));
        assert!(cleared.is_null(), "clear {testid}: {cleared}");
        let typed = self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        );
        assert!(typed.is_null(), "type into {testid}: {typed}");
    }

    /// Chooses the option with `value` in a select, as a click would.
    pub fn select(&self, testid: &str, value: &str) {
        self.wait(testid);
        let done = self.script(&format!(
            "const s = document.querySelector('[data-testid=\"{testid}\"]'); s.value = {value:?}; s.dispatchEvent(new Event('change', {{ bubbles: true }})); return s.value;"
        ));
        assert_eq!(done.as_str(), Some(value), "{testid} has no option {value}");
    }

    /// Characters typed into the page (digits on a keypad).
    pub fn type_keys(&self, keys: &str) {
        for key in keys.chars() {
            self.press(&key.to_string());
        }
    }

    /// A line typed by a scanner in keyboard mode: every character and
    /// Enter in one burst, outside any field.
    pub fn scan(&self, line: &str) {
        let keys: Vec<String> = line.chars().map(String::from).collect();
        self.script(&format!(
            "for (const key of [...{keys:?}, 'Enter']) window.dispatchEvent(new KeyboardEvent('keydown', {{ key }}));"
        ));
    }

    /// One key by its name (`Escape`, `Enter`, `Backspace`, `7`).
    pub fn press(&self, key: &str) {
        self.script(&format!(
            "window.dispatchEvent(new KeyboardEvent('keydown', {{ key: {key:?} }}));"
        ));
    }

    /// Saves a screenshot as `NN-name.png` after the next frame is drawn.
    /// It is of the X display (ImageMagick's `import`), not WebDriver's:
    /// the app runs WebKit without compositing, as shipped, and
    /// WebDriver's screenshots hang in that mode.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        self.post(
            "/execute/async",
            json!({ "script": "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));", "args": [] }),
        );
        self.shots.set(self.shots.get() + 1);
        let path = self
            .screenshots
            .join(format!("{:02}-{name}.png", self.shots.get()));
        let size = self.script("return [window.innerWidth, window.innerHeight];");
        let (width, height) = (
            size[0].as_u64().unwrap_or(1920),
            size[1].as_u64().unwrap_or(1080),
        );
        let status = Command::new("import")
            .args(["-display", &format!(":{}", self._display.number)])
            .args(["-window", "root", "-crop", &format!("{width}x{height}+0+0")])
            .arg(format!("png:{}", path.display()))
            .status()
            .expect("ImageMagick's import (scripts/setup.sh installs imagemagick)");
        assert!(status.success(), "screenshot of the X display failed");
        path
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.http.delete(self.url("")).send();
        kill(&mut self.driver);
        // The app can outlive the session: end it by its data dir.
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(self.data_dir.display().to_string())
            .status();
    }
}

/// One process of the app's tree, as `/proc` shows it.
#[derive(Debug, Clone)]
pub struct ProcessVitals {
    pub pid: u32,
    pub name: String,
    pub rss_mib: f64,
    /// Proportional set size: shared pages split between their users, so
    /// the tree's PSS adds up to what it costs the machine.
    pub pss_mib: f64,
    pub open_files: usize,
    pub threads: usize,
}

/// The app on `data_dir` and every process it started (WebKit's web and
/// network processes), found by the data dir on the app's command line.
pub fn processes_of(data_dir: &Path) -> Vec<ProcessVitals> {
    let output = Command::new("pgrep")
        .arg("-f")
        .arg(data_dir.display().to_string())
        .output()
        .unwrap();
    let mut family: Vec<u32> = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    let mut rows = Vec::new();
    let mut index = 0;
    while index < family.len() {
        let pid = family[index];
        index += 1;
        let field = |file: &str, name: &str| -> f64 {
            std::fs::read_to_string(format!("/proc/{pid}/{file}"))
                .ok()
                .and_then(|text| {
                    text.lines()
                        .find(|l| l.starts_with(name))
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|v| v.parse::<f64>().ok())
                })
                .unwrap_or(0.0)
        };
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap_or_default()
            .trim()
            .to_string();
        // pgrep also finds WebKitWebDriver (its session names the data dir).
        if !name.is_empty() && !name.starts_with("WebKitWebDrive") {
            rows.push(ProcessVitals {
                pid,
                name,
                rss_mib: field("status", "VmRSS:") / 1024.0,
                pss_mib: field("smaps_rollup", "Pss:") / 1024.0,
                open_files: std::fs::read_dir(format!("/proc/{pid}/fd"))
                    .map(|d| d.count())
                    .unwrap_or(0),
                threads: field("status", "Threads:") as usize,
            });
        }
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            family.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    rows
}
