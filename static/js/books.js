/* The Books panel: import a .txt, .md or .epub file as a book, rename, include or exclude, re-order and merge
 * its chapters, render it in the background (a progress bar with chapters, audio minutes and the time left),
 * pause, resume or cancel the render, and download the book file. Speaking and chatting go on meanwhile: the
 * server gives a reply the engine first, and Esc or Stop all never touch a render (Cancel render does).
 *
 * The panel takes the place of the Voices panel (one side panel at a time). A book is read with the voice and
 * speed chosen under the text box when it is imported; "Use the voice chosen now" changes that later. */

import { api } from "./api.js";
import { confirmDialog } from "./dialog.js";
import { $, el } from "./dom.js";
import { showMessage } from "./notice.js";
import { options } from "./composer.js";
import { setPanel as setVoicesPanel, voiceName } from "./voices.js";

const ui = {
  panel: $("#books-panel"),
  toggle: $("#books-toggle"),
  form: $("#book-upload"),
  file: $("#book-file"),
  select: $("#book-select"),
  none: $("#book-none"),
  detail: $("#book-detail"),
  title: $("#book-title"),
  author: $("#book-author"),
  format: $("#book-format"),
  voice: $("#book-voice"),
  chapters: $("#book-chapters"),
  bar: $("#book-progress"),
  text: $("#book-progress-text"),
  render: $("#book-render"),
  pause: $("#book-pause"),
  cancel: $("#book-cancel"),
  download: $("#book-download"),
};
const RUNNING = ["rendering", "exporting"];
let book = null; // the book shown (GET /api/books/<id>)
let progress = null;
let timer = 0;

const clock = (s) => {
  if (s == null) return "";
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
};

/** The progress bar and its sentence. */
function showProgress(p) {
  progress = p;
  const running = RUNNING.includes(p.state);
  ui.bar.value = p.fraction || 0;
  const parts = [`${p.chapters_done} of ${p.chapters_total} chapters`, `${p.audio_minutes.toFixed(1)} min of audio`];
  if (p.state === "rendering" && p.eta_s != null) parts.push(`about ${clock(p.eta_s)} left`);
  const what = { rendering: "Rendering", exporting: "Making the book file", paused: "Paused", done: "Done",
                 cancelled: "Cancelled", stopped: "Stopped", error: "Stopped by an error", idle: "Not rendered yet" };
  ui.text.textContent = `${what[p.state] || p.state}: ${parts.join(", ")}.${p.message ? " " + p.message : ""}`;
  ui.render.textContent = p.state === "paused" ? "Resume" : "Render";
  ui.render.disabled = running;
  ui.pause.disabled = p.state !== "rendering";
  ui.cancel.disabled = !running && p.state !== "paused";
  clearTimeout(timer);
  if (running) timer = setTimeout(poll, 1000);
}

async function poll() {
  if (!book) return;
  const id = book.id;
  try {
    const { progress: p } = await api.books.progress(id);
    if (!book || book.id !== id) return;
    const was = progress && progress.state;
    showProgress(p);
    if (was !== p.state || p.chapters_done !== countDone()) await show(id);
  } catch (e) {
    timer = setTimeout(poll, 3000);
  }
}

const countDone = () => (book ? book.chapters.filter((c) => c.done && !c.excluded && !c.skipped).length : 0);

/** One chapter's row: include, title (renamed on change), up, down, merge with the next, and its state. */
function chapterRow(c, i, all) {
  const include = el("input", { type: "checkbox", checked: !c.excluded && !c.skipped, disabled: !!c.skipped });
  include.setAttribute("aria-label", `Include ${c.title}`);
  include.addEventListener("change", () => editChapters((list) => (list[i].excluded = !include.checked)));
  const title = el("input", { type: "text", value: c.title, maxLength: 200 });
  title.setAttribute("aria-label", `Title of chapter ${i + 1}`);
  title.addEventListener("change", () => editChapters((list) => (list[i].title = title.value.trim() || c.title)));
  const move = (to, label, text) => {
    const b = el("button", { type: "button", className: "small", textContent: text, disabled: to < 0 || to >= all.length });
    b.setAttribute("aria-label", `${label} ${c.title}`);
    b.addEventListener("click", () => editChapters((list) => list.splice(to, 0, list.splice(i, 1)[0])));
    return b;
  };
  const merge = el("button", { type: "button", className: "small", textContent: "Merge ↓", disabled: i === all.length - 1 });
  merge.setAttribute("aria-label", `Merge ${c.title} with the next chapter`);
  merge.addEventListener("click", () => act(() => api.books.merge(book.id, [c.id, all[i + 1].id])));
  const state = c.skipped ? `Skipped: ${c.skipped}` : c.excluded ? "Left out" : c.done ? `Done, ${clock(c.seconds)}` : "";
  return el("li", { className: "chapter" },
    el("div", { className: "row" }, include, title),
    el("div", { className: "row" }, move(i - 1, "Move up", "↑"), move(i + 1, "Move down", "↓"), merge,
       el("span", { className: "hint", textContent: state })));
}

/** Show book `id` (its settings, chapters, progress and download). */
async function show(id) {
  try {
    book = (await api.books.get(id)).book;
  } catch (e) {
    showMessage(e.message);
    return;
  }
  ui.detail.hidden = false;
  ui.title.value = book.title;
  ui.author.value = book.author;
  ui.format.value = book.settings.format;
  ui.voice.textContent = `Read by ${voiceName(book.settings.voice) || "the default voice"} at ` +
    `${Number(book.settings.speed).toFixed(2)}×.`;
  ui.chapters.replaceChildren(...book.chapters.map(chapterRow));
  const made = book.exports[book.settings.format];
  ui.download.hidden = !made.ready;
  ui.download.href = made.url;
  ui.download.textContent = `Download the book (${book.settings.format.toUpperCase()})`;
  showProgress(book.progress);
}

/** Send the chapter list changed by `change(list)` (every chapter, in order), then show the result. */
function editChapters(change) {
  const list = book.chapters.map((c) => ({ id: c.id, title: c.title, excluded: c.excluded }));
  change(list);
  return act(() => api.books.edit(book.id, { chapters: list }));
}

async function act(request) {
  try {
    const answer = await request();
    if (answer.book) await show(answer.book.id);
    else if (answer.progress) showProgress(answer.progress);
    return answer;
  } catch (e) {
    showMessage(e.message);
    return null;
  }
}

/** The list of books; shows `chosen` (default: the one shown, else the newest). */
export async function loadBooks(chosen) {
  let books = [];
  try {
    books = (await api.books.list()).books;
  } catch (e) {
    showMessage(e.message);
  }
  ui.select.replaceChildren(...books.map((b) => el("option", { value: b.id, textContent: b.title })));
  ui.none.hidden = books.length > 0;
  ui.select.hidden = !books.length;
  const id = chosen || (book && books.some((b) => b.id === book.id) ? book.id : books.length ? books[books.length - 1].id : null);
  if (!id) {
    book = null;
    ui.detail.hidden = true;
    return;
  }
  ui.select.value = id;
  await show(id);
}

async function importBook(e) {
  e.preventDefault();
  const file = ui.file.files[0];
  if (!file) {
    showMessage("Choose a .txt, .md or .epub file to import first.", "info");
    return ui.file.focus();
  }
  const { voice, speed } = options();
  const answer = await act(() => api.books.importFile(file, { voice, speed }));
  if (answer) {
    ui.form.reset();
    showMessage(`Imported ${answer.book.title}: ${answer.book.chapters.length} chapters. Check them, then press Render.`, "info");
    await loadBooks(answer.book.id);
  }
}

function setBooksPanel(open) {
  if (open) setVoicesPanel(false);
  ui.panel.hidden = !open;
  ui.toggle.setAttribute("aria-expanded", String(open));
  document.body.classList.toggle("panel-open", open || !$("#voices-panel").hidden);
  if (open) {
    $("#books-title").focus();
    loadBooks();
  } else clearTimeout(timer);
}

export function setupBooks() {
  ui.form.addEventListener("submit", importBook);
  ui.select.addEventListener("change", () => show(ui.select.value));
  ui.render.addEventListener("click", () => act(() => api.books.render(book.id)));
  ui.pause.addEventListener("click", () => act(() => api.books.pause(book.id)));
  ui.cancel.addEventListener("click", () => act(() => api.books.cancel(book.id)));
  for (const [input, key] of [[ui.title, "title"], [ui.author, "author"], [ui.format, "format"]]) {
    input.addEventListener("change", () => act(() => api.books.edit(book.id, { [key]: input.value.trim() })));
  }
  $("#book-use-voice").addEventListener("click", () => {
    const { voice, speed } = options();
    act(() => api.books.edit(book.id, { voice: voice || "", speed }));
  });
  $("#book-export").addEventListener("click", () => act(() => api.books.exportAs(book.id, ui.format.value)).then(() => show(book.id)));
  $("#book-delete").addEventListener("click", async () => {
    const ok = await confirmDialog({ title: `Delete ${book.title}?`, message: "Its chapters' audio and book files go too.",
                                     confirm: "Delete" });
    if (ok && (await act(() => api.books.remove(book.id)))) {
      book = null;
      loadBooks();
    }
  });
  $("#books-title").tabIndex = -1;
  ui.toggle.addEventListener("click", () => setBooksPanel(ui.panel.hidden));
  $("#books-close").addEventListener("click", () => {
    setBooksPanel(false);
    ui.toggle.focus();
  });
  $("#voices-toggle").addEventListener("click", () => {
    if (!ui.panel.hidden) setBooksPanel(false); // the Voices panel takes the side
  });
}

/** For tests and automation (window.vox.books). */
export const booksHandle = Object.freeze({
  open: () => setBooksPanel(true),
  get book() {
    return book;
  },
  get progress() {
    return progress;
  },
});
