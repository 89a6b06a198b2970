// pokegan's page: every image comes from this server's API, which runs the library's sprite pipeline.
"use strict";

const $ = (id) => document.getElementById(id);
// the sprite options' controls are built from /api/options (buildOptions); these are the page's own
const ownFields = ["model", "seed", "n", "clean", "preview"];
let fields = ownFields.slice();
const state = { models: [], options: null, sprites: [], chosen: null, a: null, b: null, walkFrames: [],
                projection: null };

// one control per sprite option the server takes, with its bounds, default and help (the registry's)
function buildOptions(options) {
  options.forEach((o) => {
    const label = document.createElement("label");
    const name = o.name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
    let input;
    if (o.kind === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = Boolean(o.default);
      label.className = "check";
      label.append(input, " " + name);
    } else {
      input = document.createElement("input");
      input.type = "number";
      input.min = String(o.min);
      input.max = String(o.max);
      input.step = o.kind === "int" ? "1" : "0.05";
      if (o.auto !== null) input.placeholder = "auto (" + o.auto + ")"; else input.value = String(o.default);  // empty: automatic
      label.append(name, input);
    }
    input.id = o.name;
    input.title = o.help + (o.auto !== null ? " (empty: automatic, " + o.auto + " on transparent sprites)" : "");
    $(o.step && o.name !== "palette" ? "steps" : "sprite-options").appendChild(label);
  });
  fields = ownFields.concat(options.map((o) => o.name));
}

// an option's default as the page sends it: "" for an automatic one (the server resolves it)
function defaultValue(o) {
  if (o.auto !== null) return "";
  return o.kind === "bool" ? (o.default ? "1" : "0") : String(o.default);
}

function optionValue(o) {
  const el = $(o.name);
  if (o.kind === "bool") return el.checked ? "1" : "0";
  return o.auto !== null ? el.value : (el.value || String(o.default));
}

function settings() {
  const s = {
    model: $("model").value, seed: $("seed").value || "0", n: $("n").value || "16",
    clean: $("clean").checked ? "1" : "0", preview: $("preview").value,
    types: Array.from($("types").selectedOptions).map((o) => o.value),
  };
  (state.options ? state.options.options : []).forEach((o) => { s[o.name] = optionValue(o); });
  s.scale = s.scale || "2";
  s.transparent = s.transparent || "0";
  s.truncation = s.truncation || "1";
  s.palette = s.palette || "0";
  return s;
}

// what the server says of its options (/api/options): bounds, and each recipe's settings for each model
function recipeFlags(name, id) {
  const r = state.options && state.options.recipes[name];
  return r && r[id] ? r[id].flags : "";
}

// the sprite options every image route takes, as a query string (without seed/index/n): each option the user
// moved from its default (a recipe's settings stand unless the user changed one), and the scale
function spriteQuery(s, extra) {
  const q = new URLSearchParams({ model: s.model, scale: s.scale });
  (state.options ? state.options.options : []).forEach((o) => {
    const def = defaultValue(o);
    if (s[o.name] !== undefined && s[o.name] !== def && (def === "" || Number(s[o.name]) !== Number(def))) {
      q.set(o.name, s[o.name]);
    }
  });
  if (s.clean === "1") q.set("recipe", "game-ready");  // the server applies the library's recipe for this model
  s.types.forEach((t) => q.append("type", t));
  Object.entries(extra || {}).forEach(([k, v]) => q.set(k, v));
  return q;
}

function saveToUrl(s) {
  const q = new URLSearchParams();
  const kept = new URLSearchParams(location.search);  // the start-from-a-Pokémon settings stay in the link
  ["from", "spread", "swap", "fuse"].forEach((k) => { if (kept.has(k)) q.set(k, kept.get(k)); });
  fields.forEach((f) => q.set(f, s[f]));
  s.types.forEach((t) => q.append("type", t));
  history.replaceState(null, "", "?" + q.toString());
}

function loadFromUrl() {
  const q = new URLSearchParams(location.search);
  fields.forEach((f) => {
    if (!q.has(f) || !$(f)) return;
    if ($(f).type === "checkbox") $(f).checked = q.get(f) === "1";
    else $(f).value = q.get(f);
  });
  return q.getAll("type");
}

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function getJson(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function setPreview() {
  const p = $("preview").value;
  ["grid", "variations", "detail-img", "walk-img"].forEach((id) => {
    $(id).classList.remove("checker", "dark", "light");
    $(id).classList.add(p);
  });
}

function showTypes() {
  const m = state.models.find((x) => x.id === $("model").value);
  const box = $("types-box");
  box.hidden = !(m && m.typed);
  const select = $("types");
  select.innerHTML = "";
  (m && m.typed ? m.types : []).forEach((t) => select.add(new Option(t, t)));
}

async function make(event) {
  if (event) event.preventDefault();
  const s = settings();
  saveToUrl(s);
  setPreview();
  const q = spriteQuery(s, { n: s.n, seed: s.seed });
  $("sheet-png").href = "/api/sheet?" + q;
  $("sheet-json").href = "/api/sheet.json?" + q;
  setStatus("making sprites…");
  try {
    const t0 = performance.now();
    const data = await getJson("/api/sprites?" + q);
    state.sprites = data.sprites;
    const grid = $("grid");
    grid.innerHTML = "";
    grid.style.setProperty("--cell", Math.max(64, Math.min(160, data.width)) + "px");
    data.sprites.forEach((uri, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.setAttribute("aria-pressed", "false");
      b.title = `seed ${data.seed}, sprite ${i}`;
      const img = new Image();
      img.src = uri;
      img.alt = `sprite ${i} of seed ${data.seed}`;
      img.width = data.width;
      img.height = data.height;
      b.appendChild(img);
      b.addEventListener("click", () => choose(i, b));
      grid.appendChild(b);
    });
    const how = s.clean === "1" ? `, game-ready: ${s.model} ${recipeFlags("game-ready", s.model)}` : "";
    setStatus(`${data.sprites.length} sprites, seed ${data.seed}${how} (${Math.round(performance.now() - t0)} ms)`);
  } catch (e) {
    setStatus(e.message, true);
  }
}

function choose(index, button) {
  const s = settings();
  document.querySelectorAll("#grid button").forEach((b) => b.setAttribute("aria-pressed", "false"));
  button.setAttribute("aria-pressed", "true");
  state.chosen = { seed: s.seed, index: index };
  $("detail").hidden = false;
  $("detail-name").textContent = `${index} of seed ${s.seed}`;
  $("detail-img").src = state.sprites[index];
  $("detail-info").textContent = `model ${s.model}, seed ${s.seed}, sprite ${index}, truncation ${s.truncation}, ` +
    `palette ${s.palette === "0" ? "all colours" : s.palette + " colours"}, scale ${s.scale}` +
    (s.transparent === "1" || s.clean === "1" ? ", transparent" : "") + (s.clean === "1" ? ", game-ready" : "") +
    ` — the same as: pokegan generate ${s.model} --seed ${s.seed} --n ${index + 1}` +
    (s.clean === "1" ? " " + recipeFlags("game-ready", s.model) : s.transparent === "1" ? " --transparent" : "") +
    `, file ${String(index).padStart(4, "0")}.png`;
  const link = $("detail-png");
  link.href = "/api/sprite?" + spriteQuery(s, { seed: s.seed, index: index, download: "1" });
  link.download = `pokegan-${s.seed}-${index}.png`;
  $("variations").innerHTML = "";
}

async function vary() {
  if (!state.chosen) return;
  const s = settings();
  setStatus("making variations…");
  try {
    const q = spriteQuery(s, { seed: state.chosen.seed, index: state.chosen.index, n: 8 });
    const data = await getJson("/api/variations?" + q);
    const box = $("variations");
    box.innerHTML = "";
    data.sprites.forEach((uri, i) => {
      const img = new Image();
      img.src = uri;
      img.alt = `variation ${i}`;
      box.appendChild(img);
    });
    setStatus("8 variations: nearby latents of the chosen sprite");
  } catch (e) {
    setStatus(e.message, true);
  }
}

async function pick(which) {
  if (!state.chosen) return;
  state[which] = { ...state.chosen };
  if (!state.a || !state.b) {
    setStatus(`${which.toUpperCase()} chosen; now choose the other end of the walk`);
    return;
  }
  const s = settings();
  const q = spriteQuery(s, { a_seed: state.a.seed, a_index: state.a.index, b_seed: state.b.seed,
                             b_index: state.b.index, steps: 12 });
  setStatus("walking…");
  try {
    const data = await getJson("/api/interpolate?" + q);
    state.walkFrames = data.frames;
    $("walk").hidden = false;
    $("walk-slider").max = String(data.frames.length - 1);
    $("walk-slider").value = "0";
    $("walk-img").src = data.frames[0];
    q.set("format", "gif");
    $("walk-gif").href = "/api/interpolate?" + q;
    q.set("format", "png");
    $("walk-strip").href = "/api/interpolate?" + q;
    setStatus(`a walk of ${data.frames.length} steps from A to B`);
  } catch (e) {
    setStatus(e.message, true);
  }
}

async function start() {
  try {
    state.models = await getJson("/api/models");
    state.options = await getJson("/api/options");
  } catch (e) {
    setStatus("could not list the models: " + e.message, true);
    return;
  }
  buildOptions(state.options.options);   // the controls, their bounds, defaults and help: the server's
  if (!new URLSearchParams(location.search).has("scale")) $("scale").value = "2";
  const types = loadFromUrl();
  const wanted = new URLSearchParams(location.search).get("model");
  state.models.forEach((m) => $("model").add(new Option(`${m.id} (${m.family}, ${m.size}px)`, m.id)));
  if (wanted && state.models.some((m) => m.id === wanted)) $("model").value = wanted;
  showTypes();
  Array.from($("types").options).forEach((o) => { o.selected = types.includes(o.value); });
  $("controls").addEventListener("submit", make);
  $("new-seed").addEventListener("click", () => { $("seed").value = String(Math.floor(Math.random() * 2 ** 31)); make(); });
  $("model").addEventListener("change", () => { showTypes(); make(); });
  $("clean").addEventListener("change", make);
  $("preview").addEventListener("change", () => { saveToUrl(settings()); setPreview(); });
  $("vary").addEventListener("click", vary);
  $("pick-a").addEventListener("click", () => pick("a"));
  $("pick-b").addEventListener("click", () => pick("b"));
  $("walk-slider").addEventListener("input", () => { $("walk-img").src = state.walkFrames[Number($("walk-slider").value)]; });
  await make();
}

// the page starts at the end of start.js, which is loaded after this file
