-- What PostGraphile 5 needs in the bench database besides Samverka's tables: the two computed
-- columns of the nested read (shared with the PostGraphile 4 peer: included from
-- bench/postgraphile/setup.sql, so both peers serve the same functions) and the view
-- `partnership_rows` for the partnerships-by-fylke/län×year question. The harness creates
-- them before starting PostGraphile 5 and drops them (teardown.sql) afterwards, so the database
-- stays exactly what `samverka seed` wrote. Run with psql (`\ir` resolves the include relative to
-- this file); every statement is idempotent.

\ir ../postgraphile/setup.sql

-- partnership_rows: one row per fact row of Samverka's participation aggregate
-- (src/db/queries/aggregate.rs, `participation`) with geography {regionKinds: [FYLKE, LAN]} on
-- the default day (asOf = today, UTC), which bench/queries/groupby.graphql asks for:
--
--   FROM projects p
--   LEFT JOIN project_partners pp ON pp.project_id = p.id AND pp.role <> 'funder'
--   LEFT JOIN organisations o ON o.id = pp.organisation_id
--   LEFT JOIN region_memberships rm ON rm.municipality_id = o.municipality_id
--        AND rm.region_id IN (SELECT id FROM regions WHERE kind IN ('fylke', 'lan'))
--        AND (rm.valid_from IS NULL OR rm.valid_from <= today)
--        AND (rm.valid_to IS NULL OR rm.valid_to >= today)
--
-- so: a row per acting (non-funder) partner row of every project, a single row with NULL partner
-- columns for a project without acting partners, and a partner row repeated once per membership
-- valid today of its organisation's municipality in a fylke or län (NULL region when there is
-- none), exactly as Samverka's join multiplies it.
--
-- The membership join is written as `LEFT JOIN (region_memberships rm JOIN regions r ...)`: the
-- inner join keeps the memberships whose region is a fylke or län (regions.id is the primary key,
-- so each such membership once), which is the set Samverka's `rm.region_id IN (SELECT ...)`
-- selects, and it also gives the region's slug without a second join.
--
-- The group keys and measures of `partnershipAggregate(groupBy: [REGION, YEAR]) { count projects
-- organisations }` in pg-aggregates terms (`groupedAggregates(groupBy: [REGION_SLUG, YEAR])`):
--   region        region_slug: regions.slug is unique, so grouping by it is grouping by
--                 rm.region_id; NULL for rows without a membership (Samverka's null region).
--   year          year = CAST(EXTRACT(YEAR FROM p.valid_from) AS integer), Samverka's year_of;
--                 NULL for projects without a start date.
--   count         COUNT(pp.id), partner rows, NULL partners not counted. pg-aggregates has no
--                 plain row count per group (only `keys` and per-column aggregates), and
--                 `distinctCount { partnerId }` would count a partner row repeated by two
--                 memberships of the same region once, where COUNT(pp.id) counts it twice. So the
--                 view carries `partnerships`, 1 on a partner row and 0 on the partner-less row of
--                 a project: `sum { partnerships }` = COUNT(pp.id) exactly.
--   projects      `distinctCount { projectId }` = COUNT(DISTINCT p.id).
--   organisations `distinctCount { organisationId }` = COUNT(DISTINCT pp.organisation_id); the
--                 partner-less rows have NULL there, which COUNT(DISTINCT ...) skips, as in Samverka.
-- pg-aggregates returns groups unordered and keys as strings; bench/compare_groupby.py compares
-- them as a map from (region slug, year) to the three numbers.
--
-- "Today" is (now() AT TIME ZONE 'UTC')::date, the UTC date Samverka's `as_of_or_today` uses, as
-- in the computed columns. The view has no primary key; PostGraphile 5 still gives it a
-- connection (`allPartnershipRows`), which is where pg-aggregates adds `groupedAggregates`.

CREATE OR REPLACE VIEW public.partnership_rows AS
SELECT
  p.id AS project_id,
  pp.id AS partner_id,
  pp.organisation_id,
  CASE WHEN pp.id IS NULL THEN 0 ELSE 1 END AS partnerships,
  rm.region_id,
  r.slug AS region_slug,
  CAST(EXTRACT(YEAR FROM p.valid_from) AS integer) AS year
FROM public.projects p
LEFT JOIN public.project_partners pp ON pp.project_id = p.id AND pp.role <> 'funder'
LEFT JOIN public.organisations o ON o.id = pp.organisation_id
LEFT JOIN (
  public.region_memberships rm
  JOIN public.regions r ON r.id = rm.region_id AND r.kind IN ('fylke', 'lan')
) ON rm.municipality_id = o.municipality_id
  AND (rm.valid_from IS NULL OR rm.valid_from <= (now() AT TIME ZONE 'UTC')::date)
  AND (rm.valid_to IS NULL OR rm.valid_to >= (now() AT TIME ZONE 'UTC')::date);

COMMENT ON VIEW public.partnership_rows IS
  'Fact rows of Samverka''s partnershipAggregate with fylke/län memberships valid today (bench/run: PostGraphile 5 peer of bench/queries/groupby.graphql).';
COMMENT ON COLUMN public.partnership_rows.partner_id IS
  'project_partners.id of an acting (non-funder) partner row; null on the one row of a project without acting partners.';
COMMENT ON COLUMN public.partnership_rows.partnerships IS
  '1 on a partner row, 0 on a partner-less project row: its sum is Samverka''s count (partner rows).';
COMMENT ON COLUMN public.partnership_rows.region_slug IS
  'Slug of the fylke or län the partner organisation''s municipality belongs to today (UTC); null when none.';
COMMENT ON COLUMN public.partnership_rows.year IS
  'Start year of the project (null without a start date).';
