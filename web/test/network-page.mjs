// Browser test of the /network page: starts the real server on the demo registry, opens the page
// in headless Chromium (Debian's, driven by playwright-core), and checks that it draws nodes
// coloured by country with cross-border edges highlighted, with legible labels (region level: no
// two overlapping, none larger than its node), without console errors. Saves screenshots as test
// artifacts. Run by `bash web/test/run` (which installs what it needs).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { artifacts, browserPath, launchBrowser, startServer } from "./harness.mjs";

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exitCode = 1;
}

// In the page: each node's drawn label (text, font size, box in model coordinates) and its
// diameter, the pairs of labels whose boxes overlap, labels lying on another node, and the zoom.
function labelLayout() {
  const cy = window.cy;
  const overlap = (a, b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
  const zoom = cy.zoom();
  const nodes = cy.nodes().map((node) => {
    const text = node.style("label");
    const font = parseFloat(node.style("font-size"));
    return {
      id: node.id(), text, font, diameter: Math.min(node.width(), node.height()),
      // A label is drawn when it has text and its on-screen size reaches min-zoomed-font-size.
      drawn: Boolean(text) && font * zoom >= parseFloat(node.style("min-zoomed-font-size")),
      label: node.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false }),
      body: node.boundingBox({ includeNodes: true, includeEdges: false, includeLabels: false, includeOverlays: false }),
    };
  });
  const drawn = nodes.filter((n) => n.drawn);
  const collisions = [];
  for (let i = 0; i < drawn.length; i++)
    for (let j = i + 1; j < drawn.length; j++)
      if (overlap(drawn[i].label, drawn[j].label)) collisions.push(`${drawn[i].text} / ${drawn[j].text}`);
  const onNodes = [];
  for (const n of drawn)
    for (const other of nodes)
      if (other.id !== n.id && overlap(n.label, other.body)) onNodes.push(`${n.text} on ${other.id}`);
  const extent = cy.nodes().renderedBoundingBox({ includeLabels: false, includeEdges: false, includeOverlays: false });
  return { zoom, nodes, drawn: drawn.length, collisions, onNodes, extent, width: cy.width(), height: cy.height() };
}

const server = await startServer("page");
const { base } = server;
let browser;
try {
  console.log(`server on ${base}; browser ${browserPath}`);
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const problems = [];
  page.on("console", (message) => { if (message.type() === "error") problems.push(`console: ${message.text()}`); });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));

  // The whole demo registry.
  await page.goto(`${base}/network`);
  await page.waitForFunction(() => window.networkReady, null, { timeout: 30000 });
  const all = await page.evaluate(() => window.networkReady);
  console.log(`/network: ${JSON.stringify(all)}`);
  if (!(all.nodes > 0)) fail(`no nodes drawn: ${JSON.stringify(all)}`);
  const colours = await page.evaluate(() => ({
    no: window.cy.nodes('[country = "NO"]').first().style("background-color"),
    se: window.cy.nodes('[country = "SE"]').first().style("background-color"),
  }));
  if (colours.no !== "rgb(186,12,47)" || colours.se !== "rgb(0,106,167)") fail(`country colours: ${JSON.stringify(colours)}`);
  const allLabels = await page.evaluate(labelLayout);
  if (allLabels.collisions.length > 0) fail(`/network: labels overlap: ${allLabels.collisions.join("; ")}`);
  mkdirSync(artifacts, { recursive: true });
  const shot = join(artifacts, "network.png");
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);

  // One project: the Scandinavian Science Cluster's six verified partners, 9 cross-border ties.
  await page.goto(`${base}/network?project=proj-scandinavian-science-cluster`);
  await page.waitForFunction(() => window.networkReady, null, { timeout: 30000 });
  const ssc = await page.evaluate(() => ({
    ...window.networkReady,
    crossColour: window.cy.edges("[?crossBorder]").first().style("line-color"),
  }));
  console.log(`/network?project=…: ${JSON.stringify(ssc)}`);
  if (ssc.nodes !== 6 || ssc.edges !== 15 || ssc.crossBorder !== 9) fail(`SSC network: ${JSON.stringify(ssc)}`);
  if (ssc.crossColour !== "rgb(242,142,0)") fail(`cross-border edges are not highlighted: ${ssc.crossColour}`);
  const sscLabels = await page.evaluate(labelLayout);
  if (sscLabels.drawn !== 6 || sscLabels.collisions.length > 0)
    fail(`SSC labels: ${sscLabels.drawn} of 6 drawn, overlapping: ${sscLabels.collisions.join("; ")}`);
  await page.screenshot({ path: join(artifacts, "network-ssc.png") });

  // The regions: eight nodes (four Swedish län in one tight cluster), none a broker. Every region
  // is named, no two names overlap and no name lies on another region, the type is in proportion
  // to the nodes (a label's font size at most 0.6 of its node's diameter, and on screen between 8
  // and 18 px rather than magnified to fill the canvas), and the regions are spread over the canvas.
  await page.goto(`${base}/network?level=region`);
  await page.waitForFunction(() => window.networkReady, null, { timeout: 30000 });
  const region = await page.evaluate(labelLayout);
  console.log(`/network?level=region: ${region.nodes.length} nodes, ${region.drawn} labels drawn, zoom ${region.zoom.toFixed(2)}, `
    + `fonts ${[...new Set(region.nodes.map((n) => n.font))].join("/")} px on nodes of ${[...new Set(region.nodes.map((n) => n.diameter))].join("/")} px`);
  if (region.nodes.length !== 8) fail(`region network has ${region.nodes.length} nodes, expected 8`);
  if (region.drawn !== region.nodes.length) fail(`region labels drawn: ${region.drawn} of ${region.nodes.length}`);
  if (region.collisions.length > 0) fail(`region labels overlap: ${region.collisions.join("; ")}`);
  if (region.onNodes.length > 0) fail(`region labels lie on other nodes: ${region.onNodes.join("; ")}`);
  for (const n of region.nodes) {
    if (n.font > 0.6 * n.diameter) fail(`${n.text}: font size ${n.font} px is larger than 0.6 × its node's ${n.diameter} px`);
    const screen = n.font * region.zoom;
    if (screen < 8 || screen > 18) fail(`${n.text}: drawn at ${screen.toFixed(1)} px on screen (zoom ${region.zoom.toFixed(2)})`);
  }
  if (region.extent.w < 0.5 * region.width || region.extent.h < 0.5 * region.height)
    fail(`region nodes are not spread over the canvas: ${Math.round(region.extent.w)}×${Math.round(region.extent.h)} of ${region.width}×${region.height}`);
  await page.screenshot({ path: join(artifacts, "network-region.png") });
  console.log(`screenshot: ${join(artifacts, "network-region.png")}`);

  // A bad filter shows the coded error instead of a drawing.
  await page.goto(`${base}/network?programme=prog-nope`);
  await page.waitForFunction(() => window.networkReady, null, { timeout: 30000 });
  const message = await page.textContent("#message");
  if (!message.includes("NOT_FOUND")) fail(`a bad filter shows its error: ${message}`);
  // The failed fetch's 404 is the one console error that page expects.
  const unexpected = problems.filter((p) => !p.includes("404"));
  if (unexpected.length > 0) fail(`console errors: ${unexpected.join(" | ")}`);
  if (!process.exitCode) console.log("network page: ok");
} catch (error) {
  fail(error.stack ?? String(error));
} finally {
  if (browser) await browser.close();
  server.stop();
}
