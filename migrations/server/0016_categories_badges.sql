-- A category removed by a manager (it held no products then) disappears
-- from the catalogue but keeps its row, so what was sold under it keeps
-- its name; saving a category with the same id brings it back.
ALTER TABLE categories ADD COLUMN removed INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1));

-- A badge logs its staff member in on any till: no two members of an
-- event share one.
CREATE UNIQUE INDEX staff_badge ON staff (event_id, badge) WHERE badge IS NOT NULL;

-- A till's shift close is recorded once: found by its shift.
CREATE INDEX audit_log_by_subject ON audit_log (event_id, action, subject);
