// The engine in a dedicated worker: made by `StreamsteerPlayer.create` where the browser
// can make a MediaSource in a worker (`MediaSource.canConstructInDedicatedWorker`), so
// that fetching, parsing, ABR and appends never wait for the page's main thread. The
// page keeps the media element: it receives the MediaSourceHandle and the element
// commands, and reports the playhead.
//
// Page -> worker: {op: "init", call, module} (a spare worker, made ready ahead),
// {op: "create", call, module, config}, {op: "attach"}, {op: "load",
// call, url}, {op: "position", position_s}, {op: "play"}, {op: "pause"}, {op: "seek",
// position_s}, {op: "select", track, rendition}, {op: "destroy"}.
// Worker -> page: {op: "reply", call, error?}, {op: "event", json}, {op: "element",
// command: {op, ...}} (the handle transferred), {op: "snapshot", state, stats}.

import init, { StreamsteerPlayer as Engine } from "./pkg/streamsteer_web.js";

/** @type {Engine | null} */
let engine = null;

/** @param {any} message @param {Transferable[]} [transfer] */
const post = (message, transfer = []) => self.postMessage(message, transfer);

/** @param {unknown} e */
const text = (e) => String(e instanceof Error ? e.message : e);

/** The state and report, for the page's synchronous getters. */
function snapshot() {
  if (engine) post({ op: "snapshot", state: engine.state(), stats: engine.stats() ?? null });
}

let snapshotQueued = false;
/** One snapshot after a burst of events. */
function snapshotSoon() {
  if (snapshotQueued) return;
  snapshotQueued = true;
  queueMicrotask(() => {
    snapshotQueued = false;
    snapshot();
  });
}

/** @param {any} m */
async function handle(m) {
  switch (m.op) {
    case "init":
      await init({ module_or_path: m.module });
      return;
    case "create":
      await init({ module_or_path: m.module });
      engine = new Engine(m.config);
      engine.setListener((/** @type {string} */ json) => {
        post({ op: "event", json });
        snapshotSoon();
      });
      return;
    case "attach":
      engine?.attachRemote((/** @type {any} */ command) =>
        post({ op: "element", command }, command.handle ? [command.handle] : []),
      );
      return;
    case "load":
      await engine?.load(m.url);
      return;
    case "position":
      engine?.setPosition(m.position_s);
      return;
    case "play":
      engine?.play();
      return;
    case "pause":
      engine?.pause();
      return;
    case "seek":
      engine?.seek(m.position_s);
      return;
    case "select":
      engine?.selectTrack(m.track, m.rendition);
      return;
    case "destroy":
      engine?.destroy();
      engine?.free();
      engine = null;
      self.close();
  }
}

self.onmessage = async ({ data: m }) => {
  try {
    await handle(m);
    if (m.call) post({ op: "reply", call: m.call });
  } catch (e) {
    if (m.call) post({ op: "reply", call: m.call, error: text(e) });
    else post({ op: "event", json: JSON.stringify({ type: "error", kind: "usage", message: text(e) }) });
  }
  snapshot();
};
