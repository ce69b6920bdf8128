// Browser test of the pages without the dashboard: `/` (GraphiQL, vendored) and `/network` must
// render with every other origin blocked, i.e. offline. Starts the real server on the demo
// registry; saves landing.png (and landing-network.png) to $SAMVERKA_ARTIFACTS.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { artifacts, browserPath, launchBrowser, offlineContext, startServer } from "./harness.mjs";

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exitCode = 1;
}

const server = await startServer("landing");
const { base } = server;
let browser;
try {
  console.log(`server on ${base}; browser ${browserPath}`);
  browser = await launchBrowser();
  const { context, blocked } = await offlineContext(browser, server, { viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (message) => { if (message.type() === "error") problems.push(`console: ${message.text()}`); });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  mkdirSync(artifacts, { recursive: true });

  // GraphiQL: its editor is up (the vendored bundle ran), and it no longer says "Loading...".
  await page.goto(`${base}/`);
  await page.waitForSelector(".graphiql-container", { state: "visible", timeout: 30000 });
  const editor = await page.waitForSelector(".graphiql-query-editor .CodeMirror, .graphiql-query-editor .cm-editor, .graphiql-query-editor .monaco-editor, .graphiql-query-editor", { state: "visible", timeout: 30000 });
  const box = await editor.boundingBox();
  if (!box || box.width < 100 || box.height < 50) fail(`the GraphiQL editor is not visible: ${JSON.stringify(box)}`);
  await page.waitForFunction(() => !/Loading(\.\.\.|…)/.test(document.body.innerText), null, { timeout: 15000 })
    .catch(() => fail('GraphiQL still says "Loading..."'));
  // The editor holds the first example query, i.e. GraphiQL rendered it rather than a blank pane.
  const editorText = await page.textContent(".graphiql-query-editor");
  if (!/query|\{/.test(editorText || "")) fail(`the GraphiQL editor is empty: ${JSON.stringify((editorText || "").slice(0, 80))}`);
  // The schema arrives through /graphql (introspection), so the docs explorer can open.
  const shot = join(artifacts, "landing.png");
  await page.screenshot({ path: shot });
  console.log(`/: GraphiQL editor ${Math.round(box.width)}×${Math.round(box.height)}; screenshot ${shot}`);

  // /network draws offline too (Cytoscape.js is served from /assets).
  await page.goto(`${base}/network`);
  await page.waitForFunction(() => window.networkReady, null, { timeout: 30000 });
  const network = await page.evaluate(() => window.networkReady);
  if (!(network.nodes > 0) || network.error) fail(`/network offline: ${JSON.stringify(network)}`);
  await page.screenshot({ path: join(artifacts, "landing-network.png") });
  console.log(`/network: ${JSON.stringify(network)}`);

  if (blocked.length) fail(`requests to other origins: ${blocked.join(", ")}`);
  if (problems.length) fail(`console errors: ${problems.join(" | ")}`);
  if (!process.exitCode) console.log("landing pages: ok");
} catch (error) {
  fail(error.stack ?? String(error));
} finally {
  if (browser) await browser.close();
  server.stop();
}
