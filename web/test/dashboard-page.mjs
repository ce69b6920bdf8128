// Browser test of the /dashboard page: starts the real server on the demo registry (temp SQLite
// database), opens the page in headless Chromium (Debian's, driven by playwright-core) with every
// other origin blocked, and checks the map of the day (shape counts for two dates), recolouring by
// metric, the table against the API's own numbers, a live change from an editor's mutation
// (within 2 s), resuming after a lost connection, the drill-down and the kommune level.
// Screenshots go to $SAMVERKA_ARTIFACTS as dashboard-*.png. Console errors fail the test.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { artifacts, binary, browserPath, launchBrowser, offlineContext, serverEnv, startServer } from "./harness.mjs";

let failures = 0;
function fail(message) {
  failures++;
  console.error(`FAIL: ${message}`);
  process.exitCode = 1;
}
function check(condition, message) {
  if (!condition) fail(message);
  return condition;
}

const server = await startServer("dashboard");
const { base, port } = server;

// The API as the test sees it, independent of the page's own queries.
async function api(query, variables = {}, bearer = null) {
  const headers = { "content-type": "application/json" };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const response = await fetch(`${base}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors) throw new Error(`API: ${JSON.stringify(body.errors)}`);
  return body.data;
}

// Per region (country + code on `asOf`): the numbers the page should show at the fylke/län level.
async function regionNumbers(asOf) {
  const data = await api(`query ($asOf: Date!) {
    regions(filter: {kindIn: [FYLKE, LAN], existsOn: $asOf}, first: 100) {
      nodes { slug name country { code } fylke: code(scheme: FYLKESNUMMER, asOf: $asOf) lan: code(scheme: LANSKOD, asOf: $asOf) }
    }
    all: projectAggregate(geography: {asOf: $asOf}, groupBy: [REGION]) { rows { keys { region { slug } } count } }
    cross: projectAggregate(filter: {crossBorder: true}, geography: {asOf: $asOf}, groupBy: [REGION]) { rows { keys { region { slug } } count } }
    partners: partnershipAggregate(geography: {asOf: $asOf}, groupBy: [REGION]) { rows { keys { region { slug } } count } }
  }`, { asOf });
  const bySlug = new Map();
  for (const r of data.regions.nodes) {
    const code = r.country.code === "SE" ? r.lan : r.fylke;
    bySlug.set(r.slug, { slug: r.slug, name: r.name, key: `${r.country.code}:${code}`, crossBorderProjects: 0, projects: 0, partnerships: 0 });
  }
  const add = (rows, metric) => rows.forEach((row) => { const r = row.keys.region && bySlug.get(row.keys.region.slug); if (r) r[metric] = row.count; });
  add(data.all.rows, "projects");
  add(data.cross.rows, "crossBorderProjects");
  add(data.partners.rows, "partnerships");
  return bySlug;
}

async function compareTable(page, asOf, metric) {
  const expected = await regionNumbers(asOf);
  const shown = await page.evaluate(() => window.dashboardData);
  const byKey = new Map([...expected.values()].map((r) => [r.key, r]));
  check(shown.length === expected.size, `${metric} on ${asOf}: the table has ${shown.length} rows, the API ${expected.size} regions`);
  let mismatches = 0;
  for (const row of shown) {
    const want = byKey.get(`${row.country}:${row.code}`);
    if (!want) { fail(`${metric}: table row ${row.country}:${row.code} ${row.name} is not a region of ${asOf}`); continue; }
    if (row.value !== want[metric]) { mismatches++; fail(`${metric}: ${row.name} shows ${row.value}, the API says ${want[metric]}`); }
  }
  const domRows = await page.$$eval("#table tbody tr", (trs) => trs.length);
  check(domRows === shown.length, `the table shows ${domRows} rows but dashboardData has ${shown.length}`);
  if (!mismatches) console.log(`table = API for ${metric} on ${asOf} (${shown.length} regions)`);
}

async function ready(page, predicate, arg, timeout = 30000) {
  await page.waitForFunction(predicate, arg, { timeout });
  return page.evaluate(() => window.dashboardReady);
}
const fillsOf = (page) => page.$$eval("#units path.unit", (paths) => paths.map((p) => p.getAttribute("fill")));
const countsByCountry = (page) => page.$$eval("#units path.unit", (paths) => {
  const counts = {};
  for (const p of paths) counts[p.__data__.properties.country] = (counts[p.__data__.properties.country] || 0) + 1;
  return counts;
});

let browser;
try {
  const editorToken = execFileSync(binary, ["token", "--role", "editor", "--subject", "dashboard-test"], { env: serverEnv }).toString().trim();
  console.log(`server on ${base}; browser ${browserPath}`);
  browser = await launchBrowser();
  // Offline: nothing from another origin, HTTP or WebSocket.
  const { context, blocked } = await offlineContext(browser, server, { viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (message) => { if (message.type() === "error") problems.push(`console: ${message.text()}`); });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  const transferred = new Map();
  page.on("response", async (response) => {
    const url = response.url();
    if (!url.startsWith(base) || url.includes("/graphql")) return;
    try { transferred.set(url, gzipSync(await response.body()).length); } catch {}
  });
  mkdirSync(artifacts, { recursive: true });
  const shot = async (name) => {
    // No focus ring, and the flash of a live change finished, so the picture shows the resting page.
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
    const path = join(artifacts, `dashboard-${name}.png`);
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
  };

  // 1. The map of 2022: Norway's 11 fylker of 2020–2023 and Sweden's 21 län.
  await page.goto(`${base}/dashboard?asOf=2022-06-01`);
  let state = await ready(page, () => window.dashboardReady && window.dashboardReady.asOf === "2022-06-01");
  console.log(`2022: ${JSON.stringify(state)} ${JSON.stringify(await countsByCountry(page))}`);
  check(!state.error, `2022: ${state.error}`);
  check(state.regions === 32, `2022-06-01 draws ${state.regions} regions, expected 11 fylker + 21 län`);
  const counts2022 = await countsByCountry(page);
  check(counts2022.NO === 11 && counts2022.SE === 21, `2022 shapes by country: ${JSON.stringify(counts2022)}`);
  check(state.matched === 32, `2022: ${state.matched} of 32 shapes joined to a region of the day`);
  const paint = await page.evaluate(() => {
    const [entry] = performance.getEntriesByName("first-contentful-paint");
    return entry ? entry.startTime : null;
  });
  console.log(`first contentful paint: ${paint && Math.round(paint)} ms; map and table painted at ${state.paintedMs} ms`);
  check(paint !== null && paint < 1500, `first paint after ${paint} ms (at most 1500)`);
  const attribution = await page.textContent(".attribution");
  check(attribution.includes("Kart: © Kartverket, CC BY 4.0; Sverige: SCB (CC0)"), `attribution: ${attribution}`);
  await compareTable(page, "2022-06-01", "crossBorderProjects");
  await shot("2022");

  // 2. The map of 2024 through the date control: 15 fylker and 21 län.
  await page.fill("#asOf", "2024-06-01");
  await page.dispatchEvent("#asOf", "change");
  state = await ready(page, () => window.dashboardReady && window.dashboardReady.asOf === "2024-06-01");
  const counts2024 = await countsByCountry(page);
  console.log(`2024: ${JSON.stringify(state)} ${JSON.stringify(counts2024)}`);
  check(state.regions === 36 && counts2024.NO === 15 && counts2024.SE === 21, `2024-06-01 draws ${JSON.stringify(counts2024)}, expected 15 + 21`);
  check(state.matched === 36, `2024: ${state.matched} of 36 shapes joined`);
  check(page.url().includes("asOf=2024-06-01"), `the address keeps the view: ${page.url()}`);
  await compareTable(page, "2024-06-01", "crossBorderProjects");

  // The table sorts by a clicked column and downloads as CSV (one line per region and a header).
  await page.click('#table th[data-key="name"] button');
  const names = await page.evaluate(() => window.dashboardData.map((r) => r.name));
  const sortedNames = [...names].sort((a, b) => a.localeCompare(b, "nb"));
  check(JSON.stringify(names) === JSON.stringify(sortedNames), `sorting by name: ${names.slice(0, 5).join(", ")}…`);
  check((await page.getAttribute('#table th[data-key="name"]', "aria-sort")) === "ascending", "the sorted column is not marked");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
  const text = readFileSync(await download.path(), "utf8");
  check(text.startsWith("\ufeff"), "CSV starts with a byte-order mark (spreadsheets then read it as UTF-8)");
  const csv = text.slice(1).trim().split("\n");
  console.log(`CSV ${download.suggestedFilename()}: ${csv.length} lines; ${csv[0]}`);
  check(csv.length === 37 && csv[0].startsWith("country,code,name,slug,"), `CSV: ${csv.length} lines, header ${csv[0]}`);
  await page.click('#table th[data-key="crossBorderProjects"] button');

  // Ties between regions: cross-border ones highlighted; the slider thins them out.
  await page.waitForFunction(() => /ties drawn/.test(document.getElementById("ties-summary").textContent), null, { timeout: 10000 });
  const tiesAll = await page.$$eval("#ties-layer line", (lines) => lines.map((l) => l.getAttribute("stroke")));
  const network = await api(`{ network(level: REGION, asOf: "2024-06-01") { edges { weight crossBorder } } }`);
  const crossTies = network.network.edges.filter((e) => e.crossBorder).length;
  console.log(`ties: ${tiesAll.length} drawn (${tiesAll.filter((c) => c === "var(--tie)").length} highlighted); the API has ${network.network.edges.length}, ${crossTies} across the border`);
  check(tiesAll.length === network.network.edges.length, `ties drawn ${tiesAll.length}, network edges ${network.network.edges.length}`);
  check(tiesAll.filter((c) => c === "var(--tie)").length === crossTies, "cross-border ties are not all highlighted");
  const maxWeight = Math.max(...network.network.edges.map((e) => e.weight));
  await page.$eval("#minWeight", (input, max) => { input.value = String(max); input.dispatchEvent(new Event("input", { bubbles: true })); }, maxWeight);
  const heavy = await page.$$eval("#ties-layer line", (lines) => lines.length);
  const expectedHeavy = network.network.edges.filter((e) => e.weight >= maxWeight).length;
  check(heavy === expectedHeavy, `with the threshold at ${maxWeight}: ${heavy} ties drawn, expected ${expectedHeavy}`);
  await page.$eval("#minWeight", (input) => { input.value = "1"; input.dispatchEvent(new Event("input", { bubbles: true })); });

  // 3. Before 2020 the page says the shapes are not right for the day.
  await page.click('#asof-presets button[data-asof="2019-06-01"]');
  state = await ready(page, () => window.dashboardReady && window.dashboardReady.asOf === "2019-06-01");
  const notice2019 = await page.textContent("#notice");
  check(/not right for 2019-06-01/.test(notice2019), `2019: the notice should say the 2020 shapes are not right: ${notice2019}`);
  console.log(`2019: ${JSON.stringify(state)}; notice: ${notice2019.slice(0, 160)}…`);
  await shot("2019");
  await page.fill("#asOf", "2024-06-01");
  await page.dispatchEvent("#asOf", "change");
  await ready(page, () => window.dashboardReady && window.dashboardReady.asOf === "2024-06-01");

  // 4. Switching the metric recolours the map; the table follows.
  const before = await fillsOf(page);
  await page.selectOption("#metric", "projects");
  await page.waitForFunction(() => window.dashboardReady && window.dashboardReady.metric === "projects");
  const after = await fillsOf(page);
  const recoloured = after.filter((fill, i) => fill !== before[i]).length;
  console.log(`metric cross-border projects → projects: ${recoloured} of ${after.length} regions recoloured`);
  check(recoloured > 0, "switching the metric does not change any fill colour");
  check((await page.textContent("#legend h3")) === "Projects", "the legend names the metric");
  await compareTable(page, "2024-06-01", "projects");
  await page.selectOption("#metric", "partnerships");
  await page.waitForFunction(() => window.dashboardReady && window.dashboardReady.metric === "partnerships");
  await compareTable(page, "2024-06-01", "partnerships");
  await shot("partnerships");

  // 5. Live: an editor adds a partner to a cross-border project; the region's row changes on the
  //    open page within 2 s, without a reload.
  await page.waitForFunction(() => window.dashboardLive && window.dashboardLive.status === "live" && window.dashboardLive.cursor !== null, null, { timeout: 10000 });
  const numbers = await regionNumbers("2024-06-01");
  const orgs = await api(`{
    organisations(first: 500) { nodes { slug name kind municipality { slug regions(asOf: "2024-06-01", kinds: [FYLKE, LAN]) { slug } } } }
    project(slug: "proj-scandinavian-science-cluster") { partners { organisation { slug } } }
  }`);
  const taken = new Set(orgs.project.partners.map((p) => p.organisation && p.organisation.slug));
  const candidates = orgs.organisations.nodes
    .filter((o) => !taken.has(o.slug) && o.municipality && o.municipality.regions.length === 1 && numbers.has(o.municipality.regions[0].slug))
    .map((o) => ({ org: o, region: numbers.get(o.municipality.regions[0].slug) }))
    .sort((a, b) => a.region.crossBorderProjects - b.region.crossBorderProjects);
  if (!candidates.length) throw new Error("no organisation to add to the Scandinavian Science Cluster");
  const { org, region } = candidates[0];
  const metric = region.crossBorderProjects === 0 ? "crossBorderProjects" : "partnerships";
  await page.selectOption("#metric", metric);
  await page.waitForFunction((m) => window.dashboardReady && window.dashboardReady.metric === m, metric);
  const [country, code] = region.key.split(":");
  const updatesBefore = await page.evaluate(() => window.dashboardUpdates);
  const fillBefore = await page.$$eval("#units path.unit", (paths, key) => {
    const p = paths.find((x) => `${x.__data__.properties.country}:${x.__data__.properties.code}` === key);
    return p && p.getAttribute("fill");
  }, region.key);
  const started = Date.now();
  await api(`mutation ($org: String!) { addProjectPartner(input: {project: "proj-scandinavian-science-cluster", organisation: $org, role: PARTNER}) { role } }`, { org: org.slug }, editorToken);
  const want = (await regionNumbers("2024-06-01")).get(region.slug)[metric];
  check(want === region[metric] + 1, `the API's ${metric} for ${region.name} went ${region[metric]} → ${want}`);
  try {
    await page.waitForFunction(({ country, code, want }) => (window.dashboardData || []).some((r) => r.country === country && r.code === code && r.value === want), { country, code, want }, { timeout: 2000 });
    console.log(`live: ${org.name} joined the SSC; ${region.name} ${metric} ${region[metric]} → ${want} on the page after ${Date.now() - started} ms`);
  } catch {
    const row = (await page.evaluate(() => window.dashboardData)).find((r) => r.country === country && r.code === code);
    fail(`live: ${region.name} still shows ${row && row.value} (want ${want}) 2 s after the mutation; live=${JSON.stringify(await page.evaluate(() => window.dashboardLive))}`);
  }
  await page.waitForFunction((n) => window.dashboardUpdates > n, updatesBefore, { timeout: 2000 })
    .catch(() => fail(`dashboardUpdates did not grow from ${updatesBefore}`));
  const fillAfter = await page.$$eval("#units path.unit", (paths, key) => {
    const p = paths.find((x) => `${x.__data__.properties.country}:${x.__data__.properties.code}` === key);
    return p && p.getAttribute("fill");
  }, region.key);
  check(fillAfter !== fillBefore, `${region.name}'s colour did not change (${fillBefore})`);
  await compareTable(page, "2024-06-01", metric);
  await shot("live");

  // 6. A lost connection resumes after the last change seen: a change committed while the page
  //    is disconnected still arrives.
  const cursorBefore = await page.evaluate(() => window.dashboardLive.cursor);
  const connectsBefore = await page.evaluate(() => window.dashboardLive.connects);
  await page.evaluate(() => window.dashboardLive.drop());
  const statusDuring = await page.evaluate(() => window.dashboardLive.status);
  const liveText = await page.textContent("#live-text");
  check(statusDuring !== "live", `after a drop the status is ${statusDuring}`);
  await api(`mutation ($org: String!) { removeProjectPartner(project: "proj-scandinavian-science-cluster", organisation: $org, role: PARTNER) { role } }`, { org: org.slug }, editorToken);
  try {
    await page.waitForFunction(({ country, code, want }) => (window.dashboardData || []).some((r) => r.country === country && r.code === code && r.value === want), { country, code, want: region[metric] }, { timeout: 8000 });
  } catch {
    fail(`resume: ${region.name} did not return to ${region[metric]} after reconnecting`);
  }
  const resumed = await page.evaluate(() => ({ ...window.dashboardLive }));
  console.log(`resume: status while down "${liveText}"; reconnected (${connectsBefore} → ${resumed.connects} connections) after cursor ${resumed.resumedFrom}, now ${resumed.cursor}`);
  check(resumed.connects > connectsBefore, "the page did not reconnect");
  check(resumed.resumedFrom === cursorBefore, `the page resubscribed after ${resumed.resumedFrom}, not after its last cursor ${cursorBefore}`);

  // 7. Drill-down: the region's municipalities, partners, projects and goal attainment; then a
  //    municipality's history.
  await page.click(`#table tbody tr[data-key="${region.slug}"]`);
  await page.waitForSelector("#details .muni-list button", { timeout: 10000 });
  const details = await page.textContent("#details");
  for (const part of ["Top partner organisations", "Top projects", "Goal attainment", "Municipalities on 2024-06-01"]) {
    check(details.includes(part), `region details lack "${part}"`);
  }
  check((await page.getAttribute(`#table tbody tr[data-key="${region.slug}"]`, "class") || "").includes("selected"), "the clicked row is not highlighted");
  await shot("region");
  await page.click("#details .muni-list button");
  await page.waitForFunction(() => document.querySelector("#details h3") && /Codes/.test(document.querySelector("#details").textContent), null, { timeout: 10000 });
  const history = await page.textContent("#details");
  check(/Predecessors/.test(history) && /Successors/.test(history) && /History/.test(history), "municipality details lack its history");
  await shot("municipality");

  // 8. Kommune level: 357 Norwegian kommuner of 2024 and 290 Swedish; a click shows a history.
  await page.check('input[name="level"][value="kommune"]');
  state = await ready(page, () => window.dashboardReady && window.dashboardReady.level === "kommune");
  const kommuner = await countsByCountry(page);
  console.log(`kommuner 2024: ${JSON.stringify(state)} ${JSON.stringify(kommuner)}`);
  check(kommuner.NO === 357 && kommuner.SE === 290, `kommune shapes: ${JSON.stringify(kommuner)}`);
  check(state.matched >= 640, `only ${state.matched} kommune shapes joined`);
  // Live at this level too: the organisation's municipality gains a partnership.
  await page.selectOption("#metric", "partnerships");
  await page.waitForFunction(() => window.dashboardReady && window.dashboardReady.metric === "partnerships");
  const muni = org.municipality.slug;
  const muniBefore = (await page.evaluate(() => window.dashboardData)).find((r) => r.slug === muni);
  const muniStarted = Date.now();
  await api(`mutation ($org: String!) { addProjectPartner(input: {project: "proj-scandinavian-science-cluster", organisation: $org, role: PARTNER}) { role } }`, { org: org.slug }, editorToken);
  try {
    await page.waitForFunction(({ muni, want }) => (window.dashboardData || []).some((r) => r.slug === muni && r.value === want), { muni, want: muniBefore.value + 1 }, { timeout: 2000 });
    console.log(`live (kommune): ${muniBefore.name} partnerships ${muniBefore.value} → ${muniBefore.value + 1} after ${Date.now() - muniStarted} ms`);
  } catch {
    fail(`live (kommune): ${muniBefore.name} did not reach ${muniBefore.value + 1} within 2 s`);
  }
  const oslo = await page.$("#units path.unit >> nth=0");
  await page.evaluate(() => {
    const path = [...document.querySelectorAll("#units path.unit")].find((p) => p.__data__.properties.country === "NO" && p.__data__.properties.code === "0301");
    path.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  });
  void oslo;
  await page.waitForFunction(() => /Codes/.test(document.querySelector("#details").textContent), null, { timeout: 10000 });
  check((await page.textContent("#details h2")) === "Oslo", "clicking 0301 shows Oslo");
  await shot("kommuner");
  await page.fill("#asOf", "2022-06-01");
  await page.dispatchEvent("#asOf", "change");
  state = await ready(page, () => window.dashboardReady && window.dashboardReady.level === "kommune" && window.dashboardReady.asOf === "2022-06-01");
  const kommuner2022 = await countsByCountry(page);
  check(kommuner2022.NO === 354 && kommuner2022.SE === 290, `kommune shapes 2022: ${JSON.stringify(kommuner2022)}`);
  const notice2022 = await page.textContent("#notice");
  check(/Kvitsøy/.test(notice2022) && /Træna/.test(notice2022), `2022 kommuner: the notice should name Kvitsøy and Træna (no shape): ${notice2022}`);

  // 9. Errors are shown with their code, never a blank page: an unknown programme, then a
  //    forged token (the API's 401 is the one console error that part expects).
  await page.goto(`${base}/dashboard?programme=prog-no-such-programme`);
  state = await ready(page, () => window.dashboardReady !== null && window.dashboardReady !== undefined);
  await page.waitForFunction(() => /NOT_FOUND/.test(document.getElementById("message").textContent), null, { timeout: 10000 })
    .catch(() => fail("an unknown programme is not reported"));
  console.log(`unknown programme: ${JSON.stringify(state)} message: ${(await page.textContent("#message")).trim().slice(0, 120)}`);
  check(state.regions > 0, "with an unknown programme the shapes are still drawn");
  const errorPage = await context.newPage();
  const unexpected = [];
  errorPage.on("console", (m) => { if (m.type() === "error" && !/\b401\b/.test(m.text())) unexpected.push(`console: ${m.text()}`); });
  errorPage.on("pageerror", (error) => unexpected.push(`page error: ${error.message}`));
  await errorPage.goto(`${base}/dashboard`);
  await errorPage.evaluate(() => localStorage.setItem("samverka.token", "forged.token.value"));
  await errorPage.reload();
  await errorPage.waitForFunction(() => window.dashboardReady && window.dashboardReady.error, null, { timeout: 30000 });
  const refused = await errorPage.evaluate(() => ({ ready: window.dashboardReady, message: document.getElementById("message").textContent }));
  console.log(`forged token: ${JSON.stringify(refused.ready)} message: ${refused.message.replace(/\s+/g, " ").slice(0, 160)}`);
  check(/UNAUTHENTICATED/.test(refused.message), `a forged token shows UNAUTHENTICATED: ${refused.message}`);
  check(refused.ready.regions > 0, "with a refused token the shapes are still drawn");
  await errorPage.screenshot({ path: join(artifacts, "dashboard-error.png") });
  await errorPage.evaluate(() => localStorage.removeItem("samverka.token"));
  await errorPage.close();
  check(unexpected.length === 0, `unexpected errors with a forged token: ${unexpected.join(" | ")}`);

  // Weight: everything but the API answers, gzipped.
  const weight = [...transferred.values()].reduce((a, b) => a + b, 0);
  console.log(`page weight (gzipped, all levels and dates loaded): ${(weight / 1024).toFixed(0)} KiB over ${transferred.size} files`);
  check(weight < 2 * 1024 * 1024, `page weight ${weight} bytes gzipped`);
  check(blocked.length === 0, `requests to other origins: ${blocked.join(", ")}`);
  check(problems.length === 0, `console errors: ${problems.join(" | ")}`);
  if (!failures) console.log("dashboard page: ok");
} catch (error) {
  fail(error.stack ?? String(error));
} finally {
  if (browser) await browser.close();
  server.stop();
}
