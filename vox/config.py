"""Settings from ``config.toml``: documented defaults, validation, and errors that name the line.

The app runs with no file at all. Unknown keys are warned about (a typo should not be silent); a malformed
file or a wrong value stops start-up with a message a person can act on.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vox.validate import MAX_SEED, PARAMETER_RANGES

log = logging.getLogger("vox.config")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT / "config.toml"


class ConfigError(Exception):
    """A config file Vox cannot use; the message names the file and, where known, the line."""


@dataclass
class Server:
    host: str = "127.0.0.1"
    """Loopback by default; any other address needs ``api_key``."""
    port: int = 5055
    api_key: str = ""
    """Required when ``host`` is not a loopback address (X-API-Key header or ?api_key=)."""
    allowed_origins: list[str] = field(default_factory=list)
    """Extra web origins allowed to call the API (CORS and Origin checks); the app's own is always allowed."""
    max_text_chars: int = 100_000
    max_upload_mb: int = 20
    max_queued_jobs: int = 4
    """Replies being generated or played at once (speak requests replace each other, so this bounds abuse)."""
    release_memory_after_s: float = 10.0
    """Seconds of quiet after which the memory freed by replies is handed back to the OS."""
    client_timeout_s: float = 10.0
    """A client that takes longer than this to send its request, or to accept the next piece of an answer (a
    stream it stopped reading), is disconnected and its reply stopped."""
    max_connections: int = 64
    """Connections served at once; more are answered 503 at once (each one holds a thread)."""


@dataclass
class Engine:
    name: str = "piper"
    """piper | turbo | multilingual: the engine used until another is loaded."""
    voice: str = ""
    """Default voice id; empty means the engine's own default (Joe for Piper)."""
    speed: float = 1.0
    """1.0 is normal; 0.5 (slow) .. 2.0 (fast)."""
    device: str = "auto"
    """auto | cpu | cuda, for Chatterbox."""
    turbo_checkpoint: str = ""
    """A local Chatterbox Turbo checkpoint directory; empty means the Hugging Face cache."""
    multilingual_checkpoint: str = ""
    lang: str = "en"
    # Generation defaults for the Chatterbox engines (README: Generation parameters). None (the key left out)
    # keeps each model's own default; an engine uses only the ones it honours.
    exaggeration: float | None = None
    cfg_weight: float | None = None
    temperature: float | None = None
    top_p: float | None = None
    repetition_penalty: float | None = None
    seed: int | None = None


@dataclass
class Chunking:
    group_size: int = 3
    """Sentences per chunk at most, after the first."""
    max_chars: int = 300
    """No chunk sent to an engine is longer (Chatterbox Turbo degrades past ~350 characters)."""
    first_chunk_chars: int = 120
    """The first sentence is said in pieces for a quick start: its first clause, then the rest (each at most this)."""


@dataclass
class Text:
    date_order: str = "auto"
    """auto | month-first | day-first: how an all-number date whose order is ambiguous ("03/04/2025") is read,
    and how dates are said ("April third" or "the third of April"); auto: as the reply's language says (en and
    en-US month-first, en-GB day-first)."""

    @property
    def day_first(self) -> bool | None:
        """date_order for the verbaliser: None where the language decides."""
        return {"month-first": False, "day-first": True}.get(self.date_order)


@dataclass
class Window:
    enabled: bool = True
    """Open the desktop window; false (or --no-window) only serves."""
    title: str = "Vox"
    width: int = 960
    height: int = 720


@dataclass
class Hotkeys:
    stop: str = "Escape"
    stop_all: str = "Shift+Escape"
    speak: str = "Control+Enter"
    global_enabled: bool = True
    """System-wide stop / stop-all while another application has the focus (X11)."""
    global_stop: str = "<ctrl>+<alt>+s"
    global_stop_all: str = "<ctrl>+<alt>+<shift>+s"
    push_to_talk: str = "Control+Space"
    """In-page: hold to talk (the turn ends when the key is released)."""
    global_push_to_talk: str = "<ctrl>+<alt>+space"
    """System-wide hold-to-talk (X11): the open Vox page listens while it is held."""


@dataclass
class Speakers:
    device: str = ""
    """Output device name (substring) or index for host playback; empty is the system default."""
    latency: str = "low"
    """low (0.2 s buffer) | high (0.5 s) | a number of seconds; a stop drops the buffer, so size costs no latency."""
    keep_open_s: float = 30.0
    """Seconds the output stream stays open (playing silence) after a reply, so the next one starts at once;
    0 closes the device after every reply."""
    prepare_at_start: bool = True
    """Load PortAudio and find the device in the background at start-up (no device is opened)."""


@dataclass
class Voices:
    dir: str = "voices"
    """The voice library, relative to the app folder unless absolute."""


@dataclass
class Books:
    dir: str = ""
    """Book projects, one folder each; empty means a "books" folder beside the voice library."""
    max_source_mb: int = 20
    """The largest document (txt, md, epub) a project may be made from."""
    format: str = "m4b"
    """The book file a finished render is exported to: m4b | mp3 (one per chapter) | wav | flac."""
    loudness_lufs: float = -18.0
    """Every chapter is brought to this loudness in the book file (lower when a chapter's peaks need it)."""
    resume_at_start: bool = True
    """A render still running when Vox stopped (a crash, a restart) continues when it starts again."""


@dataclass
class Llm:
    base_url: str = "http://127.0.0.1:11434/v1"
    """An OpenAI-compatible server: Ollama (default), llama.cpp's server, LM Studio."""
    model: str = "llama3.2"
    system_prompt: str = "You are a helpful assistant. Answer briefly, in plain spoken language."
    temperature: float = 0.7
    api_key: str = ""


@dataclass
class Wyoming:
    uri: str = ""
    """Serve Vox to Home Assistant over Wyoming, e.g. tcp://127.0.0.1:10200 (or --wyoming); empty: off."""
    allow_remote: bool = False
    """Wyoming has no API key: a non-loopback address is refused unless this is true."""


@dataclass
class Serve:
    """Engine replicas on Ray Serve (README: More than one voice at a time). 0 replicas: one process, no Ray."""

    replicas: int = 0
    """Engine replicas; 0 synthesises in Vox's own process and imports nothing of Ray."""
    ray_address: str = ""
    """An existing Ray cluster ("ray://head:10001" or "head:6379"); empty starts a local Ray instance."""
    gpus_per_replica: float = 1.0
    """GPUs each replica takes when the cluster has GPUs (one GPU per replica)."""
    cpus_per_replica: float = 1.0
    """CPU share each replica takes when there are no GPUs; its synthesis uses this many threads (at least 1)."""
    max_queued: int = 8
    """Replies that wait for a free replica; one more is answered 429 with Retry-After."""
    request_timeout_s: float = 60.0
    """A replica that sends nothing for this long is given up (the chunk is retried, or the reply ends)."""
    start_timeout_s: float = 300.0
    """How long starting the replicas may take before loading fails with what is missing."""


@dataclass
class Stt:
    model: str = "base"
    """A faster-whisper model: a size (tiny, base, small, ... ``.en`` for English only) found in the Hugging
    Face cache, or a folder holding model.bin, config.json and tokenizer.json. Nothing is downloaded."""
    device: str = "auto"
    """auto | cpu | cuda: int8 on the CPU, float16 on CUDA."""
    language: str = ""
    """A language code (en, fr, ...) to skip detection; empty: Whisper detects it."""
    beam_size: int = 1
    """1 is greedy decoding: fastest; 5 is Whisper's own default, a little more accurate."""
    cpu_threads: int = 0
    """Threads for the CPU; 0 lets CTranslate2 choose."""


@dataclass
class Listen:
    vad_threshold: float = 0.5
    """Silero VAD speech probability above which a 32 ms frame counts as speech."""
    silence_ms: int = 700
    """Hands-free: this much silence after speech ends the turn."""
    min_speech_ms: int = 200
    """A turn needs this much speech; shorter sounds (a cough, a click) are ignored."""
    barge_in: bool = True
    """Speaking while Vox speaks or the LLM writes stops both (hands-free)."""
    barge_in_min_ms: int = 64
    """Speech must last this long before it barges in."""
    echo_margin_db: float = -6.0
    """While Vox plays, speech barges in only when the microphone is at most this many dB quieter than what
    is being played: Vox's own voice coming back (after the browser's echo cancellation) is far quieter."""
    max_turn_s: float = 120.0
    """A turn that goes on this long is ended and sent."""
    idle_timeout_s: float = 600.0
    """Hands-free listening stops after this long without speech."""
    stall_timeout_s: float = 5.0
    """A listening page that sends no audio for this long (a closed tab, a lost device) is dropped."""


@dataclass
class Config:
    server: Server = field(default_factory=Server)
    engine: Engine = field(default_factory=Engine)
    chunking: Chunking = field(default_factory=Chunking)
    text: Text = field(default_factory=Text)
    window: Window = field(default_factory=Window)
    hotkeys: Hotkeys = field(default_factory=Hotkeys)
    speakers: Speakers = field(default_factory=Speakers)
    voices: Voices = field(default_factory=Voices)
    books: Books = field(default_factory=Books)
    llm: Llm = field(default_factory=Llm)
    wyoming: Wyoming = field(default_factory=Wyoming)
    serve: Serve = field(default_factory=Serve)
    stt: Stt = field(default_factory=Stt)
    listen: Listen = field(default_factory=Listen)
    path: Path | None = None

    @property
    def voices_dir(self) -> Path:
        p = Path(self.voices.dir).expanduser()
        return p if p.is_absolute() else ROOT / p

    @property
    def books_dir(self) -> Path:
        if not self.books.dir:
            return self.voices_dir.parent / "books"
        p = Path(self.books.dir).expanduser()
        return p if p.is_absolute() else ROOT / p


def _line_of(text: str, section: str, key: str) -> int | None:
    """Best-effort line number of ``key`` inside ``[section]`` for error messages."""
    current = ""
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*\[([^\]]+)\]", line)
        if m:
            current = m.group(1).strip()
        elif current == section and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return n
    return None


OPTIONAL_KINDS: dict[tuple[str, str], type] = {
    ("engine", "exaggeration"): float, ("engine", "cfg_weight"): float, ("engine", "temperature"): float,
    ("engine", "top_p"): float, ("engine", "repetition_penalty"): float, ("engine", "seed"): int,
}  # fmt: skip
"""Keys whose default is None (unset), and the kind of value they take when set."""


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Check a value against the type of its default; ints are accepted where floats are expected."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    else:
        ok = isinstance(value, str)
    if not ok:
        kinds = {"bool": "true or false", "float": "a number", "int": "a whole number", "str": "a string"}
        kind = kinds.get(type(default).__name__, "a list of strings")
        raise ConfigError(f"{where} must be {kind}, not {value!r}")
    return value


def _problems(cfg: Config) -> list[tuple[str, str]]:
    """(section.key, message) for every value out of range."""
    c, e, s, k = cfg.chunking, cfg.engine, cfg.server, "must be between"
    checks = [
        ("server.port", 1 <= s.port <= 65535, f"{k} 1 and 65535"),
        ("engine.name", e.name in ("piper", "turbo", "multilingual"), "must be piper, turbo or multilingual"),
        ("engine.speed", 0.5 <= e.speed <= 2.0, f"{k} 0.5 and 2.0"),
        ("engine.device", e.device in ("auto", "cpu", "cuda"), "must be auto, cpu or cuda"),
        ("chunking.group_size", 1 <= c.group_size <= 20, f"{k} 1 and 20"),
        ("chunking.max_chars", 40 <= c.max_chars <= 2000, f"{k} 40 and 2000"),
        ("chunking.first_chunk_chars", 20 <= c.first_chunk_chars <= c.max_chars, f"{k} 20 and max_chars"),
        ("server.max_text_chars", s.max_text_chars >= 1, "must be positive"),
        ("server.max_upload_mb", s.max_upload_mb >= 1, "must be positive"),
        ("server.max_queued_jobs", s.max_queued_jobs >= 1, "must be positive"),
        ("server.release_memory_after_s", 0 <= s.release_memory_after_s <= 3600, f"{k} 0 and 3600"),
        ("server.client_timeout_s", 0.5 <= s.client_timeout_s <= 3600, f"{k} 0.5 and 3600"),
        ("server.max_connections", 4 <= s.max_connections <= 10_000, f"{k} 4 and 10000"),
        ("speakers.keep_open_s", 0 <= cfg.speakers.keep_open_s <= 3600, f"{k} 0 and 3600"),
        ("llm.temperature", 0.0 <= cfg.llm.temperature <= 2.0, f"{k} 0 and 2"),
        ("books.max_source_mb", 1 <= cfg.books.max_source_mb <= 1024, f"{k} 1 and 1024"),
        ("books.format", cfg.books.format in ("m4b", "mp3", "wav", "flac"), "must be m4b, mp3, wav or flac"),
        ("books.loudness_lufs", -40.0 <= cfg.books.loudness_lufs <= -10.0, f"{k} -40 and -10"),
        ("text.date_order", cfg.text.date_order in ("auto", "month-first", "day-first"),
         "must be auto, month-first or day-first"),
        ("serve.replicas", 0 <= cfg.serve.replicas <= 256, f"{k} 0 and 256"),
        ("serve.gpus_per_replica", 0 < cfg.serve.gpus_per_replica <= 8, f"{k} 0 and 8"),
        ("serve.cpus_per_replica", 0 < cfg.serve.cpus_per_replica <= 256, f"{k} 0 and 256"),
        ("serve.max_queued", 0 <= cfg.serve.max_queued <= 10_000, f"{k} 0 and 10000"),
        ("serve.request_timeout_s", 1 <= cfg.serve.request_timeout_s <= 3600, f"{k} 1 and 3600"),
        ("serve.start_timeout_s", 5 <= cfg.serve.start_timeout_s <= 3600, f"{k} 5 and 3600"),
        ("stt.device", cfg.stt.device in ("auto", "cpu", "cuda"), "must be auto, cpu or cuda"),
        ("stt.beam_size", 1 <= cfg.stt.beam_size <= 10, f"{k} 1 and 10"),
        ("stt.cpu_threads", 0 <= cfg.stt.cpu_threads <= 256, f"{k} 0 and 256"),
        ("listen.vad_threshold", 0.05 <= cfg.listen.vad_threshold <= 0.95, f"{k} 0.05 and 0.95"),
        ("listen.silence_ms", 200 <= cfg.listen.silence_ms <= 5000, f"{k} 200 and 5000"),
        ("listen.min_speech_ms", 32 <= cfg.listen.min_speech_ms <= 2000, f"{k} 32 and 2000"),
        ("listen.barge_in_min_ms", 32 <= cfg.listen.barge_in_min_ms <= 1000, f"{k} 32 and 1000"),
        ("listen.echo_margin_db", -60 <= cfg.listen.echo_margin_db <= 20, f"{k} -60 and 20"),
        ("listen.max_turn_s", 5 <= cfg.listen.max_turn_s <= 3600, f"{k} 5 and 3600"),
        ("listen.idle_timeout_s", 1 <= cfg.listen.idle_timeout_s <= 86400, f"{k} 1 and 86400"),
        ("listen.stall_timeout_s", 1 <= cfg.listen.stall_timeout_s <= 60, f"{k} 1 and 60"),
    ]
    for name, (low, high) in PARAMETER_RANGES.items():
        value = getattr(e, name)
        checks.append((f"engine.{name}", value is None or low <= value <= high, f"{k} {low:g} and {high:g}"))
    checks.append(("engine.seed", e.seed is None or 0 <= e.seed <= MAX_SEED, f"{k} 0 and {MAX_SEED}"))
    return [(key, f"{key} {message}") for key, ok, message in checks if not ok]


def load(path: str | Path | None = None) -> Config:
    """Read ``path`` (default ``config.toml`` beside the app); a missing default file means all defaults."""
    explicit = path is not None
    path = Path(path) if explicit else DEFAULT_PATH
    cfg = Config()
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: no such config file")
        return cfg
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e} (TOML: key = value lines under [section] headers)") from e
    cfg.path = path
    for section, values in data.items():
        target = getattr(cfg, section, None) if section != "path" else None
        if target is None or not isinstance(values, dict):
            log.warning("%s: unknown section [%s] ignored", path, section)
            continue
        known = {f.name: f for f in fields(target)}
        for key, value in values.items():
            if key not in known:
                line = _line_of(text, section, key)
                log.warning("%s:%s: unknown key %s.%s ignored", path, line or "?", section, key)
                continue
            line = _line_of(text, section, key)
            where = f"{path}:{line or '?'}: {section}.{key}"
            default = OPTIONAL_KINDS[(section, key)]() if (section, key) in OPTIONAL_KINDS else getattr(target, key)
            setattr(target, key, _coerce(value, default, where))
    for key, message in _problems(cfg):
        section, name = key.split(".")
        raise ConfigError(f"{path}:{_line_of(text, section, name) or '?'}: {message}")
    return cfg
