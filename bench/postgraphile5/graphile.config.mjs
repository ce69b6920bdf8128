// PostGraphile 5 for bench/run: the `public` schema of the bench database (its tables, the two
// computed columns and the aggregates view of setup.sql) with @graphile/pg-aggregates, served on
// 127.0.0.1. bench/lib/pg5.sh copies this file next to the npm install
// ($SAMVERKA_BENCH_DIR/pg5) and starts `postgraphile -C graphile.config.mjs` there, so the
// imports below resolve against that node_modules.
//
// Environment (set by start_pg5):
//   PG5_DATABASE_URL  connection string (required)
//   PG5_PORT          HTTP port (default 15001)
//   PG5_POOL          pg pool size (default 10; bench/run passes SAMVERKA_DB_CONNECTIONS)
//   PGOPTIONS         read by node-postgres for every connection, e.g. '-c jit=off'
//   GRAPHILE_ENV      start_pg5 sets `production` (no development-mode checks in Grafast)
//
// Production-ish: no GraphiQL, no explain, no watch mode, no subscriptions / LISTEN
// connection, no mutations (PostGraphile 4 ran with --disable-default-mutations too).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgV4SmartTagsPlugin } from "postgraphile/presets/v4";
import { makePgService } from "postgraphile/adaptors/pg";
import { PgAggregatesPreset } from "@graphile/pg-aggregates";

const connectionString = process.env.PG5_DATABASE_URL;
if (!connectionString) {
  throw new Error("graphile.config.mjs: set PG5_DATABASE_URL");
}

function whole(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1) {
    throw new Error(`graphile.config.mjs: ${name} must be a whole number, not ${raw}`);
  }
  return Number(raw);
}

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgAggregatesPreset],
  // The V4 smart-tag converter turns the `@sortable` of the computed columns (setup.sql,
  // shared with the PostGraphile 4 peer) into the V5 behaviours `orderBy order`, so their
  // connections take `orderBy` as they do in PostGraphile 4. Nothing else in the database has
  // smart tags.
  plugins: [PgV4SmartTagsPlugin],
  disablePlugins: [
    "PgMutationCreatePlugin",
    "PgMutationUpdateDeletePlugin",
    // Without it every column can be ordered by (and used in `condition`), as in PostGraphile 4,
    // whose CLI ignores indexes by default; with it only indexed columns could, and `name` is
    // not indexed, so `orderBy: [NAME_ASC, ...]` of the nested read would not exist.
    "PgIndexBehaviorsPlugin",
  ],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["public"],
      poolConfig: { max: whole("PG5_POOL", 10) },
      // No LISTEN/NOTIFY client: no subscriptions, no watch mode.
      pubsub: false,
    }),
  ],
  schema: {
    // As PostGraphile 4's --no-setof-functions-contain-nulls.
    pgForbidSetofFunctionsToReturnNull: true,
  },
  grafserv: {
    host: "127.0.0.1",
    port: whole("PG5_PORT", 15001),
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    watch: false,
    websockets: false,
  },
  grafast: {
    explain: false,
  },
};

export default preset;
