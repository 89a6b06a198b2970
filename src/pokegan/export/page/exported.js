// pokegan's exported page: the generator runs here, in onnxruntime-web's WebAssembly build; no server.
"use strict";

const $ = (id) => document.getElementById(id);
const META = window.POKEGAN_META;
let session = null;

function bytesOf(b64) {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

// pokegan's portable latent rule (generator.json "latents"; pokegan.sprites.portable_latents in Python)
function mulberry32(seed, j) {
  let a = (seed + Math.imul(j + 1, 0x6D2B79F5)) | 0;
  let t = Math.imul(a ^ (a >>> 15), a | 1);
  t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
  return (t ^ (t >>> 14)) >>> 0;
}

function portableLatents(n, seed, dim) {
  const count = n * dim + ((n * dim) % 2);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < count; i += 2) {
    const u1 = (mulberry32(seed, i) + 0.5) / 4294967296;
    const u2 = (mulberry32(seed, i + 1) + 0.5) / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * u2;
    if (i < n * dim) out[i] = r * Math.cos(th);
    if (i + 1 < n * dim) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

// a type-conditioned model's 18 slots for n sprites: the chosen types for all, or (none chosen) each sprite's
// type set drawn as the training data has them from the words after the noise (generator.json latents.type_sets)
function typeSlots(n, seed, chosen) {
  const slots = META.types.slots, out = new Float32Array(n * slots.length);
  if (chosen.length) {
    for (let i = 0; i < n; i++) chosen.forEach((t) => { out[i * slots.length + slots.indexOf(t)] = 1; });
    return out;
  }
  const flat = META.types.counts.flat(), total = flat.reduce((a, b) => a + b, 0);
  const start = n * META.latent_dim + ((n * META.latent_dim) % 2);
  for (let i = 0; i < n; i++) {
    const r = Math.floor((mulberry32(seed, start + i) * total) / 4294967296);  // exact: below 2^53
    let k = 0, run = flat[0];
    while (run <= r) run += flat[++k];
    out[i * slots.length + Math.floor(k / slots.length)] = 1;
    out[i * slots.length + (k % slots.length)] = 1;
  }
  return out;
}

// the latents of n sprites: noise (truncated), then a conditional model's type slots
function latents(n, seed, truncation, chosen) {
  const d = META.latent_dim, noise = portableLatents(n, seed, d);
  if (truncation !== 1) for (let i = 0; i < noise.length; i++) noise[i] = Math.fround(noise[i] * truncation);
  if (!META.types) return { data: noise, width: d };
  const k = META.types.slots.length, slots = typeSlots(n, seed, chosen), z = new Float32Array(n * (d + k));
  for (let i = 0; i < n; i++) {
    z.set(noise.subarray(i * d, (i + 1) * d), i * (d + k));
    z.set(slots.subarray(i * k, (i + 1) * k), i * (d + k) + d);
  }
  return { data: z, width: d + k };
}

async function load() {
  ort.env.wasm.numThreads = 1;       // threads need cross-origin isolation, which file:// cannot give
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = bytesOf(window.POKEGAN_ORT_WASM);
  const glue = new Blob([bytesOf(window.POKEGAN_ORT_GLUE)], { type: "text/javascript" });
  ort.env.wasm.wasmPaths = { mjs: URL.createObjectURL(glue) };
  session = await ort.InferenceSession.create(bytesOf(window.POKEGAN_MODEL), { executionProviders: ["wasm"] });
}

// n sprites of a seed: uint8 RGBA (n, size, size, 4), and the milliseconds the model took
async function run(seed, n, truncation, chosen = []) {
  const z = latents(n, seed, truncation, chosen);
  const t0 = performance.now();
  const result = await session.run({ latents: new ort.Tensor("float32", z.data, [n, z.width]) });
  return { sprites: result.sprites.data, ms: performance.now() - t0 };
}

function canvasOf(data, index, size, scale) {
  const small = document.createElement("canvas");
  small.width = small.height = size;
  const px = new Uint8ClampedArray(data.buffer, data.byteOffset + index * size * size * 4, size * size * 4);
  small.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(px), size, size), 0, 0);
  const big = document.createElement("canvas");
  big.width = big.height = size * scale;
  const ctx = big.getContext("2d");
  ctx.imageSmoothingEnabled = false;  // nearest neighbour, as pokegan's --scale
  ctx.drawImage(small, 0, 0, size * scale, size * scale);
  return big;
}

function settings() {
  return { seed: Math.max(0, Math.min(4294967295, Math.floor(Number($("seed").value) || 0))),
           n: Math.max(1, Math.min(64, Math.floor(Number($("n").value) || 16))),
           truncation: Math.max(0.05, Math.min(2, Number($("truncation").value) || 1)),
           scale: Number($("scale").value), preview: $("preview").value,
           types: META.types ? Array.from($("types").selectedOptions).map((o) => o.value) : [] };
}

async function make(event) {
  if (event) event.preventDefault();
  const s = settings();
  const q = new URLSearchParams({ seed: s.seed, n: s.n, truncation: s.truncation, scale: s.scale, preview: s.preview });
  s.types.forEach((t) => q.append("type", t));
  history.replaceState(null, "", "?" + q);
  if (s.types.length > 2) {
    $("status").textContent = `${s.types.join(", ")}: a sprite has one or two types; choose at most two`;
    return;
  }
  const grid = $("grid");
  grid.className = "grid " + s.preview;
  $("status").textContent = "making sprites…";
  const { sprites, ms } = await run(s.seed, s.n, s.truncation, s.types);
  grid.innerHTML = "";
  grid.style.setProperty("--cell", Math.max(64, Math.min(160, META.image_size * s.scale)) + "px");
  for (let i = 0; i < s.n; i++) {
    const canvas = canvasOf(sprites, i, META.image_size, s.scale);
    const link = document.createElement("a");
    link.download = `pokegan-${s.seed}-${i}.png`;
    link.title = `seed ${s.seed}, sprite ${i}: download`;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `sprite ${i} of seed ${s.seed}`);
    canvas.style.width = "100%";
    canvas.style.imageRendering = "pixelated";
    link.appendChild(canvas);
    link.addEventListener("click", (e) => {
      if (link.href) return;  // the PNG is ready: let the browser download it
      e.preventDefault();
      canvas.toBlob((blob) => { link.href = URL.createObjectURL(blob); link.click(); }, "image/png");
    });
    grid.appendChild(link);
  }
  window.pokeganTiming = { n: s.n, ms: ms, spritesPerSecond: s.n / (ms / 1000) };
  $("status").textContent = `${s.n} sprites, seed ${s.seed}, in ${Math.round(ms)} ms ` +
    `(${(s.n / (ms / 1000)).toFixed(1)} sprites/s); the same as pokegan generate --seed ${s.seed} --latent-rule portable ` +
    `--transparent` + (s.truncation !== 1 ? ` --truncation ${s.truncation}` : "") + s.types.map((t) => ` --type ${t}`).join("");
}

async function start() {
  const q = new URLSearchParams(location.search);
  ["seed", "n", "truncation", "scale", "preview"].forEach((f) => { if (q.has(f)) $(f).value = q.get(f); });
  if (META.types) {  // a type-conditioned model: pick one or two of the types it saw (none: as the data has them)
    $("types-box").hidden = false;
    META.types.seen.forEach((t) => $("types").add(new Option(t, t, false, q.getAll("type").includes(t))));
  }
  $("about").textContent = `${META.family} model, ${META.image_size}px, ${META.kimg} kimg; pokegan ${META.pokegan_version}.`;
  try {
    await load();
  } catch (e) {
    $("status").textContent = "the model could not be loaded: " + e;
    return;
  }
  $("controls").addEventListener("submit", (e) => { make(e).catch((err) => { $("status").textContent = String(err); }); });
  $("new-seed").addEventListener("click", () => { $("seed").value = String(Math.floor(Math.random() * 4294967296)); make(); });
  $("preview").addEventListener("change", () => { $("grid").className = "grid " + $("preview").value; });
  // for tests and tools: the latents and sprites of a seed, as this page computes them
  window.pokegan = { portableLatents, latents, run, ready: true };
  await make();
}

start();
