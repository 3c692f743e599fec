//! The receipt's QR code (DSFinV-K, Anhang I; BSI TR-03153):
//! `V0;<client>;<processType>;<processData>;<txNumber>;<signatureCounter>;<start>;<end>;<algorithm>;<timeFormat>;<signature>;<publicKey>`.

use crate::tse::Signed;

/// The QR code's text for a signed transaction.
pub fn qr_text(signed: &Signed) -> String {
    format!(
        "V0;{};{};{};{};{};{};{};{};{};{};{}",
        signed.client_serial,
        signed.process_type,
        signed.process_data,
        signed.number,
        signed.signature_counter,
        signed.time_start,
        signed.time_end,
        signed.algorithm,
        signed.time_format,
        signed.signature,
        signed.public_key,
    )
}

/// The fields of a QR code's text, for checking a printed receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrFields {
    pub client: String,
    pub process_type: String,
    pub process_data: String,
    pub number: u64,
    pub signature_counter: u64,
    pub time_start: i64,
    pub time_end: i64,
    pub algorithm: String,
    pub time_format: String,
    pub signature: String,
    pub public_key: String,
}

/// Reads a QR code's text back; `None` if it is not one.
pub fn parse_qr(text: &str) -> Option<QrFields> {
    let parts: Vec<&str> = text.split(';').collect();
    if parts.len() != 12 || parts[0] != "V0" {
        return None;
    }
    Some(QrFields {
        client: parts[1].into(),
        process_type: parts[2].into(),
        process_data: parts[3].into(),
        number: parts[4].parse().ok()?,
        signature_counter: parts[5].parse().ok()?,
        time_start: parts[6].parse().ok()?,
        time_end: parts[7].parse().ok()?,
        algorithm: parts[8].into(),
        time_format: parts[9].into(),
        signature: parts[10].into(),
        public_key: parts[11].into(),
    })
}
