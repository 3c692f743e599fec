//! E-mail to guests through the organiser's outgoing mail relay
//! (`serve --mail-relay`): the receipt of a payout request, and a notice
//! to the earlier address when a band's payout details change.
//!
//! Mail is never on the way of a page or a sale: messages wait in a
//! bounded queue and one thread at low CPU priority hands them to the
//! relay, three tries each. A full queue or a relay that refuses loses the
//! message (logged, never with an address): a receipt is a courtesy, the
//! request itself is in the database. The relay's address may carry a
//! password and is never logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};

/// Messages waiting for the relay at most.
const QUEUE: usize = 1000;
/// Tries per message, with these pauses between them.
const PAUSES: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(20)];

/// What is wrong with the mail settings.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("--mail-relay must be smtp://HOST[:PORT], smtps://… or smtp://…?tls=required: {0}")]
    Relay(String),
    #[error("--mail-from is not an e-mail address such as \"Festival <payout@example.org>\"")]
    From,
}

/// A message for a guest.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The queue to the relay.
pub struct Mailer {
    queue: SyncSender<Mail>,
    dropped: AtomicU64,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").finish_non_exhaustive()
    }
}

impl Mailer {
    /// Checks the settings and starts the thread that sends.
    pub fn start(relay: &str, from: &str) -> Result<Mailer, MailError> {
        let from: Mailbox = from.parse().map_err(|_| MailError::From)?;
        let transport = SmtpTransport::from_url(relay)
            .map_err(|e| MailError::Relay(e.to_string()))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let (queue, waiting) = sync_channel::<Mail>(QUEUE);
        std::thread::Builder::new()
            .name("mail".into())
            .spawn(move || {
                crate::background::lower_priority();
                for mail in waiting {
                    deliver(&transport, &from, mail);
                }
            })
            .map_err(|e| MailError::Relay(e.to_string()))?;
        Ok(Mailer {
            queue,
            dropped: AtomicU64::new(0),
        })
    }

    /// Queues `mail`; false when it was dropped (the queue is full).
    pub fn send(&self, mail: Mail) -> bool {
        match self.queue.try_send(mail) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(dropped, "mail queue full: a guest's e-mail was dropped");
                false
            }
        }
    }
}

fn deliver(transport: &SmtpTransport, from: &Mailbox, mail: Mail) {
    let Ok(to) = mail.to.parse::<Mailbox>() else {
        tracing::warn!("a guest's e-mail address cannot be written to: mail not sent");
        return;
    };
    let message = match Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body)
    {
        Ok(message) => message,
        Err(error) => {
            tracing::warn!(%error, "a guest's e-mail could not be made");
            return;
        }
    };
    for attempt in 0..=PAUSES.len() {
        match transport.send(&message) {
            Ok(_) => {
                tracing::info!("e-mail to a guest handed to the relay");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, attempt = attempt + 1, "the mail relay did not take a guest's e-mail");
                if let Some(pause) = PAUSES.get(attempt) {
                    std::thread::sleep(*pause);
                }
            }
        }
    }
}
