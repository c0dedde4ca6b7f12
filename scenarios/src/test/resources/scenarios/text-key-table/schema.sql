CREATE TABLE src (id text PRIMARY KEY, a integer, b text, big text);
ALTER TABLE src ALTER COLUMN big SET STORAGE EXTERNAL;
