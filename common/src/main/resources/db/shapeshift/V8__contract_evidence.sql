-- Contract evidence, issue 17 (docs/contract.md). Numbered 6.17 so that another V6 can merge beside it.

-- Code search acknowledgements: a hit the team has looked at and says does not use the old shape
-- (a comment, another table's column of the same name). Audited in the audit table as well.
CREATE TABLE contract_code_ack (
    migration  text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    file       text        NOT NULL,             -- relative to the searched directory, '/' separators
    line       integer     NOT NULL DEFAULT 0,   -- 0: every hit in the file
    reason     text        NOT NULL,
    acked_by   text        NOT NULL,
    acked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration, file, line)
);

-- Who read or wrote the old shape, by identity, and when last: pg_stat_statements knows the role
-- only (application_name and client_addr ''), pg_stat_activity samples know the session.
CREATE TABLE contract_reader (
    migration         text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    role_name         text        NOT NULL,
    application_name  text        NOT NULL DEFAULT '',
    client_addr       text        NOT NULL DEFAULT '',
    first_seen        timestamptz NOT NULL,
    last_seen         timestamptz NOT NULL,
    last_query        text,
    PRIMARY KEY (migration, role_name, application_name, client_addr)
);
