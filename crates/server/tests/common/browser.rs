//! Headless Chromium from Debian's packages, driven over W3C WebDriver by
//! `chromedriver` (`chromium`, `chromium-driver`), for the server's own
//! web pages. A browser refuses nothing the test did not ask it to: the
//! server's own certificate is accepted as insecure (it is not pinned the
//! way a till pins it), everything else is Chromium's default.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
}

impl Browser {
    /// A browser window of `width` × `height` CSS pixels, its language
    /// `lang` (`de-DE`, `en-GB`).
    pub fn start(width: u32, height: u32, lang: &str) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (scripts/setup.sh installs chromium-driver)");
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let answer: Value = http
            .post(format!("{base}/session"))
            .json(&json!({ "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "acceptInsecureCerts": true,
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", format!("--lang={lang}"),
                             format!("--window-size={width},{height}")],
                    "prefs": { "intl.accept_languages": lang },
                }
            }}}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {answer}"))
            .to_string();
        let browser = Browser {
            driver,
            base,
            session,
            http,
        };
        browser.command(
            "POST",
            "window/rect",
            json!({ "width": width, "height": height }),
        );
        browser
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_command(method, path, body)
            .unwrap_or_else(|error| panic!("WebDriver {path}: {error}"))
    }

    fn try_command(&self, method: &str, path: &str, body: Value) -> Result<Value, Value> {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        let request = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).json(&body),
        };
        let answer: Value = request.send().unwrap().json().unwrap();
        if answer["value"]["error"].is_string() {
            return Err(answer["value"].clone());
        }
        Ok(answer["value"].clone())
    }

    pub fn open(&self, url: &str) {
        self.command("POST", "url", json!({ "url": url }));
    }

    pub fn url(&self) -> String {
        self.command("GET", "url", Value::Null)
            .as_str()
            .unwrap()
            .to_string()
    }

    fn element(&self, css: &str) -> String {
        let found = self.command(
            "POST",
            "element",
            json!({ "using": "css selector", "value": css }),
        );
        found[ELEMENT].as_str().unwrap().to_string()
    }

    /// Types `text` into the field `css`, as a person would.
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.command("POST", &format!("element/{id}/clear"), json!({}));
        self.command(
            "POST",
            &format!("element/{id}/value"),
            json!({ "text": text }),
        );
    }

    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.command("POST", &format!("element/{id}/click"), json!({}));
    }

    /// Clicks what sends a form and waits for the page that answers it
    /// (a click does not wait for the navigation it starts).
    pub fn submit(&self, css: &str) {
        self.script("window.tapsterPageBefore = true");
        self.click(css);
        let deadline = Instant::now() + Duration::from_secs(20);
        let fresh = json!({
            "script": "return window.tapsterPageBefore === undefined && document.readyState === 'complete'",
            "args": []
        });
        while self.try_command("POST", "execute/sync", fresh.clone()) != Ok(Value::Bool(true)) {
            assert!(Instant::now() < deadline, "the form's answer did not load");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The page's visible text.
    pub fn text(&self) -> String {
        self.script("return document.body.innerText")
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The HTTP status of the page now shown.
    pub fn status(&self) -> u64 {
        self.script("return performance.getEntriesByType('navigation')[0].responseStatus")
            .as_u64()
            .unwrap()
    }

    pub fn script(&self, script: &str) -> Value {
        self.command(
            "POST",
            "execute/sync",
            json!({ "script": script, "args": [] }),
        )
    }

    /// A PNG of the viewport, written to `path`.
    pub fn screenshot(&self, path: &Path) {
        let data = self.command("GET", "screenshot", Value::Null);
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
