#!/usr/bin/env node
// Summarises a V8 .cpuprofile written by `CPU_PROF_DIR=… node bench/checks/run.mjs`: self time by function,
// by file (Nines sources vs node_modules vs Node internals) and inclusive time of Nines functions.
// Usage: [BUSIEST_S=N] node bench/checks/profile-summary.mjs FILE.cpuprofile [TOP]
import { readFileSync } from "node:fs";

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bench/checks/profile-summary.mjs FILE.cpuprofile [TOP]");
  process.exit(2);
}
const TOP = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8"));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the sample stream. BUSIEST_S=N keeps only the N seconds with the least idle time
// (a bench's load phase, without start-up and the idle wait around it).
const self = new Map();
const deltas = profile.timeDeltas;
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
let [first, last] = [0, profile.samples.length];
if (process.env.BUSIEST_S) {
  const span = Number(process.env.BUSIEST_S) * 1e6;
  const at = [];
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += deltas[i] ?? 0;
    at.push(t);
  }
  let best = -1;
  let busy = 0;
  let lo = 0;
  for (let hi = 0; hi < at.length; hi++) {
    if (!idleIds.has(profile.samples[hi])) busy += deltas[hi + 1] ?? 0;
    while (at[hi] - at[lo] > span) if (!idleIds.has(profile.samples[lo++])) busy -= deltas[lo] ?? 0;
    if (busy > best) [best, first, last] = [busy, lo, hi + 1];
  }
}
for (let i = first; i < last; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

const shortUrl = (url) =>
  url
    .replace(/^file:\/\/.*?\/dist\//, "dist/")
    .replace(/^file:\/\/.*?\/node_modules\//, "node_modules/")
    .replace(/^node:/, "node:");
const label = (cf) => `${cf.functionName || "(anonymous)"} ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
const area = (cf) => {
  if (cf.url.includes("/dist/")) return `nines ${shortUrl(cf.url)}`;
  if (cf.url.includes("/node_modules/")) return shortUrl(cf.url).split("/").slice(0, 2).join("/");
  if (cf.url.startsWith("node:")) return "node internals";
  return cf.functionName.startsWith("(") ? cf.functionName : "native/V8";
};

const add = (map, key, v) => map.set(key, (map.get(key) ?? 0) + v);
const byFunction = new Map();
const byArea = new Map();
const inclusiveNines = new Map();
for (const [id, t] of self) {
  const n = nodes.get(id);
  add(byFunction, label(n.callFrame), t);
  add(byArea, area(n.callFrame), t);
  // Inclusive time of each Nines function on the stack (counted once per sample stack).
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const cf = nodes.get(cur).callFrame;
    if (!cf.url.includes("/dist/")) continue;
    const key = label(cf);
    if (seen.has(key)) continue;
    seen.add(key);
    add(inclusiveNines, key, t);
  }
}
const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP))
    console.log(`${((100 * v) / total).toFixed(1).padStart(6)}%  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s of samples`);
print("self time by area", byArea);
print("self time by function", byFunction);
print("inclusive time of Nines functions", inclusiveNines);
