"""Against a real parley-server over wss (bindings/testing/with_server.py
starts one and sets PARLEY_TEST_*): the bot flow with quick replies,
context, requests, a survey, identity, logout, both driving modes."""
import hashlib
import hmac
import json
import os
import ssl
import time
import urllib.request

import pytest

import parley
from parley import AuthorKind, BlockKind, ConnState, ConvState, ErrorCode, EventType, MsgState, QuestionKind

URL = os.environ.get("PARLEY_TEST_URL")
CA = os.environ.get("PARLEY_TEST_CA")
pytestmark = pytest.mark.skipif(not URL, reason="no server: run through bindings/testing/with_server.py")


class Recorder:
    """Keeps every event of a client and waits for the ones a test wants."""

    def __init__(self, client, threaded=False):
        self.client, self.threaded, self.events = client, threaded, []

    def pump(self, ms=20):
        if self.threaded:
            time.sleep(ms / 1000)
        else:
            self.client.service(ms)
        self.events.extend(self.client.events())

    def wait(self, pred, timeout=10.0, what="an event"):
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for ev in self.events[seen:]:
                if pred(ev):
                    self.events.remove(ev)
                    return ev
            seen = len(self.events)
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout} s; got {[(e.type, e.text) for e in self.events]}")
            self.pump()


def client(**extra):
    return parley.Client(url=URL, ca_file=CA, app_id="py-test", reconnect=(100, 1000), **extra)


def agent_api(method, path, body=None):
    req = urllib.request.Request(os.environ["PARLEY_TEST_API"] + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + os.environ["PARLEY_TEST_AGENT_TOKEN"],
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=CA), timeout=10) as r:
        return json.loads(r.read() or b"null")


def bot_message(ev):
    return ev.type == EventType.MESSAGE and ev.author_kind == AuthorKind.BOT


def test_bot_flow_with_quick_replies_and_requests():
    with client(consent=True) as c:
        rec = Recorder(c)
        c.set_attribute("plan", "vip")
        c.set_screen("inventory")
        c.add_breadcrumb("opened support")
        conv = c.conversation_start("Payment problem")
        cid = c.send_text(conv, "My gems never arrived")
        rec.wait(lambda e: e.type == EventType.CONNECTION and e.state == ConnState.ONLINE, what="online")
        sent = rec.wait(lambda e: e.type == EventType.MESSAGE_STATUS and e.client_id == cid
                        and e.state == MsgState.SENT, what="SENT")
        assert sent.seq and sent.message_id
        greeting = rec.wait(bot_message, what="the bot's greeting")
        assert greeting.conversation_id == conv and greeting.author_name == "Parley Bot"
        labels = [o.label for o in greeting.quick_replies]
        assert labels == ["Billing", "Bugs", "Talk to a human"]
        assert greeting.blocks[0].kind == BlockKind.QUICK_REPLIES and json.loads(greeting.raw_json)
        billing = greeting.quick_replies[0]
        c.postback(conv, greeting.message_id, billing.id)
        answer = rec.wait(lambda e: bot_message(e) and e.text == "What's the billing problem?", what="the answer")
        assert "I want a refund" in [o.label for o in answer.quick_replies]
        with pytest.raises(parley.Error) as e:
            c.postback(conv, greeting.message_id, billing.id)  # a quick-reply set is used up
        assert e.value.code == ErrorCode.STATE

        c.mark_read(conv, answer.seq)
        rec.wait(lambda e: e.type == EventType.UNREAD and e.conversation_id == conv and e.count == 0, what="unread 0")
        assert c.unread_count(conv) == 0 and c.unread_count() == 0
        c.set_typing(conv, True)
        req = c.list_conversations()
        listing = rec.wait(lambda e: e.type == EventType.CONVERSATIONS and e.request_id == req, what="the list")
        assert conv in [i.conversation_id for i in listing.items]
        req = c.load_history(conv, limit=50)
        history = rec.wait(lambda e: e.type == EventType.HISTORY and e.request_id == req, what="history")
        assert "My gems never arrived" in [i.text for i in history.items]
        assert any(i.blocks for i in history.items)
        req = c.search_articles("refund")
        found = rec.wait(lambda e: e.type == EventType.ARTICLES and e.request_id == req, what="articles")
        assert found.items and found.items[0].title
        req = c.get_article(found.items[0].message_id)
        article = rec.wait(lambda e: e.type == EventType.ARTICLE and e.request_id == req, what="the article")
        assert article.text and article.title == found.items[0].title
        c.track_event("purchase_failed", {"sku": "gems_500"})
        pro = rec.wait(lambda e: e.type == EventType.PROACTIVE, what="the proactive message")
        assert "purchase" in pro.text


def test_threaded_client_survey_after_the_agent_closes():
    with client() as c:
        rec = Recorder(c, threaded=True)
        c.start()
        conv = c.conversation_start("Survey please")
        c.send_text(conv, "hello")
        rec.wait(bot_message, what="the greeting")
        agent_api("POST", f"/conversations/{conv}/close", {})
        rec.wait(lambda e: e.type == EventType.CONVERSATION and e.state == ConvState.CLOSED, what="closed")
        ev = rec.wait(lambda e: e.type == EventType.SURVEY, what="the CSAT survey")
        survey = ev.survey
        assert survey.title == "How did we do?" and survey.conversation_id == conv
        kinds = [q.kind for q in survey.questions]
        assert kinds == [QuestionKind.RATING, QuestionKind.SINGLE, QuestionKind.TEXT]
        assert survey.questions[2].show_if_question == "q1" and survey.questions[2].show_if_values == ("1", "2")
        assert ("fixed", "It got fixed") in survey.questions[1].options
        left_open = c.survey_response(survey.id)
        with c.survey_response(survey.id) as r:
            with pytest.raises(parley.IncompleteError) as e:
                r.submit()
            assert e.value.question_id == "q1"
            with pytest.raises(parley.Error) as e:
                r.answer_number("q1", 9)
            assert e.value.code == ErrorCode.RANGE
            r.answer_number("q1", 2)
            assert r.question_visible("q3")
            r.answer_text("q3", "too slow")
            r.answer_number("q1", 5)
            assert not r.question_visible("q3")
            r.answer_choice("q2", "fixed")
            r.clear_answer("q2")
            r.answer_choice("q2", "fast")
            cid = r.submit()
        rec.wait(lambda e: e.type == EventType.MESSAGE_STATUS and e.client_id == cid and e.state == MsgState.SENT,
                 what="the submission acknowledged")
        c.stop()
    with pytest.raises(parley.ClosedError):  # closing the client closed its responses
        left_open.answer_number("q1", 3)
    rows = agent_api("GET", "/surveys/csat/responses")
    assert "fast" in json.dumps(rows)


def test_identified_user_with_the_servers_hmac():
    user = "py-player-1"
    good = hmac.new(os.environ["PARLEY_TEST_HMAC_SECRET"].encode(), user.encode(), hashlib.sha256).hexdigest()
    with client() as c:
        rec = Recorder(c)
        c.identify(user, good)
        rec.wait(lambda e: e.type == EventType.CONNECTION and e.state == ConnState.ONLINE, what="online")
        c.identify(user, "0" * 64)
        err = rec.wait(lambda e: e.error_code == ErrorCode.AUTH, what="the refused identity")
        assert err.type in (EventType.ERROR, EventType.CONNECTION)
        c.logout()
        assert c.anonymous_id.startswith("a-")
        rec.wait(lambda e: e.type == EventType.CONNECTION and e.state == ConnState.ONLINE, what="online again")


def test_attachment_round_trip_push_token_and_local_history(tmp_path):
    from parley import AttachmentState
    data = b"player.log\n" + bytes(range(256)) * 200  # 51 KB: five chunks
    with client(data_dir=str(tmp_path), local_history=20) as c:
        rec = Recorder(c)
        c.set_push_token("fcm", "py-token-1")
        with pytest.raises(parley.Error) as bad:
            c.set_push_token("fcm", "a token with spaces")
        assert bad.value.code == ErrorCode.INVALID_ARG
        conv = c.conversation_start("a log file")
        with pytest.raises(TypeError):
            c.send_attachment_bytes(conv, "not bytes", "x.log")
        cid = c.send_attachment_bytes(conv, data, "player.log", "text/plain", "my log")
        rec.wait(lambda e: e.type == EventType.ATTACHMENT and e.client_id == cid
                 and e.state == AttachmentState.UPLOADED, what="UPLOADED")
        rec.wait(lambda e: e.type == EventType.MESSAGE_STATUS and e.client_id == cid and e.state == MsgState.SENT,
                 what="SENT")
        msgs = agent_api("GET", f"/conversations/{conv}/messages")
        att = next(m["attachment"] for m in msgs if "attachment" in m)
        assert att["sha256"] == hashlib.sha256(data).hexdigest() and att["size"] == len(data)
        req = c.fetch_attachment(att["id"])
        chunks = []
        while True:
            ev = rec.wait(lambda e: e.type == EventType.ATTACHMENT and e.request_id == req, what="download")
            if ev.state == AttachmentState.DATA:
                chunks.append(ev.chunk)
            elif ev.state in (AttachmentState.DOWNLOADED, AttachmentState.FAILED):
                break
        assert ev.state == AttachmentState.DOWNLOADED and b"".join(chunks) == data
        req = c.load_history(conv, None, 20)
        local = rec.wait(lambda e: e.type == EventType.HISTORY and e.request_id == req, what="local history")
        assert local.from_device
        c.handle_push({"parley": {"conv": conv, "seq": "1"}})
        with pytest.raises(parley.Error):
            c.handle_push("not json")
