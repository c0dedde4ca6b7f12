SELECT id, (a + 1000000)::bigint AS a_plus FROM src
