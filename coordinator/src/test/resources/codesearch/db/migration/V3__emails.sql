ALTER TABLE users ADD COLUMN "legacy_email" text;
ALTER TABLE users ADD COLUMN legacy_email_sent boolean NOT NULL DEFAULT false;
UPDATE users SET legacy_email_sent = true WHERE email IS NOT NULL;
