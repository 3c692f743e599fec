//! Passes at the till, with the till's own token: what a scanned code is
//! (seed 003's `scan/info`) and a voucher redeemed onto a wristband as
//! promo credit. Both need the server (it redeems each pass once for the
//! whole event); the ledger then takes the wallet the server answered with
//! as confirmed.

use tapster_api::walletapp::{Envelope, PassInfo, RedeemVoucher, VoucherRedeemed};
use tapster_ledger::store::WalletSnapshot;
use tapster_ledger::{Cents, IdempotencyKey, TokenId};

use crate::client::{ApiError, ServerClient};

/// A pass the server refused (used up, blocked, expired, not valid yet)
/// answers 409/422 with `{"message", "data": pass}`: its message is the
/// reason a cashier reads.
fn pass_refusal(error: ApiError) -> ApiError {
    match error {
        ApiError::Refused {
            status: status @ (409 | 422),
            message,
            ..
        } => match serde_json::from_str::<Envelope<PassInfo>>(&message) {
            Ok(envelope) => ApiError::Refused {
                status,
                code: "pass_refused".into(),
                message: envelope.message,
            },
            Err(_) => ApiError::Refused {
                status,
                code: "conflict".into(),
                message,
            },
        },
        other => other,
    }
}

impl ServerClient {
    /// What a scanned code is and whether it can be redeemed now.
    pub async fn pass_info(&self, code: &str) -> Result<PassInfo, ApiError> {
        let request = self
            .http()
            .get(self.url("devices/scan/info"))
            .query(&[("code", code)]);
        self.body(request).await.map_err(pass_refusal)
    }

    /// Redeems the voucher `code` onto the wallet of `token`, once per
    /// `key` (a retry gets the first answer).
    pub async fn redeem_voucher(
        &self,
        token: &TokenId,
        code: &str,
        key: &IdempotencyKey,
    ) -> Result<VoucherRedeemed, ApiError> {
        let request = self
            .http()
            .post(self.url(&format!("pos/wallets/token/{token}/vouchers")))
            .json(&RedeemVoucher {
                code: code.to_string(),
                idempotency_key: key.to_string(),
            });
        self.body(request).await.map_err(pass_refusal)
    }
}

/// The wallet a voucher answer carries, as the ledger takes it in.
pub fn snapshot_of(answer: &VoucherRedeemed) -> Result<WalletSnapshot, ApiError> {
    let wallet = &answer.wallet;
    Ok(WalletSnapshot {
        token: TokenId::parse(&wallet.token_id)
            .map_err(|e| ApiError::Garbled(format!("token_id: {e}")))?,
        wallet_id: wallet.wallet_id.clone(),
        balance: Cents(wallet.balance),
        promo: Cents(wallet.promo_balance),
        blocked: wallet.blocked,
        cursor: wallet.cursor,
        deposits: wallet.deposits.clone(),
    })
}
