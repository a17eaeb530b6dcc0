-- Test data for tests/integration/test_postgres.py, loaded by the superuser into a fresh cluster
-- (tests/postgres/cluster.sh). Kept small: the whole file loads in a few seconds.
-- psql variables: reader_password, outsider_password.

CREATE DATABASE sfb_test;
CREATE DATABASE sfb_closed;  -- no one may connect to it
REVOKE CONNECT ON DATABASE sfb_test, sfb_closed FROM PUBLIC;
\connect sfb_test

CREATE ROLE sfb_reader LOGIN PASSWORD :'reader_password';
CREATE ROLE sfb_outsider LOGIN PASSWORD :'outsider_password';
-- May hold two connections: the snapshot session and one worker.
CREATE ROLE sfb_limited LOGIN PASSWORD :'reader_password' CONNECTION LIMIT 2;
GRANT CONNECT ON DATABASE sfb_test TO sfb_reader, sfb_outsider, sfb_limited;

-- Every type the connector maps, with NULLs, extremes and non-ASCII text. -------------------------
CREATE TYPE mood AS ENUM ('happy', 'sad', 'ünïcode');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TABLE all_types (
  id      integer PRIMARY KEY,
  i2      smallint,
  i4      integer,
  i8      bigint,
  num     numeric,
  num_p   numeric(12, 2),
  f4      real,
  f8      double precision,
  b       boolean,
  t       text,
  vc      varchar(20),
  ch      char(5),
  by      bytea,
  d       date,
  ts      timestamp,
  tstz    timestamptz,
  u       uuid,
  j       json,
  jb      jsonb,
  ia      integer[],
  ta      text[],
  tsa     timestamptz[],
  ba      bytea[],
  ja      jsonb[],
  m       mood,
  tm      time,
  iv      interval,
  ip      inet,
  dom     positive_int
);
INSERT INTO all_types VALUES
  (1, 32767, -2147483648, 9223372036854775807, 12345678901234567890.0123456789, 42.50, 1.5, 0.1, true,
   'zoë 李雷 🚀 tab	and
newline \ backslash', 'varchar', 'ab', '\x00ff41'::bytea, '2024-02-29', '2024-01-31 12:34:56.789',
   '2024-01-31 12:34:56.789+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, "ü"]}', '{"b": 2, "a": 1}',
   '{1,NULL,-3}', '{"x y","q\"z",NULL,"李"}', '{"2024-01-01 00:00:00+00"}', '{"\\x0102"}', '{"{\"a\": 1}"}',
   'ünïcode', '13:14:15.5', '1 day 02:03:04', '192.168.0.1/24', 7),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, -32768, 0, -9223372036854775808, 'NaN', -0.01, 'NaN', '-Infinity', false, '', '', '', '\x'::bytea,
   '1970-01-01', '1969-12-31 23:59:59.999999', '1970-01-01 00:00:00+00', '00000000-0000-0000-0000-000000000000',
   '[]', 'null', '{}', '{}', '{}', '{}', '{}', 'sad', '00:00:00', '-1 mons', '::1', 1),
  (4, 1, 1, 1, 0.5, 1e9, 3.4028235e38, 1e308, true, 'Ωmega', 'ß', 'x', '\x68656c6c6f'::bytea, '0001-01-01',
   '2262-04-11 23:47:16', 'infinity', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '"just a string"', '3.25',
   '{{1,2},{3,4}}', '{"","NULL"}', '{NULL,"1999-12-31 23:59:59.5+00"}', '{NULL}', '{"[1, 2]",null}', 'happy',
   '23:59:59.999999', '3 years 2 mons', '2001:db8::/32', 2147483647);

-- Rows read in parallel chunks. ----------------------------------------------------------------------
-- Keys are not in insertion order (id steps backwards through blocks of 1000), so physical order and
-- key order differ; user ids repeat, so `last` and `first` merges depend on record order.
CREATE TABLE events (id bigint PRIMARY KEY, user_id text NOT NULL, amount integer, note text);
INSERT INTO events
  SELECT (g / 1000) * 1000 + (999 - g % 1000), (ARRAY['user-', 'ü', '用户', '😀'])[1 + g % 4] || (g % 997),
         (g * 7) % 1000 - 100, 'note ' || g
  FROM generate_series(0, 29999) g;
UPDATE events SET note = note || ' (updated)' WHERE id % 101 = 0;  -- new tuple versions elsewhere
DELETE FROM events WHERE id % 211 = 0;

-- No primary key: positions are ctids.
CREATE TABLE nokey (user_id text, amount integer, seq integer);
INSERT INTO nokey SELECT 'n' || (g % 389), g % 50, g FROM generate_series(1, 20000) g;
DELETE FROM nokey WHERE seq % 17 = 0;
UPDATE nokey SET amount = amount + 1000 WHERE seq % 23 = 0;

-- A uuid primary key.
CREATE TABLE uuid_items (id uuid PRIMARY KEY, user_id text, v integer);
INSERT INTO uuid_items SELECT md5('u' || g)::uuid, 'k' || (g % 113), g FROM generate_series(1, 6000) g;

-- A partitioned table with an integer key, and a view.
CREATE TABLE measurements (id integer PRIMARY KEY, sensor text, value double precision) PARTITION BY RANGE (id);
CREATE TABLE measurements_low PARTITION OF measurements FOR VALUES FROM (MINVALUE) TO (5000);
CREATE TABLE measurements_high PARTITION OF measurements FOR VALUES FROM (5000) TO (MAXVALUE);
INSERT INTO measurements SELECT g, 's' || (g % 31), g / 8.0 FROM generate_series(1, 9000) g;
CREATE VIEW big_spenders AS SELECT user_id, sum(amount) AS total FROM events GROUP BY user_id HAVING sum(amount) > 6000;

-- Read while another session changes it (snapshot consistency).
CREATE TABLE accounts (id integer PRIMARY KEY, owner text, balance bigint);
INSERT INTO accounts SELECT g, 'owner-' || g, 100 FROM generate_series(1, 5000) g;

-- Slow to read for the reader role (a row-level security policy that sleeps a little per row), so a
-- test can act while a chunk is being read.
CREATE FUNCTION slow_visible() RETURNS boolean LANGUAGE sql VOLATILE AS $$ SELECT pg_sleep(0.0004) IS NOT NULL $$;
CREATE TABLE slow_items (id integer PRIMARY KEY, user_id text, v integer);
INSERT INTO slow_items SELECT g, 's' || (g % 97), g FROM generate_series(1, 8000) g;
ALTER TABLE slow_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY slow_read ON slow_items FOR SELECT TO sfb_reader USING (slow_visible());

-- Names that would break naively built SQL.
CREATE SCHEMA "odd ""schema""";
CREATE TABLE "odd ""schema"""."weird ""name""; DROP TABLE events; --" (
  id integer PRIMARY KEY, "col ""x""; drop" text, "sp ace" integer);
INSERT INTO "odd ""schema"""."weird ""name""; DROP TABLE events; --" VALUES (1, 'a', 10), (2, 'b''; DROP TABLE events; --', 20);
CREATE TABLE "Mixed.Case" (id integer PRIMARY KEY, "Value" text);
INSERT INTO "Mixed.Case" VALUES (1, 'one'), (2, 'two');

-- Types the connector refuses, and tables the reader may not read (fully or in part).
CREATE TABLE places (id integer PRIMARY KEY, name text, location point);
INSERT INTO places VALUES (1, 'origin', '(0,0)');
CREATE TABLE secrets (id integer PRIMARY KEY, secret text);
INSERT INTO secrets VALUES (1, 'classified');
CREATE TABLE people (id integer PRIMARY KEY, name text, salary integer);
INSERT INTO people VALUES (1, 'Ann', 100), (2, 'Bo', 200);

GRANT SELECT ON all_types, events, nokey, uuid_items, measurements, big_spenders, accounts, slow_items,
  "odd ""schema"""."weird ""name""; DROP TABLE events; --", "Mixed.Case", places TO sfb_reader;
GRANT USAGE ON SCHEMA "odd ""schema""" TO sfb_reader;
GRANT SELECT ON events TO sfb_limited;
GRANT SELECT (id, name) ON people TO sfb_reader;
VACUUM ANALYZE;
