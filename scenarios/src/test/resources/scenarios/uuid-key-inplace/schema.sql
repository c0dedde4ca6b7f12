CREATE TABLE src (id uuid PRIMARY KEY, a integer, b text, big text);
ALTER TABLE src ALTER COLUMN big SET STORAGE EXTERNAL;
