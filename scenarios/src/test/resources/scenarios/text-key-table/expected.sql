SELECT id, CASE WHEN a < 0 THEN -a ELSE a END AS a_abs,
       CASE WHEN b IS NOT NULL THEN b || ':' || id END AS tag
FROM src
