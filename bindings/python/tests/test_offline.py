"""Configuration, bad input and lifetimes, without a server: every mistake
is a Python exception, never a crash."""
import os
import threading
import time

import pytest

import parley
from parley import ErrorCode, EventType, MsgState

URL = "wss://localhost:9"  # nothing listens there: the client stays offline


def offline_client(**extra):
    return parley.Client(url=URL, app_id="py-offline", **extra)


def test_config_errors_are_exceptions():
    with pytest.raises(TypeError):
        parley.Config(url=None)
    with pytest.raises(TypeError):
        parley.Config(url=42)
    with pytest.raises(TypeError):
        parley.Config(colour="blue")
    parley.Config(durability=parley.Durability.SYNC)
    with pytest.raises(parley.Error):
        parley.Config(durability=3)
    with pytest.raises(ValueError):
        parley.Config(url="wss://local\0host")
    with pytest.raises(parley.Error) as e:
        parley.Config(url="http://example.com")
    assert e.value.code == ErrorCode.INVALID_ARG and e.value.function == "parley_config_set_url"
    with pytest.raises(parley.Error) as e:
        parley.Config(app_version="v" * 5000)
    assert e.value.code == ErrorCode.TOO_LONG
    with pytest.raises(ValueError):
        parley.Config(encryption_key=b"short")
    with pytest.raises(parley.Error) as e:
        parley.Config(reconnect=(0, 10))
    assert e.value.code == ErrorCode.INVALID_ARG
    with pytest.raises(ValueError):
        parley.Config(outbox_cap=-1)
    with pytest.raises(parley.Error) as e:
        parley.Config(pins=["not a pin"])
    assert e.value.code == ErrorCode.INVALID_ARG
    assert "invalid argument" in str(e.value)


def test_client_creation_errors():
    with pytest.raises(parley.Error) as e:
        parley.Client(app_id="x")
    assert e.value.code == ErrorCode.CONFIG
    with pytest.raises(parley.Error) as e:
        parley.Client(url="ws://localhost:9", app_id="x")
    assert e.value.code == ErrorCode.INSECURE
    with pytest.raises(TypeError):
        parley.Client(parley.Config(), url=URL)


def test_bad_input_on_a_live_client():
    with offline_client() as c:
        conv = c.conversation_start("Payment problem")
        assert conv.startswith("c-")
        assert c.conversation_start("Gems", category="payments", area="shop/gems",
                                    severity=parley.Severity.HIGH).startswith("c-")
        with pytest.raises(parley.Error) as e:
            c.conversation_start(category="pay ments")
        assert e.value.code == ErrorCode.INVALID_ARG
        with pytest.raises(parley.Error) as e:
            c.conversation_start(area="a" * 300)
        assert e.value.code == ErrorCode.TOO_LONG
        with pytest.raises(parley.Error) as e:
            c.conversation_start(severity=9)
        assert e.value.code == ErrorCode.INVALID_ARG
        with pytest.raises(ValueError):
            c.conversation_start(category="nul\0inside")
        with pytest.raises(TypeError):
            c.send_text(conv, None)
        with pytest.raises(TypeError):
            c.send_text(None, "hello")
        with pytest.raises(parley.Error) as e:
            c.send_text(conv, "x" * 5000)
        assert e.value.code == ErrorCode.TOO_LONG
        with pytest.raises(parley.Error) as e:
            c.send_text(conv, "")
        assert e.value.code == ErrorCode.INVALID_ARG
        with pytest.raises(parley.Error) as e:
            c.send_text("c-unknown", "hello")
        assert e.value.code == ErrorCode.NOT_FOUND
        with pytest.raises(ValueError):
            c.send_text(conv, "nul\0inside")
        with pytest.raises(ValueError):
            c.set_attribute("level", float("nan"))
        with pytest.raises(parley.Error) as e:
            c.set_screen("s" * 300)
        assert e.value.code == ErrorCode.TOO_LONG
        with pytest.raises(parley.Error) as e:
            c.survey_response("s-nope")
        assert e.value.code == ErrorCode.NOT_FOUND
        with pytest.raises(parley.Error) as e:
            c.postback(conv, "m-unknown", "billing")
        assert e.value.code == ErrorCode.NOT_FOUND
        with pytest.raises(parley.Error) as e:
            c.service(-1)
        assert e.value.code == ErrorCode.INVALID_ARG
        with pytest.raises(parley.Error) as e:
            c.track_event("purchase_failed", {"sku": "gems"})
        assert e.value.code == ErrorCode.CONSENT
        with pytest.raises(parley.Error) as e:
            c.stop()
        assert e.value.code == ErrorCode.STATE


def test_offline_send_gives_a_pending_event():
    with offline_client() as c:
        conv = c.conversation_start()
        cid = c.send_text(conv, "queued while offline")
        assert c.outbox_count == 2
        assert c.unsynced_count == 0  # no data dir: nothing waits for a disk
        events = list(c.events())
        pending = [e for e in events if e.type == EventType.MESSAGE_STATUS and e.client_id == cid]
        assert pending and pending[0].state == MsgState.PENDING
        assert c.poll() is None
        assert c.unread_count() == 0
        aid = c.anonymous_id
        assert aid.startswith("a-")


def test_context_calls_accept_python_values():
    with offline_client(consent=True) as c:
        c.set_attribute("plan", "vip")
        c.set_attribute("level", 7)
        c.set_attribute("ratio", 0.5)
        c.set_attribute("beta", True)
        c.set_attribute("nothing", None)
        c.set_attribute("inventory", {"gems": 500, "items": ["sword"]})
        c.set_screen("shop/gems")
        c.add_breadcrumb("opened the shop")
        c.set_device_fact("gpu", "test")
        c.track_event("level_failed", {"level": 3})
        c.set_consent(False)
        c.mute_proactive(1000)
        c.reconnect_now()


def test_closed_objects_raise_instead_of_crashing():
    c = offline_client()
    conv = c.conversation_start()
    c.close()
    c.close()  # idempotent
    assert c.closed
    for call in (lambda: c.send_text(conv, "hi"), c.poll, lambda: c.service(0), c.start,
                 lambda: c.anonymous_id, lambda: c.set_screen("x")):
        with pytest.raises(parley.ClosedError):
            call()
    cfg = parley.Config()
    cfg.close()
    with pytest.raises(parley.ClosedError):
        cfg.set_url(URL)
    with pytest.raises(parley.ClosedError):
        parley.Client(cfg)


def test_redactor_runs_before_the_disk(tmp_path):
    seen = []

    def redactor(field, text):
        seen.append((field, text))
        return text.replace("Bob", "[n]") if field == parley.RedactField.MESSAGE else None

    with offline_client(data_dir=str(tmp_path), redactor=redactor) as c:
        conv = c.conversation_start()
        c.send_text(conv, "hi Bob, card 4111 1111 1111 1111")
    journal = (tmp_path / "journal").read_bytes()
    assert (parley.RedactField.MESSAGE, "hi Bob, card 4111 1111 1111 1111") in seen
    assert b"Bob" not in journal and b"4111" not in journal
    assert b"hi [n], card [card]" in journal


def test_a_failing_redactor_lets_nothing_out(tmp_path):
    def longer(field, text):
        return text + " and more"  # longer than the original: refused, the text is blanked

    def broken(field, text):
        raise RuntimeError("bug in the host's redactor")

    for i, hook in enumerate((longer, broken)):
        d = tmp_path / str(i)
        with offline_client(data_dir=str(d), redactor=hook) as c:
            conv = c.conversation_start()
            try:
                c.send_text(conv, "secret-words")
            except parley.Error:
                pass  # an empty message may be refused: either way nothing leaks
        assert b"secret-words" not in (d / "journal").read_bytes()


def test_log_sink_called_from_the_io_thread():
    lines, threads = [], set()

    def sink(level, msg):
        lines.append((level, msg))
        threads.add(threading.get_ident())

    main = threading.get_ident()
    with offline_client(log=(sink, parley.LogLevel.DEBUG), reconnect=(50, 100)) as c:
        c.start()
        for _ in range(300):
            if threads - {main}:
                break
            time.sleep(0.01)
        c.stop()
    assert threads - {main}, "no log line from the I/O thread of a client that cannot connect"
    assert all(isinstance(level, parley.LogLevel) for level, _ in lines)


def test_survey_response_needs_an_open_client():
    c = offline_client()
    c.close()
    with pytest.raises(parley.ClosedError):
        c.survey_response("s-1")


def test_error_carries_code_and_message():
    e = parley.Error(-7, "parley_send_text")
    assert e.code == ErrorCode.TOO_LONG and e.message == parley.strerror(-7)
    assert parley.Error(-999, "f").code == -999  # a code newer than the package stays an int
    assert os.path.basename(parley.__file__) == "__init__.py"
