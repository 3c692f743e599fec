//! Stock per bar: what a product consumes of the counted inventory items
//! (a 0.5 l beer takes 0.5 l from the beer keg, a cocktail several items),
//! the movements that change a bar's stock, and what a count finds.
//!
//! Quantities are whole thousandths of an item's unit ([`Quantity`]): a
//! litre is 1000, so 0.3 l of a keg is exact, and so is one cup of a
//! stack counted in pieces (1000). No floats, as with money.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{InputError, LedgerError, Result};
use crate::ids::{ItemId, ProductId, VendorId};
use crate::model::{Line, Product};

/// An amount of an inventory item in thousandths of its unit.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quantity(pub i64);

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);
    /// Thousandths per unit.
    pub const SCALE: i64 = 1000;

    /// Parses a decimal with at most three places (`0.5`, `12`, `-1.25`),
    /// exactly.
    pub fn parse(text: &str) -> std::result::Result<Quantity, InputError> {
        let bad = || {
            InputError::new(
                "quantity",
                format!("'{text}' is not a number with at most three decimals, like 0.5"),
            )
        };
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty()
            || fraction.len() > 3
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
            || (digits.contains('.') && fraction.is_empty())
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let fraction: i64 = format!("{fraction:0<3}").parse().map_err(|_| bad())?;
        let magnitude = whole
            .checked_mul(Self::SCALE)
            .and_then(|w| w.checked_add(fraction))
            .ok_or_else(bad)?;
        Ok(Quantity(if negative { -magnitude } else { magnitude }))
    }

    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_add(other.0).map(Quantity)
    }

    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_sub(other.0).map(Quantity)
    }

    pub fn checked_mul(self, times: i64) -> Option<Quantity> {
        self.0.checked_mul(times).map(Quantity)
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Quantity {
    /// `12.5`, `0.333`, `-2`: as few decimals as the value needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let whole = magnitude / Self::SCALE as u64;
        let fraction = magnitude % Self::SCALE as u64;
        if fraction == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let digits = format!("{fraction:03}");
            write!(f, "{sign}{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// What one unit of a product takes from an inventory item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consumption {
    pub item: ItemId,
    pub quantity: Quantity,
}

/// At most this many items in one product's recipe.
pub const MAX_RECIPE_ITEMS: usize = 20;

/// Checks a product's recipe: positive quantities, each item once.
pub fn validate_recipe(recipe: &[Consumption]) -> std::result::Result<(), InputError> {
    if recipe.len() > MAX_RECIPE_ITEMS {
        return Err(InputError::new(
            "consumes",
            format!("at most {MAX_RECIPE_ITEMS} inventory items per product"),
        ));
    }
    for (i, part) in recipe.iter().enumerate() {
        if !part.quantity.is_positive() {
            return Err(InputError::new(
                "consumes",
                format!("the quantity of '{}' must be more than 0", part.item),
            ));
        }
        if recipe[..i].iter().any(|p| p.item == part.item) {
            return Err(InputError::new(
                "consumes",
                format!("'{}' is listed twice", part.item),
            ));
        }
    }
    Ok(())
}

/// Something counted at the bars: a keg, a crate, cups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    pub id: ItemId,
    pub name: String,
    /// What one unit is (`l`, `kg`, `pcs`).
    pub unit: String,
    /// A bar's tills are warned when its stock is at or below this; zero
    /// warns only when it runs out.
    pub low_stock: Quantity,
    pub vendor: Option<VendorId>,
    pub archived: bool,
}

impl InventoryItem {
    pub fn validate(&self) -> std::result::Result<(), InputError> {
        let name = self.name.trim();
        if name.is_empty() || self.name.chars().count() > 80 {
            return Err(InputError::new("item name", "must be 1 to 80 characters"));
        }
        let unit = self.unit.trim();
        if unit.is_empty() || self.unit.chars().count() > 12 {
            return Err(InputError::new(
                "unit",
                "must be 1 to 12 characters, like l, kg or pcs",
            ));
        }
        if self.low_stock.0 < 0 {
            return Err(InputError::new("low stock", "must not be negative"));
        }
        Ok(())
    }
}

/// Why a bar's stock of an item changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Goods arrived at the bar.
    Delivery,
    /// Moved from this bar to another (negative here).
    TransferOut,
    /// Moved to this bar from another (positive here).
    TransferIn,
    /// Spilt, broken, gone off.
    Waste,
    /// A manager's correction, either way.
    Correction,
    /// Served: booked by every sale, and given back by its cancellation.
    Sale,
    /// A physical count set the stock to what was found: the difference.
    Count,
}

impl MovementKind {
    pub const ALL: [MovementKind; 7] = [
        MovementKind::Delivery,
        MovementKind::TransferOut,
        MovementKind::TransferIn,
        MovementKind::Waste,
        MovementKind::Correction,
        MovementKind::Sale,
        MovementKind::Count,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Delivery => "delivery",
            MovementKind::TransferOut => "transfer_out",
            MovementKind::TransferIn => "transfer_in",
            MovementKind::Waste => "waste",
            MovementKind::Correction => "correction",
            MovementKind::Sale => "sale",
            MovementKind::Count => "count",
        }
    }

    pub fn parse(text: &str) -> Option<MovementKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// What a manager books by hand. The quantity is given as a positive
/// amount (a correction may be either sign); the sign the stock moves by
/// follows from the kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ManualMovement {
    Delivery {
        item: ItemId,
        location: String,
        quantity: Quantity,
    },
    Transfer {
        item: ItemId,
        from: String,
        to: String,
        quantity: Quantity,
    },
    Waste {
        item: ItemId,
        location: String,
        quantity: Quantity,
    },
    Correction {
        item: ItemId,
        location: String,
        quantity: Quantity,
    },
}

/// One change of one bar's stock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockChange {
    pub item: ItemId,
    pub location: String,
    pub kind: MovementKind,
    pub quantity: Quantity,
}

impl ManualMovement {
    /// The signed changes this movement books: one, or two for a transfer.
    pub fn changes(&self) -> std::result::Result<Vec<StockChange>, InputError> {
        let positive = |q: Quantity| {
            if q.is_positive() {
                Ok(q)
            } else {
                Err(InputError::new("quantity", "must be more than 0"))
            }
        };
        let change = |item: &ItemId, location: &str, kind, quantity| StockChange {
            item: item.clone(),
            location: location.to_string(),
            kind,
            quantity,
        };
        Ok(match self {
            ManualMovement::Delivery {
                item,
                location,
                quantity,
            } => vec![change(
                item,
                location,
                MovementKind::Delivery,
                positive(*quantity)?,
            )],
            ManualMovement::Waste {
                item,
                location,
                quantity,
            } => vec![change(
                item,
                location,
                MovementKind::Waste,
                Quantity(-positive(*quantity)?.0),
            )],
            ManualMovement::Correction {
                item,
                location,
                quantity,
            } => {
                if quantity.0 == 0 {
                    return Err(InputError::new("quantity", "must not be 0"));
                }
                vec![change(item, location, MovementKind::Correction, *quantity)]
            }
            ManualMovement::Transfer {
                item,
                from,
                to,
                quantity,
            } => {
                if from == to {
                    return Err(InputError::new(
                        "transfer",
                        "goes from one location to another",
                    ));
                }
                let quantity = positive(*quantity)?;
                vec![
                    change(item, from, MovementKind::TransferOut, Quantity(-quantity.0)),
                    change(item, to, MovementKind::TransferIn, quantity),
                ]
            }
        })
    }
}

/// How a sale's (or a cancellation's) lines move stock: per inventory
/// item, the signed change (served units take stock away, cancelled ones
/// give it back). Lines whose product is unknown or consumes nothing
/// (tips, bill lines, discounts, cups without a recipe) move nothing.
pub fn consumption<'a>(
    lines: &[Line],
    product: impl Fn(&ProductId) -> Option<&'a Product>,
) -> Result<BTreeMap<ItemId, Quantity>> {
    let mut changes: BTreeMap<ItemId, Quantity> = BTreeMap::new();
    for line in lines {
        if line.tip || line.bill.is_some() || line.pass.is_some() {
            continue;
        }
        let Some(product) = product(&line.product) else {
            continue;
        };
        for part in &product.consumes {
            let taken = part
                .quantity
                .checked_mul(line.quantity)
                .ok_or(LedgerError::AmountOverflow)?;
            let entry = changes.entry(part.item.clone()).or_default();
            *entry = entry
                .checked_sub(taken)
                .ok_or(LedgerError::AmountOverflow)?;
        }
    }
    changes.retain(|_, q| q.0 != 0);
    Ok(changes)
}

/// Where a bar stands with an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StockLevel {
    Ok,
    /// At or below the item's low-stock threshold.
    Low,
    /// Nothing left (or less than nothing: sold offline beyond the books).
    Out,
}

/// A bar's tills are told of an item that runs low or out there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockWarning {
    pub item: ItemId,
    pub name: String,
    pub unit: String,
    pub on_hand: Quantity,
    pub low_stock: Quantity,
    pub level: StockLevel,
}

pub fn stock_level(on_hand: Quantity, low_stock: Quantity) -> StockLevel {
    if on_hand.0 <= 0 {
        StockLevel::Out
    } else if on_hand <= low_stock {
        StockLevel::Low
    } else {
        StockLevel::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CategoryId;
    use crate::money::{Cents, VatRate};
    use proptest::prelude::*;

    fn item(id: &str) -> ItemId {
        ItemId::new(id).unwrap()
    }

    fn product(id: &str, recipe: &[(&str, i64)]) -> Product {
        let mut p = Product::new(
            ProductId::new(id).unwrap(),
            id,
            CategoryId::new("drinks").unwrap(),
            Cents(450),
            VatRate(1900),
        );
        p.consumes = recipe
            .iter()
            .map(|(i, q)| Consumption {
                item: item(i),
                quantity: Quantity(*q),
            })
            .collect();
        p
    }

    fn line(p: &Product, quantity: i64) -> Line {
        Line {
            product: p.id.clone(),
            name: p.name.clone(),
            category: p.category.clone(),
            quantity,
            unit_price: p.price,
            vat_rate: p.vat_rate,
            deposit: false,
            pass: None,
            tip: false,
            bill: None,
        }
    }

    #[test]
    fn quantities_parse_exactly_and_print_back() {
        for (text, value) in [
            ("0.5", 500),
            ("12", 12_000),
            ("-1.25", -1250),
            ("0.333", 333),
            ("30.000", 30_000),
        ] {
            assert_eq!(Quantity::parse(text).unwrap(), Quantity(value), "{text}");
        }
        for bad in ["", ".5", "1.", "0.0005", "1e3", "abc", "--1", "1.2.3"] {
            assert!(Quantity::parse(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(Quantity(500).to_string(), "0.5");
        assert_eq!(Quantity(-2000).to_string(), "-2");
        assert_eq!(Quantity(12_345).to_string(), "12.345");
    }

    #[test]
    fn a_cocktail_takes_from_several_items_and_its_cancellation_gives_back() {
        let mojito = product("mojito", &[("rum", 40), ("limes", 500), ("cups", 1000)]);
        let beer = product("beer", &[("beer-keg", 500)]);
        let catalogue = [mojito.clone(), beer.clone()];
        let find = |id: &ProductId| catalogue.iter().find(|p| &p.id == id);
        let sold = consumption(&[line(&mojito, 2), line(&beer, 3)], find).unwrap();
        assert_eq!(sold[&item("rum")], Quantity(-80));
        assert_eq!(sold[&item("limes")], Quantity(-1000));
        assert_eq!(sold[&item("cups")], Quantity(-2000));
        assert_eq!(sold[&item("beer-keg")], Quantity(-1500));
        let back = consumption(&[line(&mojito, -2), line(&beer, -3)], find).unwrap();
        for (id, q) in &sold {
            assert_eq!(back[id].0, -q.0);
        }
    }

    #[test]
    fn tips_bills_discounts_and_unknown_products_consume_nothing() {
        let beer = product("beer", &[("beer-keg", 500)]);
        let find = |id: &ProductId| (id == &beer.id).then_some(&beer);
        let mut tip = line(&beer, 1);
        tip.tip = true;
        let mut bill = line(&beer, 1);
        bill.bill = Some(crate::ids::BillId(uuid::Uuid::nil()));
        let stranger = line(&product("nachos", &[("chips", 100)]), 1);
        assert!(consumption(&[tip, bill, stranger], find)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn manual_movements_move_the_stock_their_kind_says() {
        let keg = item("beer-keg");
        let transfer = ManualMovement::Transfer {
            item: keg.clone(),
            from: "main".into(),
            to: "beach".into(),
            quantity: Quantity(30_000),
        }
        .changes()
        .unwrap();
        assert_eq!(transfer.len(), 2);
        assert_eq!(transfer[0].quantity.0 + transfer[1].quantity.0, 0);
        let waste = ManualMovement::Waste {
            item: keg.clone(),
            location: "main".into(),
            quantity: Quantity(500),
        }
        .changes()
        .unwrap();
        assert_eq!(waste[0].quantity, Quantity(-500));
        for bad in [
            ManualMovement::Delivery {
                item: keg.clone(),
                location: "main".into(),
                quantity: Quantity(-1),
            },
            ManualMovement::Correction {
                item: keg.clone(),
                location: "main".into(),
                quantity: Quantity(0),
            },
            ManualMovement::Transfer {
                item: keg.clone(),
                from: "main".into(),
                to: "main".into(),
                quantity: Quantity(1),
            },
        ] {
            assert!(bad.changes().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn recipes_and_levels() {
        let twice = [
            Consumption {
                item: item("rum"),
                quantity: Quantity(40),
            },
            Consumption {
                item: item("rum"),
                quantity: Quantity(20),
            },
        ];
        assert!(validate_recipe(&twice).is_err());
        assert!(validate_recipe(&twice[..1]).is_ok());
        assert_eq!(stock_level(Quantity(0), Quantity(0)), StockLevel::Out);
        assert_eq!(stock_level(Quantity(-5), Quantity(10)), StockLevel::Out);
        assert_eq!(stock_level(Quantity(10), Quantity(10)), StockLevel::Low);
        assert_eq!(stock_level(Quantity(11), Quantity(10)), StockLevel::Ok);
    }

    proptest! {
        /// Whatever is sold and then cancelled, the stock comes back to
        /// where it was, and the sum moved equals recipe times quantity.
        #[test]
        fn selling_then_cancelling_leaves_stock_unchanged(
            quantities in proptest::collection::vec(1i64..50, 1..8),
            per_unit in 1i64..2000,
        ) {
            let beer = product("beer", &[("beer-keg", per_unit)]);
            let find = |id: &ProductId| (id == &beer.id).then_some(&beer);
            let sold: Vec<Line> = quantities.iter().map(|q| line(&beer, *q)).collect();
            let cancelled: Vec<Line> = quantities.iter().map(|q| line(&beer, -q)).collect();
            let out = consumption(&sold, find).unwrap();
            let back = consumption(&cancelled, find).unwrap();
            let total: i64 = quantities.iter().sum();
            prop_assert_eq!(out[&item("beer-keg")].0, -(total * per_unit));
            prop_assert_eq!(out[&item("beer-keg")].0 + back[&item("beer-keg")].0, 0);
        }
    }
}
