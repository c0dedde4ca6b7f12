SELECT id, md5(big) AS big_md5, substr(big, 1, 16) AS big_head, a FROM src
