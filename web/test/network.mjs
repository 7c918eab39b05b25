// Browser tests of the npm package on shaped links and faulty CDNs: the WASM player
// in headless Chromium against the test origin's two pathways (`openconnect`,
// preferred, and `cloudfront`) and its steering server.
//
//   node test/network.mjs         (after `npm run build`; `npm test` runs it)
//
// - The preferred pathway dies while a segment is coming from it: playback goes on
//   from the other with no stall (measured from the page: `waiting` once playing) and
//   is back on the preferred one within one steering TTL of its recovery.
// - The preferred pathway slowed tenfold with no error: the fetch it starves is left
//   for the other pathway within a segment, with no stall.
// - ABR under shaping: the link drops to below the second rung and recovers; the
//   pictures shown (their height, per presented frame) go down and back up.
// - Steering answered 429 with Retry-After, and 410: playback is unaffected; after a
//   429 the player asks again no sooner than Retry-After (and keeps asking); after a
//   410 it never asks again.
//
// Times on the origin's clock (seconds since it started) come from its request log.
// The content is the last of STREAMSTEER_CONTENT (or the CLI's default).

import {
  check,
  contents,
  finish,
  launchBrowser,
  mediaOk,
  startOrigin,
  startPages,
  testPage,
} from "./harness.mjs";

const content = contents[contents.length - 1];

/** The variants' declared bitrates (kbit/s, audio included), low to high. */
async function ladder() {
  const origin = await startOrigin(content);
  try {
    const master = await (await fetch(origin.hls)).text();
    const kbps = (line) => Number(/BANDWIDTH=(\d+)/.exec(line)?.[1] || 0) / 1000;
    const video = master
      .split("\n")
      .filter((l) => l.startsWith("#EXT-X-STREAM-INF"))
      .map(kbps);
    // One variant per rung and pathway (HLS content steering): one rate per rung.
    return { video: [...new Set(video)].sort((a, b) => a - b) };
  } finally {
    origin.child.kill();
  }
}

/** Plays `src` in a fresh page with `config` (and `options` of `window.watch`). */
async function watch(browser, pages, src, config, options = {}) {
  const page = await testPage(browser, pages);
  try {
    return await page.evaluate(([src, config, options]) => window.watch(src, config, options), [
      src,
      config,
      options,
    ]);
  } finally {
    await page.close();
  }
}

/** What every session must show: it played to its end with no error. */
function checkPlayed(r) {
  const fatal = r.events.filter((e) => e.event === "error" && e.fatal);
  check(r.ended && r.currentTime >= r.duration - 0.5, `played to the end (${r.currentTime} of ${r.duration})`);
  check(r.errors.length === 0 && fatal.length === 0, `no error ${JSON.stringify([...r.errors, ...fatal])}`);
}

function summary(r) {
  const kinds = {};
  for (const e of r.events) kinds[e.event] = (kinds[e.event] || 0) + 1;
  return JSON.stringify({ startup_s: r.startup_s, stalls: r.stalls, heights: r.heights, events: kinds });
}

const OUTAGE_S = [6, 16];
const TTL_S = 3;
/** One segment's wait (fetches pace with playback) and scheduling slack on a loaded 2-core machine. */
const SEGMENT_S = 2;
const SLACK_S = 2.5;

/** The preferred pathway's outage, mid-segment: failover without a stall, and the return. */
async function outage(browser, pages, rates) {
  const top = rates.video[rates.video.length - 1];
  // The top rung pinned on a link 1.6 times its rate: a segment is nearly always in
  // flight (the outage cuts one), and the whole stream takes ~25 s to fetch, so
  // fetches go on after the return is due.
  const link = { constant_kbps: 1.6 * top };
  const origin = await startOrigin(content, {
    steering: { ttl_s: TTL_S },
    pathways: [
      {
        name: "openconnect",
        trace: link,
        faults: [{ type: "outage", window: { from_s: OUTAGE_S[0], to_s: OUTAGE_S[1] } }],
      },
      { name: "cloudfront", trace: link },
    ],
  });
  try {
    console.log(`outage of openconnect over ${OUTAGE_S[0]}-${OUTAGE_S[1]} s (DASH, TTL ${TTL_S} s)`);
    const config = { session: { buffer: { forward_target_s: 60 } } };
    const r = await watch(browser, pages, origin.dash, config, { pin: rates.video.length - 1 });
    const log = await origin.requests();
    console.log(`  ${summary(r)}`);
    checkPlayed(r);
    check(r.stalls.length === 0, `no stall seen by the page ${JSON.stringify(r.stalls)}`);
    const during = (e) => e.t_s >= OUTAGE_S[0] && e.t_s < OUTAGE_S[1];
    const cut = log.filter(
      (e) => e.pathway === "openconnect" && e.kind === "media" && !e.complete && e.t_s < OUTAGE_S[0],
    );
    check(cut.length > 0, `a segment cut mid-body by the outage ${JSON.stringify(cut.map((e) => e.path))}`);
    const served = log.filter(mediaOk);
    check(
      served.some((e) => e.pathway === "cloudfront" && during(e)),
      "segments came from cloudfront during the outage",
    );
    const back = served.find((e) => e.pathway === "openconnect" && e.t_s >= OUTAGE_S[1]);
    const due = OUTAGE_S[1] + TTL_S + SEGMENT_S + SLACK_S;
    check(
      back && back.t_s <= due,
      `back on openconnect at ${back?.t_s?.toFixed(2)} s, within one TTL of its recovery (by ${due} s)`,
    );
  } finally {
    origin.child.kill();
  }
}

const SLOWED_AT_S = 12;

/** The preferred CDN slowed tenfold with no error: left within a segment, no stall. */
async function slowed(browser, pages) {
  // As natively (`e2e_pathway_policy`): 8 Mbit/s links, 40 ms to the first byte,
  // openconnect at 800 kbit/s from 12 s on.
  const fast = 8000;
  const origin = await startOrigin(content, {
    steering: { ttl_s: TTL_S },
    pathways: [
      {
        name: "openconnect",
        latency_ms: 40,
        trace: {
          periods: [
            { duration_ms: SLOWED_AT_S * 1000, bandwidth_kbps: fast, latency_ms: 0 },
            { duration_ms: 600000, bandwidth_kbps: fast / 10, latency_ms: 0 },
          ],
        },
      },
      { name: "cloudfront", latency_ms: 40, trace: { constant_kbps: fast } },
    ],
  });
  try {
    console.log(`openconnect slowed tenfold at ${SLOWED_AT_S} s, no error (HLS)`);
    const config = { session: { buffer: { forward_target_s: 8 } } };
    const r = await watch(browser, pages, origin.hls, config);
    const log = await origin.requests();
    console.log(`  ${summary(r)}`);
    checkPlayed(r);
    check(r.stalls.length === 0, `no stall seen by the page ${JSON.stringify(r.stalls)}`);
    const starved = r.events.filter((e) => e.event === "pathway_starved");
    check(starved.some((e) => e.pathway === "openconnect"), `the engine saw openconnect starve a fetch ${JSON.stringify(starved)}`);
    // The segment in flight when it slowed, or the next, arrives from cloudfront
    // within a segment (2 s) of the slowdown, plus the 1.5 s the rate is judged over
    // and slack.
    const first = log
      .filter(mediaOk)
      .find((e) => e.pathway === "cloudfront" && /\/v\d+\//.test(e.path) && e.t_s + e.duration_s > SLOWED_AT_S);
    const landed = first && first.t_s + first.duration_s;
    const due = SLOWED_AT_S + SEGMENT_S + 1.5 + SLACK_S;
    check(landed && landed <= due, `a video segment from cloudfront landed at ${landed?.toFixed(2)} s (by ${due} s)`);
  } finally {
    origin.child.kill();
  }
}

/** ABR under shaping: down when the link drops, up when it recovers. */
async function abr(browser, pages, rates, src) {
  const [low, second] = rates.video;
  const high = 3 * rates.video[rates.video.length - 1];
  // Between the lowest and the second rung for 10 s, fast before and after (the
  // stream is fetched until ~32 s: 14 s of fast link after the drop).
  const drop = (low + second) / 2;
  const periods = [
    { duration_ms: 8000, bandwidth_kbps: high, latency_ms: 0 },
    { duration_ms: 10000, bandwidth_kbps: drop, latency_ms: 0 },
    { duration_ms: 600000, bandwidth_kbps: high, latency_ms: 0 },
  ];
  const origin = await startOrigin(content, {
    pathways: [
      { name: "openconnect", trace: { periods } },
      { name: "cloudfront", trace: { periods } },
    ],
  });
  try {
    // A short buffer target, so that the drop is felt within it.
    const config = { session: { buffer: { forward_target_s: 8 } } };
    const r = await watch(browser, pages, origin[src], config);
    return { name: `ABR under shaping (${src}, ${Math.round(high)} → ${Math.round(drop)} → ${Math.round(high)} kbit/s)`, r, check: () => {
      checkPlayed(r);
      const changes = r.events.filter((e) => e.event === "rendition_changed" && e.track === "video");
      check(changes.some((e) => e.to < e.from), `the rule switched down ${JSON.stringify(changes)}`);
      const down = changes.findIndex((e) => e.to < e.from);
      check(changes.slice(down + 1).some((e) => e.to > e.from), "and back up after the drop");
      const hs = r.heights.map((h) => h.height).filter((h) => h > 0);
      const fell = hs.findIndex((h, i) => i > 0 && h < hs[i - 1]);
      check(fell > 0, `the pictures shown got smaller ${JSON.stringify(hs)}`);
      check(fell > 0 && hs.slice(fell + 1).some((h, i) => h > hs[fell + i]), "and larger again");
    } };
  } finally {
    origin.child.kill();
  }
}

/** Steering answered with `status`: playback unaffected, the answer obeyed. */
async function steering(browser, pages, status, src, verdict) {
  const origin = await startOrigin(content, { steering: { ttl_s: 1, status } });
  try {
    // The lowest rung pinned: this is about steering, and three sessions share the CPU.
    const r = await watch(browser, pages, origin[src], {}, { pin: 0 });
    const asked = (await origin.requests()).filter((e) => e.kind === "steering").map((e) => e.t_s);
    return { name: `steering ${JSON.stringify(status)} (${src})`, r, check: () => {
      console.log(`  steering requests at ${JSON.stringify(asked.map((t) => +t.toFixed(2)))}`);
      checkPlayed(r);
      verdict(asked);
    } };
  } finally {
    origin.child.kill();
  }
}

// `node test/network.mjs [outage] [slowed] [abr] [steering]` runs those only (default: all).
const only = process.argv.slice(2);
const wanted = (name) => only.length === 0 || only.includes(name);
const RETRY_AFTER_S = 4;
const pages = await startPages();
const browser = await launchBrowser();
try {
  const rates = await ladder();
  console.log(`ladder ${JSON.stringify(rates)} (${content || "default content"})`);
  // Alone: no other session competes for the CPU while "no stall" is checked.
  if (wanted("outage")) await outage(browser, pages, rates);
  if (wanted("slowed")) await slowed(browser, pages);
  // The others at once.
  const runs = await Promise.all([
    wanted("abr") && abr(browser, pages, rates, "hls"),
    wanted("steering") &&
      steering(browser, pages, { type: "too_many_requests", retry_after_s: RETRY_AFTER_S }, "hls", (asked) => {
        const gaps = asked.slice(1).map((t, i) => t - asked[i]);
        check(asked.length >= 3, `steering asked again and again (${asked.length} times), not given up after a 429`);
        check(
          gaps.every((g) => g >= RETRY_AFTER_S - 0.1),
          `never sooner than Retry-After (${RETRY_AFTER_S} s): ${JSON.stringify(gaps.map((g) => +g.toFixed(2)))}`,
        );
      }),
    wanted("steering") &&
      steering(browser, pages, { type: "gone" }, "dash", (asked) => {
        check(asked.length === 1, `steering asked once and never after the 410 (${asked.length} requests)`);
      }),
  ]);
  for (const run of runs.filter(Boolean)) {
    console.log(run.name);
    console.log(`  ${summary(run.r)}`);
    run.check();
  }
} finally {
  await browser.close();
  pages.close();
}
finish();
