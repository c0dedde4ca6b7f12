WITH __keys AS (SELECT * FROM unnest(?::text[]::bigint[]) AS __k(__k0)),
__src AS MATERIALIZED (SELECT "app"."users"."id" AS __k0 FROM "app"."users" WHERE ("app"."users"."id") IN (SELECT __k0 FROM __keys)),
__w AS (UPDATE "app"."users" SET "email_verified" = ((legacy_verified_at IS NOT NULL))::boolean FROM __src WHERE "app"."users"."id" = __src.__k0 AND ("app"."users"."email_verified", NULL) IS DISTINCT FROM (((legacy_verified_at IS NOT NULL))::boolean, NULL) RETURNING 1)
SELECT (SELECT count(*) FROM __src), (SELECT count(*) FROM __w), 0, (SELECT ARRAY[__k0::text] FROM __src ORDER BY __k0 DESC LIMIT 1)
