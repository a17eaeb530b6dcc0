-- The demo's users table, loaded from users.csv by the server (COPY FROM a file: run as a superuser, with
-- the file on the server's machine).
-- docker compose: the postgres image runs it from /docker-entrypoint-initdb.d, users.csv at /seed.
-- scripts/demo-local.sh: psql -v users_csv=/absolute/path/to/users.csv -f postgres.sql
\if :{?users_csv}
\else
  \set users_csv /seed/users.csv
\endif
CREATE TABLE users (
  user_id text PRIMARY KEY,
  name    text NOT NULL,
  email   text,
  city    text
);
COPY users FROM :'users_csv' WITH (FORMAT csv, HEADER true);
