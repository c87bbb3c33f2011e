"""Events as immutable values: everything an event carries is copied out
when it is polled and the native event freed at once, so nothing here
dangles or needs closing."""
import ctypes
from dataclasses import dataclass, field
from typing import Optional, Tuple, Union

from ._errors import _enum, text_out
from ._loader import lib
from ._native import (ATTACHMENT_CHUNK_SIZE, AttachmentState, AuthorKind, BlockKind, ConnState, ConvState,
                      ErrorCode, EventType, MsgState, OptionAction, QuestionKind, TlsFailure, TypingState)

_STATE_ENUMS = {EventType.CONNECTION: ConnState, EventType.MESSAGE_STATUS: MsgState,
                EventType.CONVERSATION: ConvState, EventType.TYPING: TypingState,
                EventType.ATTACHMENT: AttachmentState}


@dataclass(frozen=True)
class Option:
    """A quick reply or a button: answer it with Client.postback(conv, message_id, option.id)."""
    id: Optional[str]
    label: Optional[str]
    payload: Optional[str]
    url: Optional[str]
    action: Union[OptionAction, int]


@dataclass(frozen=True)
class Block:
    """Structured content of a message: quick replies, buttons, a card, a carousel of cards."""
    kind: Union[BlockKind, int]
    title: Optional[str]
    text: Optional[str]
    image_url: Optional[str]
    options: Tuple[Option, ...]
    cards: Tuple["Block", ...]


@dataclass(frozen=True)
class Question:
    id: Optional[str]
    text: Optional[str]
    kind: Union[QuestionKind, int]
    required: bool
    min: int
    max: int
    min_label: Optional[str]
    max_label: Optional[str]
    max_length: int
    options: Tuple[Tuple[str, str], ...]  # (id, label)
    show_if_question: Optional[str]
    show_if_values: Tuple[str, ...]


@dataclass(frozen=True)
class Survey:
    id: Optional[str]
    name: Optional[str]
    title: Optional[str]
    intro: Optional[str]
    conversation_id: Optional[str]
    proactive: bool
    questions: Tuple[Question, ...]


@dataclass(frozen=True)
class Event:
    """One event from Client.poll(). Fields an event does not carry are None
    (strings) or 0 (numbers); `state` is the enum that fits `type`."""
    type: Union[EventType, int]
    state: int
    conversation_id: Optional[str]
    message_id: Optional[str]
    client_id: Optional[str]
    seq: Optional[str]
    text: Optional[str]
    author_kind: Union[AuthorKind, int]
    author_name: Optional[str]
    timestamp_ms: int
    retry_ms: int
    error_code: Union[ErrorCode, int]
    tls_failures: TlsFailure
    queue_position: int
    wait_s: int
    count: int
    request_id: Optional[str]
    more: bool
    title: Optional[str]
    url: Optional[str]
    raw_json: Optional[str]
    blocks: Tuple[Block, ...] = field(default=())
    items: Tuple["Event", ...] = field(default=())
    survey: Optional[Survey] = None
    # The attachment a message carries, or an upload's file.
    attachment_id: Optional[str] = None
    attachment_name: Optional[str] = None
    attachment_type: Optional[str] = None
    attachment_sha256: Optional[str] = None
    attachment_size: int = 0
    # EventType.ATTACHMENT: bytes moved so far and the file's size;
    # AttachmentState.DATA: the chunk's bytes.
    bytes_done: int = 0
    bytes_total: int = 0
    chunk: bytes = b""
    # EventType.HISTORY: the answer came from the local history.
    from_device: bool = False

    @property
    def quick_replies(self) -> Tuple[Option, ...]:
        """The options of the event's quick-reply blocks."""
        return tuple(o for b in self.blocks if b.kind == BlockKind.QUICK_REPLIES for o in b.options)


def _s(fn, *args):
    return text_out(fn(*args))


def option_from(o):
    return Option(_s(lib.parley_option_id, o), _s(lib.parley_option_label, o), _s(lib.parley_option_payload, o),
                  _s(lib.parley_option_url, o), _enum(OptionAction, lib.parley_option_action(o)))


def block_from(b):
    options = tuple(option_from(lib.parley_block_option(b, j)) for j in range(lib.parley_block_option_count(b)))
    cards = tuple(block_from(lib.parley_block_card(b, j)) for j in range(lib.parley_block_card_count(b)))
    return Block(_enum(BlockKind, lib.parley_block_kind(b)), _s(lib.parley_block_title, b),
                 _s(lib.parley_block_text, b), _s(lib.parley_block_image_url, b), options, cards)


def question_from(q):
    options = tuple((_s(lib.parley_question_option_id, q, j), _s(lib.parley_question_option_label, q, j))
                    for j in range(lib.parley_question_option_count(q)))
    values = tuple(_s(lib.parley_question_show_if_value, q, j)
                   for j in range(lib.parley_question_show_if_value_count(q)))
    return Question(_s(lib.parley_question_id, q), _s(lib.parley_question_text, q),
                    _enum(QuestionKind, lib.parley_question_kind(q)), bool(lib.parley_question_required(q)),
                    lib.parley_question_min(q), lib.parley_question_max(q), _s(lib.parley_question_min_label, q),
                    _s(lib.parley_question_max_label, q), lib.parley_question_max_length(q), options,
                    _s(lib.parley_question_show_if_question, q), values)


def survey_from(s):
    if not s:
        return None
    questions = tuple(question_from(lib.parley_survey_question(s, i))
                      for i in range(lib.parley_survey_question_count(s)))
    return Survey(_s(lib.parley_survey_id, s), _s(lib.parley_survey_name, s), _s(lib.parley_survey_title, s),
                  _s(lib.parley_survey_intro, s), _s(lib.parley_survey_conversation_id, s),
                  bool(lib.parley_survey_is_proactive(s)), questions)


def _chunk(ev):
    buf = ctypes.create_string_buffer(ATTACHMENT_CHUNK_SIZE)
    n = lib.parley_event_attachment_chunk(ev, buf, len(buf))
    return buf.raw[:n] if n > 0 else b""


def event_from(ev):
    """A copy of everything native event `ev` carries (the caller frees it)."""
    etype = _enum(EventType, lib.parley_event_type(ev))
    state = lib.parley_event_state(ev)
    if etype in _STATE_ENUMS:
        state = _enum(_STATE_ENUMS[etype], state)
    blocks = tuple(block_from(lib.parley_event_block(ev, i)) for i in range(lib.parley_event_block_count(ev)))
    items = tuple(event_from(lib.parley_event_item(ev, i)) for i in range(lib.parley_event_item_count(ev)))
    return Event(
        type=etype, state=state, conversation_id=_s(lib.parley_event_conversation_id, ev),
        message_id=_s(lib.parley_event_message_id, ev), client_id=_s(lib.parley_event_client_id, ev),
        seq=_s(lib.parley_event_seq, ev), text=_s(lib.parley_event_text, ev),
        author_kind=_enum(AuthorKind, lib.parley_event_author_kind(ev)),
        author_name=_s(lib.parley_event_author_name, ev), timestamp_ms=lib.parley_event_timestamp_ms(ev),
        retry_ms=lib.parley_event_retry_ms(ev), error_code=_enum(ErrorCode, lib.parley_event_error_code(ev)),
        tls_failures=TlsFailure(lib.parley_event_tls_failures(ev)),
        queue_position=lib.parley_event_queue_position(ev), wait_s=lib.parley_event_wait_s(ev),
        count=lib.parley_event_count(ev), request_id=_s(lib.parley_event_request_id, ev),
        more=bool(lib.parley_event_more(ev)), title=_s(lib.parley_event_title, ev),
        url=_s(lib.parley_event_url, ev), raw_json=_s(lib.parley_event_raw_json, ev), blocks=blocks,
        items=items, survey=survey_from(lib.parley_event_survey(ev)),
        attachment_id=_s(lib.parley_event_attachment_id, ev), attachment_name=_s(lib.parley_event_attachment_name, ev),
        attachment_type=_s(lib.parley_event_attachment_type, ev),
        attachment_sha256=_s(lib.parley_event_attachment_sha256, ev),
        attachment_size=lib.parley_event_attachment_size(ev), bytes_done=lib.parley_event_bytes_done(ev),
        bytes_total=lib.parley_event_bytes_total(ev), chunk=_chunk(ev),
        from_device=bool(lib.parley_event_from_device(ev)))
