// Type check of the package's declarations (dist/index.d.ts, made by `npm run build`):
// what an application writes compiles, and misuse does not. Checked by `tsc`, never run.

import { StreamsteerPlayer, type PlayerConfig, type RequestEvent } from "../dist/index.js";

export async function app(video: HTMLVideoElement): Promise<void> {
  const config: PlayerConfig = {
    session: { abr_rule: "default", buffer: { forward_target_s: 20 } },
    limits: { manifest_bytes: 1 << 20 },
  };
  await StreamsteerPlayer.preload();
  await StreamsteerPlayer.preload({ wasmUrl: new URL("https://cdn.example.com/streamsteer_web_bg.wasm") });
  const player = await StreamsteerPlayer.create(config);
  const stop = player.on("player", (e) => {
    if (e.event === "decision") console.log(e.rendition);
  });
  player.on("request", (r: RequestEvent) => console.log(r.url, r.pathway, r.ttfb_s));
  player.on("error", (e) => console.log(e.kind satisfies "network" | "manifest" | "media" | "steering" | "usage"));
  player.attachMedia(video);
  await player.load("https://example.com/master.m3u8");
  player.selectTrack("video", 2);
  player.selectTrack("video");
  player.seek(10);
  const state: string = player.state;
  const report = player.stats();
  console.log(state, report?.qoe_lin);
  stop();
  player.destroy();

  // @ts-expect-error: a config field that does not exist
  await StreamsteerPlayer.create({ sesion: {} });
  // @ts-expect-error: only video and audio tracks
  player.selectTrack("subtitles", 0);
  // @ts-expect-error: no such event type
  player.on("decision", () => {});
  // @ts-expect-error: a request event has no `event` field
  player.on("request", (r) => r.event);
  // @ts-expect-error: positions are seconds, numbers
  player.seek("10");
}
