//! Genuine wristbands on the server: each event has its band keys from
//! the start, a paired till gets them over TLS only, a rotation keeps the
//! previous version, and a band's SUN link verifies once.

mod common;

use common::band::{keyring, link};
use common::{json, Fixture, Server, BIN};
use tapster_band::BandKeys;

#[test]
fn tills_get_the_events_band_keys_over_tls_and_sun_links_verify_once() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let get = |token: Option<&str>| {
        let request = server.client().get(server.url(&fx.event, "pos/band-keys"));
        json(
            match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            }
            .send()
            .unwrap(),
        )
    };
    let (status, body) = get(Some(&fx.bar_token));
    assert_eq!(status, 200, "{body}");
    let first = keyring(&body);
    assert_eq!(first.current.version, 1, "made with the event");
    assert!(first.previous.is_none());
    assert_eq!(get(None).0, 401);
    assert_eq!(get(Some(&fx.other_token)).0, 401, "another event's till");

    // A band of this event, tapped by a phone: its link resolves once.
    let band = [0x04, 0xD3, 0x00, 0x00, 0x00, 0x00, 0x01];
    let sun = |(e, c): &(String, String)| {
        json(
            server
                .client()
                .get(server.url(&fx.event, &format!("guest/sun?e={e}&c={c}")))
                .send()
                .unwrap(),
        )
    };
    let tapped = link(&first.current, band, 7);
    let (status, body) = sun(&tapped);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["token_id"], "04D30000000001");
    assert_eq!(body["data"]["counter"], 7);
    assert!(body["data"]["wallet"]["balance"].is_i64(), "{body}");
    let (status, body) = sun(&tapped);
    assert_eq!(status, 400, "a replayed link: {body}");
    assert!(body["error_message"]
        .as_str()
        .unwrap()
        .contains("used before"));
    assert_eq!(sun(&link(&first.current, band, 8)).0, 200, "the next tap");
    // Another event's keys, a changed signature, garbage: refused.
    let stranger = BandKeys {
        version: 1,
        master: [3; 16],
    };
    assert_eq!(sun(&link(&stranger, band, 20)).0, 400);
    let (e, mut c) = link(&first.current, band, 21);
    c.replace_range(0..2, if &c[0..2] == "00" { "01" } else { "00" });
    assert_eq!(sun(&(e, c)).0, 400);
    assert_eq!(sun(&("zz".into(), "00".into())).0, 400);

    // Rotation: a new version, the previous kept for bands not re-keyed.
    let out = std::process::Command::new(BIN)
        .args([
            "event",
            "rotate-band-keys",
            "--db",
            fx.db.as_str(),
            "--event",
            &fx.event,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let rotated = keyring(&get(Some(&fx.bar_token)).1);
    assert_eq!(rotated.current.version, 2);
    assert_eq!(rotated.previous, Some(first.current.clone()));
    assert_eq!(
        sun(&link(&first.current, band, 30)).0,
        200,
        "old version still verifies"
    );
    assert_eq!(sun(&link(&rotated.current, band, 31)).0, 200);

    // The manager API rotates too (a manager, not a till; versions only).
    let rotate = |token: &str| {
        let response = server
            .client()
            .post(server.url(&fx.event, "manage/band-keys/rotate?expected_version=2"))
            .bearer_auth(token)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().unwrap())
    };
    assert_eq!(rotate(&fx.bar_token).0, 401, "a till's token");
    let (status, body) = rotate(&fx.admin_token);
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["data"]["key_version"], 3, "{body}");
    assert_eq!(body["data"]["previous_version"], 2);
    assert!(!body
        .to_string()
        .contains(&hex::encode(rotated.current.master)));
    assert_eq!(keyring(&get(Some(&fx.bar_token)).1).current.version, 3);
    // The same request again (a double click, a retry): not a second
    // rotation, which would drop the version most bands still carry.
    let (status, body) = rotate(&fx.admin_token);
    assert_eq!(status, 409, "{body}");
    assert_eq!(keyring(&get(Some(&fx.bar_token)).1).current.version, 3);
    drop(server);

    // Never in clear text.
    let plain = std::process::Command::new(BIN)
        .args([
            "serve",
            "--db",
            fx.db.as_str(),
            "--listen",
            "127.0.0.1:0",
            "--insecure-http",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut plain = scopeguard(plain);
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(plain.0.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let address: serde_json::Value = serde_json::from_str(&line).unwrap();
    let answer = reqwest::blocking::Client::new()
        .get(format!(
            "http://{}/api/v1/events/{}/pos/band-keys",
            address["listening"].as_str().unwrap(),
            fx.event
        ))
        .bearer_auth(&fx.bar_token)
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 403);
    let body = answer.text().unwrap();
    assert!(!body.contains(&hex::encode(rotated.current.master)));
}

struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scopeguard(child: std::process::Child) -> Guard {
    Guard(child)
}
