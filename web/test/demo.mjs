// The demo page (web/demo/, served by `streamsteer serve --web web`) in headless
// Chromium: it plays, its charts draw, and its buttons steer the player through the
// origin's runtime controls: "take down" on the preferred CDN moves playback to the
// other with no stall, "bring back" returns it within the steering TTL. A screenshot
// is written to ../target/web-demo/demo.png (or STREAMSTEER_SCREENSHOT) to look at.
//
//   node test/demo.mjs            (after `npm run build`; `npm test` runs it)

import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { check, contents, finish, launchBrowser, startOrigin, webDir } from "./harness.mjs";

const shot = process.env.STREAMSTEER_SCREENSHOT || resolve(webDir, "../target/web-demo/demo.png");
const config = JSON.parse(await readFile(join(webDir, "demo/origin.json"), "utf8"));
const ttl = config.steering.ttl_s;
const origin = await startOrigin(contents[contents.length - 1], config, { web: webDir });
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1120, height: 760 } });
  page.on("pageerror", (e) => console.log(`  page error: ${e.message}`));
  console.log(`demo ${origin.demo}`);
  await page.goto(origin.demo);
  const state = () => page.evaluate(() => ({ ...window.demo, t: (performance.now() - window.demo.t0) / 1000 }));
  const waitFor = async (what, cond, limitS = 30) => {
    for (let i = 0; i < limitS * 4; i++) {
      const s = await state();
      if (cond(s)) return s;
      await page.waitForTimeout(250);
    }
    throw new Error(`${what}: not within ${limitS} s`);
  };
  const onWhich = (s, from) => new Set(s.segments.filter((x) => x.t >= from).map((x) => x.pathway));

  await waitFor("playing from openconnect", (s) => s.segments.length >= 4 && s.buffer.some((b) => b.s > 2));
  await page.waitForTimeout(3000);
  const downAt = (await state()).t;
  await page.click("#openconnect-outage");
  const during = await waitFor("a segment from cloudfront", (s) => onWhich(s, downAt).has("cloudfront"));
  await page.waitForTimeout(3000);
  const upAt = (await state()).t;
  await page.click("#openconnect-outage");
  const back = await waitFor("back on openconnect", (s) => onWhich(s, upAt).has("openconnect"), ttl + 15);
  const returned = back.segments.find((x) => x.t >= upAt && x.pathway === "openconnect").t - upAt;
  await page.waitForTimeout(2000);
  const end = await state();
  const drawn = await page.evaluate(() =>
    ["bitrate", "buffer", "pathway"].map((id) => {
      const c = document.getElementById(id);
      const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
      return n;
    }),
  );
  const log = await page.textContent("#log");
  await mkdir(dirname(shot), { recursive: true });
  await page.screenshot({ path: shot });
  console.log(`  screenshot ${shot}`);
  console.log(`  ${JSON.stringify({ returned_s: +returned.toFixed(2), stalls: end.stalls, drawn, errors: end.errors })}`);
  check(onWhich(during, 0).has("openconnect"), "played from openconnect first");
  check(during.segments.filter((x) => x.t >= downAt).every((x) => x.pathway === "cloudfront"), "every segment after \"take down\" from cloudfront");
  check(returned <= ttl + 2 * 2 + 2, `back on openconnect ${returned.toFixed(2)} s after "bring back" (TTL ${ttl} s)`);
  check(end.stalls === 0 && end.errors.length === 0, "no stall, no error");
  check(drawn.every((n) => n > 500), `the three charts are drawn (${drawn} pixels)`);
  check(log.includes("control: openconnect down") && log.includes("pathway openconnect → cloudfront"), "the log tells the outage and the move");
  await page.close();
} finally {
  await browser.close();
  origin.child.kill();
}
finish();
