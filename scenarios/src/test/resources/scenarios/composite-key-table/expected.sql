SELECT region, n, format('%s/%s', region, n) AS code,
       CASE WHEN a > 0 THEN 1 WHEN a < 0 THEN -1 WHEN a = 0 THEN 0 END AS a_sign
FROM src
