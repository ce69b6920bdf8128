// Builds the six map files the server embeds (web/maps/*.json) from the reference shapes in
// shared/data/reference/maps/ (see README.md here). Run by web/vendor.sh; node build.mjs [SRC].
// Each output: one TopoJSON object `regions`, properties exactly {code, name} (codes as strings
// with leading zeros), rings wound clockwise as d3-geo expects, lightly simplified, quantized.
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { feature, quantize } from "topojson-client";
import { topology } from "topojson-server";
import { presimplify, simplify } from "topojson-simplify";
import { geoArea } from "d3";

const here = dirname(fileURLToPath(import.meta.url));
const src = resolve(process.argv[2] ?? join(here, "../../../shared/data/reference/maps"));

// Visvalingam weight (planar triangle area in degrees²) below which a vertex is dropped:
// 2e-7 deg² is about a 30 m × 30 m triangle at 65° N, invisible at country scale.
const MIN_WEIGHT = 2e-7;
// 1e5 steps across the bbox: about 15 m in Norway, 7 m in Sweden.
const QUANTIZATION = 1e5;

const pad = (n, width) => String(n).padStart(width, "0");
const maps = [
  // out, source file, its object, code property, name property, code width, expected count
  ["no-fylker-2024.json", "no/Fylker-S.topojson", "Fylker", "fylkesnummer", "name", 2, 15],
  ["no-kommuner-2024.json", "no/Kommuner-S.topojson", "Kommuner", "kommunenummer", "name", 4, 357],
  // 2020-2023 structure: integer codes; the source lost 1144 Kvitsøy and 1835 Træna (354 of 356).
  ["no-fylker-2020.json", "no/2020-Fylker-small.topojson", "Fylker", "fylkesnummer", "navn", 2, 11],
  ["no-kommuner-2020.json", "no/2020-Kommuner-small.topojson", "Kommuner", "kommunenummer", "navn", 4, 354],
  ["se-lan.json", "se/se-lan.topojson", "lan", "lan_kod", "lan", 2, 21],
  ["se-kommuner.json", "se/se-kommuner.topojson", "kommuner", "kommun_kod", "kommun", 4, 290],
];

// Signed planar area (lon/lat): > 0 counter-clockwise.
function signedArea(ring) {
  let a = 0;
  for (let i = 0, n = ring.length - 1; i < n; i++) {
    a += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  }
  return a / 2;
}

// d3-geo takes a clockwise exterior ring (counter-clockwise holes); a counter-clockwise one
// would be drawn as the whole globe minus the region.
function rewind(geometry) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  for (const rings of polygons) {
    rings.forEach((ring, i) => {
      const ccw = signedArea(ring) > 0;
      if (i === 0 ? ccw : !ccw) ring.reverse();
    });
  }
}

let total = 0;
for (const [out, file, object, codeKey, nameKey, width, expected] of maps) {
  const input = JSON.parse(readFileSync(join(src, file), "utf8"));
  const collection = feature(input, input.objects[object]);
  const features = collection.features.map((f) => {
    rewind(f.geometry);
    return {
      type: "Feature",
      properties: { code: pad(f.properties[codeKey], width), name: String(f.properties[nameKey]) },
      geometry: f.geometry,
    };
  });
  features.sort((a, b) => a.properties.code.localeCompare(b.properties.code));

  let topo = topology({ regions: { type: "FeatureCollection", features } });
  topo = simplify(presimplify(topo), MIN_WEIGHT);
  topo = quantize(topo, QUANTIZATION);
  delete topo.bbox; // d3 does not need it; keeps the files byte-stable across tools

  // Checks: count, unique well-formed codes, and every region still a sane area after simplifying.
  const back = feature(topo, topo.objects.regions).features;
  const codes = new Set(back.map((f) => f.properties.code));
  const problems = [];
  if (back.length !== expected) problems.push(`${back.length} features, expected ${expected}`);
  if (codes.size !== back.length) problems.push("duplicate codes");
  for (const f of back) {
    const keys = Object.keys(f.properties).join(",");
    if (keys !== "code,name" || !new RegExp(`^\\d{${width}}$`).test(f.properties.code)) {
      problems.push(`bad properties ${JSON.stringify(f.properties)}`);
    }
    const area = f.geometry ? geoArea(f) : 0;
    if (!(area > 0 && area < 0.01)) problems.push(`${f.properties.code} ${f.properties.name}: area ${area} sr`);
  }
  if (problems.length) {
    console.error(`${out}: ${problems.join("; ")}`);
    process.exit(1);
  }

  const text = JSON.stringify(topo);
  const bytes = Buffer.byteLength(text);
  writeFileSync(join(here, out), text);
  const gz = gzipSync(text, { level: 9 }).length;
  total += gz;
  const vertices = topo.arcs.reduce((n, arc) => n + arc.length, 0);
  console.log(`${out}: ${back.length} regions, ${vertices} vertices, ${bytes} bytes, ${gz} gzipped`);
}
console.log(`all maps: ${total} bytes gzipped`);
