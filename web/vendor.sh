#!/usr/bin/env bash
# Refreshes web/vendor/cytoscape.min.js from the npm registry at the version package.json pins
# (package-lock.json records its integrity hash). The server embeds the vendored file at compile
# time, so building and running Samverka needs no Node.js; only this refresh and the browser
# test do.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund
cp node_modules/cytoscape/dist/cytoscape.min.js vendor/cytoscape.min.js
cp node_modules/cytoscape/LICENSE vendor/cytoscape.LICENSE
(cd vendor && sha256sum cytoscape.min.js > SHA256SUMS)
echo "vendored cytoscape $(node -p "require('./node_modules/cytoscape/package.json').version")"
