-- SQL floor of bench/queries/nested.graphql on SQLite: one statement, JSON built in the database,
-- returning the JSON text of Samverka's `data` (same keys, order and counts).
-- bench/floor/floor.py runs it (check against a Samverka response, or time it).
--
-- The same read as nested.pg.sql (see there for the server code each level mirrors): regions
-- first 10 by name then id with totalCount of all regions, municipalities = DISTINCT members
-- valid today (UTC date: date('now')) by name then id with their count, organisations seated in
-- the municipality by name then id with their count, projects = DISTINCT projects the
-- organisation is a partner of in any role by name then id with their count, 10 per level.
-- SQLite compares text in byte order (BINARY), as the server's sorts do.
--
-- SQLite 3.40 has no LATERAL and no ORDER BY inside aggregates: each level is a correlated
-- scalar subquery whose json_group_array aggregates an ordered, limited subquery (rows reach
-- the aggregate in that order). A JSON value read back from a subquery may lose its JSON subtype,
-- so each level goes through json() to stay an array rather than a string. The nesting is kept
-- shallow on purpose: SQLite's parser stack (100 levels by default) overflowed on a deeper form.
SELECT json_object('regions', json_object(
    'totalCount', (SELECT count(*) FROM regions),
    'nodes', json((
        SELECT json_group_array(json_object(
                   'slug', r.slug,
                   'name', r.name,
                   'municipalityCount', (
                       SELECT count(DISTINCT rm.municipality_id)
                       FROM region_memberships rm
                       WHERE rm.region_id = r.id
                         AND (rm.valid_from IS NULL OR rm.valid_from <= date('now'))
                         AND (rm.valid_to IS NULL OR rm.valid_to >= date('now'))),
                   'municipalities', json((
                       SELECT json_group_array(json_object(
                                  'slug', m.slug,
                                  'name', m.name,
                                  'organisationCount', (
                                      SELECT count(*) FROM organisations o WHERE o.municipality_id = m.id),
                                  'organisations', json((
                                      SELECT json_group_array(json_object(
                                                 'slug', o.slug,
                                                 'name', o.name,
                                                 'projectCount', (
                                                     SELECT count(DISTINCT pp.project_id)
                                                     FROM project_partners pp
                                                     WHERE pp.organisation_id = o.id),
                                                 'projects', json((
                                                     SELECT json_group_array(json_object('slug', p.slug, 'name', p.name))
                                                     FROM (
                                                         SELECT p.slug, p.name
                                                         FROM (SELECT DISTINCT pp.project_id
                                                               FROM project_partners pp
                                                               WHERE pp.organisation_id = o.id) partner
                                                         JOIN projects p ON p.id = partner.project_id
                                                         ORDER BY p.name, p.id
                                                         LIMIT 10) p))))
                                      FROM (
                                          SELECT o.id, o.slug, o.name
                                          FROM organisations o
                                          WHERE o.municipality_id = m.id
                                          ORDER BY o.name, o.id
                                          LIMIT 10) o))))
                       FROM (
                           SELECT m.id, m.slug, m.name
                           FROM (SELECT DISTINCT rm.municipality_id
                                 FROM region_memberships rm
                                 WHERE rm.region_id = r.id
                                   AND (rm.valid_from IS NULL OR rm.valid_from <= date('now'))
                                   AND (rm.valid_to IS NULL OR rm.valid_to >= date('now'))) member
                           JOIN municipalities m ON m.id = member.municipality_id
                           ORDER BY m.name, m.id
                           LIMIT 10) m))))
        FROM (SELECT id, slug, name FROM regions ORDER BY name, id LIMIT 10) r))
)) AS data;
