-- SQL floor of bench/queries/groupby.graphql on PostgreSQL: one statement, JSON built in the
-- database, returning the JSON text of Samverka's `data` (same keys, row order and numbers).
-- bench/floor/floor.py runs it (check against a Samverka response, or time it).
--
-- What it mirrors: partnershipAggregate(groupBy: [REGION, YEAR], geography: {regionKinds:
-- [FYLKE, LAN]}) = db/queries/aggregate.rs `participation` with dimensions [Region, Year], no
-- project filter, no budget or attainment measures, geography on today's UTC date:
--   fact rows   every project LEFT JOIN its acting (non-funder) partner rows LEFT JOIN the
--               partner organisation LEFT JOIN the memberships of its seat, valid today, in
--               regions of kind fylke or lan (so a project without partners, or a partner
--               without such a membership, has region NULL).
--   keys        k0 = region id, k1 = the project's start year (NULL without a start date).
--   numbers     count = COUNT(partner rows) (PartnershipGroup.count is `partnerships`),
--               projects = COUNT(DISTINCT project), organisations = COUNT(DISTINCT organisation).
--   order       GROUP BY k0, k1 ORDER BY k0, k1 as the server's SQL does and returns it:
--               PostgreSQL puts NULL keys last. LIMIT 10001 as the server (it errors above
--               10000 groups).
--   region      keys.region is {"slug": …} of the region row, null for a NULL key.
SELECT json_build_object('partnershipAggregate', json_build_object(
    'rows', COALESCE(json_agg(json_build_object(
                'keys', json_build_object(
                    'region', CASE WHEN g.k0 IS NULL THEN NULL
                                   ELSE json_build_object('slug', reg.slug) END,
                    'year', g.k1),
                'count', g.partnerships,
                'projects', g.projects,
                'organisations', g.organisations)
              ORDER BY g.k0, g.k1), '[]'::json)
))::text AS data
FROM (
    SELECT k0, k1,
           COUNT(DISTINCT project_id) AS projects,
           COUNT(partner_row) AS partnerships,
           COUNT(DISTINCT organisation_id) AS organisations
    FROM (
        SELECT rm.region_id AS k0,
               CAST(EXTRACT(YEAR FROM p.valid_from) AS INTEGER) AS k1,
               p.id AS project_id, pp.id AS partner_row, pp.organisation_id
        FROM projects p
        LEFT JOIN project_partners pp ON pp.project_id = p.id AND pp.role <> 'funder'
        LEFT JOIN organisations o ON o.id = pp.organisation_id
        LEFT JOIN region_memberships rm ON rm.municipality_id = o.municipality_id
             AND rm.region_id IN (SELECT id FROM regions WHERE kind IN ('fylke', 'lan'))
             AND (rm.valid_from IS NULL OR rm.valid_from <= (now() AT TIME ZONE 'UTC')::date)
             AND (rm.valid_to IS NULL OR rm.valid_to >= (now() AT TIME ZONE 'UTC')::date)
    ) fact
    GROUP BY k0, k1
    ORDER BY k0, k1
    LIMIT 10001
) g
LEFT JOIN regions reg ON reg.id = g.k0;
