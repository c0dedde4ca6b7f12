CREATE TABLE src (id bigint PRIMARY KEY, a integer, b text, big text);
ALTER TABLE src ALTER COLUMN big SET STORAGE EXTERNAL;
-- The referenced table: only positive ids exist, so every row with a <= 0 is an orphan.
CREATE TABLE orgs (id integer PRIMARY KEY);
INSERT INTO orgs SELECT generate_series(1, 1000);
