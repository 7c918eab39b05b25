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

/** Plays `src` to the end in `page` (`how`: a function of the page); resolves with what the page measured. */
async function play(page, pagesUrl, src, how = "playToEnd", options = {}) {
  await page.goto(`${pagesUrl}/test/page.html`);
  return page.evaluate(([how, src, options]) => window[how](src, options), [how, src, options]);
}

/** What every playback to the end must show. */
function checkToEnd(r) {
  check(r.ended, "played to the end (the element's `ended`)");
  check(r.errors.length === 0, `no error events ${JSON.stringify(r.errors)}`);
  check(r.report && r.report.segments > 0, "a QoE report with segments");
  check(r.currentTime >= r.duration - 0.5, `playhead at the end (${r.currentTime} of ${r.duration})`);
}

const pages = await startPages();
const pagesUrl = pages.url;
const browser = await launchBrowser();
try {
  for (const content of contents) {
    const origin = await startOrigin(content);
    try {
      // By default the engine runs in a worker (Chromium makes MediaSources there).
      const streams = [["HLS", origin.hls, "playToEnd", {}, "worker"], ["DASH", origin.dash, "playToEnd", {}, "worker"]];
      if (content === contents[contents.length - 1]) {
        // Byte-range requests (the on-demand profile); the main thread; a page with
        // only ManagedMediaSource: once.
        streams.push(
          ["DASH on demand (byte ranges)", origin.sidx, "playToEnd", {}, "worker"],
          ["HLS on the main thread", origin.hls, "playToEnd", { worker: false }, "main"],
          ["DASH with only ManagedMediaSource", origin.dash, "playManaged", {}, "main"],
        );
      }
      for (const [name, src, how, options, thread] of streams) {
        console.log(`${name} ${src} (${content || "default content"})`);
        const page = await browser.newPage();
        page.on("pageerror", (e) => console.log(`  page error: ${e.message}`));
        const r = await play(page, pagesUrl, src, how, options);
        console.log(`  ${JSON.stringify({ ...r, events: undefined })}`);
        checkToEnd(r);
        check(r.thread === thread, `the engine ran on the ${thread} thread (${r.thread})`);
        if (how === "playManaged") {
          check(r.made === 1 && r.disableRemotePlayback === true, "one ManagedMediaSource made, remote playback off");
        }
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
      // On the main thread (the page's wasm memory is the players'), then each player
      // in a worker of its own.
      for (const worker of [false, true]) {
        const warm = await page.evaluate(([src, w]) => window.cycles(src, 100, w), [origin.hls, worker]);
        const heapBefore = await heap();
        const after = await page.evaluate(([src, w]) => window.cycles(src, 100, w), [origin.hls, worker]);
        const heapAfter = await heap();
        const r = { worker, heapBefore, heapAfter, wasmBefore: warm.wasmBytes, wasmAfter: after.wasmBytes };
        console.log(`100 load/destroy cycles: ${JSON.stringify(r)}`);
        check(heapAfter - heapBefore < 1 << 20, "the JS heap grew by less than 1 MiB");
        if (!worker) check(after.wasmBytes - warm.wasmBytes <= 4 << 20, "the wasm memory grew by at most 4 MiB");
      }
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
