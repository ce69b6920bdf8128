// Browser test of the /network page: starts the real server on the demo registry, opens the page
// in headless Chromium (Debian's, driven by playwright-core), and checks that it draws nodes
// coloured by country with cross-border edges highlighted, without console errors. Saves a
// screenshot as a test artifact. Run by `bash web/test/run` (which installs what it needs).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const binary = process.env.SAMVERKA_BIN ?? join(process.env.CARGO_TARGET_DIR ?? "/var/tmp/samverka-target", "debug", "samverka");
const artifacts = process.env.SAMVERKA_ARTIFACTS ?? "/var/tmp/samverka-artifacts";
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exitCode = 1;
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const dir = mkdtempSync(join(tmpdir(), "samverka-page-"));
const server = spawn(binary, ["serve", "--sqlite-path", join(dir, "demo.db"), "--listen", `127.0.0.1:${port}`], {
  env: { ...process.env, RUST_LOG: "warn", SAMVERKA_RATE_LIMIT: "0", SAMVERKA_JWT_SECRET: "browser-test-secret-0123456789abcdef" },
  stdio: ["ignore", "inherit", "inherit"],
});
let browser;
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 300) throw new Error("the server did not become ready");
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`server on ${base}; browser ${browserPath}`);
  browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
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
  await page.screenshot({ path: join(artifacts, "network-ssc.png") });

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
  server.kill();
}
