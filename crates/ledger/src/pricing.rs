//! Pricing a cart: the one place where what a guest pays is decided.
//!
//! Pure functions over products; the terminal's store and the server both
//! call [`price_cart`] with products from their own storage.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{LedgerError, Result};
use crate::ids::ProductId;
use crate::model::{Line, Product};
use crate::money::{Cents, VatRate, VatSplit};

/// The most units of one product in one line; more is a typo, not a round.
pub const MAX_LINE_QUANTITY: i64 = 999;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product: ProductId,
    pub quantity: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    /// Returnable cups the guest brings back with this order: their
    /// deposit nets against it ("3 cups back, 2 beers" is one sale).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<CartLine>,
    /// A tip on top (after any discount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip: Option<crate::bills::Tip>,
}

impl Cart {
    pub fn new() -> Self {
        Cart::default()
    }

    pub fn with(mut self, product: &ProductId, quantity: i64) -> Self {
        self.lines.push(CartLine {
            product: product.clone(),
            quantity,
        });
        self
    }

    /// The same cart with `quantity` cups of `cup` brought back.
    pub fn with_returned(mut self, cup: &ProductId, quantity: i64) -> Self {
        self.returns.push(CartLine {
            product: cup.clone(),
            quantity,
        });
        self
    }

    /// The same cart with a tip.
    pub fn with_tip(mut self, tip: crate::bills::Tip) -> Self {
        self.tip = Some(tip);
        self
    }

    /// A cart from a list of product ids where repeats count (seed 001's
    /// `products` array), keeping first-seen order.
    pub fn from_product_list(products: &[ProductId]) -> Self {
        let mut cart = Cart::new();
        for product in products {
            match cart.lines.iter_mut().find(|line| &line.product == product) {
                Some(line) => line.quantity = line.quantity.saturating_add(1),
                None => cart.lines.push(CartLine {
                    product: product.clone(),
                    quantity: 1,
                }),
            }
        }
        cart
    }
}

/// A cart with prices fixed: lines (deposits last), the total, and how many
/// units of each stock-tracked product it takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedCart {
    pub lines: Vec<Line>,
    pub total: Cents,
    pub stock_needed: Vec<(ProductId, i64)>,
}

impl PricedCart {
    pub fn deposit_total(&self) -> Option<Cents> {
        Cents::checked_sum(
            self.lines
                .iter()
                .filter(|line| line.deposit)
                .map(|line| line.total().unwrap_or(Cents::ZERO)),
        )
    }
}

/// Prices `cart` at `now`: sale prices while on sale, deposits added per
/// unit of a product that has one, and refuses archived, out-of-window and
/// out-of-stock products, bad quantities and sums that overflow.
pub fn price_cart(
    cart: &Cart,
    mut product: impl FnMut(&ProductId) -> Result<Option<Product>>,
    now: Timestamp,
) -> Result<PricedCart> {
    if cart.lines.is_empty() {
        return Err(LedgerError::EmptyCart);
    }
    // Each product is looked up once, however often the cart names it.
    let mut seen: BTreeMap<ProductId, Option<Product>> = BTreeMap::new();
    let mut product = |id: &ProductId| -> Result<Option<Product>> {
        if let Some(found) = seen.get(id) {
            return Ok(found.clone());
        }
        let found = product(id)?;
        seen.insert(id.clone(), found.clone());
        Ok(found)
    };
    let mut lines = Vec::with_capacity(cart.lines.len() + 1);
    let mut deposits: BTreeMap<ProductId, (Product, i64)> = BTreeMap::new();
    let mut wanted: BTreeMap<ProductId, (Product, i64)> = BTreeMap::new();

    for cart_line in &cart.lines {
        if !(1..=MAX_LINE_QUANTITY).contains(&cart_line.quantity) {
            return Err(LedgerError::InvalidQuantity {
                product: cart_line.product.clone(),
                quantity: cart_line.quantity,
                max: MAX_LINE_QUANTITY,
            });
        }
        let item = product(&cart_line.product)?
            .ok_or_else(|| LedgerError::UnknownProduct(cart_line.product.clone()))?;
        check_sellable(&item, now)?;
        if let Some(deposit_id) = &item.deposit_product {
            let deposit = product(deposit_id)?
                .ok_or_else(|| LedgerError::UnknownProduct(deposit_id.clone()))?;
            if deposit.archived {
                return Err(LedgerError::ProductArchived { name: deposit.name });
            }
            let entry = deposits
                .entry(deposit_id.clone())
                .or_insert_with(|| (deposit, 0));
            entry.1 = entry
                .1
                .checked_add(cart_line.quantity)
                .ok_or(LedgerError::AmountOverflow)?;
        }
        lines.push(line_for(&item, cart_line.quantity));
        let entry = wanted.entry(item.id.clone()).or_insert_with(|| (item, 0));
        entry.1 = entry
            .1
            .checked_add(cart_line.quantity)
            .ok_or(LedgerError::AmountOverflow)?;
    }
    for (deposit, quantity) in deposits.values() {
        lines.push(line_for(deposit, *quantity));
        let entry = wanted
            .entry(deposit.id.clone())
            .or_insert_with(|| (deposit.clone(), 0));
        entry.1 = entry
            .1
            .checked_add(*quantity)
            .ok_or(LedgerError::AmountOverflow)?;
    }

    // Cups brought back: negative deposit lines (after the ones sold), and
    // back into stock.
    for returned in &cart.returns {
        if !(1..=MAX_LINE_QUANTITY).contains(&returned.quantity) {
            return Err(LedgerError::InvalidQuantity {
                product: returned.product.clone(),
                quantity: returned.quantity,
                max: MAX_LINE_QUANTITY,
            });
        }
        let cup = product(&returned.product)?
            .ok_or_else(|| LedgerError::UnknownProduct(returned.product.clone()))?;
        if !cup.returnable {
            return Err(LedgerError::NotReturnable { name: cup.name });
        }
        lines.push(line_for(&cup, -returned.quantity));
        let entry = wanted.entry(cup.id.clone()).or_insert_with(|| (cup, 0));
        entry.1 = entry
            .1
            .checked_sub(returned.quantity)
            .ok_or(LedgerError::AmountOverflow)?;
    }

    let mut stock_needed = Vec::new();
    for (item, quantity) in wanted.values() {
        if item.use_stock {
            if item.stock < *quantity {
                return Err(LedgerError::OutOfStock {
                    name: item.name.clone(),
                    available: item.stock,
                    requested: *quantity,
                });
            }
            stock_needed.push((item.id.clone(), *quantity));
        }
    }

    let total = lines_total(&lines)?;
    if total.is_negative() {
        return Err(LedgerError::ReturnsExceedOrder);
    }
    Ok(PricedCart {
        lines,
        total,
        stock_needed,
    })
}

/// Cups brought back in a priced cart, per cup product: what the guest's
/// deposits must cover.
pub fn cups_returned(lines: &[Line]) -> Vec<(ProductId, String, i64)> {
    let mut cups: BTreeMap<ProductId, (String, i64)> = BTreeMap::new();
    for line in lines.iter().filter(|l| l.deposit && l.quantity < 0) {
        let entry = cups
            .entry(line.product.clone())
            .or_insert_with(|| (line.name.clone(), 0));
        entry.1 = entry.1.saturating_sub(line.quantity);
    }
    cups.into_iter()
        .map(|(product, (name, count))| (product, name, count))
        .collect()
}

/// The sum of the lines' totals, refusing overflow.
pub fn lines_total(lines: &[Line]) -> Result<Cents> {
    lines
        .iter()
        .try_fold(Cents::ZERO, |sum, line| {
            line.total().and_then(|total| sum.checked_add(total))
        })
        .ok_or(LedgerError::AmountOverflow)
}

/// The VAT in an entry's lines, one split per rate (deposit, tip and bill
/// lines are not revenue and carry no VAT): each rate's gross sum is split once, as the
/// sales report does, so a receipt shows the VAT the report counts.
pub fn vat_breakdown(lines: &[Line]) -> Result<Vec<VatSplit>> {
    let mut gross_by_rate: BTreeMap<VatRate, Cents> = BTreeMap::new();
    for line in lines.iter().filter(|line| line.is_goods()) {
        let total = line.total().ok_or(LedgerError::AmountOverflow)?;
        let sum = gross_by_rate.entry(line.vat_rate).or_default();
        *sum = sum.checked_add(total).ok_or(LedgerError::AmountOverflow)?;
    }
    Ok(gross_by_rate
        .into_iter()
        .map(|(rate, gross)| rate.split_gross(gross))
        .collect())
}

/// Whether a product can go into a cart now (not archived, inside its
/// availability window, in stock): what the grid greys out by.
pub fn is_sellable(item: &Product, now: Timestamp) -> bool {
    check_sellable(item, now).is_ok() && (!item.use_stock || item.stock > 0)
}

fn check_sellable(item: &Product, now: Timestamp) -> Result<()> {
    if item.archived {
        return Err(LedgerError::ProductArchived {
            name: item.name.clone(),
        });
    }
    if item.sold_out {
        return Err(LedgerError::SoldOut {
            name: item.name.clone(),
        });
    }
    if !item.is_available_at(now) {
        return Err(LedgerError::ProductNotAvailable {
            name: item.name.clone(),
            from: item.available_from,
            until: item.available_until,
        });
    }
    Ok(())
}

fn line_for(item: &Product, quantity: i64) -> Line {
    Line {
        product: item.id.clone(),
        name: item.name.clone(),
        category: item.category.clone(),
        quantity,
        unit_price: item.effective_price(),
        vat_rate: if item.returnable {
            crate::money::VatRate(0)
        } else {
            item.vat_rate
        },
        deposit: item.returnable,
        pass: None,
        tip: false,
        bill: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CategoryId;

    fn catalog() -> Vec<Product> {
        let drinks = CategoryId::new("drinks").unwrap();
        let mut cup = Product::new(
            ProductId::new("cup").unwrap(),
            "Pfandbecher",
            drinks.clone(),
            Cents(200),
            VatRate(0),
        );
        cup.returnable = true;
        let mut beer = Product::new(
            ProductId::new("beer").unwrap(),
            "Bier 0,5 l",
            drinks.clone(),
            Cents(450),
            VatRate(1900),
        );
        beer.deposit_product = Some(cup.id.clone());
        let mut cola = Product::new(
            ProductId::new("cola").unwrap(),
            "Cola",
            drinks,
            Cents(300),
            VatRate(1900),
        );
        cola.deposit_product = Some(cup.id.clone());
        cola.use_stock = true;
        cola.stock = 3;
        vec![cup, beer, cola]
    }

    fn price(cart: &Cart, products: &[Product], now: i64) -> Result<PricedCart> {
        price_cart(
            cart,
            |id| Ok(products.iter().find(|p| &p.id == id).cloned()),
            Timestamp(now),
        )
    }

    fn id(s: &str) -> ProductId {
        ProductId::new(s).unwrap()
    }

    #[test]
    fn deposits_are_added_per_unit_and_grouped() {
        let cart = Cart::new().with(&id("beer"), 2).with(&id("cola"), 1);
        let priced = price(&cart, &catalog(), 0).unwrap();
        assert_eq!(priced.lines.len(), 3);
        let cup = &priced.lines[2];
        assert!(cup.deposit);
        assert_eq!((cup.quantity, cup.unit_price), (3, Cents(200)));
        assert_eq!(priced.total, Cents(2 * 450 + 300 + 3 * 200));
        assert_eq!(priced.deposit_total(), Some(Cents(600)));
        assert_eq!(priced.stock_needed, vec![(id("cola"), 1)]);
    }

    #[test]
    fn vat_is_split_once_per_rate_and_deposits_carry_none() {
        let cart = Cart::new().with(&id("beer"), 2).with(&id("cola"), 1);
        let mut lines = price(&cart, &catalog(), 0).unwrap().lines;
        let mut food = lines[0].clone();
        food.vat_rate = VatRate(700);
        food.unit_price = Cents(450);
        food.quantity = 1;
        lines.push(food);
        let splits = vat_breakdown(&lines).unwrap();
        assert_eq!(splits.len(), 2, "one split per rate, none for the cups");
        assert_eq!(splits[0].rate, VatRate(700));
        assert_eq!((splits[0].gross, splits[0].vat), (Cents(450), Cents(29)));
        // 2 x 4.50 + 3.00 = 12.00 gross at 19 %: 1.92 VAT, not 3 x rounded.
        assert_eq!(splits[1].rate, VatRate(1900));
        assert_eq!((splits[1].gross, splits[1].vat), (Cents(1200), Cents(192)));
        for split in &splits {
            assert_eq!(split.net.0 + split.vat.0, split.gross.0);
        }
    }

    #[test]
    fn sale_price_applies_only_on_sale() {
        let mut products = catalog();
        products[1].sale_price = Some(Cents(300));
        let cart = Cart::new().with(&id("beer"), 1);
        assert_eq!(
            price(&cart, &products, 0).unwrap().lines[0].unit_price,
            Cents(450)
        );
        products[1].on_sale = true;
        assert_eq!(
            price(&cart, &products, 0).unwrap().lines[0].unit_price,
            Cents(300)
        );
    }

    #[test]
    fn refuses_what_cannot_be_sold() {
        let mut products = catalog();
        assert!(matches!(
            price(&Cart::new(), &products, 0),
            Err(LedgerError::EmptyCart)
        ));
        for quantity in [0, -1, MAX_LINE_QUANTITY + 1] {
            let cart = Cart::new().with(&id("beer"), quantity);
            assert!(matches!(
                price(&cart, &products, 0),
                Err(LedgerError::InvalidQuantity { .. })
            ));
        }
        let cart = Cart::new().with(&id("wine"), 1);
        assert!(matches!(
            price(&cart, &products, 0),
            Err(LedgerError::UnknownProduct(_))
        ));
        let cart = Cart::new().with(&id("cola"), 2).with(&id("cola"), 2);
        assert!(matches!(
            price(&cart, &products, 0),
            Err(LedgerError::OutOfStock {
                available: 3,
                requested: 4,
                ..
            })
        ));
        products[1].available_from = Some(Timestamp(100));
        let cart = Cart::new().with(&id("beer"), 1);
        assert!(matches!(
            price(&cart, &products, 50),
            Err(LedgerError::ProductNotAvailable { .. })
        ));
        assert!(price(&cart, &products, 100).is_ok());
        products[1].archived = true;
        assert!(matches!(
            price(&cart, &products, 100),
            Err(LedgerError::ProductArchived { .. })
        ));
        products[1].archived = false;
        products[0].archived = true;
        assert!(
            matches!(
                price(&cart, &products, 100),
                Err(LedgerError::ProductArchived { .. })
            ),
            "an archived cup blocks the beer that needs it"
        );
    }

    #[test]
    fn totals_that_overflow_are_refused() {
        let mut products = catalog();
        products[1].price = Cents(i64::MAX / 2);
        products[1].deposit_product = None;
        let cart = Cart::new().with(&id("beer"), 3);
        assert!(matches!(
            price(&cart, &products, 0),
            Err(LedgerError::AmountOverflow)
        ));
        let cart = Cart::new()
            .with(&id("beer"), 1)
            .with(&id("beer"), 1)
            .with(&id("beer"), 1);
        assert!(matches!(
            price(&cart, &products, 0),
            Err(LedgerError::AmountOverflow)
        ));
    }

    #[test]
    fn free_products_cost_nothing() {
        let mut products = catalog();
        products[1].price = Cents(0);
        products[1].deposit_product = None;
        let priced = price(&Cart::new().with(&id("beer"), 2), &products, 0).unwrap();
        assert_eq!(priced.total, Cents(0));
    }

    #[test]
    fn product_lists_count_repeats() {
        let cart = Cart::from_product_list(&[id("beer"), id("cola"), id("beer")]);
        assert_eq!(cart, Cart::new().with(&id("beer"), 2).with(&id("cola"), 1));
    }
}
