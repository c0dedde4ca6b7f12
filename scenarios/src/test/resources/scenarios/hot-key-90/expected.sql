SELECT id, a + a AS doubled, char_length(b) AS b_len FROM src
