SELECT id, a - char_length(b) AS a_minus_len FROM src
