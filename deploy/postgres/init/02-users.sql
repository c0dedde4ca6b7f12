-- The sample source table of examples/users-email-verified.yaml (in-place mode: the migration
-- adds users.email_verified = legacy_verified_at IS NOT NULL, then drops legacy_verified_at).
CREATE TABLE public.users (
    id                 bigint PRIMARY KEY,
    email              text        NOT NULL,
    legacy_verified_at timestamptz
);

INSERT INTO public.users (id, email, legacy_verified_at) VALUES
    (1, 'ada@example.com',     '2024-01-15 09:30:00+00'),
    (2, 'grace@example.com',   NULL),
    (3, 'edsger@example.com',  '2024-03-02 17:05:00+00'),
    (4, 'barbara@example.com', NULL),
    (5, 'donald@example.com',  '2023-11-20 08:00:00+00'),
    (6, 'frances@example.com', NULL);

-- Dev only: the bridge must own a table to add it to its publication (CREATE/ALTER PUBLICATION
-- ... FOR TABLE), and in-place mode adds columns to it. In production grant this deliberately.
ALTER TABLE public.users OWNER TO shapeshift;
