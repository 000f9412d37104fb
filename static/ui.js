/* Vox page logic: the conversation view, controls, hotkeys, engine status and the voices panel.
 * Playback itself lives in vox.js (window.vox); this file only drives it and shows what it does.
 */
(function () {
  "use strict";

  const $ = (sel, root = document) => root.querySelector(sel);
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const c of children) if (c != null) node.append(c);
    return node;
  };
  const ENGINE_NAMES = { piper: "Piper", turbo: "Chatterbox Turbo", multilingual: "Chatterbox Multilingual" };
  const BADGES = { piper: "Piper", turbo: "Turbo", multilingual: "Multilingual" };
  const LANGS = "ar da de el en es fi fr he hi it ja ko ms nl no pl pt ru sv sw tr zh".split(" ");
  const store = {
    get: (k, d) => {
      try {
        const v = localStorage.getItem(`vox.${k}`);
        return v === null ? d : JSON.parse(v);
      } catch (e) {
        return d;
      }
    },
    set: (k, v) => {
      try {
        localStorage.setItem(`vox.${k}`, JSON.stringify(v));
      } catch (e) {
        /* private mode: preferences just don't persist */
      }
    },
  };

  const ui = {
    text: $("#text"),
    speak: $("#speak"),
    stop: $("#stop"),
    stopAll: $("#stop-all"),
    voice: $("#voice"),
    speed: $("#speed"),
    speedValue: $("#speed-value"),
    lang: $("#lang"),
    langField: $("#lang-field"),
    speakers: $("#speakers"),
    status: $("#status"),
    progress: $("#status-progress"),
    speaking: $("#speaking"),
    message: $("#message"),
    conversation: $("#conversation"),
    empty: $("#conversation-empty"),
    panel: $("#voices-panel"),
    panelToggle: $("#voices-toggle"),
  };
  const state = { engine: document.body.dataset.engine || "piper", serverSpeaking: false, online: null, voices: [] };

  // ---- messages ------------------------------------------------------------------------------------

  let messageTimer = 0;
  /** Show a message in the alert bar; errors and warnings stay until dismissed or replaced, info fades. */
  function showMessage(text, kind = "error") {
    clearTimeout(messageTimer);
    ui.message.dataset.kind = kind;
    $(".message-text", ui.message).textContent = text;
    ui.message.hidden = false;
    if (kind === "info") messageTimer = setTimeout(hideMessage, 5000);
  }
  function hideMessage() {
    ui.message.hidden = true;
  }
  $(".message-close", ui.message).addEventListener("click", hideMessage);

  // ---- hotkeys (from config.toml, rendered into body data attributes) -------------------------------

  const KEY_ALIASES = { esc: "Escape", return: "Enter", space: " ", ctrl: "Control", cmd: "Meta", super: "Meta" };
  const KEY_LABELS = { Control: "Ctrl", Escape: "Esc", Meta: "Super", " ": "Space" };

  function parseHotkey(spec) {
    const parts = String(spec || "").split("+").map((p) => p.trim()).filter(Boolean);
    const mods = { Control: false, Shift: false, Alt: false, Meta: false };
    let key = "";
    for (const raw of parts) {
      const p = KEY_ALIASES[raw.toLowerCase()] || raw;
      const mod = Object.keys(mods).find((m) => m.toLowerCase() === p.toLowerCase());
      if (mod) mods[mod] = true;
      else key = p;
    }
    return key ? { key, mods, parts: [...Object.keys(mods).filter((m) => mods[m]), key] } : null;
  }

  function matches(hk, e) {
    if (!hk) return false;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const want = hk.key.length === 1 ? hk.key.toLowerCase() : hk.key;
    return (
      key === want &&
      e.ctrlKey === hk.mods.Control &&
      e.shiftKey === hk.mods.Shift &&
      e.altKey === hk.mods.Alt &&
      e.metaKey === hk.mods.Meta
    );
  }

  const hotkeys = {
    stop_all: parseHotkey(document.body.dataset.hotkeyStopAll),
    stop: parseHotkey(document.body.dataset.hotkeyStop),
    speak: parseHotkey(document.body.dataset.hotkeySpeak),
  };
  const buttonFor = { stop_all: ui.stopAll, stop: ui.stop, speak: ui.speak };
  for (const [name, hk] of Object.entries(hotkeys)) {
    const slot = $(`[data-hotkey="${name}"]`);
    if (!hk) {
      slot.closest(".hk").hidden = true; // no key configured for this action
      continue;
    }
    slot.replaceChildren(
      ...hk.parts.flatMap((p, i) => [i ? "+" : null, el("kbd", { textContent: KEY_LABELS[p] || p })]).filter((x) => x)
    );
    buttonFor[name].title = `${buttonFor[name].textContent} (${hk.parts.map((p) => KEY_LABELS[p] || p).join("+")})`;
    buttonFor[name].setAttribute("aria-keyshortcuts", hk.parts.join("+"));
  }

  document.addEventListener("keydown", (e) => {
    if (e.isComposing || e.repeat) return;
    const action = ["stop_all", "stop", "speak"].find((name) => matches(hotkeys[name], e));
    if (!action) return;
    e.preventDefault();
    if (action === "stop_all") stopAll();
    else if (action === "stop") stop();
    else speak();
  });

  // ---- speaking -----------------------------------------------------------------------------------

  function options() {
    return { voice: ui.voice.value || undefined, speed: Number(ui.speed.value) };
  }

  function speak(text) {
    text = text == null ? ui.text.value : text;
    if (!text.trim()) {
      showMessage("There is nothing to say: type some text first.", "info");
      ui.text.focus();
      return;
    }
    const lang = state.engine === "multilingual" ? ui.lang.value : undefined;
    if (ui.speakers.checked) speakOnHost(text);
    else window.speakText(text, lang, options());
  }

  async function speakOnHost(text) {
    const bubble = addBubble(`s${Date.now()}`, text, { ...options(), where: "speakers" });
    setBubbleState(bubble, "streaming", "Playing on the speakers…");
    const result = await window.speakOnSpeakers(text, options());
    if (result.ok) setBubbleState(bubble, "done", "Sent to the speakers");
    else setBubbleState(bubble, "error", result.error);
    pollStatus();
  }

  function stop() {
    window.stopVOXSpeaking();
    setTimeout(pollStatus, 150);
  }
  function stopAll() {
    window.stopAllVOX();
    setTimeout(pollStatus, 150);
  }

  $("#composer").addEventListener("submit", (e) => {
    e.preventDefault();
    speak();
  });
  ui.stop.addEventListener("click", stop);
  ui.stopAll.addEventListener("click", stopAll);

  // ---- conversation view --------------------------------------------------------------------------

  const bubbles = new Map();

  function voiceName(id) {
    const v = state.voices.find((x) => x.id === id);
    return v ? v.name : id || "Default voice";
  }

  function addBubble(id, text, opts) {
    ui.empty.hidden = true;
    const body = el("div", { className: "reply-body pending" }, text);
    const stateLabel = el("span", { className: "reply-state" }, "Preparing…");
    const again = el("button", { type: "button", className: "link again", textContent: "Say again" });
    // A pushed reply's text is only known from its chunks; a typed one is said again as typed.
    again.addEventListener("click", () => speak(opts.where === "live" ? body.textContent : text));
    const meta = el(
      "div",
      { className: "reply-meta" },
      stateLabel,
      opts.where === "live" ? null : el("span", { textContent: voiceName(opts.voice) }),
      opts.where === "live" ? null : el("span", { textContent: `${Number(opts.speed || 1).toFixed(2)}×` }),
      opts.where === "speakers" ? el("span", { textContent: "speakers" }) : null,
      opts.where === "live" ? el("span", { textContent: "pushed by another program" }) : null,
      el("time", { textContent: new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }),
      again
    );
    const article = el("article", { className: "reply" }, body, meta);
    article.dataset.reply = id;
    article.dataset.state = "pending";
    article.setAttribute("aria-label", `Spoken text, ${new Date().toLocaleTimeString()}`);
    ui.conversation.append(article);
    const bubble = { article, body, stateLabel, chunks: new Map(), total: null };
    bubbles.set(id, bubble);
    while (bubbles.size > 200) {
      const [oldId, old] = bubbles.entries().next().value;
      old.article.remove();
      bubbles.delete(oldId);
    }
    article.scrollIntoView({ block: "end", behavior: "smooth" });
    return bubble;
  }

  function setBubbleState(bubble, name, label) {
    if (!bubble) return;
    bubble.article.dataset.state = name;
    bubble.stateLabel.textContent = label;
    if (name !== "streaming") for (const span of bubble.chunks.values()) span.classList.remove("now");
  }

  const events = window.vox.events;
  events.addEventListener("replystart", (e) => {
    hideMessage();
    const { replyId, text, voice, speed, live } = e.detail;
    addBubble(replyId, text || "…", { voice, speed, where: live ? "live" : "page" });
    if (ui.text.value === text) ui.text.value = "";
    refreshSpeaking();
  });

  events.addEventListener("chunk", (e) => {
    const b = bubbles.get(e.detail.replyId);
    if (!b) return;
    const { idx, total, text } = e.detail;
    if (b.body.classList.contains("pending")) {
      b.body.classList.remove("pending");
      b.body.replaceChildren();
    }
    if (!b.chunks.has(idx)) {
      const span = el("span", { className: "chunk", textContent: text });
      span.dataset.idx = idx;
      if (b.chunks.size) b.body.append(" ");
      b.body.append(span);
      b.chunks.set(idx, span);
    }
    b.total = total;
    setBubbleState(b, "streaming", total ? `Speaking · ${b.chunks.size}/${total} ready` : "Speaking");
  });

  events.addEventListener("playing", (e) => {
    const b = bubbles.get(e.detail.replyId);
    if (!b) return;
    for (const [idx, span] of b.chunks) {
      span.classList.toggle("now", idx === e.detail.idx);
      if (e.detail.idx != null && idx < e.detail.idx) span.classList.add("played");
    }
    const now = b.chunks.get(e.detail.idx);
    if (now) now.scrollIntoView({ block: "nearest", behavior: "smooth" });
    refreshSpeaking();
  });

  const END_LABELS = { done: "Spoken", stopped: "Stopped", replaced: "Interrupted by the next reply", error: "Failed" };
  events.addEventListener("replyend", (e) => {
    const b = bubbles.get(e.detail.replyId);
    if (b && b.article.dataset.state !== "error") {
      if (e.detail.reason === "done") for (const span of b.chunks.values()) span.classList.add("played");
      setBubbleState(b, e.detail.reason, END_LABELS[e.detail.reason] || e.detail.reason);
    }
    refreshSpeaking();
  });

  events.addEventListener("replyerror", (e) => {
    setBubbleState(bubbles.get(e.detail.replyId), "error", `Failed: ${e.detail.message}`);
  });
  events.addEventListener("notice", (e) => showMessage(e.detail.message, "warn"));
  events.addEventListener("error", (e) => {
    showMessage(e.detail.message, "error");
    refreshSpeaking();
  });

  // ---- speaking indicator -------------------------------------------------------------------------

  function refreshSpeaking() {
    const page = window.vox.speaking;
    const on = page || state.serverSpeaking;
    const label = page ? "Speaking" : state.serverSpeaking ? "Speaking on the speakers" : "Quiet";
    if (ui.speaking.dataset.state !== (on ? "speaking" : "idle")) ui.speaking.dataset.state = on ? "speaking" : "idle";
    const labelEl = $(".speaking-label", ui.speaking);
    if (labelEl.textContent !== label) labelEl.textContent = label;
  }

  // ---- engine status ------------------------------------------------------------------------------

  let pollTimer = 0;
  function setStatus(kind, text) {
    if (ui.status.dataset.state !== kind) ui.status.dataset.state = kind;
    const t = $(".status-text", ui.status);
    if (t.textContent !== text) t.textContent = text;
  }

  async function pollStatus() {
    clearTimeout(pollTimer);
    let next = 1000;
    try {
      const res = await fetch("/api/status", { cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const s = await res.json();
      if (state.online === false) {
        showMessage("Reconnected to the Vox server.", "info");
        loadVoices();
      }
      state.online = true;
      showEngine(s);
      if (s.state === "loading") next = 300;
    } catch (e) {
      if (state.online !== false) {
        state.online = false;
        setStatus("offline", "Server unreachable — retrying…");
        ui.progress.hidden = true;
        state.serverSpeaking = false;
        refreshSpeaking();
      }
      next = 1500;
    }
    pollTimer = setTimeout(pollStatus, next);
  }

  function showEngine(s) {
    const name = ENGINE_NAMES[s.loading || s.engine] || s.engine || "engine";
    state.engine = s.engine || state.engine;
    state.serverSpeaking = !!s.speaking;
    if (s.sample_rate && s.state === "ready") window.vox.player.sampleRate = s.sample_rate;
    if (s.state === "loading") {
      const pct = Math.round((s.progress || 0) * 100);
      setStatus("loading", `Loading ${name}… ${pct}%${s.message ? ` — ${s.message}` : ""}`);
      ui.progress.hidden = false;
      ui.progress.value = s.progress || 0;
    } else {
      ui.progress.hidden = true;
      if (s.state === "ready") setStatus("ready", `${name} ready${s.device ? ` · ${s.device}` : ""}`);
      else if (s.state === "error") setStatus("error", `${name}: ${s.error || s.message || "failed to load"}`);
      else setStatus("unloaded", `${name} · loads on first use`);
    }
    const engineSelect = $("#engine");
    if (document.activeElement !== engineSelect && ENGINE_NAMES[state.engine]) engineSelect.value = state.engine;
    ui.langField.hidden = state.engine !== "multilingual";
    refreshSpeaking();
  }

  $("#engine-load").addEventListener("click", async () => {
    const engine = $("#engine").value;
    setStatus("loading", `Loading ${ENGINE_NAMES[engine]}…`);
    setTimeout(pollStatus, 100);
    try {
      const res = await fetch("/api/tts_load", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ engine }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) showMessage(body.error || `Loading ${ENGINE_NAMES[engine]} failed (${res.status}).`);
      else showMessage(`${ENGINE_NAMES[engine]} is ready.`, "info");
    } catch (e) {
      showMessage("Cannot reach the Vox server to load the engine.");
    }
    pollStatus();
    loadVoices();
  });

  // ---- controls -----------------------------------------------------------------------------------

  function showSpeed() {
    ui.speedValue.textContent = `${Number(ui.speed.value).toFixed(2)}×`;
  }
  ui.speed.value = store.get("speed", ui.speed.value);
  showSpeed();
  ui.speed.addEventListener("input", () => {
    showSpeed();
    store.set("speed", Number(ui.speed.value));
  });
  ui.speakers.checked = !!store.get("speakers", false);
  ui.speakers.addEventListener("change", () => store.set("speakers", ui.speakers.checked));
  ui.voice.addEventListener("change", () => store.set("voice", ui.voice.value));
  const langNames = window.Intl && Intl.DisplayNames ? new Intl.DisplayNames(["en"], { type: "language" }) : null;
  ui.lang.replaceChildren(...LANGS.map((code) => el("option", { value: code, textContent: langNames ? langNames.of(code) : code })));
  ui.lang.value = "en";

  // ---- voices -------------------------------------------------------------------------------------

  const BUILTIN = [{ id: "joe", name: "Joe (built in)", engines: ["piper"], builtin: true }];

  async function loadVoices() {
    let voices = BUILTIN;
    let def = "joe";
    let available = true;
    try {
      const res = await fetch("/api/voices", { cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = await res.json();
      voices = Array.isArray(body.voices) && body.voices.length ? body.voices : BUILTIN;
      def = body.default || voices[0].id;
    } catch (e) {
      available = false; // an older server, or the library failed: the built-in voice still speaks
    }
    state.voices = voices;
    const wanted = store.get("voice", "") || ui.voice.value || def;
    ui.voice.replaceChildren(
      ...voices.map((v) => {
        const clone = !(v.engines || []).includes("piper");
        return el("option", { value: available ? v.id : "", textContent: clone ? `${v.name} · Chatterbox` : v.name });
      })
    );
    if (available) ui.voice.value = voices.some((v) => v.id === wanted) ? wanted : def;
    renderVoiceList(voices, available);
  }

  function fmtDuration(s) {
    return s ? `${Number(s).toFixed(1)} s` : "";
  }

  function renderVoiceList(voices, available) {
    const list = $("#voice-list");
    if (!available) {
      list.replaceChildren(el("li", { className: "hint", textContent: "This server has no voice library; Joe (built in) speaks." }));
      return;
    }
    list.replaceChildren(...voices.map(voiceItem));
  }

  function voiceItem(v) {
    const builtin = v.builtin || v.id === "joe";
    const name = el("span", { className: "voice-name", textContent: v.name });
    const badges = el(
      "span",
      { className: "badges" },
      ...(v.engines || []).map((e) => el("span", { className: "badge", textContent: BADGES[e] || e }))
    );
    const preview = el("button", { type: "button", className: "small", textContent: "▶ Preview" });
    preview.setAttribute("aria-label", `Preview ${v.name}`);
    preview.addEventListener("click", () => previewVoice(v));
    const actions = el("span", { className: "actions" }, preview);
    if (!builtin) {
      const rename = el("button", { type: "button", className: "small", textContent: "Rename" });
      rename.setAttribute("aria-label", `Rename ${v.name}`);
      rename.addEventListener("click", () => startRename(li, v));
      const del = el("button", { type: "button", className: "small danger", textContent: "Delete" });
      del.setAttribute("aria-label", `Delete ${v.name}`);
      del.addEventListener("click", () => deleteVoice(v));
      actions.append(rename, del);
    }
    const head = el(
      "div",
      { className: "voice-head" },
      name,
      el("code", { textContent: v.id }),
      v.duration ? el("span", { className: "duration", textContent: fmtDuration(v.duration) }) : null
    );
    const li = el("li", { className: "voice" }, head, badges, actions);
    li.dataset.voice = v.id;
    return li;
  }

  let previewAudio = null;
  /** A clip voice plays its clip; a Piper voice says a short sample (both from /api/voices/<id>/audio). */
  function previewVoice(v) {
    if (previewAudio) previewAudio.pause();
    previewAudio = new Audio(`/api/voices/${encodeURIComponent(v.id)}/audio`);
    previewAudio.play().catch(() => {
      // An older server without previews: say a sample sentence through the normal path instead.
      const name = v.name.replace(/\(.*\)/, "").trim();
      window.speakText(`Hello, this is ${name}.`, undefined, { voice: v.id, speed: Number(ui.speed.value) });
    });
  }

  function startRename(li, v) {
    const input = el("input", { type: "text", value: v.name, maxLength: 64 });
    input.setAttribute("aria-label", `New name for ${v.name}`);
    const save = el("button", { type: "submit", className: "small primary", textContent: "Save" });
    const cancel = el("button", { type: "button", className: "small", textContent: "Cancel" });
    const form = el("form", { className: "rename" }, input, save, cancel);
    cancel.addEventListener("click", () => li.replaceWith(voiceItem(v)));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const name = input.value.trim();
      if (!name) return input.focus();
      const res = await voiceRequest("PATCH", v.id, { name });
      if (res) {
        showMessage(`Renamed to ${name}.`, "info");
        await loadVoices();
        const again = $(`[data-voice="${CSS.escape(v.id)}"] button`);
        if (again) again.focus();
      }
    });
    li.replaceChildren(form);
    input.focus();
    input.select();
  }

  async function deleteVoice(v) {
    if (!window.confirm(`Delete the voice “${v.name}”? Its clip is removed from the voices folder.`)) return;
    if (await voiceRequest("DELETE", v.id)) {
      showMessage(`Deleted ${v.name}.`, "info");
      if (ui.voice.value === v.id) store.set("voice", "");
      await loadVoices();
    }
  }

  /** PATCH/DELETE one voice; returns the parsed body, or null after showing the error. */
  async function voiceRequest(method, id, body) {
    try {
      const res = await fetch(`/api/voices/${encodeURIComponent(id)}`, {
        method,
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) {
        showMessage(data.error || `The server answered ${res.status}.`);
        return null;
      }
      return data;
    } catch (e) {
      showMessage("Cannot reach the Vox server.");
      return null;
    }
  }

  async function uploadVoice(file, name) {
    const form = new FormData();
    form.append("file", file, file.name || "voice.wav");
    if (name) form.append("name", name);
    try {
      const res = await fetch("/api/voices", { method: "POST", body: form });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) {
        showMessage(data.error || `Uploading failed (${res.status}).`);
        return null;
      }
      const voice = data.voice || {};
      showMessage(`Added the voice ${voice.name || name || ""}.`, "info");
      if (voice.id) store.set("voice", voice.id);
      await loadVoices();
      return voice;
    } catch (e) {
      showMessage("Cannot reach the Vox server to upload the voice.");
      return null;
    }
  }

  $("#voice-upload").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("#voice-file").files[0];
    if (!file) {
      showMessage("Choose an audio clip to upload first.", "info");
      return $("#voice-file").focus();
    }
    if (await uploadVoice(file, $("#voice-name").value.trim())) e.target.reset();
  });

  // ---- recording a voice with the microphone ------------------------------------------------------

  const rec = { recorder: null, parts: [], wav: null, started: 0, timer: 0 };

  /** Encode mono float PCM as a 16-bit WAV (what the voice library stores; no codec needed server-side). */
  function encodeWav(samples, rate) {
    const buf = new ArrayBuffer(44 + samples.length * 2);
    const v = new DataView(buf);
    const str = (o, s) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
    str(0, "RIFF");
    v.setUint32(4, 36 + samples.length * 2, true);
    str(8, "WAVEfmt ");
    v.setUint32(16, 16, true);
    v.setUint16(20, 1, true);
    v.setUint16(22, 1, true);
    v.setUint32(24, rate, true);
    v.setUint32(28, rate * 2, true);
    v.setUint16(32, 2, true);
    v.setUint16(34, 16, true);
    str(36, "data");
    v.setUint32(40, samples.length * 2, true);
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      v.setInt16(44 + i * 2, s < 0 ? s * 32768 : s * 32767, true);
    }
    return new Blob([buf], { type: "audio/wav" });
  }

  $("#record-start").addEventListener("click", async () => {
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      return showMessage("Recording needs a microphone and a browser with MediaRecorder.");
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: true } });
    } catch (e) {
      return showMessage(`The microphone is not available: ${e.message || e.name}.`);
    }
    rec.parts = [];
    rec.recorder = new MediaRecorder(stream);
    rec.recorder.ondataavailable = (e) => e.data.size && rec.parts.push(e.data);
    rec.recorder.onstop = () => finishRecording(stream);
    rec.recorder.start();
    rec.started = performance.now();
    $("#record-start").disabled = true;
    $("#record-stop").disabled = false;
    $("#record-stop").focus();
    rec.timer = setInterval(() => {
      const s = Math.floor((performance.now() - rec.started) / 1000);
      $("#record-time").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    }, 250);
  });

  $("#record-stop").addEventListener("click", () => {
    if (rec.recorder && rec.recorder.state !== "inactive") rec.recorder.stop();
  });

  async function finishRecording(stream) {
    clearInterval(rec.timer);
    stream.getTracks().forEach((t) => t.stop());
    $("#record-start").disabled = false;
    $("#record-stop").disabled = true;
    try {
      // MediaRecorder gives Opus/WebM; decode it and store plain WAV so the server needs no codec.
      const blob = new Blob(rec.parts, { type: rec.recorder.mimeType });
      const decoder = new OfflineAudioContext(1, 1, 44100);
      const audio = await decoder.decodeAudioData(await blob.arrayBuffer());
      rec.wav = encodeWav(audio.getChannelData(0), audio.sampleRate);
    } catch (e) {
      return showMessage(`The recording could not be decoded: ${e.message || e}.`);
    }
    const preview = $("#record-preview");
    preview.src = URL.createObjectURL(rec.wav);
    preview.hidden = false;
    $("#record-save-row").hidden = false;
    $("#record-name").focus();
  }

  $("#record-save").addEventListener("click", async () => {
    if (!rec.wav) return;
    const name = $("#record-name").value.trim() || "My voice";
    const file = new File([rec.wav], `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-") || "recording"}.wav`, { type: "audio/wav" });
    if (await uploadVoice(file, name)) {
      rec.wav = null;
      $("#record-preview").hidden = true;
      $("#record-save-row").hidden = true;
      $("#record-name").value = "";
    }
  });

  // ---- voices panel -------------------------------------------------------------------------------

  function setPanel(open) {
    ui.panel.hidden = !open;
    ui.panelToggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("panel-open", open);
    store.set("panel", open);
    if (open) $("#voices-title").focus?.();
  }
  $("#voices-title").tabIndex = -1;
  ui.panelToggle.addEventListener("click", () => setPanel(ui.panel.hidden));
  $("#voices-close").addEventListener("click", () => {
    setPanel(false);
    ui.panelToggle.focus();
  });

  // ---- start --------------------------------------------------------------------------------------

  if (store.get("panel", false)) setPanel(true);
  // `ready` settles once the voices and the first status are in (tests and the chat feature wait on it).
  const ready = Promise.all([loadVoices(), pollStatus()]);
  window.voxUI = { ready, showMessage, loadVoices, pollStatus, setPanel, hotkeys, parseHotkey, speak, $, el, store };
  ui.text.focus();
})();
