CREATE TABLE src (region text, n integer, a integer, b text, big text, PRIMARY KEY (region, n));
ALTER TABLE src ALTER COLUMN big SET STORAGE EXTERNAL;
