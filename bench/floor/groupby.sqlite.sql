-- SQL floor of bench/queries/groupby.graphql on SQLite: one statement, JSON built in the
-- database, returning the JSON text of Samverka's `data` (same keys, row order and numbers).
-- bench/floor/floor.py runs it (check against a Samverka response, or time it).
--
-- The same aggregate as groupby.pg.sql (db/queries/aggregate.rs `participation`, dimensions
-- [Region, Year], regions of kind fylke or lan, memberships valid today = date('now'), UTC):
-- every project LEFT JOIN its acting (non-funder) partner rows, their organisations and the
-- memberships of their seats; keys k0 = region id, k1 = start year
-- (CAST(strftime('%Y', valid_from) AS INTEGER), as the server's Sql::year_of); count = partner
-- rows, projects and organisations distinct. Rows in the server's SQL order, GROUP BY k0, k1
-- ORDER BY k0, k1: SQLite puts NULL keys first (PostgreSQL last), and the server returns them
-- as the database ordered them. json_group_array takes the rows of the ordered subquery in
-- that order (SQLite 3.40 has no ORDER BY inside aggregates).
SELECT json_object('partnershipAggregate', json_object(
    'rows', json(json_group_array(json_object(
                'keys', json_object(
                    'region', CASE WHEN g.k0 IS NULL THEN NULL
                                   ELSE json_object('slug', g.slug) END,
                    'year', g.k1),
                'count', g.partnerships,
                'projects', g.projects,
                'organisations', g.organisations)))
)) AS data
FROM (
    SELECT grouped.*, reg.slug
    FROM (
        SELECT k0, k1,
               COUNT(DISTINCT project_id) AS projects,
               COUNT(partner_row) AS partnerships,
               COUNT(DISTINCT organisation_id) AS organisations
        FROM (
            SELECT rm.region_id AS k0,
                   CAST(strftime('%Y', p.valid_from) AS INTEGER) AS k1,
                   p.id AS project_id, pp.id AS partner_row, pp.organisation_id
            FROM projects p
            LEFT JOIN project_partners pp ON pp.project_id = p.id AND pp.role <> 'funder'
            LEFT JOIN organisations o ON o.id = pp.organisation_id
            LEFT JOIN region_memberships rm ON rm.municipality_id = o.municipality_id
                 AND rm.region_id IN (SELECT id FROM regions WHERE kind IN ('fylke', 'lan'))
                 AND (rm.valid_from IS NULL OR rm.valid_from <= date('now'))
                 AND (rm.valid_to IS NULL OR rm.valid_to >= date('now'))
        ) fact
        GROUP BY k0, k1
        ORDER BY k0, k1
        LIMIT 10001
    ) grouped
    LEFT JOIN regions reg ON reg.id = grouped.k0
    ORDER BY grouped.k0, grouped.k1
) g;
