SELECT id,
       CASE WHEN a IS NULL THEN -1 ELSE a END AS a_or_minus,
       CASE WHEN mod(a, 2) = 0 THEN b ELSE NULL END AS b_when_even,
       CASE WHEN b IS NULL OR big IS NULL THEN NULL ELSE concat(b, big) END AS b_big
FROM src
