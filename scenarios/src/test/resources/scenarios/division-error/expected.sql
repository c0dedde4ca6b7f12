-- rows where the transform is defined; a target row for a = 0 would be "extra" (silently wrong)
SELECT id, CASE WHEN a IS NULL THEN NULL ELSE 100 / a END AS ratio FROM src WHERE a IS DISTINCT FROM 0
