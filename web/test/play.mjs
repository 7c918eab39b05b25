// Browser tests of the npm package: the WASM player in headless Chromium plays the
// test origin's streams to the end through MSE.
//
//   node test/play.mjs            (after `npm run build`; `npm test` does both)
//
// Environment: STREAMSTEER_BIN (the CLI, default ../target/debug/streamsteer),
// STREAMSTEER_CONTENT (content folders to serve, comma-separated; default: the CLI's
// default content), CHROMIUM (default /usr/bin/chromium).

import {
  check,
  contents,
  finish,
  launchBrowser,
  startOrigin,
  startPages,
} from "./harness.mjs";

/** Plays `src` to the end in `page`; resolves with what the page measured. */
async function play(page, pagesUrl, src) {
  await page.goto(`${pagesUrl}/test/page.html`);
  return page.evaluate((src) => window.playToEnd(src), src);
}

const pages = await startPages();
const pagesUrl = pages.url;
const browser = await launchBrowser();
try {
  for (const content of contents) {
    const origin = await startOrigin(content);
    try {
      const streams = [["HLS", origin.hls], ["DASH", origin.dash]];
      // Byte-range requests (the on-demand profile), once.
      if (content === contents[contents.length - 1]) streams.push(["DASH on demand (byte ranges)", origin.sidx]);
      for (const [name, src] of streams) {
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
    const origin = await startOrigin(contents[contents.length - 1]);
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
    const p = await page.evaluate(() => window.preloadRetry());
    console.log(`preload from a missing URL, then the default: ${JSON.stringify(p)}`);
    check(p.rejected && typeof p.state === "string", "a failed preload rejects and the next one loads");
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
finish();
