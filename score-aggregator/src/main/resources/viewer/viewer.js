// Neuron viewer: layers, neurons sorted by score, and a neuron's windows with each token
// coloured by its true activation next to the simulator's prediction (as OpenAI's neuron-viewer).
"use strict";

const $ = (sel) => document.querySelector(sel);
const fmt = (x) => (x === null || x === undefined ? "–" : Number(x).toFixed(3));

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "onclick") e.onclick = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function getJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(url + ": HTTP " + r.status + " " + (await r.text()));
  return r.json();
}

function query(params) {
  return Object.entries(params).map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&");
}

// Green for true activations (scaled by the neuron's max), blue for predictions (0-10).
function colour(value, max, hue) {
  const a = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  return hue === "green" ? `rgba(46, 160, 67, ${a * 0.85})` : `rgba(56, 116, 230, ${a * 0.85})`;
}

function tokenRow(label, tokens, values, max, hue) {
  const row = el("div", { class: "row" }, el("span", { class: "label" }, label));
  tokens.forEach((t, i) => {
    const shown = t.replace(/\n/g, "↵");
    const span = el("span", { class: "tok", title: `${JSON.stringify(t)}: ${fmt(values[i])}` }, shown);
    span.style.background = colour(values[i], max, hue);
    row.append(span);
  });
  return row;
}

async function loadLayers() {
  const layers = await getJson("api/layers");
  const body = $("#layers tbody");
  body.replaceChildren();
  for (const l of layers) {
    const tr = el("tr", { class: "clickable" }, el("td", {}, l.model), el("td", {}, l.checkpoint), el("td", {}, l.layer),
      el("td", {}, l.count), el("td", {}, fmt(l.mean)), el("td", {}, fmt(l.p50)), el("td", {}, l.at_least_0_8));
    tr.dataset.key = `${l.model}/${l.checkpoint}/${l.layer}`;
    tr.onclick = () => loadNeurons(l.model, l.checkpoint, l.layer);
    body.append(tr);
  }
  $("#status").textContent = `${layers.length} layer(s), ${layers.reduce((n, l) => n + l.count, 0)} neuron(s) scored`;
  return layers;
}

async function loadNeurons(model, checkpoint, layer, selectNeuron) {
  document.querySelectorAll("#layers tr").forEach((tr) =>
    tr.classList.toggle("selected", tr.dataset.key === `${model}/${checkpoint}/${layer}`));
  $("#neurons-title").textContent = `Neurons of layer ${layer} by score`;
  const scores = await getJson("api/neurons?" + query({ model, checkpoint, layer, limit: 500 }));
  const list = $("#neurons");
  list.replaceChildren();
  for (const s of scores) {
    const li = el("li", {}, el("span", { class: "score" }, fmt(s.correlation)), ` n${s.neuron.neuron} `,
      el("span", { class: "muted" }, s.explanation_text.slice(0, 40)));
    li.dataset.neuron = s.neuron.neuron;
    li.onclick = () => loadNeuron(s.neuron);
    list.append(li);
  }
  if (selectNeuron !== undefined) markNeuron(selectNeuron);
  await loadMostChanged(model, checkpoint, layer);
}

function markNeuron(n) {
  document.querySelectorAll("#neurons li").forEach((li) => li.classList.toggle("selected", li.dataset.neuron === String(n)));
}

async function loadNeuron(key) {
  markNeuron(key.neuron);
  history.replaceState(null, "", "?" + query(key));
  const doc = await getJson("api/neuron?" + query(key));
  const pane = $("#neuron");
  pane.replaceChildren();
  pane.append(el("h2", {}, `${key.model} · ${key.checkpoint} · layer ${key.layer} · neuron ${key.neuron}`));
  const best = doc.best_explanation;
  pane.append(el("div", { id: "explanation", class: "explanation" },
    best ? "the main thing this neuron does is find" + (/^\s/.test(best.text) ? "" : " ") + best.text : "(no explanation scored yet)"));
  if (best) {
    const line = el("div", {}, "score (top-and-random correlation): ", el("span", { class: "score", id: "best-score" }, fmt(best.correlation)));
    // The best explanation's detection and fuzzing figures beside it, when judged.
    for (const s of doc.scores.filter((s) => s.explanation_id === best.explanation_id && s.balanced_accuracy !== undefined)) {
      line.append(`  ·  ${s.scorer_kind}: `, el("span", { class: "score judged", title: "balanced accuracy" }, fmt(s.balanced_accuracy)),
        s.auroc === null ? "" : ` (AUROC ${fmt(s.auroc)})`);
    }
    pane.append(line);
  }

  const table = el("table", {}, el("tr", {}, ...["explanation", "scorer", "corr", "top", "random", "R²", "abs dev", "bal. acc", "AUROC",
    "tokens"].map((h) => el("th", {}, h))));
  for (const s of doc.scores) {
    table.append(el("tr", {}, el("td", {}, s.explanation_text), el("td", { title: s.simulator_method }, s.scorer_kind),
      el("td", {}, fmt(s.correlation)), el("td", {}, fmt(s.top_correlation)), el("td", {}, fmt(s.random_correlation)),
      el("td", {}, fmt(s.rsquared)), el("td", {}, fmt(s.absolute_dev_explained)), el("td", {}, fmt(s.balanced_accuracy)),
      el("td", {}, fmt(s.auroc)), el("td", {}, s.tokens)));
  }
  pane.append(el("h3", {}, "Scores"), table);
  await showHistory(pane, key);

  // Only a simulation has predictions per token; a detection or fuzzing judge's has none.
  const simulated = doc.simulations.filter((s) => (s.scorer_kind || "simulation") === "simulation");
  const sim = (best && simulated.find((s) => s.explanation_id === best.explanation_id)) || simulated[0];
  const predicted = new Map();
  if (sim) for (const w of sim.windows) predicted.set(`${w.kind}#${w.window_index}`, w.predicted);
  const max = doc.max_activation || 1;
  pane.append(el("div", { class: "legend" }, el("span", { class: "swatch", style: "background: rgba(46,160,67,.85)" }),
    ` true activation (max ${fmt(max)})  `, el("span", { class: "swatch", style: "background: rgba(56,116,230,.85)" }),
    " simulated (0–10)"));

  const section = (title, windows, withSimulation) => {
    if (!windows || windows.length === 0) return;
    pane.append(el("h3", {}, title));
    for (const w of windows) {
      const box = el("div", { class: "window" });
      box.append(tokenRow(`#${w.window_index} true`, w.tokens, w.activations, max, "green"));
      const p = predicted.get(`${w.kind}#${w.window_index}`);
      if (withSimulation && p) box.append(tokenRow("simulated", w.tokens, p, 10, "blue"));
      pane.append(box);
    }
  };
  const top = doc.most_positive_activation_records || [];
  section("Top-activating windows (scoring)", top.filter((w) => w.split === "scoring"), true);
  section("Random windows (scoring)", doc.random_sample, true);
  section("Top-activating windows shown to the explainer", top.filter((w) => w.split === "explanation"), false);
}

// The neuron across the checkpoints of its run: its best score per checkpoint as a small line
// chart, its explanations side by side, and its drift between consecutive checkpoints.
async function showHistory(pane, key) {
  const h = await getJson("api/neuron/history?" + query({ model: key.model, layer: key.layer, neuron: key.neuron }));
  if (h.checkpoints.length < 2) return;
  pane.append(el("h3", {}, "Across checkpoints"));
  pane.append(scoreChart(h.checkpoints, key.checkpoint));
  const drift = new Map(h.drift.map((d) => [d.to, d]));
  const table = el("table", { id: "history" }, el("tr", {}, ...["checkpoint", "step", "score", "drift", "top overlap",
    "carried", "explanation"].map((x) => el("th", {}, x))));
  for (const c of h.checkpoints) {
    const d = drift.get(c.checkpoint);
    const tr = el("tr", { class: "clickable" + (c.checkpoint === key.checkpoint ? " selected" : "") }, el("td", {}, c.checkpoint),
      el("td", {}, c.step), el("td", {}, fmt(c.correlation)), el("td", {}, d ? fmt(d.activation_drift) : "–"),
      el("td", {}, d ? fmt(d.top_window_overlap) : "–"), el("td", {}, d ? fmt(d.carried_correlation) : "–"),
      el("td", { class: "explanation-cell" }, c.explanation.slice(0, 120)));
    tr.onclick = () => loadNeuron({ ...key, checkpoint: c.checkpoint });
    table.append(tr);
  }
  pane.append(table);
}

function scoreChart(points, current) {
  const ns = "http://www.w3.org/2000/svg";
  const w = 420, hgt = 120, pad = 28;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("id", "score-chart");
  svg.setAttribute("width", w);
  svg.setAttribute("height", hgt);
  const x = (i) => pad + (i * (w - 2 * pad)) / Math.max(1, points.length - 1);
  const y = (v) => hgt - pad - Math.max(-1, Math.min(1, v)) * (hgt - 2 * pad);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.map((p, i) => `${x(i)},${y(p.correlation)}`).join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "#3874e6");
  line.setAttribute("stroke-width", "2");
  svg.append(line);
  points.forEach((p, i) => {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", x(i));
    dot.setAttribute("cy", y(p.correlation));
    dot.setAttribute("r", p.checkpoint === current ? 5 : 3);
    dot.setAttribute("fill", p.checkpoint === current ? "#1d2733" : "#3874e6");
    const title = document.createElementNS(ns, "title");
    title.textContent = `${p.checkpoint}: ${fmt(p.correlation)}`;
    dot.append(title);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", x(i));
    label.setAttribute("y", hgt - 8);
    label.setAttribute("text-anchor", "middle");
    label.setAttribute("font-size", "10");
    label.textContent = p.checkpoint;
    svg.append(dot, label);
  });
  return svg;
}

// The layer's neurons that changed most between consecutive checkpoints, for the pair ending at this checkpoint.
async function loadMostChanged(model, checkpoint, layer) {
  const list = $("#changed");
  list.replaceChildren();
  const drift = await getJson("api/drift?" + query({ model, to: checkpoint, layer, order: "most-changed", limit: 10 }));
  $("#changed-title").textContent = drift.length ? `Most changed since ${drift[0].from}` : "Most changed";
  for (const d of drift) {
    const li = el("li", {}, el("span", { class: "score" }, fmt(d.activation_drift)), ` n${d.neuron} `,
      el("span", { class: "muted" }, `score ${fmt(d.from_best)} → ${fmt(d.to_best)}`));
    li.onclick = () => loadNeuron({ model, checkpoint, layer, neuron: d.neuron });
    list.append(li);
  }
}

async function main() {
  try {
    const layers = await loadLayers();
    const p = new URLSearchParams(location.search);
    if (p.has("model") && p.has("neuron")) {
      const key = { model: p.get("model"), checkpoint: p.get("checkpoint"), layer: Number(p.get("layer")), neuron: Number(p.get("neuron")) };
      await loadNeurons(key.model, key.checkpoint, key.layer, key.neuron);
      await loadNeuron(key);
    } else if (layers.length > 0) {
      await loadNeurons(layers[0].model, layers[0].checkpoint, layers[0].layer);
    }
  } catch (e) {
    $("#status").textContent = "error: " + e.message;
  }
}

main();
