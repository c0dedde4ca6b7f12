SELECT id, a + a AS doubled,
       CASE WHEN a IS NULL OR mod(a, 5) <> 0 THEN upper(b) END AS label,
       char_length(big) AS big_len
FROM src
