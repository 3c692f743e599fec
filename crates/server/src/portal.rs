//! The guest pages at `/guest/{event_id}`: a guest signs in with the code
//! printed on their wristband (typed, or the QR code's link carrying it)
//! or by tapping a genuine band with the phone, sees the balance (paid
//! money and promo credit apart, cups out) and every transaction with its
//! lines, bar and time, and can block a lost band at once.
//!
//! Plain HTML forms, rendered here, in German and English: they work
//! without JavaScript and load nothing from anywhere else (a strict
//! Content-Security-Policy forbids it). The rules are in [`crate::guest`];
//! this module parses, calls it and renders.
//!
//! - The session is a `__Host-` cookie: HttpOnly, Secure, SameSite=Lax
//!   (Lax, not Strict, so that the QR code's link, opened from the camera
//!   app, lands signed in), 30 minutes.
//! - Every change (blocking, signing out) carries the session's form token,
//!   compared in constant time.
//! - A link's code leaves the address bar at once: the sign-in answers with
//!   a redirect to the page without it, and no page sends a `Referer`.
//! - Wrong codes: 401 with the same page whatever was wrong; too many from
//!   one address: 429 with `Retry-After`.
//! - The pages' work runs at a lower CPU priority than the tills'
//!   ([`crate::background`]): a crowd of guests cannot slow the bars.

use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::background::low_priority;
use crate::error::ServerError;
use crate::guest::{
    GuestAccount, GuestSession, PayoutRefusal, SignIn, StoredPayoutRequest, SESSION_LIFE_MS,
};
use crate::http::AppState;
use tapster_ledger::payout_request::{Donation, PayoutRequestError, PayoutSettings, TypedRequest};
use tapster_ledger::Cents;

/// The session cookie: `__Host-` binds it to this host, HTTPS and path `/`.
pub const COOKIE: &str = "__Host-tapster-guest";

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const STYLESHEET: &str = include_str!("portal.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/guest/{event_id}", get(page))
        .route("/guest/{event_id}/sign-in", post(sign_in))
        .route("/guest/{event_id}/tap", get(tap))
        .route("/guest/{event_id}/block", post(block))
        .route("/guest/{event_id}/sign-out", post(sign_out))
        .route("/guest/{event_id}/payout", post(payout))
        .route("/guest-static/portal.css", get(stylesheet))
}

/// The client's address, for counting wrong codes: the connection's peer.
struct ClientAddress(String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<crate::transport::ClientAddress>>()
                .map_or_else(|| "unknown".to_string(), |info| info.0 .0.ip().to_string()),
        ))
    }
}

#[derive(Deserialize)]
struct PageQuery {
    code: Option<String>,
    lang: Option<String>,
    blocked: Option<String>,
    saved: Option<String>,
}

#[derive(Deserialize)]
struct PayoutForm {
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    account_holder: String,
    #[serde(default)]
    iban: String,
    #[serde(default)]
    email: String,
    /// `none`, `part` or `all`.
    donation: Option<String>,
    donation_amount: Option<String>,
}

/// Everything the signed-in page shows.
struct AccountView {
    account: GuestAccount,
    payout: Option<StoredPayoutRequest>,
    settings: PayoutSettings,
}

impl AccountView {
    fn load(
        store: &crate::store::ServerStore,
        event: &str,
        session: &GuestSession,
    ) -> Result<AccountView, ServerError> {
        Ok(AccountView {
            account: store.guest_account(event, &session.token)?,
            payout: store.guest_payout_request(event, &session.token)?,
            settings: store.payout_settings(event)?,
        })
    }
}

/// A line above the payout form.
enum Notice {
    Saved,
    Refused(String),
}

#[derive(Deserialize)]
struct SignInForm {
    code: String,
    lang: Option<String>,
}

#[derive(Deserialize)]
struct TapQuery {
    e: String,
    c: String,
    lang: Option<String>,
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf: String,
    lang: Option<String>,
    confirm: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    Path(event): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
) -> Response {
    let lang = Lang::pick(query.lang.as_deref(), &headers);
    if let Some(code) = query.code {
        return signed_in(&state, &event, lang, move |store, event| {
            store.guest_sign_in(event, &code, &address)
        })
        .await;
    }
    let store = state.store.clone();
    let cookie = session_cookie(&headers);
    let blocked = query.blocked.is_some();
    let shown = low_priority(move || {
        let Some(name) = store.guest_event_name(&event)? else {
            return Ok(None);
        };
        let session = match cookie {
            Some(cookie) => store.guest_session(&event, &cookie)?,
            None => None,
        };
        let view = match &session {
            Some(session) => Some(AccountView::load(&store, &event, session)?),
            None => None,
        };
        Ok(Some((name, event, session.zip(view))))
    })
    .await;
    let notice = query.saved.map(|_| Notice::Saved);
    match shown {
        Ok(None) => not_found(lang),
        Ok(Some((name, event, Some((session, view))))) => html(
            StatusCode::OK,
            lang,
            &event,
            &name,
            &account_body(lang, &event, &session, &view, notice.as_ref()),
        ),
        Ok(Some((name, event, None))) if blocked => html(
            StatusCode::OK,
            lang,
            &event,
            &name,
            &blocked_body(lang, &event),
        ),
        Ok(Some((name, event, None))) => html(
            StatusCode::OK,
            lang,
            &event,
            &name,
            &sign_in_body(lang, &event, None),
        ),
        Err(error) => failure(lang, &error),
    }
}

async fn sign_in(
    State(state): State<AppState>,
    Path(event): Path<String>,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = Lang::pick(form.lang.as_deref(), &headers);
    signed_in(&state, &event, lang, move |store, event| {
        store.guest_sign_in(event, &form.code, &address)
    })
    .await
}

async fn tap(
    State(state): State<AppState>,
    Path(event): Path<String>,
    Query(query): Query<TapQuery>,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
) -> Response {
    let lang = Lang::pick(query.lang.as_deref(), &headers);
    signed_in(&state, &event, lang, move |store, event| {
        store.guest_tap_sign_in(event, &query.e, &query.c, &address)
    })
    .await
}

/// Runs a sign-in and answers it: to the page, signed in, or the form
/// again with why not.
async fn signed_in(
    state: &AppState,
    event: &str,
    lang: Lang,
    attempt: impl FnOnce(&crate::store::ServerStore, &str) -> Result<SignIn, ServerError>
        + Send
        + 'static,
) -> Response {
    let store = state.store.clone();
    let event = event.to_string();
    let outcome = low_priority(move || {
        let Some(name) = store.guest_event_name(&event)? else {
            return Ok(None);
        };
        Ok(Some((name, attempt(&store, &event)?, event)))
    })
    .await;
    let (name, outcome, event) = match outcome {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(lang),
        Err(error) => return failure(lang, &error),
    };
    let t = lang.texts();
    match outcome {
        SignIn::Signed(session) => {
            let mut response = see_other(&page_path(&event, lang, None));
            set_cookie(
                &mut response,
                &format!(
                    "{COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
                    session.cookie,
                    SESSION_LIFE_MS / 1000
                ),
            );
            response
        }
        SignIn::Refused => html(
            StatusCode::UNAUTHORIZED,
            lang,
            &event,
            &name,
            &sign_in_body(lang, &event, Some(t.refused)),
        ),
        SignIn::Malformed => html(
            StatusCode::BAD_REQUEST,
            lang,
            &event,
            &name,
            &sign_in_body(lang, &event, Some(t.malformed)),
        ),
        SignIn::Wait { seconds } => {
            let message = t.wait.replace("{s}", &seconds.to_string());
            let mut response = html(
                StatusCode::TOO_MANY_REQUESTS,
                lang,
                &event,
                &name,
                &sign_in_body(lang, &event, Some(&message)),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
    }
}

async fn block(
    State(state): State<AppState>,
    Path(event): Path<String>,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    Form(form): Form<ChangeForm>,
) -> Response {
    let lang = Lang::pick(form.lang.as_deref(), &headers);
    let session = match checked_session(&state, &event, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(unchecked) => return unchecked.answer(&event, lang),
    };
    if form.confirm.as_deref() != Some("yes") {
        return see_other(&page_path(&event, lang, Some("#block")));
    }
    let store = state.store.clone();
    let at = event.clone();
    match low_priority(move || store.guest_block(&at, &session, &address)).await {
        Ok(()) => {
            let mut response = see_other(&format!("/guest/{event}?blocked=1&lang={}", lang.code()));
            clear_cookie(&mut response);
            response
        }
        Err(error) => failure(lang, &error),
    }
}

async fn payout(
    State(state): State<AppState>,
    Path(event): Path<String>,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    Form(form): Form<PayoutForm>,
) -> Response {
    let lang = Lang::pick(form.lang.as_deref(), &headers);
    let session = match checked_session(&state, &event, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(unchecked) => return unchecked.answer(&event, lang),
    };
    let store = state.store.clone();
    let at = event.clone();
    let outcome = low_priority(move || {
        let name = store.guest_event_name(&at)?.unwrap_or_default();
        let donation = match form.donation.as_deref() {
            Some("part") => match form
                .donation_amount
                .as_deref()
                .map(|a| Cents::parse_decimal(&a.trim().replace(',', ".")))
            {
                Some(Ok(cents)) => Some(Donation::Part(cents)),
                _ => Some(Donation::Part(Cents(0))),
            },
            Some("all") => Some(Donation::All),
            _ => None,
        };
        // An empty IBAN keeps the one given before (it is never shown in full).
        let earlier = store.guest_payout_request(&at, &session.token)?;
        let iban = match (form.iban.trim(), &earlier) {
            ("", Some(earlier)) => earlier.request.iban.clone(),
            (typed, _) => typed.to_string(),
        };
        let typed = TypedRequest {
            account_holder: &form.account_holder,
            iban: &iban,
            email: &form.email,
            donation,
        };
        let saved = store.save_guest_payout_request(&at, &session, &typed, &address)?;
        let view = AccountView::load(&store, &at, &session)?;
        Ok((name, session, view, saved, earlier.map(|e| e.request)))
    })
    .await;
    match outcome {
        Ok((name, _, view, Ok(saved), earlier)) => {
            if let Some(mailer) = &state.guests.mail {
                for mail in payout_mails(
                    lang,
                    &event,
                    &name,
                    state.guests.portal_url.as_deref(),
                    view.settings.donation_target.as_deref(),
                    &saved,
                    earlier.as_ref(),
                ) {
                    mailer.send(mail);
                }
            }
            see_other(&format!(
                "/guest/{event}?saved=payout&lang={}#payout",
                lang.code()
            ))
        }
        Ok((name, session, view, Err(refusal), _)) => {
            let t = lang.texts();
            let (status, message) = match refusal {
                PayoutRefusal::Invalid(error) => {
                    (StatusCode::BAD_REQUEST, lang.payout_error(&error))
                }
                PayoutRefusal::Closed => (StatusCode::CONFLICT, t.payout_closed.to_string()),
                PayoutRefusal::InRun => (StatusCode::CONFLICT, t.payout_in_run.to_string()),
            };
            html(
                status,
                lang,
                &event,
                &name,
                &account_body(
                    lang,
                    &event,
                    &session,
                    &view,
                    Some(&Notice::Refused(message)),
                ),
            )
        }
        Err(error) => failure(lang, &error),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    Path(event): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ChangeForm>,
) -> Response {
    let lang = Lang::pick(form.lang.as_deref(), &headers);
    let session = match checked_session(&state, &event, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(unchecked) => return unchecked.answer(&event, lang),
    };
    let store = state.store.clone();
    match low_priority(move || store.guest_sign_out(&session.cookie)).await {
        Ok(()) => {
            let mut response = see_other(&page_path(&event, lang, None));
            clear_cookie(&mut response);
            response
        }
        Err(error) => failure(lang, &error),
    }
}

/// Why a change was not made.
enum Unchecked {
    /// No session (expired, signed out, band blocked): back to the page.
    SignedOut,
    /// The form's token is not the session's.
    Outdated,
    Failed(ServerError),
}

impl Unchecked {
    fn answer(self, event: &str, lang: Lang) -> Response {
        let t = lang.texts();
        match self {
            Unchecked::SignedOut => see_other(&page_path(event, lang, None)),
            Unchecked::Outdated => html(
                StatusCode::FORBIDDEN,
                lang,
                event,
                "",
                &format!(
                    "<h1>{}</h1><p>{}</p>",
                    esc(t.outdated_heading),
                    esc(t.outdated)
                ),
            ),
            Unchecked::Failed(error) => failure(lang, &error),
        }
    }
}

/// The session of the cookie, if the form carries its token.
async fn checked_session(
    state: &AppState,
    event: &str,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<GuestSession, Unchecked> {
    let cookie = session_cookie(headers).ok_or(Unchecked::SignedOut)?;
    let store = state.store.clone();
    let at = event.to_string();
    match low_priority(move || store.guest_session(&at, &cookie)).await {
        Ok(Some(session)) if same_secret(&session.csrf, csrf) => Ok(session),
        Ok(Some(_)) => Err(Unchecked::Outdated),
        Ok(None) => Err(Unchecked::SignedOut),
        Err(error) => Err(Unchecked::Failed(error)),
    }
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Equal, in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn clear_cookie(response: &mut Response) {
    set_cookie(
        response,
        &format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
}

fn page_path(event: &str, lang: Lang, anchor: Option<&str>) -> String {
    format!(
        "/guest/{event}?lang={}{}",
        lang.code(),
        anchor.unwrap_or_default()
    )
}

/// Headers every page of the guest pages carries.
fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    secure(response)
}

/// A page; `event` is the event's id when known, so the language link
/// leads to its page from wherever this one was answered (a form's POST).
fn html(status: StatusCode, lang: Lang, event: &str, event_name: &str, body: &str) -> Response {
    let t = lang.texts();
    let switch = if event.is_empty() {
        format!("?lang={}", lang.other().code())
    } else {
        format!("/guest/{}?lang={}", esc(event), lang.other().code())
    };
    let page = format!(
        "<!doctype html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/guest-static/portal.css\">\n</head>\n\
         <body>\n<header><p class=\"event\">{event}</p>\
         <nav aria-label=\"{language}\"><a href=\"{switch}\" lang=\"{other_code}\" hreflang=\"{other_code}\">{other}</a></nav></header>\n\
         <main>\n{body}\n</main>\n</body>\n</html>\n",
        code = lang.code(),
        title = esc(&if event_name.is_empty() {
            t.title.to_string()
        } else {
            format!("{} – {event_name}", t.title)
        }),
        event = esc(event_name),
        language = esc(t.language),
        other_code = lang.other().code(),
        other = esc(lang.other().texts().language_name),
    );
    secure(
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response(),
    )
}

fn not_found(lang: Lang) -> Response {
    let t = lang.texts();
    html(
        StatusCode::NOT_FOUND,
        lang,
        "",
        "",
        &format!(
            "<h1>{}</h1><p>{}</p>",
            esc(t.not_found_heading),
            esc(t.not_found)
        ),
    )
}

fn failure(lang: Lang, error: &ServerError) -> Response {
    tracing::warn!(%error, "guest page failed");
    let t = lang.texts();
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        lang,
        "",
        "",
        &format!("<h1>{}</h1><p>{}</p>", esc(t.failed_heading), esc(t.failed)),
    )
}

fn sign_in_body(lang: Lang, event: &str, message: Option<&str>) -> String {
    let t = lang.texts();
    let alert = message.map_or_else(String::new, |m| {
        format!(
            "<p class=\"alert\" role=\"alert\" id=\"code-error\">{}</p>",
            esc(m)
        )
    });
    let described = if message.is_some() {
        " aria-describedby=\"code-hint code-error\" aria-invalid=\"true\""
    } else {
        " aria-describedby=\"code-hint\""
    };
    format!(
        "<h1>{heading}</h1>\n{alert}\
         <form method=\"post\" action=\"/guest/{event}/sign-in\">\n\
         <input type=\"hidden\" name=\"lang\" value=\"{code}\">\n\
         <label for=\"code\">{label}</label>\n\
         <input id=\"code\" name=\"code\" required autocomplete=\"off\" autocapitalize=\"characters\" \
         spellcheck=\"false\" maxlength=\"40\"{described}>\n\
         <p class=\"hint\" id=\"code-hint\">{hint}</p>\n\
         <button type=\"submit\">{button}</button>\n</form>\n<p class=\"hint\">{tap}</p>",
        heading = esc(t.sign_in_heading),
        event = esc(event),
        code = lang.code(),
        label = esc(t.code_label),
        hint = esc(t.code_hint),
        button = esc(t.sign_in_button),
        tap = esc(t.tap_hint),
    )
}

fn account_body(
    lang: Lang,
    event: &str,
    session: &GuestSession,
    view: &AccountView,
    notice: Option<&Notice>,
) -> String {
    let account = &view.account;
    let t = lang.texts();
    let mut out = String::new();
    out.push_str(&format!(
        "<h1>{}</h1>\n<p class=\"band\">{} <span class=\"mono\">{}</span></p>\n",
        esc(t.title),
        esc(t.band),
        esc(account.token.as_str())
    ));
    if !account.unsynced_bars.is_empty() {
        out.push_str(&format!(
            "<p class=\"note\" role=\"status\">{}</p>\n",
            esc(&t
                .unsynced
                .replace("{bars}", &account.unsynced_bars.join(", ")))
        ));
    }
    out.push_str(&format!(
        "<section aria-labelledby=\"balance\">\n<h2 id=\"balance\">{}</h2>\n",
        esc(t.balance_heading)
    ));
    if account.paired {
        out.push_str(&format!(
            "<dl class=\"balance\">\n<dt>{}</dt><dd class=\"total\">{}</dd>\n<dt>{}</dt><dd>{}</dd>\n<dt>{}</dt><dd>{}</dd>\n",
            esc(t.total),
            lang.money(account.paid_cents + account.promo_cents),
            esc(t.paid),
            lang.money(account.paid_cents),
            esc(t.promo),
            lang.money(account.promo_cents),
        ));
        for (name, count) in &account.deposits {
            out.push_str(&format!(
                "<dt>{}</dt><dd>{} × {}</dd>\n",
                esc(t.deposits),
                count,
                esc(name)
            ));
        }
        out.push_str("</dl>\n");
    } else {
        out.push_str(&format!("<p>{}</p>\n", esc(t.not_paired)));
    }
    out.push_str("</section>\n");
    out.push_str(&format!(
        "<section aria-labelledby=\"history\">\n<h2 id=\"history\">{}</h2>\n",
        esc(t.history_heading)
    ));
    if account.history.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", esc(t.no_history)));
    } else {
        out.push_str("<ol class=\"history\">\n");
        for entry in &account.history {
            let mut where_when = entry.at.clone();
            if let Some(bar) = &entry.bar {
                where_when = format!("{where_when} · {bar}");
            }
            if entry.offline {
                where_when = format!("{where_when} · {}", t.offline);
            }
            out.push_str(&format!(
                "<li><p class=\"entry\"><span class=\"kind\">{}</span> <span class=\"amount\">{}</span></p>\n<p class=\"hint\">{}</p>\n",
                esc(lang.kind(entry)),
                lang.money(entry.amount),
                esc(&where_when),
            ));
            if !entry.lines.is_empty() {
                out.push_str("<ul class=\"lines\">\n");
                for line in &entry.lines {
                    out.push_str(&format!(
                        "<li>{} × {} <span class=\"amount\">{}</span></li>\n",
                        line.quantity,
                        esc(&line.name),
                        lang.money(line.unit_price.0.saturating_mul(line.quantity)),
                    ));
                }
                out.push_str("</ul>\n");
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
    out.push_str(&payout_section(lang, event, session, view, notice));
    out.push_str(&format!(
        "<section aria-labelledby=\"block-heading\" id=\"block\">\n<h2 id=\"block-heading\">{heading}</h2>\n<p>{text}</p>\n\
         <form method=\"post\" action=\"/guest/{event}/block\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n<input type=\"hidden\" name=\"lang\" value=\"{code}\">\n\
         <p><input type=\"checkbox\" id=\"confirm\" name=\"confirm\" value=\"yes\" required> \
         <label for=\"confirm\">{confirm}</label></p>\n\
         <button type=\"submit\" class=\"danger\">{button}</button>\n</form>\n</section>\n\
         <form method=\"post\" action=\"/guest/{event}/sign-out\" class=\"sign-out\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n<input type=\"hidden\" name=\"lang\" value=\"{code}\">\n\
         <button type=\"submit\" class=\"quiet\">{sign_out}</button>\n</form>\n",
        heading = esc(t.block_heading),
        text = esc(t.block_text),
        event = esc(event),
        csrf = esc(&session.csrf),
        code = lang.code(),
        confirm = esc(t.block_confirm),
        button = esc(t.block_button),
        sign_out = esc(t.sign_out),
    ));
    out
}

fn payout_section(
    lang: Lang,
    event: &str,
    session: &GuestSession,
    view: &AccountView,
    notice: Option<&Notice>,
) -> String {
    let t = lang.texts();
    let mut out = format!(
        "<section aria-labelledby=\"payout-heading\" id=\"payout\">\n<h2 id=\"payout-heading\">{}</h2>\n",
        esc(t.payout_heading)
    );
    match notice {
        Some(Notice::Saved) => out.push_str(&format!(
            "<p class=\"note\" role=\"status\">{}</p>\n",
            esc(t.payout_saved)
        )),
        Some(Notice::Refused(message)) => out.push_str(&format!(
            "<p class=\"alert\" role=\"alert\" id=\"payout-error\">{}</p>\n",
            esc(message)
        )),
        None => {}
    }
    let earlier = view.payout.as_ref();
    if let Some(stored) = earlier {
        let r = &stored.request;
        let goes = match r.donation {
            Donation::All => t.donate_all.to_string(),
            Donation::Part(cents) => format!(
                "{} {} · {}",
                masked_iban(&r.iban),
                esc(&r.account_holder),
                t.donate_part_of.replace("{amount}", &lang.money(cents.0))
            ),
            Donation::None => format!("{} {}", masked_iban(&r.iban), esc(&r.account_holder)),
        };
        out.push_str(&format!(
            "<p>{}</p>\n<p class=\"mono\">{}</p>\n<p>{}</p>\n",
            esc(t.payout_requested),
            goes,
            esc(&r.email)
        ));
        if stored.in_run {
            out.push_str(&format!("<p>{}</p>\n</section>\n", esc(t.payout_in_run)));
            return out;
        }
    } else {
        out.push_str(&format!("<p>{}</p>\n", esc(t.payout_text)));
    }
    if let Some(text) = &view.settings.page_text {
        out.push_str(&format!("<p class=\"organiser\">{}</p>\n", esc(text)));
    }
    let settings = &view.settings;
    if settings.fee_cents.is_positive() || settings.minimum_cents.is_positive() {
        out.push_str(&format!(
            "<p class=\"hint\">{}</p>\n",
            esc(&t
                .fee_and_minimum
                .replace("{fee}", &lang.money(settings.fee_cents.0))
                .replace("{minimum}", &lang.money(settings.minimum_cents.0.max(1))))
        ));
    }
    let value = |f: fn(&tapster_ledger::payout_request::PayoutRequest) -> &str| {
        earlier.map_or_else(String::new, |s| esc(f(&s.request)))
    };
    let iban_hint = match earlier {
        Some(s) if !s.request.iban.is_empty() => {
            t.iban_keep.replace("{iban}", &masked_iban(&s.request.iban))
        }
        _ => t.iban_hint.to_string(),
    };
    out.push_str(&format!(
        "<form method=\"post\" action=\"/guest/{event}/payout\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n<input type=\"hidden\" name=\"lang\" value=\"{code}\">\n\
         <label for=\"holder\">{holder}</label>\n<input id=\"holder\" name=\"account_holder\" value=\"{holder_value}\" maxlength=\"70\" autocomplete=\"name\">\n\
         <label for=\"iban\">IBAN</label>\n<input id=\"iban\" name=\"iban\" maxlength=\"42\" autocomplete=\"off\" spellcheck=\"false\" autocapitalize=\"characters\" aria-describedby=\"iban-hint\">\n\
         <p class=\"hint\" id=\"iban-hint\">{iban_hint}</p>\n\
         <label for=\"email\">{email}</label>\n<input id=\"email\" name=\"email\" type=\"email\" value=\"{email_value}\" required autocomplete=\"email\">\n",
        event = esc(event),
        csrf = esc(&session.csrf),
        code = lang.code(),
        holder = esc(t.account_holder),
        holder_value = value(|r| &r.account_holder),
        iban_hint = esc(&iban_hint),
        email = esc(t.email),
        email_value = value(|r| &r.email),
    ));
    if let Some(target) = &view.settings.donation_target {
        let chosen = earlier.map_or(Donation::None, |s| s.request.donation);
        let checked = |yes: bool| if yes { " checked" } else { "" };
        let amount = match chosen {
            Donation::Part(cents) => format!("{}.{:02}", cents.0 / 100, cents.0 % 100),
            _ => String::new(),
        };
        out.push_str(&format!(
            "<fieldset>\n<legend>{legend}</legend>\n\
             <p><input type=\"radio\" id=\"donate-none\" name=\"donation\" value=\"none\"{none}> <label for=\"donate-none\">{no}</label></p>\n\
             <p><input type=\"radio\" id=\"donate-part\" name=\"donation\" value=\"part\"{part}> <label for=\"donate-part\">{part_label}</label> \
             <input id=\"donation-amount\" name=\"donation_amount\" value=\"{amount}\" inputmode=\"decimal\" size=\"6\" aria-label=\"{part_label}\"></p>\n\
             <p><input type=\"radio\" id=\"donate-all\" name=\"donation\" value=\"all\"{all}> <label for=\"donate-all\">{all_label}</label></p>\n</fieldset>\n",
            legend = esc(&t.donation_legend.replace("{target}", target)),
            none = checked(chosen == Donation::None),
            no = esc(t.donate_none),
            part = checked(matches!(chosen, Donation::Part(_))),
            part_label = esc(t.donate_part),
            amount = esc(&amount),
            all = checked(chosen == Donation::All),
            all_label = esc(t.donate_all),
        ));
    }
    out.push_str(&format!(
        "<button type=\"submit\">{}</button>\n</form>\n</section>\n",
        esc(if earlier.is_some() {
            t.payout_change
        } else {
            t.payout_button
        })
    ));
    out
}

/// `DE44 … 4931`: enough to recognise one's account, not to read it off
/// a screen.
/// The receipt of a saved payout request, and a notice to the earlier
/// address when where the money goes (or where mail goes) changed.
fn payout_mails(
    lang: Lang,
    event: &str,
    event_name: &str,
    portal_url: Option<&str>,
    donation_target: Option<&str>,
    saved: &tapster_ledger::payout_request::PayoutRequest,
    earlier: Option<&tapster_ledger::payout_request::PayoutRequest>,
) -> Vec<crate::mail::Mail> {
    let t = lang.texts();
    let target = donation_target.unwrap_or("-");
    let details = match saved.donation {
        Donation::All => t.mail_donation_all.replace("{target}", target),
        donation => {
            let mut details = format!(
                "{}: {}\nIBAN: {}",
                t.mail_holder,
                saved.account_holder,
                masked_iban(&saved.iban)
            );
            if let Donation::Part(cents) = donation {
                details.push('\n');
                details.push_str(
                    &t.mail_donation_part
                        .replace("{target}", target)
                        .replace("{amount}", &lang.money(cents.0)),
                );
            }
            details
        }
    };
    let link = portal_url
        .map(|base| format!("\n{base}/guest/{event}?lang={}", lang.code()))
        .unwrap_or_default();
    let mut mails = vec![crate::mail::Mail {
        to: saved.email.clone(),
        subject: t.mail_subject.replace("{event}", event_name),
        body: t
            .mail_receipt
            .replace("{event}", event_name)
            .replace("{details}", &details)
            .replace("{link}", &link),
    }];
    if let Some(earlier) = earlier {
        let changed = earlier.iban != saved.iban
            || earlier.account_holder != saved.account_holder
            || earlier.email != saved.email;
        if changed && !earlier.email.eq_ignore_ascii_case(&saved.email) {
            mails.push(crate::mail::Mail {
                to: earlier.email.clone(),
                subject: t.mail_changed_subject.replace("{event}", event_name),
                body: t
                    .mail_changed
                    .replace("{event}", event_name)
                    .replace("{link}", &link),
            });
        }
    }
    mails
}

fn masked_iban(iban: &str) -> String {
    if iban.len() < 8 {
        return String::new();
    }
    format!("{} … {}", &iban[..4], &iban[iban.len() - 4..])
}

fn blocked_body(lang: Lang, event: &str) -> String {
    let t = lang.texts();
    format!(
        "<h1>{}</h1>\n<p role=\"status\">{}</p>\n<p><a href=\"/guest/{}?lang={}\">{}</a></p>",
        esc(t.blocked_heading),
        esc(t.blocked),
        esc(event),
        lang.code(),
        esc(t.back),
    )
}

/// Text for HTML, escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page's language: `?lang=`, else the browser's first of German and
/// English, else German.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lang {
    De,
    En,
}

impl Lang {
    fn pick(asked: Option<&str>, headers: &HeaderMap) -> Lang {
        match asked {
            Some("de") => return Lang::De,
            Some("en") => return Lang::En,
            _ => {}
        }
        let accepted = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let position = |tag: &str| {
            accepted
                .split(',')
                .position(|part| part.trim().split(['-', ';']).next() == Some(tag))
        };
        match (position("de"), position("en")) {
            (Some(de), Some(en)) if en < de => Lang::En,
            (None, Some(_)) => Lang::En,
            _ => Lang::De,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    fn other(self) -> Lang {
        match self {
            Lang::De => Lang::En,
            Lang::En => Lang::De,
        }
    }

    fn texts(self) -> &'static Texts {
        match self {
            Lang::De => &GERMAN,
            Lang::En => &ENGLISH,
        }
    }

    /// `12,50 €` / `€12.50`, with a real minus sign.
    fn money(self, cents: i64) -> String {
        let sign = if cents < 0 { "−" } else { "" };
        let abs = cents.unsigned_abs();
        match self {
            Lang::De => format!("{sign}{},{:02} €", abs / 100, abs % 100),
            Lang::En => format!("{sign}€{}.{:02}", abs / 100, abs % 100),
        }
    }

    fn payout_error(self, error: &PayoutRequestError) -> String {
        let t = self.texts();
        match error {
            PayoutRequestError::AccountHolder => t.error_holder.to_string(),
            PayoutRequestError::Iban => t.error_iban.to_string(),
            PayoutRequestError::Country { allowed } => {
                t.error_country.replace("{countries}", allowed)
            }
            PayoutRequestError::Email => t.error_email.to_string(),
            PayoutRequestError::Donation => t.error_donation.to_string(),
            PayoutRequestError::NoDonations => t.error_no_donations.to_string(),
        }
    }

    fn kind(self, entry: &crate::guest::GuestEntry) -> &'static str {
        use crate::payout_run::{
            TAG_DONATION, TAG_FEE, TAG_TRANSFER, TAG_UNCLAIMED_DONATED, TAG_UNCLAIMED_RETAINED,
        };
        let t = self.texts();
        match (entry.kind.as_str(), entry.tender.as_str()) {
            ("payout", _) => match entry.tag.as_deref() {
                Some(TAG_TRANSFER) => t.kind_payout_transfer,
                Some(TAG_FEE) => t.kind_payout_fee,
                Some(TAG_DONATION) => t.kind_donation,
                Some(TAG_UNCLAIMED_RETAINED) => t.kind_unclaimed_retained,
                Some(TAG_UNCLAIMED_DONATED) => t.kind_unclaimed_donated,
                _ => t.kind_payout,
            },
            ("sale", _) => t.kind_sale,
            ("top_up", "card") => t.kind_top_up_card,
            ("top_up", _) => t.kind_top_up_cash,
            ("cancel", _) => t.kind_cancel,
            ("deposit_return", _) => t.kind_deposit_return,
            _ => t.kind_adjustment,
        }
    }
}

struct Texts {
    language_name: &'static str,
    language: &'static str,
    title: &'static str,
    sign_in_heading: &'static str,
    code_label: &'static str,
    code_hint: &'static str,
    sign_in_button: &'static str,
    tap_hint: &'static str,
    refused: &'static str,
    malformed: &'static str,
    wait: &'static str,
    band: &'static str,
    unsynced: &'static str,
    balance_heading: &'static str,
    total: &'static str,
    paid: &'static str,
    promo: &'static str,
    deposits: &'static str,
    not_paired: &'static str,
    history_heading: &'static str,
    no_history: &'static str,
    offline: &'static str,
    kind_sale: &'static str,
    kind_top_up_cash: &'static str,
    kind_top_up_card: &'static str,
    kind_cancel: &'static str,
    kind_deposit_return: &'static str,
    kind_payout: &'static str,
    kind_payout_transfer: &'static str,
    kind_payout_fee: &'static str,
    kind_donation: &'static str,
    kind_unclaimed_retained: &'static str,
    kind_unclaimed_donated: &'static str,
    fee_and_minimum: &'static str,
    mail_subject: &'static str,
    mail_receipt: &'static str,
    mail_changed_subject: &'static str,
    mail_changed: &'static str,
    mail_holder: &'static str,
    mail_donation_part: &'static str,
    mail_donation_all: &'static str,
    kind_adjustment: &'static str,
    block_heading: &'static str,
    block_text: &'static str,
    block_confirm: &'static str,
    block_button: &'static str,
    blocked_heading: &'static str,
    blocked: &'static str,
    back: &'static str,
    sign_out: &'static str,
    outdated_heading: &'static str,
    outdated: &'static str,
    not_found_heading: &'static str,
    not_found: &'static str,
    failed_heading: &'static str,
    failed: &'static str,
    payout_heading: &'static str,
    payout_text: &'static str,
    payout_requested: &'static str,
    payout_saved: &'static str,
    payout_in_run: &'static str,
    payout_closed: &'static str,
    payout_button: &'static str,
    payout_change: &'static str,
    account_holder: &'static str,
    iban_hint: &'static str,
    iban_keep: &'static str,
    email: &'static str,
    donation_legend: &'static str,
    donate_none: &'static str,
    donate_part: &'static str,
    donate_part_of: &'static str,
    donate_all: &'static str,
    error_holder: &'static str,
    error_iban: &'static str,
    error_country: &'static str,
    error_email: &'static str,
    error_donation: &'static str,
    error_no_donations: &'static str,
}

static GERMAN: Texts = Texts {
    language_name: "Deutsch",
    language: "Sprache",
    title: "Dein Armband",
    sign_in_heading: "Guthaben und Umsätze deines Armbands",
    code_label: "Code auf dem Armband",
    code_hint: "12 Zeichen, zum Beispiel 7QK2-M9XD-4HNB. Groß- und Kleinschreibung und Bindestriche sind egal.",
    sign_in_button: "Anmelden",
    tap_hint: "Oder halte dein Armband an das Handy und öffne den Link, den es zeigt.",
    refused: "Mit diesem Code lässt sich kein Armband öffnen. Prüfe ihn und versuche es noch einmal.",
    malformed: "Der Code auf dem Armband hat 12 Buchstaben und Ziffern, zum Beispiel 7QK2-M9XD-4HNB.",
    wait: "Zu viele falsche Codes. Bitte versuche es in {s} s noch einmal.",
    band: "Armband",
    unsynced: "Noch nicht alle Bars haben ihre letzten Verkäufe übertragen ({bars}). Sie können hier eine Weile fehlen.",
    balance_heading: "Guthaben",
    total: "Verfügbar",
    paid: "Eingezahlt (auszahlbar)",
    promo: "Aktionsguthaben (nicht auszahlbar)",
    deposits: "Pfand ausgegeben",
    not_paired: "Dieses Armband wurde noch nicht aufgeladen.",
    history_heading: "Umsätze",
    no_history: "Noch keine Umsätze.",
    offline: "ohne Netz gebucht, später übertragen",
    kind_sale: "Kauf",
    kind_top_up_cash: "Aufladung (bar)",
    kind_top_up_card: "Aufladung (Karte)",
    kind_cancel: "Storno",
    kind_deposit_return: "Pfandrückgabe",
    kind_payout: "Auszahlung",
    kind_payout_transfer: "Auszahlung per Überweisung",
    kind_payout_fee: "Gebühr für die Überweisung",
    kind_donation: "Spende",
    kind_unclaimed_retained: "Nicht abgeholt – einbehalten",
    kind_unclaimed_donated: "Nicht abgeholt – gespendet",
    fee_and_minimum: "Für eine Überweisung behalten wir {fee} ein; überwiesen wird ab {minimum}.",
    mail_subject: "Deine Auszahlung bei {event}",
    mail_receipt: "Hallo,\n\nwir haben gespeichert, wohin der Rest deines Armbands bei {event} gehen soll:\n\n{details}\n\nBis die Auszahlung läuft, kannst du das auf der Seite deines Armbands ändern.{link}\n\nWenn du das nicht warst, sperre dort dein Armband und melde dich beim Veranstalter.\n",
    mail_changed_subject: "Geänderte Auszahlungsdaten bei {event}",
    mail_changed: "Hallo,\n\ndie Auszahlungsdaten des Armbands, für das du bei {event} eine Auszahlung angefordert hast, wurden gerade geändert. Die Bestätigung ging an die neue Adresse.\n\nWenn du das nicht warst, sperre dein Armband sofort auf seiner Seite und melde dich beim Veranstalter.{link}\n",
    mail_holder: "Kontoinhaber",
    mail_donation_part: "Spende an {target}: {amount}",
    mail_donation_all: "Alles als Spende an {target}",
    kind_adjustment: "Korrektur",
    block_heading: "Armband verloren?",
    block_text: "Sperre es sofort: Danach kann niemand mehr damit bezahlen. Am Infostand wird dein Guthaben gegen Ausweis auf ein neues Armband übertragen.",
    block_confirm: "Ja, mein Armband jetzt sperren",
    block_button: "Armband sperren",
    blocked_heading: "Dein Armband ist gesperrt",
    blocked: "Niemand kann mehr damit bezahlen. Am Infostand wird dein Guthaben auf ein neues Armband übertragen.",
    back: "Zur Anmeldung",
    sign_out: "Abmelden",
    outdated_heading: "Formular abgelaufen",
    outdated: "Lade die Seite neu und versuche es noch einmal.",
    not_found_heading: "Seite nicht gefunden",
    not_found: "Prüfe den Link auf deinem Armband.",
    failed_heading: "Gerade nicht erreichbar",
    failed: "Bitte versuche es in einem Moment noch einmal.",
    payout_heading: "Restguthaben auszahlen",
    payout_text: "Nach dem Festival überweisen wir dein eingezahltes Restguthaben auf dein Konto. Trag es hier ein; bis zur Auszahlung kannst du es ändern.",
    payout_requested: "Deine Auszahlung geht an:",
    payout_saved: "Gespeichert. Bis zur Auszahlung kannst du es hier noch ändern.",
    payout_in_run: "Deine Auszahlung ist schon in Bearbeitung und kann nicht mehr geändert werden.",
    payout_closed: "Auszahlungen können nicht mehr beantragt oder geändert werden.",
    payout_button: "Auszahlung beantragen",
    payout_change: "Änderungen speichern",
    account_holder: "Kontoinhaber:in",
    iban_hint: "Deine IBAN, mit oder ohne Leerzeichen.",
    iban_keep: "Leer lassen, um bei {iban} zu bleiben.",
    email: "E-Mail für die Bestätigung",
    donation_legend: "Spenden an {target}",
    donate_none: "Nichts spenden",
    donate_part: "Diesen Betrag spenden (€)",
    donate_part_of: "{amount} gespendet",
    donate_all: "Alles spenden",
    error_holder: "Bitte gib den Namen der Kontoinhaber:in ein (höchstens 70 Zeichen).",
    error_iban: "Diese IBAN stimmt nicht. Prüfe sie auf deiner Bankkarte oder einem Kontoauszug.",
    error_country: "Auszahlungen gehen nur auf Konten in: {countries}.",
    error_email: "Bitte gib eine gültige E-Mail-Adresse ein.",
    error_donation: "Bitte gib einen Spendenbetrag über 0 ein, zum Beispiel 5,00.",
    error_no_donations: "Bei dieser Veranstaltung sind keine Spenden möglich.",
};

static ENGLISH: Texts = Texts {
    language_name: "English",
    language: "Language",
    title: "Your wristband",
    sign_in_heading: "Your wristband's balance and history",
    code_label: "Code on the wristband",
    code_hint: "12 characters, for example 7QK2-M9XD-4HNB. Upper or lower case and dashes do not matter.",
    sign_in_button: "Sign in",
    tap_hint: "Or hold your wristband to your phone and open the link it shows.",
    refused: "This code does not open any wristband. Check it and try again.",
    malformed: "The code on the wristband has 12 letters and digits, for example 7QK2-M9XD-4HNB.",
    wait: "Too many wrong codes. Please try again in {s} s.",
    band: "Wristband",
    unsynced: "Not every bar has sent its latest sales yet ({bars}). They may be missing here for a while.",
    balance_heading: "Balance",
    total: "Available",
    paid: "Paid in (can be paid back)",
    promo: "Promo credit (cannot be paid back)",
    deposits: "Deposit items out",
    not_paired: "This wristband has not been topped up yet.",
    history_heading: "History",
    no_history: "Nothing yet.",
    offline: "booked offline, sent later",
    kind_sale: "Purchase",
    kind_top_up_cash: "Top-up (cash)",
    kind_top_up_card: "Top-up (card)",
    kind_cancel: "Cancellation",
    kind_deposit_return: "Deposit returned",
    kind_payout: "Payout",
    kind_payout_transfer: "Paid out by bank transfer",
    kind_payout_fee: "Bank transfer fee",
    kind_donation: "Donation",
    kind_unclaimed_retained: "Not claimed – kept by the organiser",
    kind_unclaimed_donated: "Not claimed – donated",
    fee_and_minimum: "A bank transfer costs {fee}; we transfer from {minimum} on.",
    mail_subject: "Your payout from {event}",
    mail_receipt: "Hello,\n\nwe have saved where the rest of your wristband at {event} should go:\n\n{details}\n\nUntil the payout is made, you can change this on your wristband's page.{link}\n\nIf this was not you, block your wristband there and contact the organiser.\n",
    mail_changed_subject: "Payout details changed at {event}",
    mail_changed: "Hello,\n\nthe payout details of the wristband you asked a payout for at {event} have just been changed. The confirmation went to the new address.\n\nIf this was not you, block your wristband on its page at once and contact the organiser.{link}\n",
    mail_holder: "Account holder",
    mail_donation_part: "Donation to {target}: {amount}",
    mail_donation_all: "All of it donated to {target}",
    kind_adjustment: "Correction",
    block_heading: "Lost your wristband?",
    block_text: "Block it now: nobody can pay with it afterwards. At the info desk your balance moves to a new wristband when you show your ID.",
    block_confirm: "Yes, block my wristband now",
    block_button: "Block wristband",
    blocked_heading: "Your wristband is blocked",
    blocked: "Nobody can pay with it any more. At the info desk your balance moves to a new wristband.",
    back: "Back to sign-in",
    sign_out: "Sign out",
    outdated_heading: "This form has expired",
    outdated: "Reload the page and try again.",
    not_found_heading: "Page not found",
    not_found: "Check the link on your wristband.",
    failed_heading: "Not available right now",
    failed: "Please try again in a moment.",
    payout_heading: "Get the rest paid out",
    payout_text: "After the festival we transfer what is left of the money you paid in to your bank account. Enter it here; you can change it until the payout.",
    payout_requested: "Your payout goes to:",
    payout_saved: "Saved. You can still change it here until the payout.",
    payout_in_run: "Your payout is being made and can no longer be changed.",
    payout_closed: "Payouts can no longer be requested or changed.",
    payout_button: "Request the payout",
    payout_change: "Save changes",
    account_holder: "Account holder",
    iban_hint: "Your IBAN, with or without spaces.",
    iban_keep: "Leave empty to keep {iban}.",
    email: "E-mail for the confirmation",
    donation_legend: "Donate to {target}",
    donate_none: "Donate nothing",
    donate_part: "Donate this amount (€)",
    donate_part_of: "{amount} donated",
    donate_all: "Donate everything",
    error_holder: "Please enter the account holder's name (at most 70 characters).",
    error_iban: "This IBAN is not right. Check it on your bank card or a statement.",
    error_country: "Payouts go to accounts in these countries only: {countries}.",
    error_email: "Please enter a valid e-mail address.",
    error_donation: "Please enter a donation above 0, for example 5.00.",
    error_no_donations: "This event takes no donations.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(
            esc("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn the_language_follows_the_link_then_the_browser() {
        let with = |accept: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_LANGUAGE,
                HeaderValue::from_str(accept).unwrap(),
            );
            headers
        };
        assert_eq!(Lang::pick(Some("en"), &with("de-DE")), Lang::En);
        assert_eq!(Lang::pick(None, &with("en-GB,en;q=0.9,de;q=0.5")), Lang::En);
        assert_eq!(Lang::pick(None, &with("de-DE,en;q=0.5")), Lang::De);
        assert_eq!(Lang::pick(None, &with("fr-FR,en;q=0.5")), Lang::En);
        assert_eq!(Lang::pick(None, &HeaderMap::new()), Lang::De);
    }

    #[test]
    fn money_reads_as_each_language_writes_it() {
        assert_eq!(Lang::De.money(1250), "12,50 €");
        assert_eq!(Lang::En.money(1250), "€12.50");
        assert_eq!(Lang::De.money(-450), "−4,50 €");
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }

    #[test]
    fn only_the_session_cookie_is_read() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("other=1; __Host-tapster-guest=secret; x=y"),
        );
        assert_eq!(session_cookie(&headers).as_deref(), Some("secret"));
    }

    #[test]
    fn both_languages_have_every_text() {
        for t in [&GERMAN, &ENGLISH] {
            assert!(t.wait.contains("{s}") && t.unsynced.contains("{bars}"));
        }
    }
}
