/* The engine replicas' panel (shown only when the server runs its engine as replicas, [serve] replicas > 0):
 * one row per replica from GET /api/serve/stats (state, device, queue, requests served, audio produced,
 * real-time factor, last error) and the totals. It polls every 2 s while the panel is shown and open. */

import { api } from "./api.js";

const PERIOD_MS = 2000;
const panel = document.getElementById("serve-stats");

const seconds = (s) => (s == null ? "–" : `${Number(s).toFixed(1)} s`);
const factor = (f) => (f == null ? "–" : Number(f).toFixed(2));

function cell(row, text, title) {
  const td = document.createElement("td");
  td.textContent = text;
  if (title) td.title = title;
  row.append(td);
}

function show(stats) {
  const body = panel.querySelector("tbody");
  const rows = stats.replicas.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.state = r.state;
    cell(tr, r.id);
    cell(tr, r.state.toLowerCase());
    cell(tr, r.device || "–", r.node ? `on ${r.node}` : "");
    cell(tr, String(r.queue));
    cell(tr, String(r.served));
    cell(tr, seconds(r.audio_s));
    cell(tr, factor(r.rtf));
    cell(tr, r.last_error || "–");
    return tr;
  });
  body.replaceChildren(...rows);
  const t = stats.totals;
  panel.querySelector("#serve-totals").textContent =
    `${t.running} of ${t.replicas} running · ${t.queue} waiting · ${t.served} served · ` +
    `${seconds(t.audio_s)} of audio · real-time factor ${factor(t.rtf)}` +
    (t.retried ? ` · ${t.retried} chunk${t.retried > 1 ? "s" : ""} retried after a replica failed` : "");
}

/** Whether anyone can see the panel: it is open, in the open Voices panel, in a visible tab. */
const shown = () => panel.open && panel.offsetParent !== null && document.visibilityState === "visible";

async function poll() {
  if (shown()) {
    try {
      show(await api.serveStats());
    } catch (e) {
      panel.querySelector("#serve-totals").textContent = e.message;
    }
  }
  setTimeout(poll, PERIOD_MS);
}

/** Start polling when the page has the panel (the server runs replicas); otherwise do nothing. */
export function setupServeStats() {
  if (!panel) return;
  panel.addEventListener("toggle", () => shown() && api.serveStats().then(show, () => {}));
  poll();
}
