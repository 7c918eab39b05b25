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

/** @type {Promise<unknown> | null} */
let ready = null;

/**
 * Loads and instantiates the WebAssembly module once per page.
 * @param {string | URL} [wasmUrl]
 */
function loadModule(wasmUrl) {
  // A failed load (network, a bad URL) is not kept: the next call tries again.
  if (!ready) {
    ready = init(wasmUrl ? { module_or_path: wasmUrl } : undefined).catch((e) => {
      ready = null;
      throw e;
    });
  }
  return ready;
}

/** A player: one presentation, one media element. */
export class StreamsteerPlayer {
  /**
   * Creates a player once the module is loaded. `config` is one object, every field
   * optional: `{ session: {...}, position_interval_ms: 250 }` (the native
   * `SessionConfig`'s fields and defaults).
   * @param {PlayerConfig} [config]
   * @param {{ wasmUrl?: string | URL }} [options] Where the `.wasm` file is (default: next to this module).
   * @returns {Promise<StreamsteerPlayer>}
   */
  static async create(config = {}, { wasmUrl } = {}) {
    await loadModule(wasmUrl);
    return new StreamsteerPlayer(new Engine(JSON.stringify(config)));
  }

  /**
   * Starts fetching and compiling the WebAssembly module now (once per page), so that a
   * later `create` does not wait for it: call it at page load, as a `<script>` tag loads
   * other players before they are used. Resolves when the module is ready.
   * @param {{ wasmUrl?: string | URL }} [options] Where the `.wasm` file is (default: next to this module).
   * @returns {Promise<void>}
   */
  static async preload({ wasmUrl } = {}) {
    await loadModule(wasmUrl);
  }

  /** @param {Engine} engine */
  constructor(engine) {
    this.engine = engine;
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
