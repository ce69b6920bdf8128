-- SQL floor of bench/queries/nested.graphql on PostgreSQL: one statement, JSON built in the
-- database, returning the JSON text of Samverka's `data` (same keys, order and counts).
-- bench/floor/floor.py runs it (check against a Samverka response, or time it).
--
-- What it mirrors (src/graphql/query.rs, types/geography.rs, types/actors.rs, loaders.rs,
-- db/queries/lists.rs and batch.rs):
--   regions(first: 10)   the first 10 regions by name, then id (lists::regions_select; the bench
--                        database has C collation, so that is byte order); totalCount: all regions.
--   municipalityCount    COUNT(DISTINCT municipality_id) of the region's memberships valid today
--                        (batch::municipality_counts); 0 without any.
--   municipalities       the DISTINCT municipalities of those memberships
--                        (batch::memberships_of_regions), sorted by name then id in byte order
--                        (the server sorts them in Rust), the first 10.
--   organisationCount    organisations seated there (organisations.municipality_id).
--   organisations        the first 10 of them by name (byte order), then id
--                        (batch::first_organisations_by_seat).
--   projectCount         COUNT(DISTINCT project_id) of the organisation's partner rows, any role.
--   projects             the DISTINCT projects it is a partner of, any role, first 10 by name
--                        (byte order), then id (batch::first_projects_by_organisation).
-- "Today" is the UTC date (as_of_or_today). Empty lists are [] as in the server's response.
-- Its cost estimate on the large data set (~120k) is above jit_above_cost, and JIT compilation
-- would take longer than the statement: floor.py times it with jit off (--jit on to compare).
SELECT json_build_object('regions', json_build_object(
    'totalCount', (SELECT count(*) FROM regions),
    'nodes', COALESCE((
        SELECT json_agg(json_build_object(
                   'slug', r.slug,
                   'name', r.name,
                   'municipalityCount', mc.n,
                   'municipalities', ml.list)
                 ORDER BY r.name, r.id)
        FROM (SELECT id, slug, name FROM regions ORDER BY name, id LIMIT 10) r
        CROSS JOIN LATERAL (
            SELECT count(DISTINCT rm.municipality_id) AS n
            FROM region_memberships rm
            WHERE rm.region_id = r.id
              AND (rm.valid_from IS NULL OR rm.valid_from <= (now() AT TIME ZONE 'UTC')::date)
              AND (rm.valid_to IS NULL OR rm.valid_to >= (now() AT TIME ZONE 'UTC')::date)
        ) mc
        CROSS JOIN LATERAL (
            SELECT COALESCE(json_agg(json_build_object(
                       'slug', m.slug,
                       'name', m.name,
                       'organisationCount', oc.n,
                       'organisations', ol.list)
                     ORDER BY m.name COLLATE "C", m.id), '[]'::json) AS list
            FROM (
                SELECT m.id, m.slug, m.name
                FROM (
                    SELECT DISTINCT rm.municipality_id
                    FROM region_memberships rm
                    WHERE rm.region_id = r.id
                      AND (rm.valid_from IS NULL OR rm.valid_from <= (now() AT TIME ZONE 'UTC')::date)
                      AND (rm.valid_to IS NULL OR rm.valid_to >= (now() AT TIME ZONE 'UTC')::date)
                ) member
                JOIN municipalities m ON m.id = member.municipality_id
                ORDER BY m.name COLLATE "C", m.id
                LIMIT 10
            ) m
            CROSS JOIN LATERAL (
                SELECT count(*) AS n FROM organisations o WHERE o.municipality_id = m.id
            ) oc
            CROSS JOIN LATERAL (
                SELECT COALESCE(json_agg(json_build_object(
                           'slug', o.slug,
                           'name', o.name,
                           'projectCount', pc.n,
                           'projects', pl.list)
                         ORDER BY o.name COLLATE "C", o.id), '[]'::json) AS list
                FROM (
                    SELECT o.id, o.slug, o.name
                    FROM organisations o
                    WHERE o.municipality_id = m.id
                    ORDER BY o.name COLLATE "C", o.id
                    LIMIT 10
                ) o
                CROSS JOIN LATERAL (
                    SELECT count(DISTINCT pp.project_id) AS n
                    FROM project_partners pp
                    WHERE pp.organisation_id = o.id
                ) pc
                CROSS JOIN LATERAL (
                    SELECT COALESCE(json_agg(json_build_object('slug', p.slug, 'name', p.name)
                             ORDER BY p.name COLLATE "C", p.id), '[]'::json) AS list
                    FROM (
                        SELECT p.id, p.slug, p.name
                        FROM (
                            SELECT DISTINCT pp.project_id
                            FROM project_partners pp
                            WHERE pp.organisation_id = o.id
                        ) partner
                        JOIN projects p ON p.id = partner.project_id
                        ORDER BY p.name COLLATE "C", p.id
                        LIMIT 10
                    ) p
                ) pl
            ) ol
        ) ml
    ), '[]'::json)
))::text AS data;
