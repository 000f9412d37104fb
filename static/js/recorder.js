/* Recording a voice with the microphone: MediaRecorder captures it, the page decodes it and stores plain WAV
 * through the voice library (uploadVoice), so the server needs no codec. Stop all (Shift+Esc) ends a
 * recording too; what was recorded is kept for saving. */

import { $ } from "./dom.js";
import { emit, on } from "./events.js";
import { showMessage } from "./notice.js";
import { uploadVoice } from "./voices.js";
import { encodeWav } from "./wav.js";

const rec = { recorder: null, parts: [], wav: null, started: 0, timer: 0 };

async function start() {
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    return showMessage("Recording needs a microphone and a browser with MediaRecorder.");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: true } });
  } catch (e) {
    const denied = e && e.name === "NotAllowedError";
    return showMessage(
      denied
        ? "The browser did not allow the microphone. Allow it for this page (the icon in the address bar) and try again."
        : "No microphone was found. Connect one and try again, or upload a clip instead."
    );
  }
  rec.parts = [];
  rec.recorder = new MediaRecorder(stream);
  rec.recorder.ondataavailable = (e) => e.data.size && rec.parts.push(e.data);
  rec.recorder.onstop = () => finish(stream);
  rec.recorder.start();
  emit("recording", { on: true });
  rec.started = performance.now();
  $("#record-start").disabled = true;
  $("#record-stop").disabled = false;
  $("#record-stop").focus();
  rec.timer = setInterval(() => {
    const s = Math.floor((performance.now() - rec.started) / 1000);
    $("#record-time").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }, 250);
}

async function finish(stream) {
  clearInterval(rec.timer);
  stream.getTracks().forEach((t) => t.stop());
  emit("recording", { on: false });
  $("#record-start").disabled = false;
  $("#record-stop").disabled = true;
  try {
    // MediaRecorder gives Opus/WebM; decode it and store plain WAV.
    const blob = new Blob(rec.parts, { type: rec.recorder.mimeType });
    const decoder = new OfflineAudioContext(1, 1, 44100);
    const audio = await decoder.decodeAudioData(await blob.arrayBuffer());
    rec.wav = encodeWav(audio.getChannelData(0), audio.sampleRate);
  } catch (e) {
    return showMessage("The recording could not be read back. Record again, or upload a clip instead.");
  }
  const preview = $("#record-preview");
  preview.src = URL.createObjectURL(rec.wav);
  preview.hidden = false;
  $("#record-save-row").hidden = false;
  $("#record-name").focus();
}

async function save() {
  if (!rec.wav) return;
  const name = $("#record-name").value.trim() || "My voice";
  const file = new File([rec.wav], `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-") || "recording"}.wav`, { type: "audio/wav" });
  if (await uploadVoice(file, name)) {
    rec.wav = null;
    $("#record-preview").hidden = true;
    $("#record-save-row").hidden = true;
    $("#record-name").value = "";
  }
}

/** Whether the microphone is recording. */
export const isRecording = () => !!(rec.recorder && rec.recorder.state !== "inactive");

function stopRecording() {
  if (isRecording()) rec.recorder.stop();
}

export function setupRecorder() {
  $("#record-start").addEventListener("click", start);
  $("#record-stop").addEventListener("click", stopRecording);
  on("stop", ({ all }) => all && stopRecording());
  $("#record-save").addEventListener("click", save);
}
