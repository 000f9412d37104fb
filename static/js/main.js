/* The page's entry module (templates/index.html loads only this one): it sets the other modules up in order,
 * decides what each hotkey means in each tab, and publishes the automation handle. The other modules find
 * their elements on import and start nothing (no request, no listener on the page) until set up here. */

import { session } from "./api.js";
import { booksHandle, setupBooks } from "./books.js";
import { scrollToEnd } from "./chat-view.js";
import * as chat from "./chat.js";
import * as composer from "./composer.js";
import { setupConversation } from "./conversation.js";
import { spokenText } from "./highlight.js";
import { installHotkeys } from "./hotkeys.js";
import { listenHandle, setupListen } from "./listen.js";
import { listenLive } from "./live.js";
import { currentMode, setMode, setupModes } from "./modes.js";
import { setupNotices } from "./notice.js";
import { setupRecorder } from "./recorder.js";
import { replies } from "./replies.js";
import { setupServeStats } from "./serve-stats.js";
import * as speech from "./speech.js";
import { setupStatus } from "./status.js";
import { setupTheme } from "./theme.js";
import { loadVoices, setupVoices } from "./voices.js";

setupTheme();
setupNotices();
setupConversation({ onReplay: composer.replay, onDownload: composer.download });
composer.setupComposer();
installHotkeys(
  {
    speak: () => (currentMode() === "chat" ? chat.send() : composer.speak()), // Ctrl+Enter sends in the Chat tab
    stop: composer.stop,
    stop_all: composer.stopAll,
    pause: composer.togglePause,
  },
  composer.buttons
);
const voicesLoaded = setupVoices();
setupRecorder();
setupBooks();
const statusShown = setupStatus({ onReconnect: loadVoices });
const historyShown = chat.setupChat();
setupModes({ onChange: (mode) => mode === "chat" && scrollToEnd(true) });
listenLive();
setupServeStats();
setupListen(); // talking to Vox: push-to-talk, hands-free, barge-in (listen.js)

/*
 * The automation handle, for tests, the benchmark, the screenshot script and anyone driving the page from
 * outside (Playwright, DevTools). The page's modules never read it: they import each other.
 *
 *   session            this tab's session id (X-Vox-Session; api.js)
 *   ready              resolves once the voices, the first status and the chat history are shown
 *   speak(text, {voice, speed, lang})   speak in the page (resolves with the reply's record when its stream ends)
 *   stop(), stopAll()  what Esc and Shift+Esc do (without the status refresh);  pause(): what Space does
 *   spoken             the text highlighted now (the sentence being heard), "" when none
 *   player             the gapless player (player.js)
 *   replies            the reply registry (replies.js): get(id), last(kind), ofKind(kind)
 *   last               the newest reply of any kind;  speaking: whether the page is streaming or playing
 *   ctx                the player's AudioContext (null until the first reply);  chunks: the playing reply's
 *                      scheduled chunks (start/end in AudioContext seconds)
 *   chat               send(text?), clear(), setMode(mode); mode, active (the turn being written), last
 *   books              open() the Books panel; book (the one shown), progress (its last progress)
 *   listen             press(), release(), handsFree(on); mode, log (what the server heard), turns, micOpen
 */
window.vox = Object.freeze({
  session,
  ready: Promise.all([voicesLoaded, statusShown, historyShown]).then(() => undefined),
  speak: speech.speak,
  stop: speech.stop,
  stopAll: speech.stopAll,
  pause: speech.togglePause,
  player: speech.player,
  get spoken() {
    return spokenText();
  },
  replies,
  get last() {
    return replies.last();
  },
  get speaking() {
    return speech.isSpeaking();
  },
  get ctx() {
    return speech.player.ctx;
  },
  get chunks() {
    return speech.player.chunks;
  },
  books: booksHandle,
  listen: listenHandle,
  chat: Object.freeze({
    send: chat.send,
    clear: chat.clear,
    setMode,
    get mode() {
      return currentMode();
    },
    get active() {
      return chat.activeTurn();
    },
    get last() {
      return replies.last("chat");
    },
  }),
});
