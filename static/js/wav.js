/* 16-bit PCM WAV in and out, by hand. Decoding the server's chunks manually is exact and faster than
 * decodeAudioData (no resampling, no promise hop) and maps samples the way Chromium's decoder does
 * (positive / 32767, negative / 32768), which the sample-exact browser tests rely on. Encoding is for the
 * recorder: the voice library stores plain WAV, so the server needs no codec. */

export function base64ToBytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** {sampleRate, samples: Float32Array (mono; channels are averaged)} of a 16-bit PCM WAV. */
export function parseWav(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o) => String.fromCharCode(bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]);
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("the audio is not a WAV file");
  let off = 12;
  let fmt = null;
  let data = null;
  while (off + 8 <= bytes.length) {
    const id = tag(off);
    const size = view.getUint32(off + 4, true);
    const body = off + 8;
    if (id === "fmt ") {
      fmt = {
        format: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      data = { offset: body, size: Math.min(size, bytes.length - body) };
      break;
    }
    off = body + size + (size & 1); // chunks are word-aligned
  }
  if (!fmt || !data) throw new Error("the WAV has no fmt or data chunk");
  if ((fmt.format !== 1 && fmt.format !== 0xfffe) || fmt.bits !== 16 || !fmt.channels) {
    throw new Error(`unsupported WAV (format ${fmt.format}, ${fmt.bits}-bit); expected 16-bit PCM`);
  }
  const ch = fmt.channels;
  const frames = Math.floor(data.size / (2 * ch));
  const samples = new Float32Array(frames);
  for (let i = 0, p = data.offset; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < ch; c++, p += 2) {
      const v = view.getInt16(p, true);
      sum += v < 0 ? v / 32768 : v / 32767;
    }
    samples[i] = ch === 1 ? sum : sum / ch;
  }
  return { sampleRate: fmt.rate, samples };
}

/** Mono float samples as a 16-bit WAV Blob. */
export function encodeWav(samples, rate) {
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
