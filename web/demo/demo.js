// The demo page: the npm package plays the origin's stream while the charts draw what
// the player decides (rendition and measured throughput, buffer, the CDN each segment
// came from), and the buttons use the origin's runtime controls (`/control/`) to take
// a CDN down, slow it tenfold or reorder steering, so that one sees the player steer.
//
//   streamsteer serve --web web --config web/demo/origin.json   →   http://…/web/demo/
//
// `?stream=dash` picks DASH; `?src=URL` plays another manifest.

import { StreamsteerPlayer } from "../dist/index.js";

/** The charts show the last minute, and at least the first 20 s stretched over it. */
const WINDOW_S = 60;
const MIN_SPAN_S = 20;
const COLORS = ["#1f6feb", "#d9480f", "#2f9e44", "#ae3ec9"];
const params = new URLSearchParams(location.search);
const video = /** @type {HTMLVideoElement} */ (document.getElementById("video"));
const statusLine = document.getElementById("status");
const logPanel = document.getElementById("log");
const streamSelect = /** @type {HTMLSelectElement} */ (document.getElementById("stream"));
streamSelect.value = params.get("stream") === "dash" ? "dash" : "hls";

/** What the charts draw, and what a test reads (`window.demo`). */
const seen = {
  t0: performance.now(),
  decisions: [], // { t, kbps }
  throughput: [], // { t, kbps }
  buffer: [], // { t, s }
  segments: [], // { t, pathway }
  events: [], // { t, text }
  stalls: 0,
  errors: [],
};
window.demo = seen;
const now = () => (performance.now() - seen.t0) / 1000;
let pathways = [];
let player = null;

function log(text) {
  seen.events.push({ t: now(), text });
  logPanel.textContent = seen.events
    .slice(-200)
    .map((e) => `${e.t.toFixed(1).padStart(6)} s  ${e.text}`)
    .join("\n");
  logPanel.scrollTop = logPanel.scrollHeight;
}

function colorOf(name) {
  const i = pathways.findIndex((p) => p.name === name);
  return COLORS[(i < 0 ? pathways.length : i) % COLORS.length];
}

async function control(path, method = "POST") {
  const r = await fetch(`${location.origin}/control/${path}`, { method });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  pathways = body.pathways;
  drawControls(body);
  return body;
}

function drawControls(state) {
  const box = document.getElementById("cdns");
  box.replaceChildren(
    ...state.pathways.map((p) => {
      const row = document.createElement("div");
      row.className = "cdn";
      const name = document.createElement("b");
      name.textContent = p.name;
      name.style.color = colorOf(p.name);
      const down = document.createElement("button");
      down.id = `${p.name}-outage`;
      down.textContent = p.down ? "bring back" : "take down";
      down.onclick = () => act(`pathway/${p.name}/${p.down ? "up" : "down"}`, `${p.name} ${p.down ? "back" : "down"}`);
      const slow = document.createElement("button");
      slow.id = `${p.name}-slow`;
      slow.disabled = p.slowdown === null;
      const slowed = (p.slowdown || 1) > 1;
      slow.textContent = slowed ? "restore speed" : "slow ×10";
      slow.onclick = () => act(`pathway/${p.name}/slow?factor=${slowed ? 1 : 10}`, `${p.name} ${slowed ? "restored" : "slowed tenfold"}`);
      const note = document.createElement("span");
      note.className = p.down ? "down" : slowed ? "slow" : "";
      note.textContent = p.down ? " down" : slowed ? ` slowed ×${p.slowdown}` : "";
      row.append(name, down, slow, note);
      return row;
    }),
  );
  const second = state.pathways[1]?.name;
  const prefer = document.getElementById("prefer-second");
  prefer.textContent = second ? `rank ${second} first` : "rank the second CDN first";
  prefer.onclick = () =>
    act(`priority?order=${[second, ...state.pathways.map((p) => p.name).filter((n) => n !== second)].join(",")}`, `steering: ${second} first`);
}

async function act(path, what) {
  // Logged first: the player may react before the answer arrives.
  log(`control: ${what}`);
  try {
    await control(path);
  } catch (e) {
    log(`control failed: ${e.message}`);
  }
}

function onPlayerEvent(e) {
  const t = now();
  switch (e.event) {
    case "decision":
      if (e.track === "video") seen.decisions.push({ t, kbps: e.bitrate_kbps });
      break;
    case "pathway_changed":
      log(`pathway ${e.from ?? "–"} → ${e.to} (${Object.values(e.reason).join(", ")})`);
      break;
    case "rendition_changed":
      if (e.track === "video") log(`video rung ${e.from} → ${e.to}`);
      break;
    case "abandoned":
      log(`segment ${e.segment}: abandoned rung ${e.from} for ${e.to}`);
      break;
    case "pathway_starved":
      log(`segment ${e.segment}: ${e.pathway} starved it (${Math.round(e.rate_kbps)} of ${Math.round(e.expected_kbps)} kbit/s)`);
      break;
    case "fetch_failed":
      log(`fetch failed on ${e.pathway}${e.status ? ` (HTTP ${e.status}, body cut)` : ""}${e.penalized ? ", penalised" : ""}`);
      break;
    case "steering_updated":
      log(`steering: ${e.priority.join(" > ")}`);
      break;
    case "stalled":
      seen.stalls += 1;
      log(`stalled at ${e.position_s.toFixed(1)} s`);
      break;
    case "error":
      log(`error (${e.kind}): ${e.message}`);
      break;
    default:
  }
}

function onRequest(r) {
  if (r.kind !== "media" || r.track !== "video" || r.error || !r.duration_s) return;
  const t = now();
  seen.segments.push({ t, pathway: r.pathway });
  seen.throughput.push({ t, kbps: (r.bytes * 8) / r.duration_s / 1000 });
}

function bufferAhead() {
  const b = video.buffered;
  for (let i = 0; i < b.length; i++) {
    if (b.start(i) <= video.currentTime + 0.1 && video.currentTime < b.end(i)) return b.end(i) - video.currentTime;
  }
  return 0;
}

/** The time axis: its start and span, seconds since the page loaded. */
function timeAxis() {
  const end = Math.max(now(), MIN_SPAN_S);
  const start = Math.max(0, end - WINDOW_S);
  return [start, end - start];
}

/** One chart: the series given over the time axis. */
function chart(id, title, unit, series, max) {
  const c = /** @type {HTMLCanvasElement} */ (document.getElementById(id));
  const g = c.getContext("2d");
  const [w, h, left, top, bottom] = [c.width, c.height, 80, 16, 14];
  g.clearRect(0, 0, w, h);
  g.fillStyle = "#1d2330";
  g.font = "12px system-ui, sans-serif";
  g.fillText(title, left, 11);
  const [t0, span] = timeAxis();
  const x = (t) => left + ((t - t0) / span) * (w - left - 4);
  const y = (v) => h - bottom - (Math.min(v, max) / max) * (h - top - bottom);
  g.strokeStyle = "#dde1e7";
  g.fillStyle = "#667085";
  g.font = "10px system-ui, sans-serif";
  for (let k = 0; k <= 2; k++) {
    const v = (max * k) / 2;
    g.beginPath();
    g.moveTo(left, y(v));
    g.lineTo(w - 4, y(v));
    g.stroke();
    g.fillText(`${Math.round(v)} ${unit}`, 2, y(v) + 3);
  }
  for (const s of series) {
    g.strokeStyle = s.color;
    g.fillStyle = s.color;
    g.lineWidth = 2;
    g.beginPath();
    let lastY = null;
    for (const p of s.points.filter((p) => p.t >= t0)) {
      if (s.dots) {
        g.fillRect(x(p.t) - 2, y(p.v) - 2, 4, 4);
        continue;
      }
      if (lastY === null) g.moveTo(x(p.t), y(p.v));
      // A step chart holds each value until the next.
      else if (s.steps) g.lineTo(x(p.t), lastY);
      g.lineTo(x(p.t), y(p.v));
      lastY = y(p.v);
    }
    if (lastY !== null && s.steps) g.lineTo(x(now()), lastY);
    g.stroke();
  }
}

function pathwayBand() {
  const c = /** @type {HTMLCanvasElement} */ (document.getElementById("pathway"));
  const g = c.getContext("2d");
  const [w, h, left] = [c.width, c.height, 80];
  g.clearRect(0, 0, w, h);
  g.fillStyle = "#1d2330";
  g.font = "12px system-ui, sans-serif";
  g.fillText("CDN of each media segment", left, 11);
  const [t0, span] = timeAxis();
  const x = (t) => left + ((t - t0) / span) * (w - left - 4);
  const rows = pathways.map((p) => p.name);
  rows.forEach((name, i) => {
    g.fillStyle = colorOf(name);
    g.font = "10px system-ui, sans-serif";
    g.fillText(name, 2, 28 + i * 18);
  });
  for (const s of seen.segments.filter((s) => s.t >= t0)) {
    const i = Math.max(0, rows.indexOf(s.pathway));
    g.fillStyle = colorOf(s.pathway);
    g.fillRect(x(s.t) - 3, 19 + i * 18, 6, 12);
  }
}

function draw() {
  const top = Math.max(1000, ...seen.decisions.map((d) => d.kbps), ...seen.throughput.map((d) => d.kbps));
  chart("bitrate", "video bitrate chosen (line), throughput per segment (dots), kbit/s", "k", [
    { color: "#1f6feb", steps: true, points: seen.decisions.map((d) => ({ t: d.t, v: d.kbps })) },
    { color: "#98a2b3", dots: true, points: seen.throughput.map((d) => ({ t: d.t, v: d.kbps })) },
  ], Math.ceil(top / 1000) * 1000);
  chart("buffer", "buffer ahead of the playhead, s", "s", [
    { color: "#2f9e44", points: seen.buffer.map((b) => ({ t: b.t, v: b.s })) },
  ], 30);
  pathwayBand();
  const last = seen.segments[seen.segments.length - 1];
  const rate = seen.decisions[seen.decisions.length - 1];
  statusLine.textContent = player
    ? `${player.state} · ${rate ? `${Math.round(rate.kbps)} kbit/s` : "–"} · buffer ${bufferAhead().toFixed(1)} s · from ${last?.pathway ?? "–"} · stalls ${seen.stalls}`
    : "idle";
}

async function load() {
  if (player) player.destroy();
  const src =
    params.get("src") || `${location.origin}/vod/${streamSelect.value === "dash" ? "manifest.mpd" : "master.m3u8"}`;
  player = await StreamsteerPlayer.create({});
  player.on("player", onPlayerEvent);
  player.on("request", onRequest);
  player.on("error", (e) => {
    seen.errors.push(e);
    log(`error (${e.kind}): ${e.message}`);
  });
  player.attachMedia(video);
  log(`load ${src}`);
  try {
    await player.load(src);
  } catch (e) {
    log(`load failed: ${e}`);
  }
}

document.getElementById("reload").onclick = load;
document.getElementById("schedule").onclick = () => act("priority", "steering back to its schedule");
setInterval(() => {
  seen.buffer.push({ t: now(), s: bufferAhead() });
  draw();
}, 250);
await control("state", "GET").catch((e) => log(`no controls: ${e.message}`));
await load();
