SELECT id, a + a AS doubled, a AS org_ref FROM src
