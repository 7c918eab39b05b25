// What the browser tests share: the test origin (`streamsteer serve`), a static
// server for the package and the test page, headless Chromium, and the checks.

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const webDir = resolve(here, "..");
const bin = process.env.STREAMSTEER_BIN || resolve(webDir, "../target/debug/streamsteer");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";

/** Content folders to serve (STREAMSTEER_CONTENT, comma-separated); "" is the CLI's default (AV1). */
export const contents = (process.env.STREAMSTEER_CONTENT || "default")
  .split(",")
  .filter(Boolean)
  .map((c) => (c === "default" ? "" : c));

let failures = 0;

/** Records one check; the run fails at the end if any failed. */
export function check(cond, what) {
  if (cond) {
    console.log(`  ok: ${what}`);
  } else {
    failures += 1;
    console.log(`  FAILED: ${what}`);
  }
}

/** Exits non-zero if a check failed. */
export function finish() {
  if (failures) {
    console.log(`${failures} check(s) failed`);
    process.exit(1);
  }
  console.log("all browser checks passed");
}

/**
 * Starts `streamsteer serve` on `content` with an origin configuration (the
 * `OriginConfig` JSON; `{}` = defaults), a request log and, with `web`, that folder
 * served under `/web/` (the demo page at `demo`); resolves with its URLs,
 * the process and `requests()`, which reads the log (times on the origin's clock,
 * seconds since it started).
 */
export async function startOrigin(content, config = {}, { web } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "streamsteer-web-test-"));
  const configFile = join(dir, "origin.json");
  const logFile = join(dir, "requests.jsonl");
  await writeFile(configFile, JSON.stringify(config));
  // Every listener on a free port (the URLs printed say which): a fixed range could
  // collide with the browser's own outgoing ports.
  const args = ["serve", "--config", configFile, "--log", logFile];
  if (content) args.push("--content", content);
  if (web) args.push("--web", web);
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "inherit"] });
  const requests = async () => {
    const text = await readFile(logFile, "utf8").catch(() => "");
    return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  };
  return new Promise((resolveUrls, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`origin did not start:\n${out}`)), 600000);
    child.on("exit", (code) => reject(new Error(`origin exited with ${code}:\n${out}`)));
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ctrl-C")) {
        clearTimeout(timer);
        const url = (label) => out.split("\n").find((l) => l.startsWith(label))?.trim().split(/\s+/).pop();
        resolveUrls({
          child,
          hls: url("HLS (VOD)"),
          dash: url("DASH (VOD)"),
          // On demand: SegmentBase, every segment a byte range of one file.
          sidx: url("DASH (sidx)"),
          demo: url("demo"),
          requests,
        });
      }
    });
  });
}

/** Serves web/ (the built package in dist/ and the test page) on a free port. */
export function startPages() {
  const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    try {
      const body = await readFile(join(webDir, path.replace(/^\/+/, "")));
      res.writeHead(200, { "content-type": types[extname(path)] || "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((r) =>
    server.listen(0, "127.0.0.1", () => {
      server.url = `http://127.0.0.1:${server.address().port}`;
      r(server);
    }),
  );
}

/** Headless Chromium (Debian's, or CHROMIUM) allowed to autoplay. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: ["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
  });
}

/** A new page on the test page, with page errors logged. */
export async function testPage(browser, pages) {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.log(`  page error: ${e.message}`));
  await page.goto(`${pages.url}/test/page.html`);
  return page;
}

/** True for a media segment (not an init segment) served whole with 200 or 206. */
export function mediaOk(entry) {
  return (
    entry.kind === "media" &&
    (entry.status === 200 || entry.status === 206) &&
    entry.complete
  );
}
