SELECT id, a + a AS doubled, a AS a_key FROM src
