-- Drops what setup.sql created: the aggregates view, then the two computed columns (shared with
-- the PostGraphile 4 peer, bench/postgraphile/teardown.sql).
DROP VIEW IF EXISTS public.partnership_rows;

\ir ../postgraphile/teardown.sql
