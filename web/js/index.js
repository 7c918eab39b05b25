// streamsteer for the web: the engine (WebAssembly) behind a small player API.
//
//   import { StreamsteerPlayer } from "streamsteer";
//   const player = await StreamsteerPlayer.create({ session: { abr_rule: "default" } });
//   player.on("player", (e) => console.log(e));
//   player.attachMedia(document.querySelector("video"));
//   await player.load("https://example.com/master.m3u8");

import init, { StreamsteerPlayer as Engine } from "./pkg/streamsteer_web.js";

/**
 * The player's configuration: one object, every field optional; what is left out
 * takes the native defaults.
 * @typedef {object} PlayerConfig
 * @property {SessionConfig} [session] The engine's settings, as natively (`SessionConfig`).
 * @property {number} [position_interval_ms] How often the element's playhead is read into the session, ms (250).
 * @property {BodyLimits} [limits] Largest response bodies per request kind, bytes; a body past its limit fails the request.
 */

/**
 * The engine's settings (the native `SessionConfig`; the fields most set are named
 * here, every other field of it is accepted too).
 * @typedef {object} SessionConfig
 * @property {string} [abr_rule] ABR rule: `default`, `throughput`, `bola`, `bolae`, `dynamic`, `dynamicdash`, `bba`, `robustmpc`.
 * @property {{ startup_s?: number, forward_target_s?: number, back_buffer_s?: number, resume_s?: number, one_buffer?: boolean }} [buffer] Buffer policy, seconds.
 * @property {Record<string, unknown>} [steering] Content steering (on by default).
 * @property {Record<string, unknown>} [cmcd] CMCD (on by default).
 * @property {boolean} [autoplay] Start playing once the startup buffer is reached (true).
 */

/**
 * Largest response bodies (the native `BodyLimits`; defaults in brackets).
 * @typedef {object} BodyLimits
 * @property {number} [manifest_bytes] Manifests and media playlists (32 MiB).
 * @property {number} [steering_bytes] Steering manifests (64 KiB).
 * @property {number} [init_bytes] Initialization segments without a byte range (16 MiB).
 * @property {number} [media_factor] A media segment may be this many times the size its bitrate suggests (4),
 * @property {number} [media_slack_bytes] plus this many bytes (1 MiB).
 * @property {number} [media_bytes] Any media segment, and one of unknown size (256 MiB).
 */

/**
 * One of the engine's events (the native `PlayerEvent`): `event` names it
 * (`state_changed`, `decision`, `rendition_changed`, `abandoned`, `pathway_starved`,
 * `pathway_changed`, `fetch_failed`, `steering_updated`, `steering_error`, `stalled`,
 * `resumed`, `clock_synced`, `clock_sync_failed`, `error`, `qoe_report`), the other
 * fields are its own.
 * @typedef {{ event: string } & Record<string, unknown>} PlayerEvent
 */

/**
 * One finished request.
 * @typedef {object} RequestEvent
 * @property {"request"} type
 * @property {number} id
 * @property {string} url
 * @property {string | null} pathway
 * @property {string} kind `manifest`, `init`, `media`, `steering`, …
 * @property {"video" | "audio" | null} track The track of an init or media segment.
 * @property {number | null} status
 * @property {number} bytes
 * @property {number | null} ttfb_s
 * @property {number} duration_s
 * @property {string | null} error
 */

/**
 * An error of the driver (the engine's own come as `error` player events).
 * @typedef {object} ErrorEvent
 * @property {"error"} type
 * @property {"network" | "manifest" | "media" | "steering" | "usage"} kind
 * @property {string} message
 */

/**
 * What `on(type, fn)` hands `fn`.
 * @typedef {{ player: PlayerEvent, request: RequestEvent, error: ErrorEvent, "*": PlayerEvent | RequestEvent | ErrorEvent }} EventMap
 */

/** @type {Promise<WebAssembly.Module> | null} */
let compiled = null;
/** @type {Promise<unknown> | null} */
let instantiated = null;

/**
 * Fetches and compiles the WebAssembly module once per page (a failed attempt is not
 * kept: the next call tries again). The compiled module goes to each worker as is.
 * @param {string | URL} [wasmUrl]
 * @returns {Promise<WebAssembly.Module>}
 */
function compileModule(wasmUrl) {
  if (!compiled) {
    const url = new URL(wasmUrl ?? "./pkg/streamsteer_web_bg.wasm", wasmUrl ? location.href : import.meta.url);
    compiled = (async () => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      try {
        return await WebAssembly.compileStreaming(response.clone());
      } catch {
        // Served without the application/wasm type: compiled from its bytes.
        return await WebAssembly.compile(await response.arrayBuffer());
      }
    })().catch((e) => {
      compiled = null;
      throw e;
    });
  }
  return compiled;
}

/**
 * The module instantiated on this thread (for players on the main thread).
 * @param {WebAssembly.Module} module
 */
function instantiate(module) {
  if (!instantiated) {
    instantiated = init({ module_or_path: module }).catch((e) => {
      instantiated = null;
      throw e;
    });
  }
  return instantiated;
}

/** @type {Promise<Worker> | null} A worker with the module instantiated, for the next player. */
let spare = null;

/**
 * A new worker with `module` instantiated in it.
 * @param {WebAssembly.Module} module
 * @returns {Promise<Worker>}
 */
function startWorker(module) {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data.op !== "reply") return;
      if (data.error === undefined) {
        resolve(worker);
      } else {
        worker.terminate();
        reject(new Error(data.error));
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      worker.terminate();
      reject(new Error(e.message || "the player's worker failed to start"));
    };
    worker.postMessage({ op: "init", call: 1, module });
  });
}

/**
 * The spare worker if one is ready, else a new one.
 * @param {WebAssembly.Module} module
 * @returns {Promise<Worker>}
 */
async function takeWorker(module) {
  const ready = spare;
  spare = null;
  if (ready) {
    try {
      return await ready;
    } catch {
      // A spare that failed to start: a new one below.
    }
  }
  return startWorker(module);
}

/** Whether this browser can make a MediaSource in a dedicated worker. */
function workerMse() {
  return typeof Worker !== "undefined" && typeof MediaSource !== "undefined" &&
    /** @type {any} */ (MediaSource).canConstructInDedicatedWorker === true;
}

/** Element events on which a worker's engine gets the playhead at once. */
const ELEMENT_EVENTS = ["seeked", "playing", "waiting", "pause", "ended"];

/**
 * The engine in a dedicated worker (`worker.js`), behind the interface of the wasm
 * engine: the page keeps the media element, gives the worker its playhead and
 * carries out its commands; the state and report come back as snapshots for the
 * synchronous getters.
 */
class WorkerEngine {
  /**
   * @param {WebAssembly.Module} module
   * @param {PlayerConfig} config
   */
  static async start(module, config) {
    const worker = await takeWorker(module);
    const engine = new WorkerEngine(worker, config.position_interval_ms ?? 250);
    try {
      await engine.#call({ op: "create", module, config: JSON.stringify(config) });
    } catch (e) {
      worker.terminate();
      throw e;
    }
    return engine;
  }

  /**
   * @param {Worker} worker
   * @param {number} positionMs
   */
  constructor(worker, positionMs) {
    this.worker = worker;
    this.positionMs = Math.min(5000, Math.max(20, positionMs));
    /** @type {Map<number, { resolve: () => void, reject: (e: Error) => void }>} */
    this.calls = new Map();
    this.nextCall = 1;
    /** @type {{ state: string, stats: string | null }} */
    this.snapshot = { state: "idle", stats: null };
    /** @type {((json: string) => void) | null} */
    this.listener = null;
    /** @type {HTMLMediaElement | null} */
    this.element = null;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
    this.report = () => {
      if (this.element) this.worker.postMessage({ op: "position", position_s: this.element.currentTime });
    };
    worker.onmessage = ({ data }) => this.#receive(data);
    worker.onerror = (e) => {
      e.preventDefault();
      this.#failAll(e.message || "the player's worker failed");
    };
  }

  /** @param {string} message */
  #failAll(message) {
    for (const c of this.calls.values()) c.reject(new Error(message));
    this.calls.clear();
    this.listener?.(JSON.stringify({ type: "error", kind: "usage", message }));
  }

  /**
   * @param {Record<string, unknown>} message
   * @returns {Promise<void>}
   */
  #call(message) {
    const call = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(call, { resolve, reject });
      this.worker.postMessage({ ...message, call });
    });
  }

  /** @param {any} m */
  #receive(m) {
    if (m.op === "reply") {
      const c = this.calls.get(m.call);
      this.calls.delete(m.call);
      if (c) m.error === undefined ? c.resolve() : c.reject(new Error(m.error));
    } else if (m.op === "event") {
      this.listener?.(m.json);
    } else if (m.op === "snapshot") {
      this.snapshot = m;
    } else if (m.op === "element") {
      this.#command(m.command);
    }
  }

  /** @param {any} c A command for the element. */
  #command(c) {
    const v = this.element;
    if (!v) return;
    if (c.op === "attach") v.srcObject = c.handle;
    else if (c.op === "play") v.play().catch(() => {});
    else if (c.op === "pause") v.pause();
    else if (c.op === "seek") {
      v.currentTime = c.position_s;
      this.report();
    } else if (c.op === "detach") this.#detach();
  }

  #detach() {
    const v = this.element;
    this.element = null;
    clearInterval(this.timer);
    if (v) {
      for (const type of ELEMENT_EVENTS) v.removeEventListener(type, this.report);
      v.pause();
      v.srcObject = null;
      v.removeAttribute("src");
      v.load();
    }
  }

  /** @param {(json: string) => void} fn */
  setListener(fn) { this.listener = fn; }

  /** @param {HTMLMediaElement} element */
  attachMedia(element) {
    this.#detach();
    this.element = element;
    // Between the periodic reports, the moments the engine must hear of at once.
    for (const type of ELEMENT_EVENTS) element.addEventListener(type, this.report);
    this.timer = setInterval(this.report, this.positionMs);
    this.worker.postMessage({ op: "attach" });
  }

  /** @param {string} url */
  load(url) { return this.#call({ op: "load", url }); }
  play() { this.worker.postMessage({ op: "play" }); }
  pause() { this.worker.postMessage({ op: "pause" }); }
  /** @param {number} positionS */
  seek(positionS) { this.worker.postMessage({ op: "seek", position_s: positionS }); }

  /**
   * @param {string} track
   * @param {number} [rendition]
   */
  selectTrack(track, rendition) {
    if (track !== "video" && track !== "audio") throw new Error(`no track "${track}": video or audio`);
    this.worker.postMessage({ op: "select", track, rendition });
  }

  state() { return this.snapshot.state; }
  stats() { return this.snapshot.stats; }

  destroy() {
    this.#detach();
    this.worker.terminate();
    for (const c of this.calls.values()) c.reject(new Error("the player was destroyed"));
    this.calls.clear();
    this.listener = null;
  }

  free() {}
}

/** A player: one presentation, one media element. */
export class StreamsteerPlayer {
  /**
   * Creates a player once the module is loaded. `config` is one object, every field
   * optional: `{ session: {...}, position_interval_ms: 250 }` (the native
   * `SessionConfig`'s fields and defaults).
   *
   * The engine runs in a dedicated worker where the browser can make a MediaSource
   * there (`MediaSource.canConstructInDedicatedWorker`, Chromium 108 on), so that a
   * busy page never delays a fetch or an append; on the main thread otherwise, with
   * `ManagedMediaSource` where a browser has only that (Safari on iOS).
   * @param {PlayerConfig} [config]
   * @param {{ wasmUrl?: string | URL, worker?: boolean | "auto" }} [options] `wasmUrl`: where the
   *   `.wasm` file is (default: next to this module). `worker`: `"auto"` (the default) as
   *   above, `false` always on the main thread, `true` always in a worker (rejects where
   *   the browser cannot).
   * @returns {Promise<StreamsteerPlayer>}
   */
  static async create(config = {}, { wasmUrl, worker = "auto" } = {}) {
    const module = await compileModule(wasmUrl);
    if (worker === true && !workerMse()) throw new Error("this browser cannot use Media Source Extensions in a worker");
    if (worker === true || (worker === "auto" && workerMse())) {
      return new StreamsteerPlayer(await WorkerEngine.start(module, config), "worker");
    }
    await instantiate(module);
    return new StreamsteerPlayer(new Engine(JSON.stringify(config)), "main");
  }

  /**
   * Starts fetching and compiling the WebAssembly module now (once per page), and,
   * where players run in workers, a worker with the module ready, so that a later
   * `create` waits for neither: call it at page load, as a `<script>` tag loads other
   * players before they are used. Resolves when the module is compiled.
   * @param {{ wasmUrl?: string | URL }} [options] Where the `.wasm` file is (default: next to this module).
   * @returns {Promise<void>}
   */
  static async preload({ wasmUrl } = {}) {
    const module = await compileModule(wasmUrl);
    // Where players run in workers, one is started now, ready for the next `create`.
    if (workerMse() && !spare) {
      spare = startWorker(module);
      spare.catch(() => {});
    }
  }

  /**
   * Use `create`.
   * @param {Engine | WorkerEngine} engine
   * @param {"worker" | "main"} thread
   */
  constructor(engine, thread) {
    this.engine = engine;
    /** Where the engine runs: `"worker"` or `"main"` (the page's thread). */
    this.thread = thread;
    /** @type {Map<string, Set<(payload: any) => void>>} */
    this.listeners = new Map();
    engine.setListener((/** @type {string} */ json) => this.#dispatch(JSON.parse(json)));
  }

  /** @param {{ type: string, event?: PlayerEvent }} message */
  #dispatch(message) {
    const fns = [...(this.listeners.get(message.type) || []), ...(this.listeners.get("*") || [])];
    const payload = message.type === "player" ? message.event : message;
    for (const fn of fns) {
      try {
        fn(payload);
      } catch (e) {
        // A listener's exception is the page's; the player goes on.
        setTimeout(() => { throw e; });
      }
    }
  }

  /**
   * Listens to `"player"` (the engine's events), `"request"`, `"error"` or `"*"`;
   * returns a function that stops listening.
   * @template {keyof EventMap} K
   * @param {K} type
   * @param {(payload: EventMap[K]) => void} fn
   * @returns {() => void}
   */
  on(type, fn) {
    let fns = this.listeners.get(type);
    if (!fns) this.listeners.set(type, (fns = new Set()));
    fns.add(fn);
    return () => this.off(type, fn);
  }

  /**
   * Stops listening.
   * @template {keyof EventMap} K
   * @param {K} type
   * @param {(payload: EventMap[K]) => void} fn
   */
  off(type, fn) {
    this.listeners.get(type)?.delete(fn);
  }

  /**
   * Plays into `element` (a `<video>` or `<audio>`).
   * @param {HTMLMediaElement} element
   */
  attachMedia(element) {
    this.engine.attachMedia(element);
  }

  /**
   * Loads an HLS or DASH manifest; rejects with the reason if it cannot be read.
   * @param {string} url
   * @returns {Promise<void>}
   */
  load(url) {
    return this.engine.load(url);
  }

  /** Plays (or resumes). */
  play() { this.engine.play(); }
  /** Pauses (fetching goes on up to the buffer target). */
  pause() { this.engine.pause(); }
  /**
   * Seeks to `positionS`, seconds of media.
   * @param {number} positionS
   */
  seek(positionS) { this.engine.seek(positionS); }

  /**
   * Pins a rendition of `"video"` or `"audio"`; `undefined` returns to automatic.
   * @param {"video" | "audio"} track
   * @param {number} [rendition] Rung index, lowest first.
   */
  selectTrack(track, rendition) {
    this.engine.selectTrack(track, rendition);
  }

  /**
   * The player state: `idle`, `loading`, `buffering`, `playing`, `paused`, `stalled`, `ended`, `failed`.
   * With the engine in a worker, this and `stats()` are the worker's latest snapshot
   * (sent after each of its events and each call): a message behind at most.
   * @returns {string}
   */
  get state() {
    return this.engine.state();
  }

  /**
   * The QoE report so far (the native and simulator schema), or `null` before `load`.
   * @returns {Record<string, any> | null}
   */
  stats() {
    const json = this.engine.stats();
    return json ? JSON.parse(json) : null;
  }

  /** Stops everything and detaches the media element. */
  destroy() {
    this.engine.destroy();
    this.engine.free();
    this.listeners.clear();
  }
}
