// What every browser test of the pages shares: the server binary (the debug build unless
// SAMVERKA_BIN says otherwise) started on a free port over a fresh demo database, waiting for it
// to be ready, Chromium, and a browser context in which every other origin is blocked (HTTP and
// WebSocket), so a page that needs the internet fails.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const binary = process.env.SAMVERKA_BIN ?? join(process.env.CARGO_TARGET_DIR ?? "/var/tmp/samverka-target", "debug", "samverka");
export const artifacts = process.env.SAMVERKA_ARTIFACTS ?? "/var/tmp/samverka-artifacts";
export const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const secret = "browser-test-secret-0123456789abcdef";
export const serverEnv = { ...process.env, RUST_LOG: "warn", SAMVERKA_RATE_LIMIT: "0", SAMVERKA_JWT_SECRET: secret };

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

/// Starts the server on the demo registry in a temp directory named after `name`; resolves once
/// `/readyz` answers (polled: the first start migrates and loads the map). `stop()` ends it.
export async function startServer(name) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), `samverka-${name}-`));
  const server = spawn(binary, ["serve", "--sqlite-path", join(dir, "demo.db"), "--listen", `127.0.0.1:${port}`], {
    env: serverEnv,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise((resolve) => server.once("exit", (code) => resolve(code)));
  for (let i = 0; ; i++) {
    const early = await Promise.race([exited, Promise.resolve(undefined)]);
    if (early !== undefined) throw new Error(`the server exited with ${early} before it was ready`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 600) {
      server.kill();
      throw new Error("the server did not become ready within 60 s");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, base, stop: () => server.kill() };
}

export function launchBrowser() {
  return chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
}

/// A browser context that lets through only the server's origin (and data:/blob: URLs); every
/// other request is aborted and its URL pushed to `blocked`.
export async function offlineContext(browser, { base, port }, options = {}) {
  const context = await browser.newContext(options);
  const blocked = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base + "/") || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    blocked.push(url);
    return route.abort("blockedbyclient");
  });
  await context.routeWebSocket((url) => url.host !== `127.0.0.1:${port}`, (ws) => { blocked.push(ws.url()); ws.close(); });
  return { context, blocked };
}
