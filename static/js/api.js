/* The Vox server's API as the page uses it: every request the page makes to the server is made here, and every
 * failure becomes a plain sentence for the user here (the server's own message when it sent one, otherwise
 * what went wrong and what to do next; never a path or an exception name).
 *
 * A call resolves with the parsed JSON body (or, for the two streams, the Response to read events from) and
 * rejects with a VoxError whose message is that sentence. A caller that aborted a request checks its own
 * AbortSignal before showing the error.
 */

/** A failure the user can read as it is. */
export class VoxError extends Error {}

const origin = () => window.location.origin;

const SESSION = /^[A-Za-z0-9_.:-]{1,64}$/;

/* The session this tab's requests belong to (X-Vox-Session): a new reply replaces only this tab's, Esc stops only
 * this tab's (and the shared default session's), and /api/live carries only this tab's events and everyone's.
 * `?session=NAME` in the address names it (a room's screen that another program pushes replies to); otherwise
 * each tab makes one and keeps it in sessionStorage, so a reload keeps its chat history. */
function tabSession() {
  const named = new URLSearchParams(window.location.search).get("session");
  if (named && SESSION.test(named)) return named;
  try {
    const kept = window.sessionStorage.getItem("vox-session");
    if (kept && SESSION.test(kept)) return kept;
  } catch (e) {
    /* storage disabled: a new session per load */
  }
  const bytes = crypto.getRandomValues(new Uint8Array(12)); // randomUUID needs a secure context; this does not
  const made = `tab-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  try {
    window.sessionStorage.setItem("vox-session", made);
  } catch (e) {
    /* as above */
  }
  return made;
}

/** This tab's session id. */
export const session = tabSession();

/** The server does not answer at all. */
export function unreachable() {
  return (
    `Cannot reach the Vox server at ${origin()}. Is it still running? Start it with "python app.py"; ` +
    "the page reconnects by itself."
  );
}

/** The connection dropped while a reply was streaming. */
export function connectionLost() {
  return (
    `The connection to the Vox server (${origin()}) was lost while speaking. Is it still running? ` +
    "The page reconnects by itself once it is back."
  );
}

/** The sentence for a response that is not ok. */
async function errorSentence(res) {
  let body = {};
  try {
    body = await res.json();
  } catch (e) {
    /* not JSON: say what the status means */
  }
  let message = typeof body.error === "string" && body.error ? body.error : null;
  if (!message) {
    message =
      res.status >= 500
        ? `The Vox server failed to do that (error ${res.status}). Try again; the server's log says what went wrong.`
        : `The Vox server refused that request (error ${res.status}). Reload the page and try again.`;
  }
  if (Array.isArray(body.voices) && body.voices.length && !message.includes(body.voices[0])) {
    message += ` (voices: ${body.voices.join(", ")})`;
  }
  return message;
}

/**
 * One request. `json` is sent as a JSON body, `form` as multipart; `signal` aborts it. Resolves with the
 * Response when it is ok, else rejects with a VoxError.
 */
async function request(method, url, { json, form, bytes, signal, cache, session: named } = {}) {
  const init = { method, signal, headers: { "X-Vox-Session": named || session } };
  if (cache) init.cache = cache;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  } else if (bytes) {
    init.headers["Content-Type"] = "application/octet-stream";
    init.body = bytes;
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new VoxError(unreachable());
  }
  if (!res.ok) throw new VoxError(await errorSentence(res));
  return res;
}

/** The parsed JSON body of a successful request ({} when it has none). */
async function requestJson(method, url, options) {
  const res = await request(method, url, options);
  return res.json().catch(() => ({}));
}

const voiceUrl = (id) => `/api/voices/${encodeURIComponent(id)}`;
const bookUrl = (id) => `/api/books/${encodeURIComponent(id)}`;

/* Stops and new replies leave the page in order. They travel on different connections, so without this a
 * quick Esc then Speak could let the stop reach the server after the new reply began, and stop it. */
let lastStop = Promise.resolve();
const ordered = (send) => (...args) => lastStop.then(() => send(...args));
function stopRequest(url) {
  const sent = requestJson("POST", url);
  lastStop = sent.catch(() => {});
  return sent;
}

export const api = {
  /** Speak in the page: the Response of the SSE stream of chunks (read it with sse.js). */
  speakStream: ordered((payload, signal) => request("POST", "/api/vox_speak_wav_stream", { json: payload, signal })),
  /** Speak on the host's speakers; resolves once playback started. */
  speakOnSpeakers: ordered((payload) => requestJson("POST", "/api/vox_speak", { json: payload })),
  /** The whole reply as one WAV Blob. It is rendered in a session of its own, so it does not replace the
   * reply playing (a new reply replaces the one in its own session only). */
  async speakWav(payload) {
    const res = await request("POST", "/api/vox_speak_wav", { json: payload, session: `${session}:wav` });
    return res.blob();
  },
  stop: () => stopRequest("/api/vox_stop"),
  stopAll: () => stopRequest("/api/stop_all_vox"),
  status: () => requestJson("GET", "/api/status", { cache: "no-store" }),
  loadEngine: (engine) => requestJson("POST", "/api/tts_load", { json: { engine } }),

  voices: () => requestJson("GET", "/api/voices", { cache: "no-store" }),
  uploadVoice(file, name) {
    const form = new FormData();
    form.append("file", file, file.name || "voice.wav");
    if (name) form.append("name", name);
    return requestJson("POST", "/api/voices", { form });
  },
  renameVoice: (id, name) => requestJson("PATCH", voiceUrl(id), { json: { name } }),
  deleteVoice: (id) => requestJson("DELETE", voiceUrl(id)),
  /** Where a voice's preview plays from (an <audio> source). */
  voiceAudioUrl: (id) => `${voiceUrl(id)}/audio`,

  /** Talk to the LLM: the Response of the SSE stream of tokens and audio. */
  chat: ordered((payload, signal) => request("POST", "/api/chat", { json: payload, signal })),
  chatHistory: () => requestJson("GET", "/api/chat/history", { cache: "no-store" }),
  clearChatHistory: () => requestJson("DELETE", "/api/chat/history"),
  /** An interrupted turn was heard up to `heard` characters (the server's own offsets): keep only that. */
  chatHeard: (job, heard) => requestJson("POST", "/api/chat/heard", { json: { job, heard } }),

  /** Talking to Vox (listen.js): a microphone stream, fed 16 kHz 16-bit PCM; every answer is what the server
   * heard so far ({events}). `level`: how loud the page plays now (dBFS), for the echo guard. */
  listen: {
    open: (mode) => requestJson("POST", "/api/listen", { json: { mode } }),
    audio: (id, pcm, level) =>
      requestJson("POST", `/api/listen/${id}/audio${level == null ? "" : `?level=${level.toFixed(1)}`}`, { bytes: pcm }),
    end: (id) => requestJson("POST", `/api/listen/${id}/end`, { json: {} }),
    close: (id) => requestJson("DELETE", `/api/listen/${id}`),
    loadRecogniser: () => requestJson("POST", "/api/stt_load"),
  },

  /** Book projects (books.js): import, edit, render in the background, download. */
  books: {
    list: () => requestJson("GET", "/api/books", { cache: "no-store" }),
    get: (id) => requestJson("GET", bookUrl(id), { cache: "no-store" }),
    importFile(file, fields) {
      const form = new FormData();
      form.append("file", file, file.name || "book.txt");
      for (const [key, value] of Object.entries(fields)) if (value != null && value !== "") form.append(key, value);
      return requestJson("POST", "/api/books", { form });
    },
    edit: (id, changes) => requestJson("PATCH", bookUrl(id), { json: changes }),
    merge: (id, chapters) => requestJson("POST", `${bookUrl(id)}/merge`, { json: { chapters } }),
    remove: (id) => requestJson("DELETE", bookUrl(id)),
    render: (id) => requestJson("POST", `${bookUrl(id)}/render`),
    pause: (id) => requestJson("POST", `${bookUrl(id)}/pause`),
    cancel: (id) => requestJson("POST", `${bookUrl(id)}/cancel`),
    progress: (id) => requestJson("GET", `${bookUrl(id)}/progress`, { cache: "no-store" }),
    exportAs: (id, format) => requestJson("POST", `${bookUrl(id)}/export`, { json: { format } }),
  },

  /** Replies other programs push, and stops from outside the page (an EventSource; it reconnects by itself):
   * this tab's session's and everyone's (an EventSource cannot send a header, so the session is in the query). */
  live: () => new EventSource(`/api/live?session=${encodeURIComponent(session)}`),
  /** The engine replicas' figures ({enabled: false} when the server runs the engine itself). */
  serveStats: () => requestJson("GET", "/api/serve/stats", { cache: "no-store" }),
};
