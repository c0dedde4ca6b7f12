CREATE TABLE src (id bigint PRIMARY KEY, a integer, b text, big text);
ALTER TABLE src ALTER COLUMN big SET STORAGE EXTERNAL;
