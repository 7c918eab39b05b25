// Side by side in one headless Chromium: our npm package and hls.js, dash.js and
// Shaka Player (pinned in compare/package.json, each with its defaults) play the same
// content from `streamsteer serve`, through the same trace shaping, one at a time.
// Everything is measured from the page (compare/page.html), not from what a player
// says about itself: startup (start call to the first presented frame), rebuffering
// (`waiting` once playing), the rendition actually shown (the height of each presented
// frame, mapped to the ladder's bitrate), and QoE_lin per segment as the simulator
// defines it (bitrate shown, minus 4.3 × rebuffer seconds, minus bitrate switches).
//
//   cd web && npm ci && npm run build && (cd compare && npm ci)
//   cargo run -p streamsteer-origin --example make_content -- spec compare/content-spec.json
//   node compare/run.mjs --content DIR [--traces A,B,...] [--players streamsteer,hlsjs,...]
//
// --content: a content folder made for the origin (its content.json gives the ladder);
//   the one above (printed by make_content) is the test suite's H.264 ladder without
//   B-frames, which every player shows at the manifests' times (see ContentSpec::b_frames).
// --traces: trace files (any format the origin reads) or `constant:KBPS`; default: six
//   HSDPA traces of ../shared/traces/hsdpa from slowest to fastest by mean rate, and
//   constant:3000. Both pathways follow the trace (each its own link), with 80 ms before
//   each response's first byte. Writes compare/results.json and compare/results.md.
// --merge: keep the rows of the earlier results.json that this run does not redo.
// --render: run nothing; write results.md from results.json.

import { readFile, readdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { launchBrowser, startOrigin, startPages, webDir } from "../test/harness.mjs";

const REBUFFER_PENALTY = 4.3;
// `--name value`, or `--name` alone (true) when no value follows.
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce(
      (pairs, a, i, all) =>
        a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1] === undefined || all[i + 1].startsWith("--") ? true : all[i + 1]]] : pairs,
      [],
    ),
);
const contentDir = resolve(args.content || process.env.STREAMSTEER_CONTENT?.split(",").pop() || "");
const content = JSON.parse(await readFile(join(contentDir, "content.json"), "utf8"));
const players = (args.players || "streamsteer,hlsjs,dashjs,shaka").split(",");
const shared = process.env.STREAMSTEER_SHARED || resolve(webDir, "../../shared");

/** Mean rate of a Pensieve cooked trace (`time mbps` lines), Mbit/s. */
async function meanMbps(path) {
  const rows = (await readFile(path, "utf8")).trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number));
  return rows.reduce((s, r) => s + (r[1] || 0), 0) / Math.max(1, rows.length);
}

/** Six HSDPA traces spread from the slowest to the fastest, then a constant 3 Mbit/s. */
async function defaultTraces() {
  const dir = join(shared, "traces/hsdpa");
  const files = (await readdir(dir)).filter((f) => !f.endsWith(".md")).sort();
  const rated = await Promise.all(files.map(async (f) => ({ path: join(dir, f), mbps: await meanMbps(join(dir, f)) })));
  rated.sort((a, b) => a.mbps - b.mbps);
  const picks = [0, 0.2, 0.4, 0.6, 0.8, 1].map((q) => rated[Math.round(q * (rated.length - 1))].path);
  return [...new Set(picks), "constant:3000"];
}

function link(trace) {
  return trace.startsWith("constant:") ? { constant_kbps: Number(trace.slice(9)) } : { file: trace };
}

/** Per-segment QoE_lin and the rest, from what the page saw. */
function score(r) {
  const kbpsOf = new Map(content.video.map((v) => [v.height, v.bandwidth_bps / 1000]));
  const seg = content.segment_duration_s;
  const shown = [];
  for (const [t, h] of r.frames) {
    const k = Math.floor(t / seg);
    if (!kbpsOf.has(h)) continue;
    (shown[k] ||= new Map()).set(h, (shown[k].get(h) || 0) + 1);
  }
  const q = shown
    .filter(Boolean)
    .map((counts) => kbpsOf.get([...counts.entries()].sort((a, b) => b[1] - a[1])[0][0]));
  const rebuffer = r.stalls.reduce((a, b) => a + b, 0);
  const switches = q.slice(1).reduce((s, v, i) => s + Math.abs(v - q[i]), 0);
  const n = Math.max(1, q.length);
  return {
    ended: r.ended,
    reached_end: r.reached_end,
    startup_s: r.startup_s === null ? null : +r.startup_s.toFixed(2),
    stalls: r.stalls.length,
    rebuffer_s: +rebuffer.toFixed(2),
    kbps: Math.round(q.reduce((a, b) => a + b, 0) / n),
    segments_shown: q.length,
    qoe_lin: +((q.reduce((a, b) => a + b, 0) / 1000 - REBUFFER_PENALTY * rebuffer - switches / 1000) / n).toFixed(3),
    errors: r.errors,
    ...(r.ended ? {} : { end_state: r.end_state, duration: r.duration }),
  };
}

// --render: run nothing, write results.md again from results.json.
const traces = args.render ? [] : args.traces ? args.traces.split(",") : await defaultTraces();
// --merge: keep the rows of an earlier results.json, replacing those run again.
const resultsPath = join(webDir, "compare/results.json");
const earlier = args.merge !== undefined || args.render ? JSON.parse(await readFile(resultsPath, "utf8").catch(() => "{}")) : {};
const pages = await startPages();
const browser = await launchBrowser();
const results = [];
try {
  for (const trace of traces) {
    for (const player of players) {
      const origin = await startOrigin(contentDir, {
        pathways: ["openconnect", "cloudfront"].map((name) => ({ name, latency_ms: 80, trace: link(trace) })),
        steering: { ttl_s: 10 },
      });
      const page = await browser.newPage();
      try {
        await page.goto(`${pages.url}/compare/page.html`);
        const src = player === "dashjs" ? origin.dash : origin.hls;
        const limitMs = (content.duration_s * 4 + 60) * 1000;
        const r = await page.evaluate(([p, s, l]) => window.measure(p, s, l), [player, src, limitMs]);
        const row = { trace: trace.split("/").pop(), player, ...score(r) };
        results.push(row);
        console.log(JSON.stringify(row));
      } finally {
        await page.close();
        origin.child.kill();
      }
    }
  }
} finally {
  await browser.close();
  pages.close();
}

const rows = [
  ...(earlier.results || []).filter((e) => !results.some((r) => r.trace === e.trace && r.player === e.player)),
  ...results,
];
const PLAYERS = ["streamsteer", "streamsteer_main", "hlsjs", "dashjs", "shaka"];
const traceOrder = [...new Set([...(earlier.results || []), ...results].map((x) => x.trace))];
const order = (r) => traceOrder.indexOf(r.trace) * 10 + PLAYERS.indexOf(r.player);
rows.sort((a, b) => order(a) - order(b));
const commands = [
  ...(earlier.commands || (earlier.command ? [earlier.command] : [])),
  ...(args.render ? [] : [`node compare/run.mjs ${process.argv.slice(2).join(" ")}`.trim()]),
];
const header = "| trace | player | QoE_lin/segment | kbit/s shown | rebuffer s (stalls) | startup s | ended |";
const table = [
  header,
  "| --- | --- | --- | --- | --- | --- | --- |",
  ...rows.map(
    (r) =>
      `| ${r.trace} | ${r.player} | ${r.qoe_lin} | ${r.kbps} | ${r.rebuffer_s} (${r.stalls}) | ${r.startup_s} | ${r.ended ? "yes" : r.reached_end ? "stuck at the end" : "no"} |`,
  ),
].join("\n");
await writeFile(resultsPath, JSON.stringify({ commands, content: contentDir.split("/").pop(), results: rows }, null, 1));
await writeFile(
  join(webDir, "compare/results.md"),
  `Made by\n\n${commands.map((c) => `    ${c}`).join("\n")}\n\non ${content.video.length} rungs of ${content.duration_s} s content (${contentDir.split("/").pop()}), in Debian's Chromium. QoE_lin per segment from what the page showed; "stuck at the end": every segment shown, but the player never ended the stream.\n\n${table}\n`,
);
console.log(table);
