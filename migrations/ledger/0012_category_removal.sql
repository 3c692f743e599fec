-- A category removed by a manager (it held no products then) disappears
-- from the catalogue but keeps its row: the sales made under it before
-- are still reported under its name. Saving a category with the same id
-- brings it back.
ALTER TABLE categories ADD COLUMN removed INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1));
