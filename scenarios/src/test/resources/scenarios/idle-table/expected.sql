SELECT id, a + a AS doubled FROM src
