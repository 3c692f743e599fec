//! The receipt's QR code (DSFinV-K, Anhang I; BSI TR-03153):
//! `V0;<client>;<processType>;<processData>;<txNumber>;<signatureCounter>;<start>;<end>;<algorithm>;<timeFormat>;<signature>;<publicKey>`.
//! The start and end are written as the specification's example writes
//! them, ISO 8601 in UTC with milliseconds (`2019-07-10T18:41:04.000Z`),
//! whatever the TSE's own log time format (`<timeFormat>`) is.

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
        qr_time(signed.time_start),
        qr_time(signed.time_end),
        signed.algorithm,
        signed.time_format,
        signed.signature,
        signed.public_key,
    )
}

/// Unix seconds as the QR code writes them.
pub fn qr_time(unix_seconds: i64) -> String {
    jiff::Timestamp::from_second(unix_seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S.000Z")
        .to_string()
}

fn parse_qr_time(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// The fields of a QR code's text, for checking a printed receipt
/// (times back in Unix seconds).
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
        time_start: parse_qr_time(parts[6])?,
        time_end: parse_qr_time(parts[7])?,
        algorithm: parts[8].into(),
        time_format: parts[9].into(),
        signature: parts[10].into(),
        public_key: parts[11].into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_the_specifications_example() {
        assert_eq!(qr_time(1_562_784_064), "2019-07-10T18:41:04.000Z");
        assert_eq!(
            parse_qr_time("2019-07-10T18:41:04.000Z"),
            Some(1_562_784_064)
        );
        assert_eq!(parse_qr_time("1562784064"), None);
    }
}
