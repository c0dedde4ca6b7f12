SELECT id, a + a AS doubled, upper(b) AS b_upper FROM src
