-- hand-written: a + a (not a * 2); the NULL rule spelled out (a NULL a keeps the label)
SELECT id, a + a AS doubled,
       CASE WHEN a IS NULL OR mod(a, 5) <> 0 THEN upper(b) END AS label,
       char_length(big) AS big_len
FROM src
