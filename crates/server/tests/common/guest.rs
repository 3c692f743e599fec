//! The guest pages as a guest's browser and the manager use them in tests.

use reqwest::blocking::Response;
use serde_json::json;

use super::{json, Fixture, Server};

/// The codes the manager makes for `tokens`, in order.
pub fn codes(server: &Server, fx: &Fixture, tokens: &[&str]) -> Vec<String> {
    let (status, body) = json(
        server
            .client()
            .post(server.url(&fx.event, "manage/guest-codes"))
            .bearer_auth(&fx.admin_token)
            .json(&json!({ "token_ids": tokens }))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    body["data"]["codes"]
        .as_array()
        .unwrap()
        .iter()
        .zip(tokens)
        .map(|(issued, token)| {
            assert_eq!(issued["token_id"], *token);
            issued["code"].as_str().unwrap().to_string()
        })
        .collect()
}

pub fn sign_in(server: &Server, fx: &Fixture, code: &str) -> Response {
    server
        .page_client()
        .post(format!("{}/guest/{}/sign-in", server.base, fx.event))
        .header("Accept-Language", "en-GB,en")
        .form(&[("code", code)])
        .send()
        .unwrap()
}

/// The session cookie a sign-in set (`name=value`), with its attributes.
pub fn session_cookie(response: &Response) -> (String, String) {
    let header = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("__Host-tapster-guest="))
        .expect("a session cookie");
    let (pair, attributes) = header.split_once(';').unwrap();
    (pair.to_string(), attributes.to_string())
}

/// The page as the browser holding `cookie` sees it.
pub fn page(server: &Server, fx: &Fixture, cookie: Option<&str>) -> (u16, String) {
    let mut request = server
        .page_client()
        .get(format!("{}/guest/{}?lang=en", server.base, fx.event));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    let response = request.send().unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

/// The form token in a page.
pub fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

pub fn sell(
    server: &Server,
    fx: &Fixture,
    band: &str,
    products: &[&str],
) -> (u16, serde_json::Value) {
    json(
        server
            .client()
            .post(server.url(&fx.event, &format!("pos/wallets/token/{band}/transactions")))
            .bearer_auth(&fx.bar_token)
            .json(&json!({ "products": products }))
            .send()
            .unwrap(),
    )
}

/// Sends the payout form of the page `csrf` came from: status and page.
pub fn request_payout(
    server: &Server,
    fx: &Fixture,
    cookie: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let mut form = vec![("csrf", csrf), ("lang", "en")];
    form.extend_from_slice(fields);
    let answer = server
        .page_client()
        .post(format!("{}/guest/{}/payout", server.base, fx.event))
        .header("Cookie", cookie)
        .form(&form)
        .send()
        .unwrap();
    (answer.status().as_u16(), answer.text().unwrap())
}
