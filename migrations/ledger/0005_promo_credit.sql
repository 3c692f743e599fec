-- Promo credit (vouchers): the part of a wallet's confirmed balance that
-- came from vouchers, as the server last confirmed it. Spent before paid
-- money, never paid out; the balance stays the total a guest can spend.
ALTER TABLE wallets ADD COLUMN confirmed_promo INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_promo >= 0);
