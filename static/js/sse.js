/* Server-Sent Events read from a fetch Response. EventSource cannot POST, and the speech and chat streams are
 * POSTs, so their events are parsed here from the response body. */

/** Yields the parsed `data:` payload of each event; comment lines (": keep-alive") are skipped. */
export async function* sseMessages(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let scanFrom = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buf.indexOf("\n\n", scanFrom)) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        scanFrom = 0;
        const data = block
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
          .join("\n");
        if (data) yield JSON.parse(data);
      }
      scanFrom = Math.max(0, buf.length - 1); // an event of 500 kB arrives in many reads: don't rescan it
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
