// parley.hpp - header-only C++17 wrapper of libparley (bindings/cpp/README.md).
//
// - RAII: Config, Client and SurveyResponse own their native handles
//   (move-only). A SurveyResponse shares its client's handle, so the native
//   client is freed when the Client and its last response are gone.
// - Errors are exceptions: parley::Error (a PARLEY_ERR_* code, std::runtime_error)
//   from the library; std::invalid_argument for strings holding a NUL;
//   parley::ClosedError (std::logic_error) for a call on a closed or
//   moved-from object; parley::VersionError when the loaded library does
//   not fit the header this was generated from. Nothing is reported through
//   return codes, except poll(), whose "no event" is an empty optional.
// - Strings go in as std::string_view (copied by the library) and come out
//   as std::string / std::optional<std::string>.
// - Events are values: everything an event carries is copied out when it is
//   polled and the native event freed at once.
// - Callbacks (log, redactor, storage) are std::function / an interface,
//   kept alive by the config and every client made from it; an exception
//   thrown in one never crosses into C (see each setter).
#ifndef PARLEY_HPP
#define PARLEY_HPP

#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <parley.h>

#include "parley/api.hpp"

namespace parley {

class Error : public std::runtime_error {
public:
    Error(int code, const char *function)
        : std::runtime_error(std::string(function) + ": " + ::parley_strerror(code)), code_(code),
          function_(function)
    {
    }
    ErrorCode code() const noexcept { return static_cast<ErrorCode>(code_); }
    const char *function() const noexcept { return function_; }

private:
    int code_;
    const char *function_;
};

// Survey submission: a required question (question_id()) is unanswered.
class IncompleteError : public Error {
public:
    explicit IncompleteError(std::string question)
        : Error(PARLEY_ERR_INCOMPLETE, "parley_survey_submit"), question_(std::move(question))
    {
    }
    const std::string &question_id() const noexcept { return question_; }

private:
    std::string question_;
};

class ClosedError : public std::logic_error {
public:
    explicit ClosedError(const char *what) : std::logic_error(what) {}
};

class VersionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// docs/abi.md: the same major; before 1.0 the same minor, from 1.0 on a
// library minor at least the one this header was generated from.
constexpr bool compatible(int lib_major, int lib_minor, int gen_major, int gen_minor) noexcept
{
    return lib_major == gen_major && (gen_major == 0 ? lib_minor == gen_minor : lib_minor >= gen_minor);
}

// The loaded library's version string; throws VersionError when it does not
// fit. Every Config checks this once.
inline std::string check_version()
{
    int major = 0, minor = 0, patch = 0;
    std::string text = ::parley_version(&major, &minor, &patch);
    if (!compatible(major, minor, generated_major, generated_minor))
        throw VersionError("libparley " + text + " is not compatible with parley.hpp, generated from " +
                           std::to_string(generated_major) + "." + std::to_string(generated_minor) +
                           " (docs/abi.md)");
    return text;
}

namespace detail {

inline int check(int rc, const char *function)
{
    if (rc < 0)
        throw Error(rc, function);
    return rc;
}

// A NUL-terminated copy; a NUL inside would silently cut the string short.
inline std::string c_str(std::string_view s, const char *what)
{
    if (s.find('\0') != std::string_view::npos)
        throw std::invalid_argument(std::string(what) + " contains a NUL character");
    return std::string(s);
}

inline std::optional<std::string> opt(const char *s)
{
    return s ? std::optional<std::string>(s) : std::nullopt;
}

inline std::string str(const char *s)
{
    return s ? std::string(s) : std::string();
}

struct StorageHolder;

// What a config's callbacks need, shared with every client made from it.
struct Hooks {
    std::function<void(LogLevel, std::string_view)> log;
    std::function<std::optional<std::string>(RedactField, std::string_view)> redactor;
    std::shared_ptr<StorageHolder> storage;
};

struct ConfigFree {
    void operator()(parley_config *c) const noexcept { ::parley_config_free(c); }
};

struct ResponseFree {
    void operator()(parley_survey_response *r) const noexcept { ::parley_survey_response_free(r); }
};

struct EventFree {
    void operator()(parley_event *e) const noexcept { ::parley_event_free(e); }
};

} // namespace detail

// Host-provided storage (parley_storage): implement it to keep the
// library's durable state in your save system. Called on the thread doing
// the client's work, one call at a time per client. Return PARLEY_OK or a
// PARLEY_ERR_* code (an exception counts as PARLEY_ERR_IO).
class Storage {
public:
    virtual ~Storage() = default;
    virtual int size(const char *name, std::size_t &len) = 0;
    virtual int read(const char *name, void *buf, std::size_t len) = 0;
    virtual int append(const char *name, const void *data, std::size_t len) = 0;
    virtual int sync(const char *name) = 0;
    virtual int truncate(const char *name, std::size_t len) = 0;
    virtual int rename(const char *from, const char *to) = 0;
    virtual int remove(const char *name) = 0;
};

namespace detail {

struct StorageHolder {
    std::shared_ptr<Storage> impl;

    template <class F> static int guard(void *user, F &&f) noexcept
    {
        try {
            return f(*static_cast<StorageHolder *>(user)->impl);
        } catch (...) {
            return PARLEY_ERR_IO;
        }
    }
    static int size(void *u, const char *n, std::size_t *len) noexcept
    {
        return guard(u, [&](Storage &s) { return s.size(n, *len); });
    }
    static int read(void *u, const char *n, void *buf, std::size_t len) noexcept
    {
        return guard(u, [&](Storage &s) { return s.read(n, buf, len); });
    }
    static int append(void *u, const char *n, const void *data, std::size_t len) noexcept
    {
        return guard(u, [&](Storage &s) { return s.append(n, data, len); });
    }
    static int sync(void *u, const char *n) noexcept
    {
        return guard(u, [&](Storage &s) { return s.sync(n); });
    }
    static int truncate(void *u, const char *n, std::size_t len) noexcept
    {
        return guard(u, [&](Storage &s) { return s.truncate(n, len); });
    }
    static int rename(void *u, const char *from, const char *to) noexcept
    {
        return guard(u, [&](Storage &s) { return s.rename(from, to); });
    }
    static int remove(void *u, const char *n) noexcept
    {
        return guard(u, [&](Storage &s) { return s.remove(n); });
    }
};

inline void log_trampoline(void *user, int level, const char *msg) noexcept
{
    try {
        static_cast<Hooks *>(user)->log(static_cast<LogLevel>(level), msg ? msg : "");
    } catch (...) {
        // A log sink's failure must not stop the client.
    }
}

inline void redact_trampoline(void *user, int field, const char *text, parley_redaction *r) noexcept
{
    try {
        auto out = static_cast<Hooks *>(user)->redactor(static_cast<RedactField>(field), text);
        if (!out || (out->find('\0') == std::string::npos && ::parley_redaction_replace(r, out->c_str()) == 0))
            return;
    } catch (...) {
        // Fall through: a failed redaction blanks the text rather than let it out.
    }
    ::parley_redaction_replace(r, "");
}

} // namespace detail

// ---- events ----------------------------------------------------------------

struct Option {
    std::string id;
    std::string label;
    std::optional<std::string> payload;
    std::optional<std::string> url;
    OptionAction action{};
};

struct Block {
    BlockKind kind{};
    std::optional<std::string> title, text, image_url;
    std::vector<Option> options;
    std::vector<Block> cards;
};

struct Question {
    std::string id, text;
    QuestionKind kind{};
    bool required = false;
    int min = 0, max = 0, max_length = 0;
    std::optional<std::string> min_label, max_label;
    std::vector<std::pair<std::string, std::string>> options; // (id, label)
    std::optional<std::string> show_if_question;
    std::vector<std::string> show_if_values;
};

struct Survey {
    std::string id;
    std::optional<std::string> name, title, intro, conversation_id;
    bool proactive = false;
    std::vector<Question> questions;
};

class Event {
public:
    EventType type() const noexcept { return type_; }
    // The raw state, and typed for the event types that have one.
    int state() const noexcept { return state_; }
    ConnState conn_state() const noexcept { return static_cast<ConnState>(state_); }
    MsgState msg_state() const noexcept { return static_cast<MsgState>(state_); }
    ConvState conv_state() const noexcept { return static_cast<ConvState>(state_); }
    TypingState typing_state() const noexcept { return static_cast<TypingState>(state_); }
    AttachmentState attachment_state() const noexcept { return static_cast<AttachmentState>(state_); }
    const std::optional<std::string> &conversation_id() const noexcept { return conv_; }
    const std::optional<std::string> &message_id() const noexcept { return id_; }
    const std::optional<std::string> &client_id() const noexcept { return cid_; }
    const std::optional<std::string> &seq() const noexcept { return seq_; }
    const std::optional<std::string> &text() const noexcept { return text_; }
    AuthorKind author_kind() const noexcept { return author_; }
    const std::optional<std::string> &author_name() const noexcept { return author_name_; }
    std::int64_t timestamp_ms() const noexcept { return timestamp_ms_; }
    std::uint32_t retry_ms() const noexcept { return retry_ms_; }
    ErrorCode error_code() const noexcept { return error_; }
    TlsFailure tls_failures() const noexcept { return tls_; }
    int queue_position() const noexcept { return queue_position_; }
    std::uint32_t wait_s() const noexcept { return wait_s_; }
    std::uint32_t count() const noexcept { return count_; }
    const std::optional<std::string> &request_id() const noexcept { return request_id_; }
    bool more() const noexcept { return more_; }
    const std::optional<std::string> &title() const noexcept { return title_; }
    const std::optional<std::string> &url() const noexcept { return url_; }
    const std::optional<std::string> &raw_json() const noexcept { return raw_json_; }
    const std::vector<Block> &blocks() const noexcept { return blocks_; }
    const std::vector<Event> &items() const noexcept { return items_; }
    const std::optional<Survey> &survey() const noexcept { return survey_; }
    // The attachment a message carries, or an upload's file.
    const std::optional<std::string> &attachment_id() const noexcept { return att_id_; }
    const std::optional<std::string> &attachment_name() const noexcept { return att_name_; }
    const std::optional<std::string> &attachment_type() const noexcept { return att_type_; }
    const std::optional<std::string> &attachment_sha256() const noexcept { return att_sha256_; }
    std::int64_t attachment_size() const noexcept { return att_size_; }
    // EventType::Attachment: bytes moved so far and the file's size.
    std::int64_t bytes_done() const noexcept { return bytes_done_; }
    std::int64_t bytes_total() const noexcept { return bytes_total_; }
    // AttachmentState::Data: the chunk's bytes.
    const std::string &chunk() const noexcept { return chunk_; }
    // EventType::History: the answer came from the local history.
    bool from_device() const noexcept { return from_device_; }

    // The options of the quick-reply blocks.
    std::vector<Option> quick_replies() const
    {
        std::vector<Option> out;
        for (const Block &b : blocks_)
            if (b.kind == BlockKind::QuickReplies)
                out.insert(out.end(), b.options.begin(), b.options.end());
        return out;
    }

    // A copy of what a native event carries.
    static Event from_native(const parley_event *ev);

private:
    EventType type_{};
    int state_ = 0;
    std::optional<std::string> conv_, id_, cid_, seq_, text_, author_name_, request_id_, title_, url_, raw_json_;
    AuthorKind author_{};
    std::int64_t timestamp_ms_ = 0;
    std::uint32_t retry_ms_ = 0, wait_s_ = 0, count_ = 0;
    ErrorCode error_{};
    TlsFailure tls_{};
    int queue_position_ = 0;
    bool more_ = false;
    std::vector<Block> blocks_;
    std::vector<Event> items_;
    std::optional<Survey> survey_;
    std::optional<std::string> att_id_, att_name_, att_type_, att_sha256_;
    std::int64_t att_size_ = 0, bytes_done_ = 0, bytes_total_ = 0;
    std::string chunk_;
    bool from_device_ = false;
};

namespace detail {

inline Option option_from(const parley_option *o)
{
    return Option{str(::parley_option_id(o)), str(::parley_option_label(o)), opt(::parley_option_payload(o)),
                  opt(::parley_option_url(o)), static_cast<OptionAction>(::parley_option_action(o))};
}

inline Block block_from(const parley_block *b)
{
    Block out;
    out.kind = static_cast<BlockKind>(::parley_block_kind(b));
    out.title = opt(::parley_block_title(b));
    out.text = opt(::parley_block_text(b));
    out.image_url = opt(::parley_block_image_url(b));
    for (int j = 0; j < ::parley_block_option_count(b); j++)
        out.options.push_back(option_from(::parley_block_option(b, j)));
    for (int j = 0; j < ::parley_block_card_count(b); j++)
        out.cards.push_back(block_from(::parley_block_card(b, j)));
    return out;
}

inline Question question_from(const parley_question *q)
{
    Question out;
    out.id = str(::parley_question_id(q));
    out.text = str(::parley_question_text(q));
    out.kind = static_cast<QuestionKind>(::parley_question_kind(q));
    out.required = ::parley_question_required(q) != 0;
    out.min = ::parley_question_min(q);
    out.max = ::parley_question_max(q);
    out.max_length = ::parley_question_max_length(q);
    out.min_label = opt(::parley_question_min_label(q));
    out.max_label = opt(::parley_question_max_label(q));
    for (int j = 0; j < ::parley_question_option_count(q); j++)
        out.options.emplace_back(str(::parley_question_option_id(q, j)), str(::parley_question_option_label(q, j)));
    out.show_if_question = opt(::parley_question_show_if_question(q));
    for (int j = 0; j < ::parley_question_show_if_value_count(q); j++)
        out.show_if_values.push_back(str(::parley_question_show_if_value(q, j)));
    return out;
}

inline std::optional<Survey> survey_from(const parley_survey *s)
{
    if (!s)
        return std::nullopt;
    Survey out;
    out.id = str(::parley_survey_id(s));
    out.name = opt(::parley_survey_name(s));
    out.title = opt(::parley_survey_title(s));
    out.intro = opt(::parley_survey_intro(s));
    out.conversation_id = opt(::parley_survey_conversation_id(s));
    out.proactive = ::parley_survey_is_proactive(s) != 0;
    for (int i = 0; i < ::parley_survey_question_count(s); i++)
        out.questions.push_back(question_from(::parley_survey_question(s, i)));
    return out;
}

} // namespace detail

inline Event Event::from_native(const parley_event *ev)
{
    using namespace detail;
    Event e;
    e.type_ = static_cast<EventType>(::parley_event_type(ev));
    e.state_ = ::parley_event_state(ev);
    e.conv_ = opt(::parley_event_conversation_id(ev));
    e.id_ = opt(::parley_event_message_id(ev));
    e.cid_ = opt(::parley_event_client_id(ev));
    e.seq_ = opt(::parley_event_seq(ev));
    e.text_ = opt(::parley_event_text(ev));
    e.author_ = static_cast<AuthorKind>(::parley_event_author_kind(ev));
    e.author_name_ = opt(::parley_event_author_name(ev));
    e.timestamp_ms_ = ::parley_event_timestamp_ms(ev);
    e.retry_ms_ = ::parley_event_retry_ms(ev);
    e.error_ = static_cast<ErrorCode>(::parley_event_error_code(ev));
    e.tls_ = static_cast<TlsFailure>(::parley_event_tls_failures(ev));
    e.queue_position_ = ::parley_event_queue_position(ev);
    e.wait_s_ = ::parley_event_wait_s(ev);
    e.count_ = ::parley_event_count(ev);
    e.request_id_ = opt(::parley_event_request_id(ev));
    e.more_ = ::parley_event_more(ev) != 0;
    e.title_ = opt(::parley_event_title(ev));
    e.url_ = opt(::parley_event_url(ev));
    e.raw_json_ = opt(::parley_event_raw_json(ev));
    for (int i = 0; i < ::parley_event_block_count(ev); i++)
        e.blocks_.push_back(block_from(::parley_event_block(ev, i)));
    for (int i = 0; i < ::parley_event_item_count(ev); i++)
        e.items_.push_back(from_native(::parley_event_item(ev, i)));
    e.survey_ = survey_from(::parley_event_survey(ev));
    e.att_id_ = opt(::parley_event_attachment_id(ev));
    e.att_name_ = opt(::parley_event_attachment_name(ev));
    e.att_type_ = opt(::parley_event_attachment_type(ev));
    e.att_sha256_ = opt(::parley_event_attachment_sha256(ev));
    e.att_size_ = ::parley_event_attachment_size(ev);
    e.bytes_done_ = ::parley_event_bytes_done(ev);
    e.bytes_total_ = ::parley_event_bytes_total(ev);
    char chunk[PARLEY_ATTACHMENT_CHUNK_SIZE];
    int n = ::parley_event_attachment_chunk(ev, chunk, sizeof chunk);
    if (n > 0)
        e.chunk_.assign(chunk, static_cast<std::size_t>(n));
    e.from_device_ = ::parley_event_from_device(ev) != 0;
    return e;
}

// ---- configuration ------------------------------------------------------------

class Config {
public:
    Config() : hooks_(std::make_shared<detail::Hooks>())
    {
        static const std::string checked = check_version();
        (void)checked;
        p_.reset(::parley_config_new());
        if (!p_)
            throw std::bad_alloc();
    }

    Config &url(std::string_view v) { return set(::parley_config_set_url, v, "parley_config_set_url"); }
    Config &app_id(std::string_view v) { return set(::parley_config_set_app_id, v, "parley_config_set_app_id"); }
    Config &ca_file(std::string_view v) { return set(::parley_config_set_ca_file, v, "parley_config_set_ca_file"); }
    Config &ca_pem(std::string_view pem)
    {
        detail::check(::parley_config_set_ca_pem(native(), pem.data(), pem.size()), "parley_config_set_ca_pem");
        return *this;
    }
    Config &add_pin(std::string_view v) { return set(::parley_config_add_pin, v, "parley_config_add_pin"); }
    Config &clear_pins()
    {
        detail::check(::parley_config_clear_pins(native()), "parley_config_clear_pins");
        return *this;
    }
    Config &data_dir(std::string_view v) { return set(::parley_config_set_data_dir, v, "parley_config_set_data_dir"); }
    Config &app_version(std::string_view v)
    {
        return set(::parley_config_set_app_version, v, "parley_config_set_app_version");
    }
    // When a queued item counts as stored (parley_config_set_durability).
    Config &durability(Durability mode)
    {
        detail::check(::parley_config_set_durability(native(), static_cast<int>(mode)),
                      "parley_config_set_durability");
        return *this;
    }
    Config &outbox_cap(std::uint32_t cap)
    {
        detail::check(::parley_config_set_outbox_cap(native(), cap), "parley_config_set_outbox_cap");
        return *this;
    }
    Config &event_limits(std::uint32_t max_events, std::size_t max_bytes)
    {
        detail::check(::parley_config_set_event_limits(native(), max_events, max_bytes),
                      "parley_config_set_event_limits");
        return *this;
    }
    // Exactly encryption_key_size bytes; an empty view turns encryption off.
    Config &encryption_key(std::string_view key)
    {
        const auto *bytes = reinterpret_cast<const unsigned char *>(key.data());
        detail::check(::parley_config_set_encryption_key(native(), key.empty() ? nullptr : bytes, key.size()),
                      "parley_config_set_encryption_key");
        return *this;
    }
    // Keep the newest `per_conversation` messages of each conversation on the device.
    Config &local_history(std::uint32_t per_conversation)
    {
        detail::check(::parley_config_set_local_history(native(), per_conversation),
                      "parley_config_set_local_history");
        return *this;
    }
    Config &allow_insecure(bool allow)
    {
        detail::check(::parley_config_set_allow_insecure(native(), allow), "parley_config_set_allow_insecure");
        return *this;
    }
    Config &reconnect(std::uint32_t initial_ms, std::uint32_t max_ms)
    {
        detail::check(::parley_config_set_reconnect(native(), initial_ms, max_ms), "parley_config_set_reconnect");
        return *this;
    }
    Config &context_limits(std::uint32_t breadcrumb_cap, std::uint32_t interval_ms)
    {
        detail::check(::parley_config_set_context_limits(native(), breadcrumb_cap, interval_ms),
                      "parley_config_set_context_limits");
        return *this;
    }
    Config &consent(bool allowed)
    {
        detail::check(::parley_config_set_consent(native(), allowed), "parley_config_set_consent");
        return *this;
    }
    Config &default_redactor(bool enabled)
    {
        detail::check(::parley_config_set_default_redactor(native(), enabled), "parley_config_set_default_redactor");
        return *this;
    }
    // sink(level, message): on the I/O thread after start() (parley_log_fn's
    // "Thread:" rule), so it must be thread-safe; what it throws is dropped.
    Config &log(std::function<void(LogLevel, std::string_view)> sink, LogLevel level = LogLevel::Warn)
    {
        hooks_->log = std::move(sink);
        detail::check(::parley_config_set_log(native(), hooks_->log ? detail::log_trampoline : nullptr,
                                              hooks_.get(), static_cast<int>(level)),
                      "parley_config_set_log");
        return *this;
    }
    // redactor(field, text) returns the text to keep (nullopt: unchanged), no
    // longer than `text`; on the thread of the call carrying the string. A
    // throw or an invalid result blanks the text.
    Config &redactor(std::function<std::optional<std::string>(RedactField, std::string_view)> fn)
    {
        hooks_->redactor = std::move(fn);
        detail::check(::parley_config_set_text_redactor(native(), hooks_->redactor ? detail::redact_trampoline : nullptr,
                                                        hooks_.get()),
                      "parley_config_set_text_redactor");
        return *this;
    }
    // The C hook that rewrites the text in place (parley_redact_fn), for code
    // that has one already; replaces redactor().
    Config &redactor_in_place(parley_redact_fn fn, void *user)
    {
        hooks_->redactor = nullptr;
        detail::check(::parley_config_set_redactor(native(), fn, user), "parley_config_set_redactor");
        return *this;
    }
    // Durable state through `storage` instead of a data dir; nullptr goes back.
    Config &storage(std::shared_ptr<Storage> storage)
    {
        using H = detail::StorageHolder;
        if (!storage) {
            detail::check(::parley_config_set_storage(native(), nullptr, nullptr), "parley_config_set_storage");
            hooks_->storage.reset();
            return *this;
        }
        auto holder = std::make_shared<H>(H{std::move(storage)});
        const parley_storage ops = {PARLEY_STORAGE_VERSION, H::size, H::read, H::append, H::sync,
                                    H::truncate, H::rename, H::remove};
        detail::check(::parley_config_set_storage(native(), &ops, holder.get()), "parley_config_set_storage");
        hooks_->storage = std::move(holder);
        return *this;
    }
    // The C allocator hooks (all three, or all null); they must be thread-safe.
    Config &allocator(parley_malloc_fn m, parley_realloc_fn r, parley_free_fn f, void *user)
    {
        detail::check(::parley_config_set_allocator(native(), m, r, f, user), "parley_config_set_allocator");
        return *this;
    }

    parley_config *native() const
    {
        if (!p_)
            throw ClosedError("parley::Config used after it was moved from");
        return p_.get();
    }

private:
    friend class Client;

    Config &set(int (*fn)(parley_config *, const char *), std::string_view v, const char *name)
    {
        detail::check(fn(native(), detail::c_str(v, name).c_str()), name);
        return *this;
    }

    std::unique_ptr<parley_config, detail::ConfigFree> p_;
    std::shared_ptr<detail::Hooks> hooks_;
};

// ---- client ------------------------------------------------------------------

// Answers to one pending survey (Client::survey_response()).
class SurveyResponse {
public:
    void answer_number(std::string_view question_id, int value)
    {
        detail::check(::parley_survey_answer_number(native(), q(question_id).c_str(), value),
                      "parley_survey_answer_number");
    }
    void answer_choice(std::string_view question_id, std::string_view option_id)
    {
        detail::check(::parley_survey_answer_choice(native(), q(question_id).c_str(),
                                                    detail::c_str(option_id, "option_id").c_str()),
                      "parley_survey_answer_choice");
    }
    void answer_choices(std::string_view question_id, const std::vector<std::string> &option_ids)
    {
        std::vector<const char *> ptrs;
        for (const std::string &s : option_ids) {
            if (s.find('\0') != std::string::npos)
                throw std::invalid_argument("option_ids contains a NUL character");
            ptrs.push_back(s.c_str());
        }
        detail::check(::parley_survey_answer_choices(native(), q(question_id).c_str(), ptrs.data(), ptrs.size()),
                      "parley_survey_answer_choices");
    }
    void answer_text(std::string_view question_id, std::string_view text)
    {
        detail::check(::parley_survey_answer_text(native(), q(question_id).c_str(), detail::c_str(text, "text").c_str()),
                      "parley_survey_answer_text");
    }
    void clear_answer(std::string_view question_id)
    {
        detail::check(::parley_survey_clear_answer(native(), q(question_id).c_str()), "parley_survey_clear_answer");
    }
    bool question_visible(std::string_view question_id)
    {
        return detail::check(::parley_survey_question_visible(native(), q(question_id).c_str()),
                             "parley_survey_question_visible") == 1;
    }
    // Submits through the durable outbox; the submission's client id.
    // IncompleteError names a required question left unanswered.
    std::string submit()
    {
        char missing[PARLEY_SURVEY_ID_SIZE] = "", cid[PARLEY_ID_SIZE] = "";
        int rc = ::parley_survey_submit(native(), missing, sizeof missing, cid, sizeof cid);
        if (rc == PARLEY_ERR_INCOMPLETE)
            throw IncompleteError(missing);
        detail::check(rc, "parley_survey_submit");
        return cid;
    }
    void close() noexcept
    {
        p_.reset();
        client_.reset();
    }
    parley_survey_response *native() const
    {
        if (!p_)
            throw ClosedError("parley::SurveyResponse used after close()");
        return p_.get();
    }

private:
    friend class Client;
    SurveyResponse(std::shared_ptr<parley_client> client, parley_survey_response *p)
        : client_(std::move(client)), p_(p)
    {
    }
    static std::string q(std::string_view id) { return detail::c_str(id, "question_id"); }

    // Declared first: destroyed after the response it must outlive.
    std::shared_ptr<parley_client> client_;
    std::unique_ptr<parley_survey_response, detail::ResponseFree> p_;
};

class Client {
public:
    explicit Client(const Config &cfg)
    {
        parley_client *pc = nullptr;
        detail::check(::parley_client_new(cfg.native(), &pc), "parley_client_new");
        // The deleter keeps the callbacks alive until the native client,
        // which calls them, is freed (after its last SurveyResponse).
        p_ = std::shared_ptr<parley_client>(pc, [hooks = cfg.hooks_](parley_client *c) { ::parley_client_free(c); });
    }

    // Frees the client (after its last SurveyResponse); later calls throw ClosedError.
    void close() noexcept { p_.reset(); }
    bool closed() const noexcept { return !p_; }

    void start() { detail::check(::parley_start(native()), "parley_start"); }
    void stop() { detail::check(::parley_stop(native()), "parley_stop"); }
    void reconnect_now() { detail::check(::parley_reconnect_now(native()), "parley_reconnect_now"); }
    void service(int timeout_ms = 0) { detail::check(::parley_service(native(), timeout_ms), "parley_service"); }

    // The next event, or nullopt when there is none (never blocks).
    std::optional<Event> poll()
    {
        parley_event *raw = nullptr;
        int rc = ::parley_poll(native(), &raw);
        if (rc == PARLEY_ERR_AGAIN)
            return std::nullopt;
        detail::check(rc, "parley_poll");
        std::unique_ptr<parley_event, detail::EventFree> ev(raw);
        return Event::from_native(ev.get());
    }

    // The events pending now: for (const parley::Event &e : client.events()).
    class EventRange {
    public:
        struct End {};
        class iterator {
        public:
            explicit iterator(Client *c) : c_(c), cur_(c->poll()) {}
            const Event &operator*() const { return *cur_; }
            const Event *operator->() const { return &*cur_; }
            iterator &operator++()
            {
                cur_ = c_->poll();
                return *this;
            }
            bool operator!=(End) const noexcept { return cur_.has_value(); }
            bool operator==(End) const noexcept { return !cur_.has_value(); }

        private:
            Client *c_;
            std::optional<Event> cur_;
        };
        explicit EventRange(Client *c) : c_(c) {}
        iterator begin() { return iterator(c_); }
        End end() const noexcept { return {}; }

    private:
        Client *c_;
    };
    EventRange events() { return EventRange(this); }

    void identify(std::string_view user_id, std::optional<std::string_view> token = std::nullopt)
    {
        std::optional<std::string> t;
        if (token)
            t = detail::c_str(*token, "token");
        detail::check(::parley_identify(native(), detail::c_str(user_id, "user_id").c_str(), t ? t->c_str() : nullptr),
                      "parley_identify");
    }
    std::string anonymous_id()
    {
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_anonymous_id(native(), out, sizeof out), "parley_anonymous_id");
        return out;
    }
    void logout() { detail::check(::parley_logout(native()), "parley_logout"); }
    void set_consent(bool allowed) { detail::check(::parley_set_consent(native(), allowed), "parley_set_consent"); }

    // One name per type: an overload set would turn a string literal into bool.
    void set_attribute(std::string_view key, std::string_view value)
    {
        detail::check(::parley_set_attribute_str(native(), k(key).c_str(), detail::c_str(value, "value").c_str()),
                      "parley_set_attribute_str");
    }
    void set_attribute_number(std::string_view key, double value)
    {
        detail::check(::parley_set_attribute_num(native(), k(key).c_str(), value), "parley_set_attribute_num");
    }
    void set_attribute_bool(std::string_view key, bool value)
    {
        detail::check(::parley_set_attribute_bool(native(), k(key).c_str(), value), "parley_set_attribute_bool");
    }
    void set_attribute_null(std::string_view key)
    {
        detail::check(::parley_set_attribute_null(native(), k(key).c_str()), "parley_set_attribute_null");
    }
    void set_attribute_json(std::string_view key, std::string_view json_object)
    {
        detail::check(::parley_set_attribute_json(native(), k(key).c_str(),
                                                  detail::c_str(json_object, "json_object").c_str()),
                      "parley_set_attribute_json");
    }
    void set_screen(std::string_view screen)
    {
        detail::check(::parley_set_screen(native(), detail::c_str(screen, "screen").c_str()), "parley_set_screen");
    }
    void add_breadcrumb(std::string_view text)
    {
        detail::check(::parley_add_breadcrumb(native(), detail::c_str(text, "text").c_str()), "parley_add_breadcrumb");
    }
    void set_device_fact(std::string_view key, std::string_view value)
    {
        detail::check(::parley_set_device_fact(native(), k(key).c_str(), detail::c_str(value, "value").c_str()),
                      "parley_set_device_fact");
    }
    void track_event(std::string_view name, std::optional<std::string_view> json_object = std::nullopt)
    {
        std::optional<std::string> meta;
        if (json_object)
            meta = detail::c_str(*json_object, "json_object");
        detail::check(::parley_track_event(native(), detail::c_str(name, "name").c_str(),
                                           meta ? meta->c_str() : nullptr),
                      "parley_track_event");
    }

    // Starts a conversation (works offline); its id.
    std::string conversation_start(std::optional<std::string_view> subject = std::nullopt)
    {
        std::optional<std::string> s;
        if (subject)
            s = detail::c_str(*subject, "subject");
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_conversation_start(native(), s ? s->c_str() : nullptr, out, sizeof out),
                      "parley_conversation_start");
        return out;
    }
    // What the app knows about a request (parley_conversation_start_about).
    struct About {
        std::optional<std::string> category; // "payments", "bug", ...
        std::optional<std::string> area;     // the game or app area: "shop/gems", ...
        Severity severity = Severity::None;
    };
    // Starts a conversation saying what it is about, for the server's triage
    // and the agents; its id.
    std::string conversation_start(std::optional<std::string_view> subject, const About &about)
    {
        std::optional<std::string> s, cat, area;
        if (subject)
            s = detail::c_str(*subject, "subject");
        if (about.category)
            cat = detail::c_str(*about.category, "category");
        if (about.area)
            area = detail::c_str(*about.area, "area");
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_conversation_start_about(native(), s ? s->c_str() : nullptr,
                                                        cat ? cat->c_str() : nullptr,
                                                        area ? area->c_str() : nullptr,
                                                        static_cast<int>(about.severity), out, sizeof out),
                      "parley_conversation_start_about");
        return out;
    }
    // Queues a message; its client id.
    std::string send_text(std::string_view conversation_id, std::string_view text)
    {
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_send_text(native(), c(conversation_id).c_str(), detail::c_str(text, "text").c_str(), out,
                                         sizeof out),
                      "parley_send_text");
        return out;
    }
    // Journal writes not yet on stable storage (0: all of them survive a power loss).
    std::uint32_t unsynced_count()
    {
        std::uint32_t n = 0;
        detail::check(::parley_unsynced_count(native(), &n), "parley_unsynced_count");
        return n;
    }
    std::uint32_t outbox_count()
    {
        std::uint32_t n = 0;
        detail::check(::parley_outbox_count(native(), &n), "parley_outbox_count");
        return n;
    }
    // Answers a quick reply or button; the answer's client id.
    std::string postback(std::string_view conversation_id, std::string_view message_id, std::string_view option_id)
    {
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_postback(native(), c(conversation_id).c_str(),
                                        detail::c_str(message_id, "message_id").c_str(),
                                        detail::c_str(option_id, "option_id").c_str(), out, sizeof out),
                      "parley_postback");
        return out;
    }
    void set_typing(std::string_view conversation_id, bool on)
    {
        detail::check(::parley_set_typing(native(), c(conversation_id).c_str(), on), "parley_set_typing");
    }
    void mark_read(std::string_view conversation_id, std::string_view seq)
    {
        detail::check(::parley_mark_read(native(), c(conversation_id).c_str(), detail::c_str(seq, "seq").c_str()),
                      "parley_mark_read");
    }
    // In one conversation, or over all of them.
    std::uint32_t unread_count(std::optional<std::string_view> conversation_id = std::nullopt)
    {
        std::optional<std::string> id;
        if (conversation_id)
            id = c(*conversation_id);
        std::uint32_t n = 0;
        detail::check(::parley_unread_count(native(), id ? id->c_str() : nullptr, &n), "parley_unread_count");
        return n;
    }

    // Requests: each returns the request id its answer event carries.
    std::string list_conversations()
    {
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_list_conversations(native(), out, sizeof out), "parley_list_conversations");
        return out;
    }
    std::string load_history(std::string_view conversation_id, std::optional<std::string_view> before_seq = std::nullopt,
                             int limit = 0)
    {
        std::optional<std::string> before;
        if (before_seq)
            before = detail::c_str(*before_seq, "before_seq");
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_load_history(native(), c(conversation_id).c_str(), before ? before->c_str() : nullptr,
                                            limit, out, sizeof out),
                      "parley_load_history");
        return out;
    }
    std::string search_articles(std::string_view query)
    {
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_search_articles(native(), detail::c_str(query, "query").c_str(), out, sizeof out),
                      "parley_search_articles");
        return out;
    }
    std::string get_article(std::string_view article_id)
    {
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_get_article(native(), detail::c_str(article_id, "article_id").c_str(), out, sizeof out),
                      "parley_get_article");
        return out;
    }

    SurveyResponse survey_response(std::string_view survey_id)
    {
        parley_survey_response *r = nullptr;
        detail::check(::parley_survey_response_new(native(), detail::c_str(survey_id, "survey_id").c_str(), &r),
                      "parley_survey_response_new");
        return SurveyResponse(p_, r);
    }
    std::string dismiss_survey(std::string_view survey_id)
    {
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_survey_dismiss(native(), detail::c_str(survey_id, "survey_id").c_str(), out, sizeof out),
                      "parley_survey_dismiss");
        return out;
    }
    void mute_proactive(std::uint32_t duration_ms)
    {
        detail::check(::parley_mute_proactive(native(), duration_ms), "parley_mute_proactive");
    }

    // Attachments: the message's client id. name and mime_type default as in parley.h.
    std::string send_attachment(std::string_view conversation_id, std::string_view path,
                                std::optional<std::string_view> name = std::nullopt,
                                std::optional<std::string_view> mime_type = std::nullopt,
                                std::optional<std::string_view> caption = std::nullopt)
    {
        std::optional<std::string> n, t, cap;
        if (name)
            n = detail::c_str(*name, "name");
        if (mime_type)
            t = detail::c_str(*mime_type, "mime_type");
        if (caption)
            cap = detail::c_str(*caption, "caption");
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_send_attachment(native(), c(conversation_id).c_str(), detail::c_str(path, "path").c_str(),
                                               n ? n->c_str() : nullptr, t ? t->c_str() : nullptr,
                                               cap ? cap->c_str() : nullptr, out, sizeof out),
                      "parley_send_attachment");
        return out;
    }
    // The file's bytes from memory (copied).
    std::string send_attachment_bytes(std::string_view conversation_id, std::string_view data, std::string_view name,
                                      std::optional<std::string_view> mime_type = std::nullopt,
                                      std::optional<std::string_view> caption = std::nullopt)
    {
        std::optional<std::string> t, cap;
        if (mime_type)
            t = detail::c_str(*mime_type, "mime_type");
        if (caption)
            cap = detail::c_str(*caption, "caption");
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_send_attachment_bytes(native(), c(conversation_id).c_str(),
                                                     reinterpret_cast<const unsigned char *>(data.data()), data.size(),
                                                     detail::c_str(name, "name").c_str(), t ? t->c_str() : nullptr,
                                                     cap ? cap->c_str() : nullptr, out, sizeof out),
                      "parley_send_attachment_bytes");
        return out;
    }
    // Into dest_path, or (nullopt) as AttachmentState::Data events; the request id.
    std::string fetch_attachment(std::string_view attachment_id, std::optional<std::string_view> dest_path = std::nullopt)
    {
        std::optional<std::string> dest;
        if (dest_path)
            dest = detail::c_str(*dest_path, "dest_path");
        char out[PARLEY_ID_SIZE] = "";
        detail::check(::parley_fetch_attachment(native(), detail::c_str(attachment_id, "attachment_id").c_str(),
                                                dest ? dest->c_str() : nullptr, out, sizeof out),
                      "parley_fetch_attachment");
        return out;
    }

    // Push: the device's token (nullopt for both removes it), and a received payload.
    void set_push_token(std::optional<std::string_view> platform, std::optional<std::string_view> token)
    {
        std::optional<std::string> p, t;
        if (platform)
            p = detail::c_str(*platform, "platform");
        if (token)
            t = detail::c_str(*token, "token");
        detail::check(::parley_set_push_token(native(), p ? p->c_str() : nullptr, t ? t->c_str() : nullptr),
                      "parley_set_push_token");
    }
    void handle_push(std::string_view payload)
    {
        detail::check(::parley_handle_push(native(), detail::c_str(payload, "payload").c_str()), "parley_handle_push");
    }

    parley_client *native() const
    {
        if (!p_)
            throw ClosedError("parley::Client used after close() or a move");
        return p_.get();
    }

private:
    static std::string k(std::string_view key) { return detail::c_str(key, "key"); }
    static std::string c(std::string_view id) { return detail::c_str(id, "conversation_id"); }

    std::shared_ptr<parley_client> p_;
};

inline std::string strerror(ErrorCode code)
{
    return ::parley_strerror(static_cast<int>(code));
}

inline std::string version()
{
    return ::parley_version(nullptr, nullptr, nullptr);
}

namespace detail {
// Functions of bindings/api.json this wrapper deliberately does not wrap
// (its test checks the list against the description). None so far; native()
// gives the handles for anything else.
inline const std::vector<std::string_view> &omitted()
{
    static const std::vector<std::string_view> names;
    return names;
}
} // namespace detail

} // namespace parley

#endif
