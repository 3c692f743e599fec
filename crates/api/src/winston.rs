//! The integration API in the shape of the Winston POS API (seed 002):
//! every call a `POST /api/v2/<collection>` whose JSON body is the query
//! (`sort`, `limit`, `skip`, `filter`), authenticated with
//! `Authorization: Token <app>@<key>`; errors are a status with a plain
//! text body. Documents use Winston's camelCase; money is integer cents.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// The most documents one call returns.
pub const MAX_LIMIT: u32 = 1000;
/// Documents per call when the query does not say.
pub const DEFAULT_LIMIT: u32 = 50;

/// A query: which documents, in which order, which page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Keys in order of precedence, each `1` (ascending) or `-1`
    /// (descending): `{"createdAt": -1, "total": 1}`.
    #[serde(default)]
    #[schema(value_type = std::collections::HashMap<String, i32>)]
    pub sort: Sort,
    /// At most this many documents (1 to 1000, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Leave out this many first.
    #[serde(default)]
    pub skip: Option<u32>,
    #[serde(default)]
    pub filter: Filter,
}

/// What a query keeps. Times are RFC 3339 (`2026-07-17T18:00:00Z`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Filter {
    /// Created at or after.
    pub from: Option<String>,
    /// Created before.
    pub until: Option<String>,
    /// A terminal's id.
    pub terminal: Option<String>,
    /// A location's identifier (seed 003).
    pub location: Option<String>,
    /// Bills: `open`, `settled` or `cancelled`.
    pub status: Option<String>,
    /// Payments: `wallet`, `cash` or `card`.
    pub method: Option<String>,
    /// Users: `cashier`, `supervisor` or `manager`.
    pub role: Option<String>,
}

/// Sort keys in the order the query gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sort(pub Vec<(String, SortOrder)>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

impl<'de> Deserialize<'de> for Sort {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = Sort;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of sort keys, each 1 or -1")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Sort, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, order)) = map.next_entry::<String, i64>()? {
                    let order = match order {
                        1 => SortOrder::Ascending,
                        -1 => SortOrder::Descending,
                        _ => {
                            return Err(serde::de::Error::custom(format!(
                                "sort key '{key}' must be 1 or -1"
                            )))
                        }
                    };
                    keys.push((key, order));
                }
                Ok(Sort(keys))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

/// The terminal (till) a document was made at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = winston::TerminalRef)]
pub struct TerminalRef {
    pub id: String,
    pub name: String,
    /// The location's identifier, when the terminal stands at one.
    pub location: Option<String>,
}

/// A staff member who made a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub id: String,
    pub name: String,
}

/// A line of a bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillLine {
    pub product: String,
    pub name: String,
    /// Negative for cups brought back.
    pub quantity: i64,
    pub unit_price: i64,
    pub total: i64,
    /// Basis points: 1900 is 19 %.
    pub vat_rate: u32,
    /// `product`, `deposit`, `discount` or `tip`.
    pub kind: String,
}

/// VAT of one rate in a bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VatLine {
    pub rate: u32,
    pub net: i64,
    pub vat: i64,
    pub gross: i64,
}

/// A payment towards a bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// The transaction's id.
    pub id: String,
    pub bill: String,
    pub created_at: String,
    /// `wallet`, `cash` or `card`.
    pub method: String,
    pub amount: i64,
    /// The wristband, masked (wallet payments).
    pub wristband: Option<String>,
    /// A card terminal's reference.
    pub reference: Option<String>,
    /// Taken back by the bill's cancellation.
    pub cancelled: bool,
    pub terminal: Option<TerminalRef>,
    pub user: Option<UserRef>,
}

/// A bill: one order and its payments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bill {
    pub id: String,
    pub created_at: String,
    /// `open` (paid in part), `settled` or `cancelled`.
    pub status: String,
    pub lines: Vec<BillLine>,
    /// What the order costs, tip included (cents).
    pub total: i64,
    pub tip: i64,
    pub vat: Vec<VatLine>,
    pub payments: Vec<Payment>,
    /// What the payments (not taken back) put in.
    pub paid: i64,
    pub terminal: Option<TerminalRef>,
    pub user: Option<UserRef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = winston::Product)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub category: String,
    pub price: i64,
    pub sale_price: Option<i64>,
    pub on_sale: bool,
    pub vat_rate: u32,
    /// The returnable cup added with each unit, if any.
    pub deposit_product: Option<String>,
    pub returnable: bool,
    pub use_stock: bool,
    pub stock: i64,
    pub archived: bool,
}

/// A staff member (Winston's user). PINs never leave the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: String,
    pub active: bool,
}

/// `POST manage/integrations`: a key for an integration of this event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntegration {
    /// The integration's app name (`Token <app>@<key>`): 2 to 40 of
    /// a-z, 0-9, `_` and `-`.
    pub app: String,
    /// More than reading; no endpoint writes yet.
    #[serde(default)]
    pub can_write: bool,
}

/// An integration as the manager lists it (the key is shown once, when
/// it is made).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Integration {
    pub app: String,
    pub can_write: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// Only in the answer that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_keep_their_order_and_only_one_or_minus_one() {
        let query: Query =
            serde_json::from_str(r#"{"sort": {"total": -1, "createdAt": 1}, "limit": 5}"#).unwrap();
        assert_eq!(
            query.sort.0,
            vec![
                ("total".to_string(), SortOrder::Descending),
                ("createdAt".to_string(), SortOrder::Ascending)
            ]
        );
        assert_eq!(query.limit, Some(5));
        assert!(serde_json::from_str::<Query>(r#"{"sort": {"total": 2}}"#).is_err());
        assert!(serde_json::from_str::<Query>(r#"{"limt": 2}"#).is_err());
        assert_eq!(
            serde_json::from_str::<Query>("{}").unwrap(),
            Query::default()
        );
    }
}
