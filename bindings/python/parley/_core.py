"""Config, Client and SurveyResponse: RAII-style owners of the native
handles (context managers; close() is idempotent; any call after it raises
ClosedError)."""
import ctypes
import json
import math
import weakref
from typing import Callable, Iterable, Iterator, Optional

from ._errors import ClosedError, Error, check, text_in, text_out
from ._events import Event, event_from
from ._loader import lib
from ._native import (ENCRYPTION_KEY_SIZE, ErrorCode, ID_SIZE, LogLevel, RedactField, SURVEY_ID_SIZE, Severity,
                      parley_client, parley_config, parley_event, parley_log_fn, parley_redact_text_fn,
                      parley_survey_response)

# What Config(**options) accepts, and the setter each name calls.
_OPTIONS = ("url", "app_id", "ca_file", "ca_pem", "pins", "data_dir", "durability", "outbox_cap", "event_limits",
            "encryption_key", "log", "allow_insecure", "reconnect", "context_limits", "app_version",
            "consent", "redactor", "default_redactor", "local_history")


def _out_buffer(size=ID_SIZE):
    return ctypes.create_string_buffer(size)


def _uint(value, name, bits=32):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{name} must be in 0..2**{bits}-1")
    return value


def _u32(value, name):
    return _uint(value, name)


class Config:
    """A client's configuration. Config(url=..., app_id=..., ca_file=...)
    sets options by keyword (see the methods); Client(**options) makes one
    for you. Callbacks given here (log, redactor) are kept alive by every
    client made from this config."""

    def __init__(self, **options):
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise TypeError(f"unknown Config options: {', '.join(sorted(unknown))}")
        ptr = lib.parley_config_new()
        if not ptr:
            raise MemoryError("parley_config_new")
        self._ptr = ptr
        self._callbacks = {}
        for name in _OPTIONS:  # a fixed order: url before everything else
            if name in options:
                value = options[name]
                setter = getattr(self, "set_" + name)
                if isinstance(value, tuple):
                    setter(*value)
                else:
                    setter(value)

    def _p(self):
        if not self._ptr:
            raise ClosedError("operation on a closed parley Config")
        return self._ptr

    def close(self):
        if self._ptr:
            lib.parley_config_free(self._ptr)
            self._ptr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # at interpreter exit the module may be gone already
            pass

    def set_url(self, url: str):
        check(lib.parley_config_set_url(self._p(), text_in(url, "url")), "parley_config_set_url")

    def set_app_id(self, app_id: str):
        check(lib.parley_config_set_app_id(self._p(), text_in(app_id, "app_id")), "parley_config_set_app_id")

    def set_ca_file(self, path: str):
        check(lib.parley_config_set_ca_file(self._p(), text_in(path, "ca_file")), "parley_config_set_ca_file")

    def set_ca_pem(self, pem):
        data = pem.encode() if isinstance(pem, str) else bytes(pem)
        check(lib.parley_config_set_ca_pem(self._p(), data, len(data)), "parley_config_set_ca_pem")

    def set_pins(self, pins: Iterable[str]):
        """Replaces the pinned keys (base64 SHA-256 of the SubjectPublicKeyInfo; two at least)."""
        check(lib.parley_config_clear_pins(self._p()), "parley_config_clear_pins")
        for pin in pins:
            check(lib.parley_config_add_pin(self._p(), text_in(pin, "pin")), "parley_config_add_pin")

    def set_data_dir(self, path: str):
        check(lib.parley_config_set_data_dir(self._p(), text_in(path, "data_dir")), "parley_config_set_data_dir")

    def set_local_history(self, per_conversation: int):
        """Keep the newest `per_conversation` messages of each conversation on the device (0: none)."""
        check(lib.parley_config_set_local_history(self._p(), _u32(per_conversation, "per_conversation")),
              "parley_config_set_local_history")

    def set_durability(self, mode: int):
        """When a queued item counts as stored: Durability.WRITE (default) or SYNC."""
        check(lib.parley_config_set_durability(self._p(), int(mode)), "parley_config_set_durability")

    def set_outbox_cap(self, cap: int):
        check(lib.parley_config_set_outbox_cap(self._p(), _u32(cap, "outbox_cap")), "parley_config_set_outbox_cap")

    def set_event_limits(self, max_events: int = 0, max_bytes: int = 0):
        check(lib.parley_config_set_event_limits(self._p(), _u32(max_events, "max_events"),
                                                 _uint(max_bytes, "max_bytes", 8 * ctypes.sizeof(ctypes.c_size_t))),
              "parley_config_set_event_limits")

    def set_encryption_key(self, key: Optional[bytes]):
        """ENCRYPTION_KEY_SIZE bytes encrypt the journal; None turns encryption off."""
        if key is not None and len(key) != ENCRYPTION_KEY_SIZE:
            raise ValueError(f"encryption_key must be {ENCRYPTION_KEY_SIZE} bytes")
        data = None if key is None else bytes(key)
        check(lib.parley_config_set_encryption_key(self._p(), data, len(data or b"")),
              "parley_config_set_encryption_key")

    def set_log(self, sink: Optional[Callable[[LogLevel, str], None]], level: LogLevel = LogLevel.WARN):
        """sink(level, message); runs on the client's I/O thread after start()
        (parley.h, parley_log_fn), so it must be thread-safe. None: no log."""
        if sink is None:
            self._callbacks.pop("log", None)
            check(lib.parley_config_set_log(self._p(), parley_log_fn(), None, int(level)), "parley_config_set_log")
            return

        def trampoline(_user, lvl, msg):
            try:
                sink(LogLevel(lvl) if lvl in LogLevel._value2member_map_ else lvl, text_out(msg))
            except Exception:  # an exception cannot cross into C; a log sink must not break the client
                pass
        fn = parley_log_fn(trampoline)
        check(lib.parley_config_set_log(self._p(), fn, None, int(level)), "parley_config_set_log")
        self._callbacks["log"] = fn

    def set_allow_insecure(self, allow: bool):
        check(lib.parley_config_set_allow_insecure(self._p(), int(bool(allow))), "parley_config_set_allow_insecure")

    def set_reconnect(self, initial_ms: int, max_ms: int):
        check(lib.parley_config_set_reconnect(self._p(), _u32(initial_ms, "initial_ms"), _u32(max_ms, "max_ms")),
              "parley_config_set_reconnect")

    def set_context_limits(self, breadcrumb_cap: int, interval_ms: int):
        check(lib.parley_config_set_context_limits(self._p(), _u32(breadcrumb_cap, "breadcrumb_cap"),
                                                   _u32(interval_ms, "interval_ms")),
              "parley_config_set_context_limits")

    def set_app_version(self, version: str):
        check(lib.parley_config_set_app_version(self._p(), text_in(version, "app_version")),
              "parley_config_set_app_version")

    def set_consent(self, allowed: bool):
        check(lib.parley_config_set_consent(self._p(), int(bool(allowed))), "parley_config_set_consent")

    def set_redactor(self, redactor: Optional[Callable[[RedactField, str], Optional[str]]]):
        """redactor(field, text) returns the text to keep (None: unchanged),
        no longer than `text` in UTF-8 bytes. It runs on the thread of the call
        that carries the string. If it raises or returns something invalid,
        the text is blanked: a failed redaction never lets the original out."""
        if redactor is None:
            self._callbacks.pop("redactor", None)
            check(lib.parley_config_set_text_redactor(self._p(), parley_redact_text_fn(), None),
                  "parley_config_set_text_redactor")
            return

        def trampoline(_user, fld, text, r):
            try:
                new = redactor(RedactField(fld) if fld in RedactField._value2member_map_ else fld, text_out(text))
                if new is None or lib.parley_redaction_replace(r, text_in(new, "redacted text")) == 0:
                    return
            except Exception:  # nothing may cross into C; fall through to blanking
                pass
            lib.parley_redaction_replace(r, b"")
        fn = parley_redact_text_fn(trampoline)
        check(lib.parley_config_set_text_redactor(self._p(), fn, None), "parley_config_set_text_redactor")
        self._callbacks["redactor"] = fn

    def set_default_redactor(self, enabled: bool):
        check(lib.parley_config_set_default_redactor(self._p(), int(bool(enabled))),
              "parley_config_set_default_redactor")


class Client:
    """A support client: Client(url=..., app_id=..., ca_file=...) or
    Client(config). Drive it with start() (its own I/O thread) or service()
    from your loop, and take events with poll() / events(). A context
    manager; close() frees it and its open survey responses. Calls may come
    from several threads, but not concurrently with close()."""

    def __init__(self, config: Optional[Config] = None, **options):
        if config is not None and options:
            raise TypeError("give a Config or options, not both")
        own = config is None
        cfg = Config(**options) if own else config
        try:
            out = ctypes.POINTER(parley_client)()
            check(lib.parley_client_new(cfg._p(), ctypes.byref(out)), "parley_client_new")
            self._ptr = out
            self._callbacks = dict(cfg._callbacks)  # the client calls them, not the config
            self._responses = weakref.WeakSet()
        finally:
            if own:
                cfg.close()

    def _p(self):
        if not getattr(self, "_ptr", None):
            raise ClosedError("operation on a closed parley Client")
        return self._ptr

    def close(self):
        if getattr(self, "_ptr", None):
            for r in list(self._responses):
                r.close()
            lib.parley_client_free(self._ptr)
            self._ptr = None

    @property
    def closed(self) -> bool:
        return not getattr(self, "_ptr", None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # at interpreter exit the module may be gone already
            pass

    # -- connection
    def start(self):
        check(lib.parley_start(self._p()), "parley_start")

    def stop(self):
        check(lib.parley_stop(self._p()), "parley_stop")

    def reconnect_now(self):
        check(lib.parley_reconnect_now(self._p()), "parley_reconnect_now")

    def service(self, timeout_ms: int = 0):
        """Host-driven mode: the pending network work, for up to timeout_ms."""
        check(lib.parley_service(self._p(), int(timeout_ms)), "parley_service")

    # -- events
    def poll(self) -> Optional[Event]:
        """The next event, or None when there is none (never blocks)."""
        ev = ctypes.POINTER(parley_event)()
        rc = lib.parley_poll(self._p(), ctypes.byref(ev))
        if rc == ErrorCode.AGAIN:
            return None
        check(rc, "parley_poll")
        try:
            return event_from(ev)
        finally:
            lib.parley_event_free(ev)

    def events(self) -> Iterator[Event]:
        """The events pending now."""
        while True:
            ev = self.poll()
            if ev is None:
                return
            yield ev

    # -- identity and context
    def identify(self, user_id: str, token: Optional[str] = None):
        check(lib.parley_identify(self._p(), text_in(user_id, "user_id"), text_in(token, "token", True)),
              "parley_identify")

    @property
    def anonymous_id(self) -> str:
        buf = _out_buffer()
        check(lib.parley_anonymous_id(self._p(), buf, len(buf)), "parley_anonymous_id")
        return text_out(buf.value)

    def logout(self):
        check(lib.parley_logout(self._p()), "parley_logout")

    def set_consent(self, allowed: bool):
        check(lib.parley_set_consent(self._p(), int(bool(allowed))), "parley_set_consent")

    def set_attribute(self, key: str, value):
        """str, int/float (finite), bool, None, or a dict (sent as a JSON object)."""
        k = text_in(key, "key")
        if value is None:
            rc, fn = lib.parley_set_attribute_null(self._p(), k), "parley_set_attribute_null"
        elif isinstance(value, bool):
            rc, fn = lib.parley_set_attribute_bool(self._p(), k, int(value)), "parley_set_attribute_bool"
        elif isinstance(value, (int, float)):
            if not math.isfinite(value):
                raise ValueError(f"attribute {key!r} must be finite")
            rc, fn = lib.parley_set_attribute_num(self._p(), k, float(value)), "parley_set_attribute_num"
        elif isinstance(value, dict):
            rc = lib.parley_set_attribute_json(self._p(), k, text_in(json.dumps(value), "value"))
            fn = "parley_set_attribute_json"
        else:
            rc = lib.parley_set_attribute_str(self._p(), k, text_in(value, "value"))
            fn = "parley_set_attribute_str"
        check(rc, fn)

    def set_screen(self, screen: str):
        check(lib.parley_set_screen(self._p(), text_in(screen, "screen")), "parley_set_screen")

    def add_breadcrumb(self, text: str):
        check(lib.parley_add_breadcrumb(self._p(), text_in(text, "text")), "parley_add_breadcrumb")

    def set_device_fact(self, key: str, value: str):
        check(lib.parley_set_device_fact(self._p(), text_in(key, "key"), text_in(value, "value")),
              "parley_set_device_fact")

    def track_event(self, name: str, meta: Optional[dict] = None):
        data = None if meta is None else text_in(json.dumps(meta), "meta")
        check(lib.parley_track_event(self._p(), text_in(name, "name"), data), "parley_track_event")

    # -- conversations
    def conversation_start(self, subject: Optional[str] = None, *, category: Optional[str] = None,
                           area: Optional[str] = None, severity: Severity = Severity.NONE) -> str:
        """Starts a conversation (works offline); its id. `category`, `area`
        (the game or app area) and `severity` say what the app knows about
        the request, for the server's triage and the agents."""
        buf = _out_buffer()
        if category is None and area is None and severity == Severity.NONE:
            check(lib.parley_conversation_start(self._p(), text_in(subject, "subject", True), buf, len(buf)),
                  "parley_conversation_start")
        else:
            check(lib.parley_conversation_start_about(
                self._p(), text_in(subject, "subject", True), text_in(category, "category", True),
                text_in(area, "area", True), int(severity), buf, len(buf)),
                "parley_conversation_start_about")
        return text_out(buf.value)

    def send_text(self, conversation_id: str, text: str) -> str:
        """Queues a message; its client id (status events name it)."""
        buf = _out_buffer()
        check(lib.parley_send_text(self._p(), text_in(conversation_id, "conversation_id"), text_in(text, "text"),
                                   buf, len(buf)), "parley_send_text")
        return text_out(buf.value)

    @property
    def unsynced_count(self) -> int:
        """Journal writes not yet on stable storage (0: all survive a power loss)."""
        n = ctypes.c_uint32()
        check(lib.parley_unsynced_count(self._p(), ctypes.byref(n)), "parley_unsynced_count")
        return n.value

    @property
    def outbox_count(self) -> int:
        n = ctypes.c_uint32()
        check(lib.parley_outbox_count(self._p(), ctypes.byref(n)), "parley_outbox_count")
        return n.value

    def postback(self, conversation_id: str, message_id: str, option_id: str) -> str:
        """Answers a quick reply or button; the answer's client id."""
        buf = _out_buffer()
        check(lib.parley_postback(self._p(), text_in(conversation_id, "conversation_id"),
                                  text_in(message_id, "message_id"), text_in(option_id, "option_id"), buf,
                                  len(buf)), "parley_postback")
        return text_out(buf.value)

    def set_typing(self, conversation_id: str, on: bool):
        check(lib.parley_set_typing(self._p(), text_in(conversation_id, "conversation_id"), int(bool(on))),
              "parley_set_typing")

    def mark_read(self, conversation_id: str, seq: str):
        check(lib.parley_mark_read(self._p(), text_in(conversation_id, "conversation_id"), text_in(seq, "seq")),
              "parley_mark_read")

    def unread_count(self, conversation_id: Optional[str] = None) -> int:
        n = ctypes.c_uint32()
        check(lib.parley_unread_count(self._p(), text_in(conversation_id, "conversation_id", True),
                                      ctypes.byref(n)), "parley_unread_count")
        return n.value

    # -- requests: each returns the request id its answer event carries
    def list_conversations(self) -> str:
        buf = _out_buffer()
        check(lib.parley_list_conversations(self._p(), buf, len(buf)), "parley_list_conversations")
        return text_out(buf.value)

    def load_history(self, conversation_id: str, before_seq: Optional[str] = None, limit: int = 0) -> str:
        buf = _out_buffer()
        check(lib.parley_load_history(self._p(), text_in(conversation_id, "conversation_id"),
                                      text_in(before_seq, "before_seq", True), int(limit), buf, len(buf)),
              "parley_load_history")
        return text_out(buf.value)

    def search_articles(self, query: str) -> str:
        buf = _out_buffer()
        check(lib.parley_search_articles(self._p(), text_in(query, "query"), buf, len(buf)),
              "parley_search_articles")
        return text_out(buf.value)

    def get_article(self, article_id: str) -> str:
        buf = _out_buffer()
        check(lib.parley_get_article(self._p(), text_in(article_id, "article_id"), buf, len(buf)),
              "parley_get_article")
        return text_out(buf.value)

    # -- surveys and proactive content
    def survey_response(self, survey_id: str) -> "SurveyResponse":
        return SurveyResponse(self, survey_id)

    def dismiss_survey(self, survey_id: str) -> str:
        buf = _out_buffer()
        check(lib.parley_survey_dismiss(self._p(), text_in(survey_id, "survey_id"), buf, len(buf)),
              "parley_survey_dismiss")
        return text_out(buf.value)

    def mute_proactive(self, duration_ms: int):
        check(lib.parley_mute_proactive(self._p(), _u32(duration_ms, "duration_ms")), "parley_mute_proactive")

    # -- attachments
    def send_attachment(self, conversation_id: str, path: str, name: Optional[str] = None,
                        mime_type: Optional[str] = None, caption: Optional[str] = None) -> str:
        """Sends the file at `path`; the message's client id (status and attachment events name it)."""
        buf = _out_buffer()
        check(lib.parley_send_attachment(self._p(), text_in(conversation_id, "conversation_id"),
                                         text_in(path, "path"), text_in(name, "name", True),
                                         text_in(mime_type, "mime_type", True), text_in(caption, "caption", True),
                                         buf, len(buf)), "parley_send_attachment")
        return text_out(buf.value)

    def send_attachment_bytes(self, conversation_id: str, data: bytes, name: str, mime_type: Optional[str] = None,
                              caption: Optional[str] = None) -> str:
        """Sends `data` (bytes, copied) as a file named `name`; the message's client id."""
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        buf = _out_buffer()
        check(lib.parley_send_attachment_bytes(self._p(), text_in(conversation_id, "conversation_id"), bytes(data),
                                               len(data), text_in(name, "name"),
                                               text_in(mime_type, "mime_type", True),
                                               text_in(caption, "caption", True), buf, len(buf)),
              "parley_send_attachment_bytes")
        return text_out(buf.value)

    def fetch_attachment(self, attachment_id: str, dest_path: Optional[str] = None) -> str:
        """Downloads into `dest_path`, or (None) as AttachmentState.DATA events; the request id."""
        buf = _out_buffer()
        check(lib.parley_fetch_attachment(self._p(), text_in(attachment_id, "attachment_id"),
                                          text_in(dest_path, "dest_path", True), buf, len(buf)),
              "parley_fetch_attachment")
        return text_out(buf.value)

    # -- push notifications
    def set_push_token(self, platform: Optional[str], token: Optional[str]):
        """The device's push token ("apns", "fcm" or your own platform name); None for both removes it."""
        check(lib.parley_set_push_token(self._p(), text_in(platform, "platform", True),
                                        text_in(token, "token", True)), "parley_set_push_token")

    def handle_push(self, payload):
        """Hands a received push payload (a dict or JSON text) to the client."""
        text = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        check(lib.parley_handle_push(self._p(), text_in(text, "payload")), "parley_handle_push")


class IncompleteError(Error):
    """SurveyResponse.submit(): a required question is unanswered (`question_id`)."""

    def __init__(self, question_id):
        super().__init__(ErrorCode.INCOMPLETE, "parley_survey_submit", f"question {question_id!r}")
        self.question_id = question_id


class SurveyResponse:
    """Answers to one pending survey (Client.survey_response(id)). Closed
    with its client at the latest."""

    def __init__(self, client: Client, survey_id: str):
        out = ctypes.POINTER(parley_survey_response)()
        check(lib.parley_survey_response_new(client._p(), text_in(survey_id, "survey_id"), ctypes.byref(out)),
              "parley_survey_response_new")
        self._ptr = out
        client._responses.add(self)

    def _p(self):
        if not getattr(self, "_ptr", None):
            raise ClosedError("operation on a closed parley SurveyResponse")
        return self._ptr

    def close(self):
        if getattr(self, "_ptr", None):
            lib.parley_survey_response_free(self._ptr)
            self._ptr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def answer_number(self, question_id: str, value: int):
        check(lib.parley_survey_answer_number(self._p(), text_in(question_id, "question_id"), int(value)),
              "parley_survey_answer_number")

    def answer_choice(self, question_id: str, option_id: str):
        check(lib.parley_survey_answer_choice(self._p(), text_in(question_id, "question_id"),
                                              text_in(option_id, "option_id")), "parley_survey_answer_choice")

    def answer_choices(self, question_id: str, option_ids: Iterable[str]):
        ids = [text_in(o, "option_ids") for o in option_ids]
        arr = (ctypes.c_char_p * max(len(ids), 1))(*ids)
        check(lib.parley_survey_answer_choices(self._p(), text_in(question_id, "question_id"), arr, len(ids)),
              "parley_survey_answer_choices")

    def answer_text(self, question_id: str, text: str):
        check(lib.parley_survey_answer_text(self._p(), text_in(question_id, "question_id"), text_in(text, "text")),
              "parley_survey_answer_text")

    def clear_answer(self, question_id: str):
        check(lib.parley_survey_clear_answer(self._p(), text_in(question_id, "question_id")),
              "parley_survey_clear_answer")

    def question_visible(self, question_id: str) -> bool:
        return bool(check(lib.parley_survey_question_visible(self._p(), text_in(question_id, "question_id")),
                          "parley_survey_question_visible"))

    def submit(self) -> str:
        """Submits through the durable outbox; the submission's client id.
        IncompleteError names a required question left unanswered."""
        missing, cid = _out_buffer(SURVEY_ID_SIZE), _out_buffer()
        rc = lib.parley_survey_submit(self._p(), missing, len(missing), cid, len(cid))
        if rc == ErrorCode.INCOMPLETE:
            raise IncompleteError(text_out(missing.value))
        check(rc, "parley_survey_submit")
        return text_out(cid.value)
