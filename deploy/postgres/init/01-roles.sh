#!/bin/bash
# Runs once, on the first start of an empty data directory (docker-entrypoint-initdb.d).
# Creates the role Shapeshift's roles connect as. Its password comes from the Docker secret
# file, never from this script. Privileges, and why each is needed: docs/deployment.md.
set -euo pipefail
password="$(tr -d '\r\n' < /run/secrets/shapeshift_db_password)"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     --set=pw="$password" --set=db="$POSTGRES_DB" <<'SQL'
CREATE ROLE shapeshift LOGIN REPLICATION PASSWORD :'pw';
-- CREATE on the database: the catalog schema "shapeshift" is created by the roles at start.
GRANT CREATE, CONNECT ON DATABASE :"db" TO shapeshift;
GRANT USAGE ON SCHEMA public TO shapeshift;
-- Table mode creates the new table in the target schema (PostgreSQL 15+ no longer lets PUBLIC create in public).
GRANT CREATE ON SCHEMA public TO shapeshift;
-- The contract gate reads pg_stat_statements for evidence that nothing uses the old shape; other
-- roles' query texts are visible only with pg_read_all_stats.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
GRANT pg_read_all_stats TO shapeshift;
-- Backfill sessions run under a replication origin (PostgreSQL 16+), so the cdc-bridge never decodes
-- the backfill's own rows (docs/sync.md); without these the workers drop them by the echo mark.
GRANT EXECUTE ON FUNCTION pg_replication_origin_create(text), pg_replication_origin_session_setup(text), pg_replication_origin_session_reset() TO shapeshift;
SQL
