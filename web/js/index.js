// streamsteer for the web: the engine (WebAssembly) behind a small player API.
//
//   import { StreamsteerPlayer } from "streamsteer";
//   const player = await StreamsteerPlayer.create({ session: { abr_rule: "default" } });
//   player.on("player", (e) => console.log(e));
//   player.attachMedia(document.querySelector("video"));
//   await player.load("https://example.com/master.m3u8");

import init, { StreamsteerPlayer as Engine } from "./pkg/streamsteer_web.js";

let ready = null;

/** Loads and instantiates the WebAssembly module once per page. */
function loadModule(wasmUrl) {
  if (!ready) ready = init(wasmUrl ? { module_or_path: wasmUrl } : undefined);
  return ready;
}

/** A player: one presentation, one media element. */
export class StreamsteerPlayer {
  /**
   * Creates a player once the module is loaded. `config` is one object, every field
   * optional: `{ session: {...}, position_interval_ms: 250 }` (the native
   * `SessionConfig`'s fields and defaults).
   */
  static async create(config = {}, { wasmUrl } = {}) {
    await loadModule(wasmUrl);
    return new StreamsteerPlayer(new Engine(JSON.stringify(config)));
  }

  constructor(engine) {
    this.engine = engine;
    this.listeners = new Map();
    engine.setListener((json) => this.#dispatch(JSON.parse(json)));
  }

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

  /** Listens to `"player"` (the engine's events), `"request"`, `"error"` or `"*"`. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  /** Stops listening. */
  off(type, fn) {
    this.listeners.get(type)?.delete(fn);
  }

  /** Plays into `element` (a `<video>` or `<audio>`). */
  attachMedia(element) {
    this.engine.attachMedia(element);
  }

  /** Loads an HLS or DASH manifest; rejects with the reason if it cannot be read. */
  load(url) {
    return this.engine.load(url);
  }

  play() { this.engine.play(); }
  pause() { this.engine.pause(); }
  seek(positionS) { this.engine.seek(positionS); }

  /** Pins a rendition of `"video"` or `"audio"`; `undefined` returns to automatic. */
  selectTrack(track, rendition) {
    this.engine.selectTrack(track, rendition);
  }

  /** The player state: `idle`, `loading`, `buffering`, `playing`, `paused`, `stalled`, `ended`, `failed`. */
  get state() {
    return this.engine.state();
  }

  /** The QoE report so far (the native and simulator schema), or `null` before `load`. */
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
