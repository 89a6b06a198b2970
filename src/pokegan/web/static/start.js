// pokegan's page, the panel that starts from a Pokémon (loaded after app.js, whose helpers and state it uses).
"use strict";

// Project one (by name, or an image file), then variations, a type swap, a fusion
function startNote(text, isError) {
  $("start-note").textContent = text;
  $("start-note").className = isError ? "note error" : "note";
}

function keepStartInUrl(name) {
  const q = new URLSearchParams(location.search);
  ["from", "spread", "swap", "fuse"].forEach((k) => q.delete(k));
  if (name) q.set("from", name);
  q.set("spread", $("start-spread").value || "0.3");
  if ($("start-swap").value) q.set("swap", $("start-swap").value);
  if ($("fuse-name").value) q.set("fuse", $("fuse-name").value);
  history.replaceState(null, "", "?" + q.toString());
}

async function projectBy(request, label) {
  startNote(`projecting ${label}… (a few seconds)`);
  const r = await fetch(request.url, request.init);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

async function startFrom(event) {
  if (event) event.preventDefault();
  const model = $("model").value;
  const file = $("start-file").files[0];
  const name = $("start-name").value.trim();
  let request;
  if (file) {
    request = { url: "/api/project?" + new URLSearchParams({ model }), init: { method: "POST", body: file } };
  } else if (name) {
    request = { url: "/api/project?" + new URLSearchParams({ model, name }), init: {} };
  } else {
    startNote("type a Pokémon's name or choose an image", true);
    return;
  }
  try {
    const p = await projectBy(request, file ? file.name : name);
    state.projection = p;
    keepStartInUrl(file ? "" : name);
    $("start-result").hidden = false;
    $("start-target").src = p.target;
    $("start-projection").src = p.projection;
    $("start-png").href = p.projection;
    $("start-latent").href = "/api/latent?" + new URLSearchParams({ id: p.id });
    const f = p.figures;
    $("start-figures").textContent = `${p.name}${p.types.length ? " (" + p.types.join("/") + ")" : ""} in ${p.model}: ` +
      `silhouette IoU ${f.iou.toFixed(2)}, PSNR on white ${f.psnr_white.toFixed(1)} dB, ${f.seconds.toFixed(1)} s` +
      (p.warnings.length ? " — " + p.warnings.join("; ") : "");
    const m = state.models.find((x) => x.id === model);
    $("swap-box").hidden = !(m && m.typed);
    await startVariations();
    startNote(`the model's closest sprite to ${p.name}, and sprites near it`);
    if ($("fuse-name").value.trim()) await fuseWith();
  } catch (e) {
    startNote(e.message, true);
  }
}

async function startVariations() {
  const p = state.projection;
  if (!p) return;
  const q = new URLSearchParams({ model: p.model, id: p.id, n: 8, spread: $("start-spread").value || "0.3",
                                  transparent: "1", scale: "2" });
  if ($("start-swap").value) q.append("type", $("start-swap").value);
  const data = await getJson("/api/near?" + q);
  const box = $("start-variations");
  box.innerHTML = "";
  data.sprites.forEach((uri, i) => {
    const img = new Image();
    img.src = uri;
    img.alt = i === 0 ? "the projection" + ($("start-swap").value ? " as " + $("start-swap").value : "") : `variation ${i}`;
    box.appendChild(img);
  });
}

async function fuseWith() {
  const p = state.projection;
  const other = $("fuse-name").value.trim();
  if (!p || !other) { startNote("project a Pokémon first, then name the one to fuse it with", true); return; }
  try {
    const q = await projectBy({ url: "/api/project?" + new URLSearchParams({ model: p.model, name: other }), init: {} }, other);
    const fq = new URLSearchParams({ model: p.model, a: p.id, b: q.id, steps: 8 });
    const f = await getJson("/api/fuse?" + fq);
    $("fusion").hidden = false;
    const row = $("fusion-row");
    row.innerHTML = "";
    f.row.forEach((uri, i) => { const img = new Image(); img.src = uri; img.alt = `fusion step ${i}`; row.appendChild(img); });
    const mix = $("fusion-mix");
    mix.innerHTML = "";
    f.mix.forEach((uri, i) => {
      const img = new Image();
      img.src = uri;
      img.alt = i === 0 ? `${p.name}'s shape in ${q.name}'s colours` : `${q.name}'s shape in ${p.name}'s colours`;
      mix.appendChild(img);
    });
    fq.set("format", "gif");
    $("fusion-gif").href = "/api/fuse?" + fq;
    fq.set("format", "png");
    $("fusion-strip").href = "/api/fuse?" + fq;
    keepStartInUrl($("start-file").files[0] ? "" : $("start-name").value.trim());
    startNote(`${p.name} fused with ${q.name}: a row from one to the other, then shape and colours swapped`);
  } catch (e) {
    startNote(e.message, true);
  }
}

async function setUpStart() {
  try {
    const names = await getJson("/api/pokemon");
    names.names.forEach((n) => $("pokemon-names").appendChild(new Option(n, n)));
    if (names.note) startNote(names.note + "; or choose an image");
  } catch (e) {
    startNote("could not list the Pokémon: " + e.message, true);
  }
  const m = () => state.models.find((x) => x.id === $("model").value);
  const fill = () => {
    const select = $("start-swap");
    select.length = 1;
    ((m() && m().typed) ? m().types : []).forEach((t) => select.add(new Option(t, t)));
  };
  fill();
  $("model").addEventListener("change", fill);
  $("start-form").addEventListener("submit", startFrom);
  $("start-file").addEventListener("change", () => {
    if (!$("start-file").files.length) return;  // the choice was cleared: nothing to project
    $("start-name").value = "";
    startFrom();
  });
  $("start-spread").addEventListener("change", () => { keepStartInUrl($("start-name").value.trim()); startVariations(); });
  $("start-swap").addEventListener("change", () => { keepStartInUrl($("start-name").value.trim()); startVariations(); });
  $("fuse-go").addEventListener("click", fuseWith);
  $("start").addEventListener("dragover", (e) => e.preventDefault());   // or drop an image onto the panel
  $("start").addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer.files.length) { $("start-file").files = e.dataTransfer.files; $("start-name").value = ""; startFrom(); }
  });
  const q = new URLSearchParams(location.search);  // a link keeps the Pokémon and the settings
  if (q.get("spread")) $("start-spread").value = q.get("spread");
  if (q.get("fuse")) $("fuse-name").value = q.get("fuse");
  if (q.get("swap")) $("start-swap").value = q.get("swap");
  if (q.get("from")) { $("start-name").value = q.get("from"); await startFrom(); }
}

start().then(setUpStart);   // start: app.js
