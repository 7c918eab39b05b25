// Browser tests of the npm package: the WASM player in headless Chromium plays the
// test origin's streams to the end through MSE.
//
//   node test/play.mjs            (after `npm run build`; `npm test` does both)
//
// Environment: STREAMSTEER_BIN (the CLI, default ../target/debug/streamsteer),
// STREAMSTEER_CONTENT (content folders to serve, comma-separated; default: the CLI's
// default content), CHROMIUM (default /usr/bin/chromium).

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, "..");
const bin = process.env.STREAMSTEER_BIN || resolve(webDir, "../target/debug/streamsteer");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
// "default" is the CLI's own content (AV1).
const contents = (process.env.STREAMSTEER_CONTENT || "default")
  .split(",")
  .filter(Boolean)
  .map((c) => (c === "default" ? "" : c));

let failures = 0;
function check(cond, what) {
  if (cond) {
    console.log(`  ok: ${what}`);
  } else {
    failures += 1;
    console.log(`  FAILED: ${what}`);
  }
}

/** Starts `streamsteer serve` and resolves with the URLs it prints. */
function startOrigin(content, portBase) {
  const args = ["serve", "--port-base", String(portBase)];
  if (content) args.push("--content", content);
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolveUrls, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`origin did not start:\n${out}`)), 600000);
    child.on("exit", (code) => reject(new Error(`origin exited with ${code}:\n${out}`)));
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ctrl-C")) {
        clearTimeout(timer);
        const url = (label) => out.split("\n").find((l) => l.startsWith(label))?.trim().split(/\s+/).pop();
        resolveUrls({ child, hls: url("HLS (VOD)"), dash: url("DASH (VOD)") });
      }
    });
  });
}

/** Serves web/ (the built package in dist/ and the test page). */
function startPages() {
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
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

/** Plays `src` to the end in `page`; resolves with what the page measured. */
async function play(page, pagesUrl, src) {
  await page.goto(`${pagesUrl}/test/page.html`);
  return page.evaluate((src) => window.playToEnd(src), src);
}

const pages = await startPages();
const pagesUrl = `http://127.0.0.1:${pages.address().port}`;
const browser = await chromium.launch({
  executablePath: browserPath,
  headless: true,
  args: ["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
});
let portBase = 47300;
try {
  for (const content of contents) {
    const origin = await startOrigin(content, portBase);
    portBase += 10;
    try {
      for (const [name, src] of [["HLS", origin.hls], ["DASH", origin.dash]]) {
        console.log(`${name} ${src} (${content || "default content"})`);
        const page = await browser.newPage();
        page.on("pageerror", (e) => console.log(`  page error: ${e.message}`));
        const r = await play(page, pagesUrl, src);
        console.log(`  ${JSON.stringify({ ...r, events: undefined })}`);
        check(r.ended, "played to the end (the element's `ended`)");
        check(r.errors.length === 0, `no error events ${JSON.stringify(r.errors)}`);
        check(r.report && r.report.segments > 0, "a QoE report with segments");
        check(r.currentTime >= r.duration - 0.5, `playhead at the end (${r.currentTime} of ${r.duration})`);
        await page.close();
      }
      // A body over its limit fails the load instead of being read on.
      {
        const page = await browser.newPage();
        await page.goto(`${pagesUrl}/test/page.html`);
        const r = await page.evaluate((src) => window.loadTooLarge(src), origin.hls);
        console.log(`manifest over its limit: ${JSON.stringify(r)}`);
        check(
          r.rejected && r.errors.some((e) => e.kind === "network" && e.message.includes("100-byte limit")),
          "a manifest over its 100-byte limit is refused",
        );
        await page.close();
      }
    } finally {
      origin.child.kill();
    }
  }
  // 100 load/destroy cycles: neither the JS heap nor the wasm memory grows with them.
  // The wasm memory is measured after 100 cycles of warm-up: it never shrinks, and it
  // follows the allocator's high-water mark, which wanders with the bodies in flight
  // when a player is destroyed (+0 to +1.4 MB over a second 100 here); a leak of
  // 40 KB a cycle (a segment body or two) would pass 4 MiB.
  {
    const origin = await startOrigin(contents[contents.length - 1], portBase);
    portBase += 10;
    try {
      const page = await browser.newPage();
      await page.goto(`${pagesUrl}/test/page.html`);
      const cdp = await page.context().newCDPSession(page);
      const heap = async () => {
        await cdp.send("HeapProfiler.collectGarbage");
        return (await cdp.send("Runtime.getHeapUsage")).usedSize;
      };
      const warm = await page.evaluate((src) => window.cycles(src, 100), origin.hls);
      const heapBefore = await heap();
      const after = await page.evaluate((src) => window.cycles(src, 100), origin.hls);
      const heapAfter = await heap();
      const r = { heapBefore, heapAfter, wasmBefore: warm.wasmBytes, wasmAfter: after.wasmBytes };
      console.log(`100 load/destroy cycles: ${JSON.stringify(r)}`);
      check(heapAfter - heapBefore < 1 << 20, "the JS heap grew by less than 1 MiB");
      check(after.wasmBytes - warm.wasmBytes <= 4 << 20, "the wasm memory grew by at most 4 MiB");
      await page.close();
    } finally {
      origin.child.kill();
    }
  }
  // A malformed manifest: an error event and a rejected load, and the page goes on.
  {
    const page = await browser.newPage();
    await page.goto(`${pagesUrl}/test/page.html`);
    const r = await page.evaluate(() => window.loadBroken());
    console.log(`malformed manifest: ${JSON.stringify(r)}`);
    check(r.rejected && r.errors.some((e) => e.kind === "manifest"), "a manifest error event and a rejected load");
    check(r.pageAlive === 2, "the page keeps working");
    await page.close();
  }
} finally {
  await browser.close();
  pages.close();
}
if (failures) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log("all browser checks passed");
