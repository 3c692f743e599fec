//! Seed 003 against the real server over HTTPS: devices and locations in
//! the seed's shapes and envelope, the abilities of manager and device
//! tokens, passes made, imported, exported, scanned and redeemed exactly
//! once — also when twelve devices scan the same code at the same moment.

mod common;

use std::collections::BTreeSet;

use common::{json, Fixture, Server};
use serde_json::{json, Value};

struct Api<'a> {
    server: &'a Server,
    event: &'a str,
}

impl Api<'_> {
    fn send(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let client = self.server.client();
        let url = self.server.url(self.event, path);
        let request = match method {
            "GET" => client.get(url),
            "POST" => client.post(url),
            "PUT" => client.put(url),
            "PATCH" => client.patch(url),
            "DELETE" => client.delete(url),
            _ => unreachable!(),
        }
        .bearer_auth(token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        json(request.send().unwrap())
    }
}

const SEED_DEVICE_FIELDS: [&str; 7] = [
    "name",
    "identifier",
    "external_device_id",
    "add_multiplier",
    "subtract_multiplier",
    "pin",
    "location",
];

#[test]
fn devices_and_locations_speak_the_seed() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let api = Api {
        server: &server,
        event: &fx.event,
    };
    let admin = fx.admin_token.as_str();

    let (status, location) = api.send(
        "POST",
        "locations",
        admin,
        Some(json!({"address": "Bar Nord, Zelt 2"})),
    );
    assert_eq!(status, 201, "{location}");
    assert_eq!(location["message"], "Request successful");
    let location_id = location["data"]["identifier"].as_str().unwrap().to_string();
    assert_eq!(
        uuid::Uuid::parse_str(&location_id)
            .unwrap()
            .get_version_num(),
        4
    );

    let new_device = json!({
        "name": "Scanner Einlass",
        "location_id": location_id,
        "pin": "1234",
        "external_device_id": "ext-001",
        "add_multiplier": 2,
        "subtract_multiplier": 1
    });
    let (status, created) = api.send("POST", "devices", admin, Some(new_device.clone()));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["message"], "Request successful");
    let device = &created["data"];
    for field in SEED_DEVICE_FIELDS {
        assert!(device.get(field).is_some(), "{field} missing in {device}");
    }
    assert_eq!(device["name"], "Scanner Einlass");
    assert_eq!(device["external_device_id"], "ext-001");
    assert_eq!(device["add_multiplier"], 2);
    assert_eq!(device["subtract_multiplier"], 1);
    assert_eq!(
        device["pin"],
        Value::Null,
        "PINs are kept hashed, never answered"
    );
    assert_eq!(
        device["location"],
        json!({"identifier": location_id, "address": "Bar Nord, Zelt 2"})
    );
    assert_eq!(device["permission"], "debit");
    let id = device["identifier"].as_str().unwrap().to_string();

    // The external id is unique per event; nothing is left of a refusal.
    let (status, _) = api.send("POST", "devices", admin, Some(new_device));
    assert_eq!(status, 409);
    let (status, list) = api.send("GET", "devices", admin, None);
    assert_eq!(status, 200);
    assert_eq!(list["message"], "Request successful");
    let devices = list["data"].as_array().unwrap();
    assert_eq!(
        devices.len(),
        3,
        "the fixture's two tills and the scanner: {list}"
    );
    assert!(devices
        .iter()
        .all(|d| SEED_DEVICE_FIELDS.iter().all(|f| d.get(*f).is_some())));
    // A missing required field, an unknown location: 400.
    let (status, _) = api.send(
        "POST",
        "devices",
        admin,
        Some(json!({"name": "x", "location_id": location_id, "external_device_id": "e2"})),
    );
    assert_eq!(status, 400);
    let (status, _) = api.send("POST", "devices", admin, Some(json!({"name": "x", "location_id": "nowhere", "external_device_id": "e2", "pin": "1234"})));
    assert_eq!(status, 400);

    let (status, fetched) = api.send("GET", &format!("devices/{id}"), admin, None);
    assert_eq!((status, &fetched["data"]["identifier"]), (200, &json!(id)));
    let (status, updated) = api.send(
        "PUT",
        &format!("devices/{id}"),
        admin,
        Some(json!({"name": "Scanner Bar", "pin": "5678", "subtract_multiplier": 3})),
    );
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["data"]["name"], "Scanner Bar");
    assert_eq!(updated["data"]["subtract_multiplier"], 3);
    assert_eq!(updated["data"]["external_device_id"], "ext-001", "kept");
    let (status, _) = api.send(
        "PUT",
        &format!("devices/{id}"),
        admin,
        Some(json!({"name": "no pin"})),
    );
    assert_eq!(status, 400, "the seed requires the pin");
    let (status, _) = api.send(
        "GET",
        "devices/00000000-0000-4000-8000-000000000000",
        admin,
        None,
    );
    assert_eq!(status, 404);

    // The key icon: a device token; archived it stops working, restored
    // it works again.
    let (status, token) = api.send("POST", &format!("devices/{id}/token"), admin, None);
    assert_eq!(status, 200, "{token}");
    let device_token = token["data"]["api_token"].as_str().unwrap().to_string();
    let (status, _) = api.send(
        "GET",
        "devices/scan/info?code=TAP-NOTHING",
        &device_token,
        None,
    );
    assert_eq!(status, 404, "a device may scan (the code is unknown)");
    // A scanner's token is no till's: nothing of the POS API, least of
    // all the band keys.
    for path in [
        "pos/band-keys",
        "pos/terminal",
        "pos/catalog",
        "pos/wallets",
        "pos/wallets/token/04D30000000001",
    ] {
        let (status, body) = api.send("GET", path, &device_token, None);
        assert_eq!(status, 403, "{path} with a scanner's token: {body}");
    }
    let (status, _) = api.send(
        "POST",
        "pos/staff-sessions",
        &device_token,
        Some(json!({"staff_id": "max", "pin": "4444"})),
    );
    assert_eq!(status, 403);
    let (status, archived) = api.send("DELETE", &format!("devices/{id}"), admin, None);
    assert_eq!(
        (status, archived),
        (200, json!({"message": "Device deleted"}))
    );
    let (status, _) = api.send(
        "GET",
        "devices/scan/info?code=TAP-NOTHING",
        &device_token,
        None,
    );
    assert_eq!(status, 401, "an archived device's token");
    let (status, restored) = api.send("PATCH", &format!("devices/{id}"), admin, None);
    assert_eq!(
        (status, restored),
        (200, json!({"message": "Device restore"}))
    );
    let (status, _) = api.send(
        "GET",
        "devices/scan/info?code=TAP-NOTHING",
        &device_token,
        None,
    );
    assert_eq!(status, 404);

    // Abilities: a device token has scanners.* only, a manager's token
    // devices.* only; another event's tokens are strangers.
    for (method, path) in [
        ("GET", "devices"),
        ("POST", "locations"),
        ("GET", &*format!("devices/{id}")),
    ] {
        let (status, body) = api.send(method, path, &device_token, Some(json!({"address": "x"})));
        assert_eq!(status, 403, "{method} {path} with a device token: {body}");
    }
    let (status, _) = api.send(
        "POST",
        "devices/scan",
        admin,
        Some(json!({"code": "TAP-NOTHING"})),
    );
    assert_eq!(status, 403, "a manager's token cannot scan");
    let (status, _) = api.send("GET", "devices", &fx.other_admin_token, None);
    assert_eq!(status, 401);
    let (status, _) = api.send("GET", "devices", "nonsense", None);
    assert_eq!(status, 401);
}

fn make_passes(api: &Api, admin: &str, count: u32, benefit: Value, extra: Value) -> Vec<String> {
    let mut body = json!({"count": count, "title": "Freigetränk", "subtitle": "Helfer-Bon", "benefit": benefit});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, made) = api.send("POST", "manage/passes", admin, Some(body));
    assert_eq!(status, 201, "{made}");
    made["data"]["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_pass_is_redeemed_once_even_by_twelve_devices_at_once() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let api = Api {
        server: &server,
        event: &fx.event,
    };
    let admin = fx.admin_token.as_str();
    let voucher = json!({"type": "voucher", "value": 500});
    let codes = make_passes(&api, admin, 3, voucher, json!({}));
    assert_eq!(codes.len(), 3);
    assert_eq!(codes.iter().collect::<BTreeSet<_>>().len(), 3);
    assert!(codes.iter().all(|c| c.starts_with("TAP-") && c.len() == 30));

    // Info in the seed's shape, then a redemption, then the seed's refusal.
    let (status, info) = api.send(
        "GET",
        &format!("devices/scan/info?code={}", codes[0]),
        &fx.bar_token,
        None,
    );
    assert_eq!(status, 200, "{info}");
    for field in [
        "pass_identifier",
        "pass_type",
        "pass_installed",
        "user_identifier",
        "user_first_name",
        "pass_title",
        "pass_subtitle",
        "reference",
    ] {
        assert!(info.get(field).is_some(), "{field} missing in {info}");
    }
    assert_eq!(info["pass_identifier"], codes[0].as_str());
    assert_eq!(info["pass_type"], "voucher");
    assert_eq!(info["pass_title"], "Freigetränk");
    assert_eq!(info["redemptions_left"], 1);
    let scan = |code: &str, token: &str| {
        api.send("POST", "devices/scan", token, Some(json!({"code": code})))
    };
    let (status, redeemed) = scan(&codes[0], &fx.bar_token);
    assert_eq!(status, 200, "{redeemed}");
    assert_eq!(redeemed["redemptions_left"], 0);
    let (status, again) = scan(&codes[0], &fx.bar_token);
    assert_eq!(status, 409);
    assert_eq!(again["message"], "Pass already redeemed");
    assert_eq!(again["data"]["pass_identifier"], codes[0].as_str());
    let (status, info) = api.send(
        "GET",
        &format!("devices/scan/info?code={}", codes[0]),
        &fx.bar_token,
        None,
    );
    assert_eq!(
        (status, &info["message"]),
        (409, &json!("Pass already redeemed"))
    );
    let (status, _) = scan("TAP-0000000000000000000000000X", &fx.bar_token);
    assert_eq!(status, 404);
    let (status, _) = scan("a b", &fx.bar_token);
    assert_eq!(status, 400);

    // Twelve devices, one code, all at once: exactly one wins.
    let tokens: Vec<String> = (0..12)
        .map(|n| {
            let (_, location) = api.send(
                "POST",
                "locations",
                admin,
                Some(json!({"address": format!("Stand {n}")})),
            );
            let (status, device) = api.send(
                "POST",
                "devices",
                admin,
                Some(json!({
                    "name": format!("Scanner {n}"),
                    "location_id": location["data"]["identifier"],
                    "pin": "1234",
                    "external_device_id": format!("scanner-{n}"),
                })),
            );
            assert_eq!(status, 201);
            let id = device["data"]["identifier"].as_str().unwrap();
            let (_, token) = api.send("POST", &format!("devices/{id}/token"), admin, None);
            token["data"]["api_token"].as_str().unwrap().to_string()
        })
        .collect();
    let barrier = std::sync::Barrier::new(tokens.len());
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = tokens
            .iter()
            .map(|token| {
                let barrier = &barrier;
                let scan = &scan;
                let code = codes[1].as_str();
                scope.spawn(move || {
                    barrier.wait();
                    scan(code, token).0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        11,
        "{statuses:?}"
    );

    // A blocked pass is refused with its data; unblocked it works.
    let (status, blocked) = api.send(
        "POST",
        &format!("manage/passes/{}/block", codes[2]),
        admin,
        None,
    );
    assert_eq!((status, &blocked["data"]["blocked"]), (200, &json!(true)));
    let (status, refused) = scan(&codes[2], &fx.bar_token);
    assert_eq!((status, &refused["message"]), (422, &json!("Pass blocked")));
    api.send(
        "DELETE",
        &format!("manage/passes/{}/block", codes[2]),
        admin,
        None,
    );
    assert_eq!(scan(&codes[2], &fx.bar_token).0, 200);

    // A device that lost the answer retries with its key: the same
    // answer, one redemption; its key for another code is refused; a
    // scan without the key is a second scan.
    let fresh = make_passes(
        &api,
        admin,
        2,
        json!({"type": "voucher", "value": 200}),
        json!({}),
    );
    let keyed = |code: &str, key: &str| {
        api.send(
            "POST",
            "devices/scan",
            &fx.bar_token,
            Some(json!({"code": code, "idempotency_key": key})),
        )
    };
    let (status, first) = keyed(&fresh[0], "scan-77");
    assert_eq!((status, &first["redemptions_left"]), (200, &json!(0)));
    let (status, retried) = keyed(&fresh[0], "scan-77");
    assert_eq!(
        (status, &retried["pass_identifier"]),
        (200, &json!(fresh[0])),
        "{retried}"
    );
    let (status, other) = keyed(&codes[1], "scan-77");
    assert_eq!(
        (status, &other["error_code"]),
        (409, &json!("idempotency_conflict")),
        "{other}"
    );
    assert_eq!(scan(&fresh[0], &fx.bar_token).0, 409);
    let (status, _) = keyed(&fresh[0], "bad key");
    assert_eq!(status, 400);
    // The seed's query parameter works as well as the body.
    let (status, by_query) = api.send(
        "POST",
        &format!("devices/scan?code={}", fresh[1]),
        &fx.bar_token,
        None,
    );
    assert_eq!(
        (status, &by_query["pass_identifier"]),
        (200, &json!(fresh[1])),
        "{by_query}"
    );
    let (status, _) = api.send("POST", "devices/scan", &fx.bar_token, None);
    assert_eq!(status, 400, "no code at all");

    // The report: by type, location and device; one row per winner.
    let (status, report) = api.send("GET", "manage/reports/passes", admin, None);
    assert_eq!(status, 200);
    let rows = report["data"].as_array().unwrap();
    let total: i64 = rows
        .iter()
        .map(|r| r["redemptions"].as_i64().unwrap())
        .sum();
    assert_eq!(
        total, 5,
        "three, and the two fresh ones, each once: {report}"
    );
    assert!(
        rows.iter().any(|r| r["location"]
            .as_str()
            .is_some_and(|l| l.starts_with("Stand "))),
        "{report}"
    );
    assert!(rows.iter().all(|r| r["pass_type"] == "voucher"));
}

#[test]
fn passes_keep_their_window_and_limits_and_travel_as_csv() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let api = Api {
        server: &server,
        event: &fx.event,
    };
    let admin = fx.admin_token.as_str();
    let scan = |code: &str| {
        api.send(
            "POST",
            "devices/scan",
            &fx.bar_token,
            Some(json!({"code": code})),
        )
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;

    let later = make_passes(
        &api,
        admin,
        1,
        json!({"type": "discount", "discount": {"off": "percent", "percent": 10}}),
        json!({"valid_from": now + 3_600_000}),
    );
    let (status, body) = scan(&later[0]);
    assert_eq!(
        (status, &body["message"]),
        (422, &json!("Pass not valid yet"))
    );
    let past = make_passes(
        &api,
        admin,
        1,
        json!({"type": "discount", "discount": {"off": "amount", "amount": 200}}),
        json!({"valid_from": now - 7_200_000, "valid_until": now - 3_600_000}),
    );
    assert_eq!(scan(&past[0]).1["message"], "Pass expired");
    // An allowance of three a day, and a pass good for two scans.
    let staff = make_passes(
        &api,
        admin,
        1,
        json!({"type": "allowance", "count": 3, "per": "day", "products": ["beer", "water"]}),
        json!({}),
    );
    for left in [2, 1, 0] {
        let (status, body) = scan(&staff[0]);
        assert_eq!(
            (status, &body["redemptions_left"]),
            (200, &json!(left)),
            "{body}"
        );
    }
    assert_eq!(scan(&staff[0]).0, 409);
    let twice = make_passes(
        &api,
        admin,
        1,
        json!({"type": "voucher", "value": 300}),
        json!({"max_redemptions": 2}),
    );
    assert_eq!(scan(&twice[0]).0, 200);
    assert_eq!(scan(&twice[0]).0, 200);
    assert_eq!(scan(&twice[0]).0, 409);

    // Nonsense is refused and nothing made.
    for bad in [
        json!({"count": 0, "title": "x", "benefit": {"type": "voucher", "value": 100}}),
        json!({"count": 1, "title": "", "benefit": {"type": "voucher", "value": 100}}),
        json!({"count": 1, "title": "x", "benefit": {"type": "voucher", "value": -1}}),
        json!({"count": 1, "title": "x", "benefit": {"type": "discount", "discount": {"off": "percent", "percent": 0}}}),
        json!({"count": 1, "title": "x", "benefit": {"type": "voucher", "value": 100}, "valid_from": 10, "valid_until": 5}),
    ] {
        let (status, body) = api.send("POST", "manage/passes", admin, Some(bad.clone()));
        assert_eq!(status, 400, "{bad} → {body}");
    }
    let (_, all) = api.send("GET", "manage/passes", admin, None);
    assert_eq!(all["data"].as_array().unwrap().len(), 4);

    // Import a ticket shop's codes; a second import of one of them is
    // refused whole; their refusal says "Code already redeemed".
    let import = |csv: &str| {
        api.send("POST", "manage/passes/import", admin, Some(json!({
            "title": "Festival-Ticket Bonus", "benefit": {"type": "voucher", "value": 1000}, "csv": csv
        })))
    };
    let (status, imported) =
        import("code,reference,first_name\nEVT-2026-0001,order 17,Mia\nEVT-2026-0002,order 18,\n");
    assert_eq!(status, 201, "{imported}");
    assert_eq!(
        imported["data"]["codes"],
        json!(["EVT-2026-0001", "EVT-2026-0002"])
    );
    let (status, body) = import("code\nEVT-2026-0003\nEVT-2026-0001\n");
    assert_eq!(status, 409, "{body}");
    let (status, body) = import("code\nEVT-2026-0004\nEVT-2026-0004\n");
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error_message"].as_str().unwrap().contains("line 3"),
        "{body}"
    );
    let (status, info) = api.send(
        "GET",
        "devices/scan/info?code=EVT-2026-0001",
        &fx.bar_token,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(
        (&info["reference"], &info["user_first_name"]),
        (&json!("order 17"), &json!("Mia"))
    );
    assert_eq!(scan("EVT-2026-0001").0, 200);
    let (status, body) = scan("EVT-2026-0001");
    assert_eq!(
        (status, &body["message"]),
        (409, &json!("Code already redeemed"))
    );
    let (_, all) = api.send("GET", "manage/passes", admin, None);
    assert_eq!(
        all["data"].as_array().unwrap().len(),
        6,
        "the refused imports left nothing"
    );

    // CSV out: a row per pass with what was redeemed.
    let response = server
        .client()
        .get(server.url(&fx.event, "manage/passes.csv"))
        .bearer_auth(admin)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = response.text().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(lines[0].starts_with("code,pass_type,title"));
    let staff_line = lines.iter().find(|l| l.starts_with(&staff[0])).unwrap();
    assert!(
        staff_line.contains(",allowance,") && staff_line.contains(",3,0,"),
        "{staff_line}"
    );
    // A till's token is no manager's.
    let (status, _) = api.send("GET", "manage/passes", &fx.bar_token, None);
    assert_eq!(status, 401);

    // Printed: the sheet holds every code with what it gives; one pass's
    // PNG scans back to its code.
    let get = |path: &str| {
        server
            .client()
            .get(server.url(&fx.event, path))
            .bearer_auth(admin)
            .send()
            .unwrap()
    };
    let sheet = get("manage/passes/sheet.pdf?language=de");
    assert_eq!(sheet.status().as_u16(), 200);
    assert_eq!(sheet.headers()["content-type"], "application/pdf");
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("sheet.pdf");
    std::fs::write(&pdf, sheet.bytes().unwrap()).unwrap();
    let text = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout).replace('\u{a0}', " ");
    for code in staff.iter().chain(&twice).chain(&later) {
        assert!(text.contains(code.as_str()), "{code} not on the sheet");
    }
    assert!(text.contains("3 × pro Tag: beer, water"), "{text}");
    assert!(text.contains("10,00 € Guthaben"), "{text}");
    assert_eq!(
        get("manage/passes/sheet.pdf?language=xx").status().as_u16(),
        400
    );
    let png = get(&format!("manage/passes/{}/qr.png", twice[0]));
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(decode_png(&png.bytes().unwrap()), twice[0]);
    assert_eq!(get("manage/passes/TAP-NONE/qr.png").status().as_u16(), 404);
}

/// The text of the one QR code in a PNG.
fn decode_png(bytes: &[u8]) -> String {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let (width, height) = (info.width as usize, info.height as usize);
    let bits_per_pixel = match info.bit_depth {
        png::BitDepth::One => 1,
        _ => 8,
    };
    let luma = |x: usize, y: usize| -> u8 {
        if bits_per_pixel == 1 {
            let byte = buffer[y * info.line_size + x / 8];
            if byte >> (7 - x % 8) & 1 == 1 {
                255
            } else {
                0
            }
        } else {
            buffer[y * info.line_size + x]
        }
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

/// A voucher redeemed at a till is promo credit: on the wallet, counted in
/// its balance, spent before paid money, never paid out — and redeemed once
/// however many tills try at the same moment.
#[test]
fn a_voucher_becomes_promo_credit_that_is_spent_first_and_never_paid_out() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let api = Api {
        server: &server,
        event: &fx.event,
    };
    let admin = fx.admin_token.as_str();
    let band = tapster_ledger::demo::wristband(1).to_string();
    let codes = make_passes(
        &api,
        admin,
        2,
        json!({"type": "voucher", "value": 1000}),
        json!({}),
    );
    let feed_wallet = |api: &Api| {
        let (_, feed) = api.send("GET", "pos/wallets?since=0", &fx.bar_token, None);
        feed["data"]["wallets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["token_id"] == band.as_str())
            .cloned()
            .unwrap()
    };
    let before = feed_wallet(&api);
    let paid_in = before["balance"].as_i64().unwrap();
    assert_eq!(before["promo_balance"], 0);

    let vouchers = format!("pos/wallets/token/{band}/vouchers");
    let redeem = |code: &str, key: &str| {
        api.send(
            "POST",
            &vouchers,
            &fx.bar_token,
            Some(json!({"code": code, "idempotency_key": key})),
        )
    };
    let (status, credited) = redeem(&codes[0], "voucher-1");
    assert_eq!(status, 200, "{credited}");
    assert_eq!(credited["credited"], 1000);
    assert_eq!(credited["wallet"]["balance"], paid_in + 1000);
    assert_eq!(credited["wallet"]["promo_balance"], 1000);
    assert_eq!(credited["pass"]["redemptions_left"], 0);
    // The till's retry gets the first answer; the key for another request
    // and a second redemption of the code are refused and change nothing.
    assert_eq!(redeem(&codes[0], "voucher-1"), (202, credited.clone()));
    assert_eq!(redeem(&codes[1], "voucher-1").0, 409);
    let (status, again) = redeem(&codes[0], "voucher-2");
    assert_eq!(
        (status, again["message"].as_str()),
        (409, Some("Pass already redeemed"))
    );

    // Eight tills redeem the other code at once: one credit.
    let results: Vec<u16> = std::thread::scope(|scope| {
        let redeem = &redeem;
        let code = codes[1].as_str();
        let handles: Vec<_> = (0..8)
            .map(|i| scope.spawn(move || redeem(code, &format!("race-{i}")).0))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|s| **s == 200).count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|s| **s == 409).count(),
        7,
        "{results:?}"
    );
    let wallet = feed_wallet(&api);
    assert_eq!(wallet["balance"], paid_in + 2000);
    assert_eq!(wallet["promo_balance"], 2000);

    // A sale spends promo credit first; the till learns how much is left.
    let sale = server
        .client()
        .post(server.url(&fx.event, &format!("pos/wallets/token/{band}/transactions")))
        .bearer_auth(&fx.bar_token)
        .json(&json!({"products": ["water"], "idempotency_key": "sale-1"}))
        .send()
        .unwrap();
    let promo_header: i64 = sale.headers()[tapster_api::PROMO_HEADER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, after_sale) = json(sale);
    assert_eq!(status, 200, "{after_sale}");
    let spent = paid_in + 2000 - after_sale["data"]["balance"].as_i64().unwrap();
    assert!(spent > 0);
    assert_eq!(
        promo_header,
        2000 - spent,
        "the sale is paid from promo credit"
    );
    assert_eq!(feed_wallet(&api)["promo_balance"], 2000 - spent);

    // The manager's payout hands out what the guest paid in, not the promo.
    let (status, paid) = api.send(
        "POST",
        &format!("manage/wallets/token/{band}/payout"),
        admin,
        None,
    );
    assert_eq!(
        (status, &paid["data"]["amount"]),
        (200, &json!(paid_in)),
        "{paid}"
    );
    let left = feed_wallet(&api);
    assert_eq!(left["balance"], 2000 - spent);
    assert_eq!(left["promo_balance"], 2000 - spent);
    let (status, body) = api.send(
        "POST",
        &format!("manage/wallets/token/{band}/payout"),
        admin,
        None,
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("nothing_to_pay_out"))
    );

    // The event report shows promo credit apart.
    let (status, summary) = api.send("GET", "manage/reports/summary", admin, None);
    assert_eq!(status, 200, "{summary}");
    let promo = &summary["data"]["promo"];
    assert_eq!(promo["vouchers_redeemed"], 2, "{promo}");
    assert_eq!(promo["credited"], 2000);
    assert_eq!(promo["spent"], spent);
    assert_eq!(promo["outstanding"], 2000 - spent);

    // Refused vouchers write nothing: the pass stays redeemable, the
    // wallet as it was.
    let spare = make_passes(
        &api,
        admin,
        1,
        json!({"type": "voucher", "value": 500}),
        json!({}),
    );
    let huge = make_passes(
        &api,
        admin,
        1,
        json!({"type": "voucher", "value": 1_000_000}),
        json!({}),
    );
    let before_refusals = feed_wallet(&api);
    let (status, body) = api.send(
        "POST",
        &format!("manage/wallets/token/{band}/block"),
        admin,
        None,
    );
    assert_eq!(status, 204, "{body}");
    let (status, body) = redeem(&spare[0], "blocked-1");
    assert_eq!(
        (status, body["error_code"].as_str()),
        (402, Some("wallet_blocked")),
        "{body}"
    );
    let (status, _) = api.send(
        "DELETE",
        &format!("manage/wallets/token/{band}/block"),
        admin,
        None,
    );
    assert_eq!(status, 204);
    let (status, body) = redeem(&huge[0], "huge-1");
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("max_balance_exceeded")),
        "{body}"
    );
    assert_eq!(redeem("x", "short-1").0, 400, "a code of one character");
    assert_eq!(redeem(&spare[0], "").0, 400, "an empty idempotency key");
    for code in [&spare[0], &huge[0]] {
        let (status, info) = api.send(
            "GET",
            &format!("devices/scan/info?code={code}"),
            &fx.bar_token,
            None,
        );
        assert_eq!(
            (status, &info["redemptions_left"]),
            (200, &json!(1)),
            "{info}"
        );
    }
    let after_refusals = feed_wallet(&api);
    assert_eq!(
        (&after_refusals["balance"], &after_refusals["promo_balance"]),
        (
            &before_refusals["balance"],
            &before_refusals["promo_balance"]
        )
    );

    // Discounts apply to sales, not wallets; unknown codes and bands are 404.
    let discount = make_passes(
        &api,
        admin,
        1,
        json!({"type": "discount", "discount": {"off": "percent", "percent": 10}}),
        json!({}),
    );
    assert_eq!(redeem(&discount[0], "d-1").0, 400);
    assert_eq!(redeem("TAP-NOSUCHCODE", "n-1").0, 404);
    let fresh = make_passes(
        &api,
        admin,
        1,
        json!({"type": "voucher", "value": 100}),
        json!({}),
    );
    let (status, _) = api.send(
        "POST",
        "pos/wallets/token/04FFFFFFFFFFFF/vouchers",
        &fx.bar_token,
        Some(json!({"code": fresh[0], "idempotency_key": "n-2"})),
    );
    assert_eq!(status, 404);
    let check = std::process::Command::new(common::BIN)
        .args(["check", "--db", fx.db.as_str()])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn a_discount_is_redeemed_with_the_debit_once_even_by_twelve_sales_at_once() {
    let fx = Fixture::new(12);
    let server = Server::start(&fx.db);
    let api = Api {
        server: &server,
        event: &fx.event,
    };
    let admin = fx.admin_token.as_str();
    let half = make_passes(
        &api,
        admin,
        1,
        json!({"type": "discount", "discount": {"off": "percent", "percent": 50}}),
        json!({}),
    );
    let beer = make_passes(
        &api,
        admin,
        1,
        json!({"type": "allowance", "count": 2, "per": "day", "products": ["beer"]}),
        json!({}),
    );
    let balance = |band: &str| {
        let (_, wallet) = api.send(
            "GET",
            &format!("pos/wallets/token/{band}"),
            &fx.bar_token,
            None,
        );
        wallet["data"]["balance"].as_i64().unwrap()
    };
    let sell = |band: &str, products: Value, pass: Option<&str>, key: &str| {
        let mut body = json!({"products": products, "idempotency_key": key});
        if let Some(pass) = pass {
            body["pass"] = json!(pass);
        }
        api.send(
            "POST",
            &format!("pos/wallets/token/{band}/transactions"),
            &fx.bar_token,
            Some(body),
        )
    };
    let bands: Vec<String> = (1..=12)
        .map(|n| tapster_ledger::demo::wristband(n).to_string())
        .collect();
    let before: Vec<i64> = bands.iter().map(|b| balance(b)).collect();
    let price = |product: &str| {
        tapster_ledger::demo::products()
            .into_iter()
            .find(|p| p.id.as_str() == product)
            .unwrap()
            .price
            .0
    };
    let (beer_price, cup_price) = (price("beer"), price("cup"));

    // Twelve tills sell a beer with the same half-price pass at once: one
    // sale gets the discount; the others are refused whole (no debit).
    let results: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = bands
            .iter()
            .enumerate()
            .map(|(i, band)| {
                let (sell, code) = (&sell, half[0].as_str());
                scope.spawn(move || sell(band, json!(["beer"]), Some(code), &format!("half-{i}")))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<usize> = (0..12).filter(|i| results[*i].0 == 200).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (i, (status, body)) in results.iter().enumerate() {
        let paid = before[i] - balance(&bands[i]);
        if winners.contains(&i) {
            // Half the beer, rounded half up to the guest; the cup's deposit in full.
            assert_eq!(paid, (beer_price + 1) / 2 + cup_price, "{body}");
        } else {
            assert_eq!(*status, 409, "{body}");
            assert_eq!(body["error_code"], "pass_refused", "{body}");
            assert_eq!(paid, 0, "a refused sale debits nothing");
        }
    }

    // An allowance: two beers a day, one per sale; a retry is the same sale.
    let band = &bands[0];
    let start = balance(band);
    let (status, first) = sell(band, json!(["beer", "water"]), Some(&beer[0]), "allow-1");
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        start - balance(band),
        price("water") + 2 * cup_price,
        "the beer is free, its cup is not"
    );
    assert_eq!(
        sell(band, json!(["beer", "water"]), Some(&beer[0]), "allow-1").0,
        202
    );
    // A bad code is 400, an unknown one 404; neither debits anything.
    let before_bad = balance(band);
    let (status, body) = sell(band, json!(["beer"]), Some("a b"), "bad-1");
    assert_eq!(
        (status, &body["error_code"]),
        (400, &json!("invalid_parameters")),
        "{body}"
    );
    let (status, body) = sell(
        band,
        json!(["beer"]),
        Some("TAP-0000000000000000000000000X"),
        "bad-2",
    );
    assert_eq!(
        (status, &body["error_code"]),
        (404, &json!("not_found")),
        "{body}"
    );
    assert_eq!(balance(band), before_bad);
    // Not for these products: 422, nothing written, the use not spent.
    let (status, body) = sell(band, json!(["water"]), Some(&beer[0]), "allow-2");
    assert_eq!(
        (status, &body["error_code"]),
        (422, &json!("pass_not_applicable"))
    );
    assert_eq!(
        sell(band, json!(["beer"]), Some(&beer[0]), "allow-3").0,
        200
    );
    let (status, body) = sell(band, json!(["beer"]), Some(&beer[0]), "allow-4");
    assert_eq!((status, &body["message"]), (409, &Value::Null), "{body}");
    assert_eq!(body["error_message"], "pass refused: Pass already redeemed");

    // The redemptions report counts them by type.
    let (_, report) = api.send("GET", "manage/reports/passes", admin, None);
    let count = |kind: &str| -> i64 {
        report["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["pass_type"] == kind)
            .map(|r| r["redemptions"].as_i64().unwrap())
            .sum()
    };
    assert_eq!((count("discount"), count("allowance")), (1, 2), "{report}");
    // The summary lists the discounts apart, and revenue net of them.
    let (_, summary) = api.send("GET", "manage/reports/summary", admin, None);
    let discount_row = summary["data"]["by_product"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "discount")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        discount_row["amount"],
        json!(-(beer_price - (beer_price + 1) / 2) - 2 * beer_price),
        "{summary}"
    );
}

#[test]
fn tills_hear_of_discount_passes_by_digest_with_every_change() {
    let fx = Fixture::new(1);
    let server = Server::start(&fx.db);
    let api = Api {
        server: &server,
        event: &fx.event,
    };
    let admin = fx.admin_token.as_str();
    let discounts = make_passes(
        &api,
        admin,
        2,
        json!({"type": "discount", "discount": {"off": "amount", "amount": 150}}),
        json!({"max_redemptions": 3}),
    );
    make_passes(
        &api,
        admin,
        1,
        json!({"type": "voucher", "value": 500}),
        json!({}),
    );
    let feed = |since: i64, limit: u32| {
        let (status, body) = api.send(
            "GET",
            &format!("pos/passes?since={since}&limit={limit}"),
            &fx.bar_token,
            None,
        );
        assert_eq!(status, 200, "{body}");
        body["data"].clone()
    };
    let digest = |code: &str| {
        tapster_ledger::passes::PassCode::parse(code)
            .unwrap()
            .digest()
    };
    let all = feed(0, 1000);
    let passes = all["passes"].as_array().unwrap();
    assert_eq!(passes.len(), 2, "vouchers need the server: {all}");
    let digests: BTreeSet<String> = passes
        .iter()
        .map(|p| p["code_digest"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(digests, discounts.iter().map(|c| digest(c)).collect());
    assert!(
        !all.to_string().contains(&discounts[0]),
        "the codes themselves never travel"
    );
    assert_eq!(passes[0]["max_redemptions"], 3);
    assert_eq!(passes[0]["used"], 0);
    assert_eq!(all["more"], false);
    // Pages, in version order.
    let first = feed(0, 1);
    assert_eq!(
        (first["passes"].as_array().unwrap().len(), &first["more"]),
        (1, &json!(true))
    );
    let rest = feed(first["next_version"].as_i64().unwrap(), 1);
    assert_eq!(
        rest["passes"][0]["code_digest"],
        all["passes"][1]["code_digest"]
    );
    let version = all["next_version"].as_i64().unwrap();
    assert!(feed(version, 1000)["passes"].as_array().unwrap().is_empty());

    // A redemption and a block are changes the tills hear of.
    let (status, _) = api.send(
        "POST",
        "devices/scan",
        &fx.bar_token,
        Some(json!({"code": discounts[0]})),
    );
    assert_eq!(status, 200);
    let (status, _) = api.send(
        "POST",
        &format!("manage/passes/{}/block", discounts[1]),
        admin,
        None,
    );
    assert_eq!(status, 200);
    let changes = feed(version, 1000);
    let changed = changes["passes"].as_array().unwrap();
    assert_eq!(changed.len(), 2, "{changes}");
    let of = |code: &str| {
        changed
            .iter()
            .find(|p| p["code_digest"] == digest(code).as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(of(&discounts[0])["used"], 1);
    assert_eq!(of(&discounts[1])["blocked"], true);

    // For tills only (a manager's token is not one on pos/*); bad
    // queries are 400.
    assert_eq!(api.send("GET", "pos/passes", admin, None).0, 401);
    assert_eq!(
        api.send("GET", "pos/passes?since=x", &fx.bar_token, None).0,
        400
    );
    assert_eq!(
        api.send("GET", "pos/passes?other=1", &fx.bar_token, None).0,
        400
    );
}
