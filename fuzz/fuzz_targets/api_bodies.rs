//! Any bytes as the body of a request the server takes: read or refused,
//! never a panic; what reads writes back as JSON that reads the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};
use tapster_api::manage::{NewStaffMember, PairWallet, StaffSessionRequest, TerminalUpdate};
use tapster_api::{BatchRequest, CreateTransaction, Heartbeat};

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(body: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(body) {
        let written = serde_json::to_vec(&value).expect("a read body writes back");
        let again: T = serde_json::from_slice(&written).expect("and reads again");
        assert_eq!(again, value);
    }
}

fuzz_target!(|body: &[u8]| {
    round_trip::<CreateTransaction>(body);
    round_trip::<Heartbeat>(body);
    round_trip::<StaffSessionRequest>(body);
    round_trip::<PairWallet>(body);
    round_trip::<TerminalUpdate>(body);
    // Batches carry whole ledger entries; staff members a PIN (no Eq).
    let _ = serde_json::from_slice::<BatchRequest>(body);
    let _ = serde_json::from_slice::<NewStaffMember>(body);
});
