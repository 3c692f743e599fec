//! The demo bar: a catalogue with cup deposits, staff with known PINs and
//! funded wristbands, for the app's demo mode, the server's `demo` command
//! and tests.

use crate::error::Result;
use crate::ids::{CategoryId, IdempotencyKey, ProductId, StaffId, TokenId};
use crate::model::{Category, Colour, Product, Role, Tender};
use crate::money::{Cents, VatRate};
use crate::pin::Pin;
use crate::store::{CloseShiftRequest, NewStaff, OpenShiftRequest, TopUpRequest};
use crate::{store::Authorisation, Ledger};

/// A demo staff member; the login screen shows these PINs in demo mode.
pub struct DemoStaff {
    pub id: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub pin: &'static str,
}

pub const STAFF: &[DemoStaff] = &[
    DemoStaff {
        id: "anna",
        name: "Anna",
        role: Role::Cashier,
        pin: "1111",
    },
    DemoStaff {
        id: "ben",
        name: "Ben",
        role: Role::Cashier,
        pin: "2222",
    },
    DemoStaff {
        id: "sue",
        name: "Sue",
        role: Role::Supervisor,
        pin: "3333",
    },
    DemoStaff {
        id: "max",
        name: "Max",
        role: Role::Manager,
        pin: "4444",
    },
];

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    // Demo ids are literals checked by the tests below.
    s.parse().expect("demo id is valid")
}

pub fn categories() -> Vec<Category> {
    [
        ("beer", "Bier", 1),
        ("wine", "Wein", 2),
        ("soft", "Alkoholfrei", 3),
        ("food", "Essen", 4),
        ("deposit", "Pfand", 5),
    ]
    .into_iter()
    .map(|(key, name, position)| Category {
        id: id::<CategoryId>(key),
        name: name.into(),
        position,
    })
    .collect()
}

/// Products in grid order. Drinks carry a 2.00 cup deposit.
pub fn products() -> Vec<Product> {
    let cup = {
        let mut p = Product::new(
            id("cup"),
            "Pfandbecher",
            id("deposit"),
            Cents(200),
            VatRate(0),
        );
        p.returnable = true;
        p.background = Colour::new("#5A5A5A").expect("colour");
        p
    };
    let drink = |key: &str, name: &str, category: &str, price: i64, background: &str| {
        let mut p = Product::new(id(key), name, id(category), Cents(price), VatRate(1900));
        p.deposit_product = Some(cup.id.clone());
        p.background = Colour::new(background).expect("colour");
        p
    };
    let mut cola = drink("cola", "Cola 0,4 l", "soft", 350, "#B3261E");
    cola.use_stock = true;
    cola.stock = 500;
    let mut spritz = drink("spritz", "Aperol Spritz", "wine", 750, "#E8711A");
    spritz.subtitle = Some("0,3 l".into());
    let food = |key: &str, name: &str, price: i64| {
        let mut p = Product::new(id(key), name, id("food"), Cents(price), VatRate(700));
        p.background = Colour::new("#6B4F2A").expect("colour");
        p
    };
    vec![
        drink("beer", "Bier 0,5 l", "beer", 500, "#C8961E"),
        drink("radler", "Radler 0,5 l", "beer", 500, "#D8B24A"),
        drink("wine", "Weißwein 0,2 l", "wine", 600, "#D9D28C"),
        spritz,
        cola,
        drink("water", "Wasser 0,5 l", "soft", 250, "#2F6FB0"),
        food("bratwurst", "Bratwurst", 450),
        food("fries", "Pommes", 400),
        cup,
    ]
}

/// Wristband `n` of the demo event (`04D3000000000n` style, 7-byte UIDs).
pub fn wristband(n: u32) -> TokenId {
    TokenId::parse(&format!("04D3{n:010X}")).expect("demo wristband id")
}

/// Fills an empty ledger with the demo bar: catalogue, grid, staff, and
/// `wallets` wristbands funded by cash top-ups in a demo shift of Max's,
/// closed again with exactly the expected cash.
pub fn seed(ledger: &Ledger, wallets: u32) -> Result<()> {
    // The demo's wristbands are plain UIDs (tapped on screen): no key to
    // prove, so the demo event takes bands by their UID.
    let mut settings = ledger.settings()?;
    settings.band_policy = crate::model::BandPolicy::UidOnly;
    ledger.update_settings(&settings)?;
    for category in categories() {
        ledger.upsert_category(&category)?;
    }
    let products = products();
    // The cup first: the drinks refer to it.
    for product in products.iter().rev() {
        ledger.upsert_product(product)?;
    }
    let mut terminal = ledger.terminal()?;
    terminal.layout = products
        .iter()
        .filter(|p| !p.returnable)
        .map(|p| p.id.clone())
        .collect();
    ledger.upsert_terminal(&terminal)?;
    for member in STAFF {
        ledger.add_staff(&NewStaff {
            id: id::<StaffId>(member.id),
            name: member.name.into(),
            role: member.role,
            pin: Pin::new(member.pin)?,
            badge: None,
        })?;
    }
    if wallets > 0 {
        let max = id::<StaffId>("max");
        let shift = ledger
            .open_shift(&OpenShiftRequest {
                key: IdempotencyKey::new("demo-funding-shift")?,
                staff: max.clone(),
                float: Cents::ZERO,
            })?
            .shift;
        for n in 1..=wallets {
            ledger.top_up(
                &TopUpRequest {
                    key: IdempotencyKey::new(format!("demo-funding-{n}"))?,
                    staff: max.clone(),
                    token: wristband(n),
                    amount: Cents(i64::from(n % 5 + 1) * 1000),
                    tender: Tender::Cash,
                },
                Authorisation::ThisLedger,
            )?;
        }
        let expected = ledger.reader()?.shift_report(&shift.id)?.expected_cash;
        ledger.close_shift(&CloseShiftRequest {
            key: IdempotencyKey::new("demo-funding-close")?,
            staff: max,
            counted: expected,
        })?;
    }
    Ok(())
}

/// The demo product id, for tests and examples.
pub fn product(key: &str) -> ProductId {
    id(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_data_is_valid() {
        for product in products() {
            product.validate().unwrap();
        }
        for member in STAFF {
            Pin::new(member.pin).unwrap();
            StaffId::new(member.id).unwrap();
        }
        assert_eq!(wristband(1).as_str(), "04D30000000001");
    }
}
