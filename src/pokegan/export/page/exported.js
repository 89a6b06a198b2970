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

async function load() {
  ort.env.wasm.numThreads = 1;       // threads need cross-origin isolation, which file:// cannot give
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = bytesOf(window.POKEGAN_ORT_WASM);
  const glue = new Blob([bytesOf(window.POKEGAN_ORT_GLUE)], { type: "text/javascript" });
  ort.env.wasm.wasmPaths = { mjs: URL.createObjectURL(glue) };
  session = await ort.InferenceSession.create(bytesOf(window.POKEGAN_MODEL), { executionProviders: ["wasm"] });
}

// n sprites of a seed: uint8 RGBA (n, size, size, 4), and the milliseconds the model took
async function run(seed, n, truncation) {
  const z = portableLatents(n, seed, META.latent_dim);
  if (truncation !== 1) for (let i = 0; i < z.length; i++) z[i] = Math.fround(z[i] * truncation);
  const t0 = performance.now();
  const result = await session.run({ latents: new ort.Tensor("float32", z, [n, META.latent_dim]) });
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
           scale: Number($("scale").value), preview: $("preview").value };
}

async function make(event) {
  if (event) event.preventDefault();
  const s = settings();
  const q = new URLSearchParams({ seed: s.seed, n: s.n, truncation: s.truncation, scale: s.scale, preview: s.preview });
  history.replaceState(null, "", "?" + q);
  const grid = $("grid");
  grid.className = "grid " + s.preview;
  $("status").textContent = "making sprites…";
  const { sprites, ms } = await run(s.seed, s.n, s.truncation);
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
    `(${(s.n / (ms / 1000)).toFixed(1)} sprites/s); the same as pokegan generate --seed ${s.seed} --latent-rule portable --transparent`;
}

async function start() {
  const q = new URLSearchParams(location.search);
  ["seed", "n", "truncation", "scale", "preview"].forEach((f) => { if (q.has(f)) $(f).value = q.get(f); });
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
  window.pokegan = { portableLatents, run, ready: true };
  await make();
}

start();
