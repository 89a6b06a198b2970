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

// pokegan's portable latent rule (generator.json "latents"; pokegan.generator.latents.portable_latents in Python)
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

// a type sampler's picks (generator.json types.sampler, latents.type_sampler): of K candidate latents a sprite,
// the one with the highest sharpness * (sum of log p of the chosen types) + Gumbel noise from the stream
let sampler = null;
async function pickAmong(cand, n, seed, chosen, first) {   // cand: n * K latents; Gumbel words from `first` on
  const d = META.latent_dim, s = META.types.sampler, K = s.candidates, count = n * K, k = META.types.slots.length;
  const logp = (await sampler.run({ latents: new ort.Tensor("float32", cand, [count, d]) })).log_p.data;
  const idx = chosen.map((t) => META.types.slots.indexOf(t));
  const mask = idx.reduce((a, j) => a + 2 ** j, 0), start = first + mask * count;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let best = -Infinity, arg = 0;
    for (let c = 0; c < K; c++) {
      const m = i * K + c;
      let sum = logp[m * k + idx[0]];
      for (let j = 1; j < idx.length; j++) sum = Math.fround(sum + logp[m * k + idx[j]]);
      const u = (mulberry32(seed, start + m) + 0.5) / 4294967296;
      const v = Math.fround(s.sharpness * sum) - Math.log(-Math.log(u));
      if (v > best) { best = v; arg = c; }
    }
    out.set(cand.subarray((i * K + arg) * d, (i * K + arg + 1) * d), i * d);
  }
  return out;
}

async function sampledNoise(n, seed, chosen) {
  const d = META.latent_dim, count = n * META.types.sampler.candidates;
  return pickAmong(portableLatents(count, seed, d), n, seed, chosen, count * d + ((count * d) % 2));
}

// the latents of n sprites: noise (a type sampler's picks where types are chosen; truncated), then a
// conditional model's type slots
async function latents(n, seed, truncation, chosen) {
  const d = META.latent_dim, sampled = META.types && META.types.sampler;
  const noise = sampled && chosen.length ? await sampledNoise(n, seed, chosen) : portableLatents(n, seed, d);
  if (truncation !== 1) for (let i = 0; i < noise.length; i++) noise[i] = Math.fround(noise[i] * truncation);
  if (!META.types || sampled) return { data: noise, width: d };
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
  if (window.POKEGAN_SAMPLER) {
    sampler = await ort.InferenceSession.create(bytesOf(window.POKEGAN_SAMPLER), { executionProviders: ["wasm"] });
  }
}

// ---- start from a sprite: the projection encoder's guess (encoder.onnx), then variations around it
let encoder = null;

// a dropped image as the model sees it: a sprite up to 96 pixels placed as `data prepare` places it (centred in
// a 96-pixel box), a larger picture's opaque part scaled to 0.65 of the side; composited on white
async function placeSprite(file, size) {
  const bitmap = await createImageBitmap(file);
  const w = bitmap.width, h = bitmap.height;
  let sx = 0, sy = 0, sw = w, sh = h, scale = size / Math.max(96, w, h);
  if (Math.max(w, h) > 96) {  // crop to the opaque box first
    const c = document.createElement("canvas");
    c.width = w; c.height = h;
    const ctx = c.getContext("2d");
    ctx.drawImage(bitmap, 0, 0);
    const px = ctx.getImageData(0, 0, w, h).data;
    let x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (px[(y * w + x) * 4 + 3] >= 128) {
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
    }
    if (x1 < 0) throw new Error("the image is fully transparent: there is no sprite in it");
    sx = x0; sy = y0; sw = x1 - x0 + 1; sh = y1 - y0 + 1;
    scale = (0.65 * size) / Math.max(sw, sh);
  }
  const canvas = $("start-target");
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size, size);
  ctx.imageSmoothingQuality = "high";
  const dw = sw * scale, dh = sh * scale;
  ctx.drawImage(bitmap, sx, sy, sw, sh, (size - dw) / 2, (size - dh) / 2, dw, dh);
  const px = ctx.getImageData(0, 0, size, size).data, x = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) for (let ch = 0; ch < 3; ch++) x[ch * size * size + i] = px[i * 4 + ch] / 127.5 - 1;
  return x;
}

async function startFrom() {
  const file = $("start-file").files[0];
  if (!file) return;
  const size = META.image_size, d = META.latent_dim;
  try {
    $("start-note").textContent = `reading ${file.name}…`;
    const out = await encoder.run({ sprite: new ort.Tensor("float32", await placeSprite(file, size), [1, 3, size, size]) });
    const z = out.latent.data, n = 8, spread = Math.max(0, Math.min(4, Number($("start-spread").value) || 0));
    const noise = portableLatents(n, 0, d), norm = Math.hypot(...z);
    const sampled = META.types && META.types.sampler, swap = $("start-swap").value;
    const k = META.types && !sampled ? META.types.slots.length : 0, all = new Float32Array(n * (d + k));
    for (let i = 0; i < n; i++) {  // the first is the guess itself; the others moved by spread, back on its shell
      const v = Array.from(z, (zj, j) => zj + (i ? spread * noise[i * d + j] : 0));
      const len = Math.hypot(...v);
      v.forEach((vj, j) => { all[i * (d + k) + j] = vj * (norm / len); });
    }
    let types = [];
    if (sampled && swap) {  // a type sampler: for each sprite, of K latents around the guess the one it draws as the type
      const K = META.types.sampler.candidates, wide = Math.max(spread, 0.6), more = portableLatents(n * K, 1, d);
      const cand = new Float32Array(n * K * d);
      for (let m = 0; m < n * K; m++) {
        const v = Array.from(z, (zj, j) => zj + wide * more[m * d + j]), len = Math.hypot(...v);
        v.forEach((vj, j) => { cand[m * d + j] = vj * (norm / len); });
      }
      all.set(await pickAmong(cand, n, 1, [swap], n * K * d));
      types = [swap];
    } else if (META.types && !sampled) {  // its own types (the encoder's top one, a second where likely), or the swap
      const logits = Array.from(out.type_logits.data), order = logits.map((_, i) => i).sort((a, b) => logits[b] - logits[a]);
      types = $("start-swap").value ? [$("start-swap").value]
        : [META.types.slots[order[0]]].concat(1 / (1 + Math.exp(-logits[order[1]])) >= 0.5 ? [META.types.slots[order[1]]] : []);
      for (let i = 0; i < n; i++) types.forEach((t) => { all[i * (d + k) + d + META.types.slots.indexOf(t)] = 1; });
    }
    const result = await session.run({ latents: new ort.Tensor("float32", all, [n, d + k]) });
    const sprites = cleanUp(result.sprites.data, n, size, META.postprocess.automatic_in_pokegan || {});
    const grid = $("start-grid");
    grid.innerHTML = "";
    for (let i = 0; i < n; i++) {
      const c = canvasOf(sprites, i, size, 2);
      c.setAttribute("role", "img");
      c.setAttribute("aria-label", i ? `variation ${i}` : "the projection");
      c.style.width = "100%";
      c.style.imageRendering = "pixelated";
      grid.appendChild(c);
    }
    $("start-note").textContent = `${file.name}: the model's closest sprite (its encoder's guess), then 7 near it` +
      (types.length ? `, drawn as ${types.join("/")}` : "") + "; pokegan project refines it further";
  } catch (e) {
    $("start-note").textContent = `${file.name}: ${e.message || e}`;
  }
}

async function setUpStart() {
  if (!window.POKEGAN_ENCODER) return;  // a model without a projection encoder
  encoder = await ort.InferenceSession.create(bytesOf(window.POKEGAN_ENCODER), { executionProviders: ["wasm"] });
  $("start").hidden = false;
  if (META.types) {
    $("swap-box").hidden = false;
    META.types.seen.forEach((t) => $("start-swap").add(new Option(t, t)));
  }
  $("start-file").addEventListener("change", startFrom);
  $("start-spread").addEventListener("change", startFrom);
  $("start-swap").addEventListener("change", startFrom);
  $("start").addEventListener("dragover", (e) => e.preventDefault());
  $("start").addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer.files.length) { $("start-file").files = e.dataTransfer.files; startFrom(); }
  });
}

// pokegan's automatic clean-up of transparent sprites (generator.json: postprocess.automatic_in_pokegan), done
// as pokegan/steps/ (dehalo.py, soft_edge.py, fragments.py) do it, so the page's sprites are those
// `generate --transparent` writes
function cleanUp(data, n, size, auto) {
  const key = META.channels === 3 ? { white: 255, black: 0 }[META.background] : undefined;
  for (let k = 0; k < n; k++) {
    const o = k * size * size * 4;
    if (auto.dehalo) dehalo(data, o, size, auto.dehalo);
    if (auto.soft_edge && key !== undefined) softEdge(data, o, size, auto.soft_edge, key);
    if (auto.min_fragment) fragments(data, o, size, auto.min_fragment);
  }
  return data;
}

function alphaAt(d, o, size, y, x) {
  return y >= 0 && x >= 0 && y < size && x < size ? d[o + (y * size + x) * 4 + 3] : 0;
}

function opaqueAt(d, o, size, y, x) {
  return alphaAt(d, o, size, y, x) > 0;
}

// near-white (every channel >= 200) pixels on the edge (opaque, a 4-neighbour transparent or off the canvas)
// cleared, then the new edge's, `passes` times at most
function dehalo(d, o, size, passes) {
  for (let p = 0; p < passes; p++) {
    const halo = [];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = o + (y * size + x) * 4;
        if (!opaqueAt(d, o, size, y, x) || d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) continue;
        if (!(opaqueAt(d, o, size, y - 1, x) && opaqueAt(d, o, size, y + 1, x) && opaqueAt(d, o, size, y, x - 1) &&
              opaqueAt(d, o, size, y, x + 1))) halo.push(i);
      }
    }
    if (!halo.length) return;
    halo.forEach((i) => d.fill(0, i, i + 4));
  }
}

// the background blended into the edge (every channel within 135 levels of the key colour) un-mixed into
// partial transparency: alpha a of the deepest neighbouring colour f over the key, `rings` edge rings deep
function softEdge(d, o, size, rings, key) {
  const done = new Uint8Array(size * size);
  const solid = (y, x) => alphaAt(d, o, size, y, x) >= 255;
  for (let r = 0; r < rings; r++) {
    const rim = [];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if (done[y * size + x] || !solid(y, x)) continue;
        if (!(solid(y - 1, x) && solid(y + 1, x) && solid(y, x - 1) && solid(y, x + 1))) rim.push(y * size + x);
      }
    }
    if (!rim.length) return;
    const changes = [];
    rim.forEach((j) => {
      done[j] = 1;
      const y = Math.floor(j / size), x = j % size, i = o + j * 4;
      let best = -1, f = null;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if (!solid(y + dy, x + dx)) continue;
          const n = o + ((y + dy) * size + x + dx) * 4;
          const depth = Math.abs(299 * (d[n] - key) + 587 * (d[n + 1] - key) + 114 * (d[n + 2] - key));
          if (depth > best) { best = depth; f = [d[n], d[n + 1], d[n + 2]]; }
        }
      }
      const c = [d[i], d[i + 1], d[i + 2]];
      if (f === null || c.some((v) => Math.abs(v - key) > 135)) return;
      let dot = 0, norm = 0;
      for (let ch = 0; ch < 3; ch++) { dot += (c[ch] - key) * (f[ch] - key); norm += (f[ch] - key) ** 2; }
      const least = Math.max(...c.map((v) => Math.abs(v - key))) / 255;
      const a = norm < 4800 ? least : Math.max(Math.min(Math.max(dot / Math.max(norm, 1e-6), 0), 1), least);
      if (a * 255 >= 254.5) return;
      changes.push([i, c.map((v) => Math.min(255, Math.max(0, (v - (1 - a) * key) / Math.max(a, 1e-3)))), a]);
    });
    changes.forEach(([i, colour, a]) => {
      const alpha = Math.round(a * 255);
      if (alpha === 0) { d.fill(0, i, i + 4); return; }
      d[i] = Math.round(colour[0]); d[i + 1] = Math.round(colour[1]); d[i + 2] = Math.round(colour[2]); d[i + 3] = alpha;
    });
  }
}

// opaque pieces (alpha >= 128, 8-connected) smaller than `least` pixels cleared, the largest (the first, on a
// tie) staying; faint pixels (alpha 1-127) cleared unless they touch a piece that stays
function fragments(d, o, size, least) {
  const body = (y, x) => alphaAt(d, o, size, y, x) >= 128;
  const label = new Int32Array(size * size).fill(-1);
  const pieces = [];
  for (let start = 0; start < size * size; start++) {
    if (label[start] >= 0 || d[o + start * 4 + 3] < 128) continue;
    const members = [start];
    label[start] = pieces.length;
    for (let m = 0; m < members.length; m++) {
      const y = Math.floor(members[m] / size), x = members[m] % size;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const j = (y + dy) * size + x + dx;
          if (body(y + dy, x + dx) && label[j] < 0) { label[j] = pieces.length; members.push(j); }
        }
      }
    }
    pieces.push(members);
  }
  if (!pieces.length) return;
  const largest = pieces.reduce((a, p, i) => (p.length > pieces[a].length ? i : a), 0);
  const kept = pieces.map((p, i) => i === largest || p.length >= least);
  pieces.forEach((p, i) => { if (!kept[i]) p.forEach((j) => { label[j] = -1; d.fill(0, o + j * 4, o + j * 4 + 4); }); });
  for (let j = 0; j < size * size; j++) {
    const a = d[o + j * 4 + 3];
    if (a === 0 || a >= 128) continue;
    const y = Math.floor(j / size), x = j % size;
    let touches = false;
    for (let dy = -1; dy <= 1 && !touches; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy, xx = x + dx;
        if (yy >= 0 && xx >= 0 && yy < size && xx < size && label[yy * size + xx] >= 0 && kept[label[yy * size + xx]]) {
          touches = true; break;
        }
      }
    }
    if (!touches) d.fill(0, o + j * 4, o + j * 4 + 4);
  }
}

// n sprites of a seed: uint8 RGBA (n, size, size, 4), and the milliseconds the model took
async function run(seed, n, truncation, chosen = []) {
  const z = await latents(n, seed, truncation, chosen);
  const t0 = performance.now();
  const result = await session.run({ latents: new ort.Tensor("float32", z.data, [n, z.width]) });
  const auto = (META.postprocess && META.postprocess.automatic_in_pokegan) || {};
  return { sprites: cleanUp(result.sprites.data, n, META.image_size, auto), ms: performance.now() - t0 };
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
  if (META.types) {  // a model that takes types (inputs or a type sampler): one or two (none: as the data has them)
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
  await setUpStart();
}

start();
