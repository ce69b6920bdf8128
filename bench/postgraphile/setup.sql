-- PostGraphile 4 computed columns that give its schema Samverka's two non-foreign-key relations
-- of the nested read. bench/run creates them before starting PostGraphile and drops them
-- (teardown.sql) afterwards, so the database stays exactly what `samverka seed` wrote.
--
-- PostGraphile 4 without plugins filters only by equality (`condition`) and orders only by the
-- listed table's own columns, so neither relation below can be written with the generated
-- foreign-key fields alone:
--   * Region.municipalities / municipalityCount: the DISTINCT municipalities with a membership
--     valid TODAY (valid_from NULL or <= today, valid_to NULL or >= today; "today" is the UTC date,
--     as in `as_of_or_today`), ordered by municipality name, then id. Through
--     `regionMembershipsByRegionId` the best one could do is `condition: {validTo: null}`
--     (not the same rule) and order by membership columns (not by municipality name).
--   * Organisation.projects / projectCount: the DISTINCT projects the organisation is a partner
--     of, in any role (funders included: `PartnersByOrganisation` does not filter roles; the
--     synthetic data has no funders anyway), ordered by project name, then id. Through
--     `projectPartnersByOrganisationId` a project would repeat once per role and could not be
--     ordered by name.
-- Computed columns are PostGraphile's own way to add such relations: functions named
-- `<table>_<field>` in the table's schema, STABLE, `@sortable` for `orderBy` on their connection.
-- LANGUAGE sql keeps them inlinable by the planner. Each is a DISTINCT subquery over the link
-- table joined to the target by primary key, so the plan is an index walk per parent (as
-- Samverka's batched `IN (...)` lookups are); written as `id IN (subquery)` the planner was seen
-- to hash a sequential scan of the whole target table once per parent row instead.

CREATE OR REPLACE FUNCTION public.regions_member_municipalities(r public.regions)
RETURNS SETOF public.municipalities
LANGUAGE sql STABLE
AS $$
  SELECT m.*
  FROM (
    SELECT DISTINCT rm.municipality_id
    FROM public.region_memberships rm
    WHERE rm.region_id = r.id
      AND (rm.valid_from IS NULL OR rm.valid_from <= (now() AT TIME ZONE 'UTC')::date)
      AND (rm.valid_to IS NULL OR rm.valid_to >= (now() AT TIME ZONE 'UTC')::date)
  ) member
  JOIN public.municipalities m ON m.id = member.municipality_id
$$;

COMMENT ON FUNCTION public.regions_member_municipalities(public.regions) IS
  E'@sortable\nMunicipalities with a membership valid today (bench/run: mirrors Samverka''s Region.municipalities).';

CREATE OR REPLACE FUNCTION public.organisations_partner_projects(o public.organisations)
RETURNS SETOF public.projects
LANGUAGE sql STABLE
AS $$
  SELECT p.*
  FROM (
    SELECT DISTINCT pp.project_id
    FROM public.project_partners pp
    WHERE pp.organisation_id = o.id
  ) partner
  JOIN public.projects p ON p.id = partner.project_id
$$;

COMMENT ON FUNCTION public.organisations_partner_projects(public.organisations) IS
  E'@sortable\nProjects the organisation is a partner of, any role (bench/run: mirrors Samverka''s Organisation.projects).';
