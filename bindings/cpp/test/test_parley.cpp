// The C++ wrapper: every function of bindings/api.json wrapped (or listed
// as omitted), bad input as exceptions, lifetimes, host storage, and a real
// parley-server over wss (PARLEY_TEST_*, set by bindings/testing/with_server.py).
#include <parley.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace {

int failures = 0, checks = 0;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        checks++;                                                                        \
        if (!(cond)) {                                                                   \
            failures++;                                                                  \
            std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                                \
    } while (0)

// The exception `body` throws, as the `E` it must be (nullopt: none or another).
template <class E> std::optional<E> thrown(const std::function<void()> &body)
{
    try {
        body();
    } catch (const E &e) {
        return e;
    } catch (...) {
    }
    return std::nullopt;
}

#define CHECK_THROWS(E, body) CHECK(thrown<E>([&] { body; }).has_value())
#define CHECK_ERROR(ec, body)                                         \
    do {                                                              \
        auto e_ = thrown<parley::Error>([&] { body; });               \
        CHECK(e_.has_value() && e_->code() == parley::ErrorCode::ec); \
    } while (0)

std::string env(const char *name)
{
    const char *v = std::getenv(name);
    return v ? v : "";
}

const char *offline_url = "wss://localhost:9"; // nothing listens there

parley::Config offline_config()
{
    parley::Config cfg;
    cfg.url(offline_url).app_id("cpp-test");
    return cfg;
}

void test_every_function_wrapped()
{
    std::ifstream in(PARLEY_HPP_PATH);
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    CHECK(!source.empty());
    std::set<std::string> omitted(parley::detail::omitted().begin(), parley::detail::omitted().end());
    for (const char *fn : parley::detail::api_functions) {
        bool used = source.find(std::string("::") + fn + "(") != std::string::npos ||
                    source.find(std::string("::") + fn + ",") != std::string::npos;
        if (!used && !omitted.count(fn))
            std::fprintf(stderr, "not wrapped and not in parley::detail::omitted(): %s\n", fn);
        CHECK(used || omitted.count(fn));
        CHECK(!(used && omitted.count(fn)));
    }
    CHECK(std::size(parley::detail::api_functions) > 100);
}

void test_version_and_enums()
{
    CHECK(parley::version() == PARLEY_VERSION_STRING);
    CHECK(parley::check_version() == PARLEY_VERSION_STRING);
    CHECK(parley::compatible(0, 1, 0, 1));
    CHECK(!parley::compatible(0, 2, 0, 1));
    CHECK(parley::compatible(1, 4, 1, 2));
    CHECK(!parley::compatible(1, 1, 1, 2));
    CHECK(static_cast<int>(parley::EventType::Proactive) == 14);
    CHECK(std::string(parley::to_string(parley::EventType::MessageStatus)) == "message_status");
    CHECK(parley::id_size == 129 && parley::survey_id_size == 129);
    auto both = parley::TlsFailure::Expired | parley::TlsFailure::Untrusted;
    CHECK((both & parley::TlsFailure::Expired) == parley::TlsFailure::Expired);
    CHECK(parley::strerror(parley::ErrorCode::TooLong) == ::parley_strerror(PARLEY_ERR_TOO_LONG));
}

void test_bad_input()
{
    CHECK_ERROR(InvalidArg, parley::Config().url("http://example.com"));
    CHECK_ERROR(TooLong, parley::Config().app_version(std::string(5000, 'v')));
    CHECK_THROWS(std::invalid_argument, parley::Config().url(std::string("wss://a\0b", 9)));
    CHECK_ERROR(InvalidArg, parley::Config().encryption_key("short"));
    CHECK_ERROR(InvalidArg, parley::Config().reconnect(0, 10));
    CHECK_ERROR(Config, parley::Client(parley::Config().app_id("x")));
    CHECK_ERROR(Insecure, parley::Client(parley::Config().url("ws://localhost:9").app_id("x")));

    parley::Client c(offline_config());
    std::string conv = c.conversation_start("Payment problem");
    CHECK(conv.rfind("c-", 0) == 0);
    parley::Client::About about{"payments", "shop/gems", parley::Severity::High};
    CHECK(c.conversation_start("Gems", about).rfind("c-", 0) == 0);
    CHECK(c.conversation_start(std::nullopt, parley::Client::About{}).rfind("c-", 0) == 0);
    CHECK_ERROR(InvalidArg, c.conversation_start(std::nullopt, parley::Client::About{"pay ments", {}, {}}));
    CHECK_ERROR(TooLong, c.conversation_start(std::nullopt, parley::Client::About{{}, std::string(300, 'a'), {}}));
    CHECK_ERROR(InvalidArg,
                c.conversation_start(std::nullopt, parley::Client::About{{}, {}, static_cast<parley::Severity>(9)}));
    CHECK_THROWS(std::invalid_argument,
                 c.conversation_start(std::nullopt, parley::Client::About{std::string("a\0b", 3), {}, {}}));
    CHECK_ERROR(TooLong, c.send_text(conv, std::string(5000, 'x')));
    CHECK_ERROR(InvalidArg, c.send_text(conv, ""));
    CHECK_ERROR(NotFound, c.send_text("c-unknown", "hello"));
    CHECK_THROWS(std::invalid_argument, c.send_text(conv, std::string("a\0b", 3)));
    CHECK_ERROR(TooLong, c.set_screen(std::string(300, 's')));
    CHECK_ERROR(NotFound, c.survey_response("s-nope"));
    CHECK_ERROR(InvalidArg, c.service(-1));
    CHECK_ERROR(Consent, c.track_event("purchase_failed", "{}"));
    CHECK_ERROR(InvalidArg, c.set_attribute_json("inventory", "[1, 2]"));
    CHECK_ERROR(State, c.stop());
    std::string cid = c.send_text(conv, "queued offline");
    CHECK(c.outbox_count() == 4);
    CHECK(c.unsynced_count() == 0); // no data dir: nothing waits for a disk
    bool pending = false;
    for (const parley::Event &e : c.events())
        pending |= e.type() == parley::EventType::MessageStatus && e.client_id() == cid &&
                   e.msg_state() == parley::MsgState::Pending;
    CHECK(pending);
    CHECK(!c.poll());
    CHECK(c.anonymous_id().rfind("a-", 0) == 0);

    parley::Client moved = std::move(c);
    CHECK_THROWS(parley::ClosedError, c.send_text(conv, "after a move"));
    CHECK(moved.outbox_count() == 4);
    moved.close();
    moved.close();
    CHECK(moved.closed());
    CHECK_THROWS(parley::ClosedError, moved.poll());
    CHECK_THROWS(parley::ClosedError, moved.service(0));
    parley::Config cfg;
    parley::Config other = std::move(cfg);
    CHECK_THROWS(parley::ClosedError, cfg.url(offline_url));
}

// Durable state in memory, as a console's save system would keep it.
class MemoryStorage : public parley::Storage {
public:
    std::map<std::string, std::string> files;
    int calls = 0;
    int size(const char *name, std::size_t &len) override
    {
        calls++;
        auto it = files.find(name);
        if (it == files.end())
            return PARLEY_ERR_NOT_FOUND;
        len = it->second.size();
        return PARLEY_OK;
    }
    int read(const char *name, void *buf, std::size_t len) override
    {
        const std::string &f = files.at(name); // a throw is PARLEY_ERR_IO
        if (f.size() < len)
            return PARLEY_ERR_IO;
        std::memcpy(buf, f.data(), len);
        return PARLEY_OK;
    }
    int append(const char *name, const void *data, std::size_t len) override
    {
        files[name].append(static_cast<const char *>(data), len);
        return PARLEY_OK;
    }
    int sync(const char *) override { return PARLEY_OK; }
    int truncate(const char *name, std::size_t len) override
    {
        files[name].resize(len);
        return PARLEY_OK;
    }
    int rename(const char *from, const char *to) override
    {
        files[to] = files[from];
        files.erase(from);
        return PARLEY_OK;
    }
    int remove(const char *name) override
    {
        files.erase(name);
        return PARLEY_OK;
    }
};

void test_storage_and_redactor()
{
    auto storage = std::make_shared<MemoryStorage>();
    std::string conv, anon;
    {
        parley::Config cfg = offline_config();
        cfg.storage(storage).redactor([](parley::RedactField field, std::string_view text) -> std::optional<std::string> {
            if (field != parley::RedactField::Message)
                return std::nullopt;
            std::string s(text);
            auto at = s.find("Bob");
            if (at != std::string::npos)
                s.replace(at, 3, "[n]");
            return s;
        });
        parley::Client c(cfg);
        conv = c.conversation_start();
        c.send_text(conv, "hi Bob, card 4111 1111 1111 1111");
        anon = c.anonymous_id();
    }
    CHECK(storage->calls > 0);
    const std::string &journal = storage->files["journal"];
    CHECK(journal.find("Bob") == std::string::npos && journal.find("4111") == std::string::npos);
    CHECK(journal.find("hi [n], card [card]") != std::string::npos);
    parley::Config again = offline_config();
    again.storage(storage);
    parley::Client c(again);
    CHECK(c.anonymous_id() == anon);
    CHECK(c.outbox_count() == 2);
    c.send_text(conv, "the conversation is known after a restart");

    parley::Config throwing = offline_config();
    throwing.redactor([](parley::RedactField, std::string_view) -> std::optional<std::string> {
        throw std::runtime_error("a bug in the host's redactor");
    });
    throwing.storage(storage);
    parley::Client t(throwing);
    try {
        t.send_text(conv, "secret-words");
    } catch (const parley::Error &) {
        // an empty message may be refused: either way nothing leaks
    }
    CHECK(storage->files["journal"].find("secret-words") == std::string::npos);
}

// Every event of a client, and a wait for the ones a test wants.
struct Recorder {
    parley::Client &c;
    bool threaded = false;
    std::vector<parley::Event> seen;

    std::optional<parley::Event> wait(const std::function<bool(const parley::Event &)> &want, const char *what,
                                      int timeout_ms = 10000)
    {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            for (auto it = seen.begin(); it != seen.end(); ++it)
                if (want(*it)) {
                    parley::Event e = *it;
                    seen.erase(it);
                    return e;
                }
            if (std::chrono::steady_clock::now() > deadline) {
                std::fprintf(stderr, "no %s in time\n", what);
                return std::nullopt;
            }
            if (threaded)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            else
                c.service(20);
            for (const parley::Event &e : c.events())
                seen.push_back(e);
        }
    }
};

bool is_bot(const parley::Event &e)
{
    return e.type() == parley::EventType::Message && e.author_kind() == parley::AuthorKind::Bot;
}

parley::Config server_config()
{
    parley::Config cfg;
    cfg.url(env("PARLEY_TEST_URL")).ca_file(env("PARLEY_TEST_CA")).app_id("cpp-test").reconnect(100, 1000);
    return cfg;
}

void test_bot_flow()
{
    parley::Client c(server_config().consent(true));
    Recorder rec{c, false, {}};
    c.set_attribute("plan", "vip");
    c.set_attribute_number("level", 7);
    c.set_attribute_bool("beta", true);
    c.set_attribute_null("nothing");
    c.set_attribute_json("inventory", R"({"gems":500})");
    c.set_screen("inventory");
    c.add_breadcrumb("opened support");
    c.set_device_fact("gpu", "test");
    std::string conv = c.conversation_start("Payment problem");
    std::string cid = c.send_text(conv, "My gems never arrived");
    auto sent = rec.wait([&](const parley::Event &e) {
        return e.type() == parley::EventType::MessageStatus && e.client_id() == cid &&
               e.msg_state() == parley::MsgState::Sent;
    }, "SENT");
    CHECK(sent && sent->seq());
    auto greeting = rec.wait(is_bot, "greeting");
    CHECK(greeting.has_value());
    if (!greeting)
        return;
    auto quick = greeting->quick_replies();
    CHECK(quick.size() == 3 && quick[0].label == "Billing" && greeting->author_name() == "Parley Bot");
    CHECK(greeting->raw_json().has_value());
    c.postback(conv, *greeting->message_id(), quick[0].id);
    auto answer = rec.wait([](const parley::Event &e) { return is_bot(e) && e.text() == "What's the billing problem?"; },
                           "the answer to the postback");
    CHECK(answer.has_value());
    CHECK_ERROR(State, c.postback(conv, *greeting->message_id(), quick[0].id));
    if (answer)
        c.mark_read(conv, *answer->seq());
    CHECK(rec.wait([&](const parley::Event &e) {
        return e.type() == parley::EventType::Unread && e.conversation_id() == conv && e.count() == 0;
    }, "unread 0"));
    CHECK(c.unread_count(conv) == 0 && c.unread_count() == 0);
    c.set_typing(conv, true);
    std::string req = c.list_conversations();
    auto list = rec.wait([&](const parley::Event &e) { return e.request_id() == req; }, "the conversation list");
    CHECK(list && list->type() == parley::EventType::Conversations && !list->items().empty() &&
          list->items()[0].conversation_id() == conv);
    req = c.load_history(conv, std::nullopt, 50);
    auto history = rec.wait([&](const parley::Event &e) { return e.request_id() == req; }, "history");
    CHECK(history && history->items().size() >= 3);
    req = c.search_articles("refund");
    auto found = rec.wait([&](const parley::Event &e) { return e.request_id() == req; }, "articles");
    CHECK(found && !found->items().empty());
    if (found && !found->items().empty()) {
        req = c.get_article(*found->items()[0].message_id());
        auto article = rec.wait([&](const parley::Event &e) { return e.request_id() == req; }, "article");
        CHECK(article && article->type() == parley::EventType::Article && article->text());
    }
    c.track_event("purchase_failed", R"({"sku":"gems_500"})");
    CHECK(rec.wait([](const parley::Event &e) { return e.type() == parley::EventType::Proactive; }, "proactive"));
    c.mute_proactive(0);
}

void test_attachments_push_history()
{
    std::string dir = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/parley-cpp-att-XXXXXX";
    CHECK(mkdtemp(dir.data()) != nullptr);
    parley::Client c(server_config().data_dir(dir).local_history(20));
    Recorder rec{c, false, {}};
    c.set_push_token("fcm", "cpp-token");
    CHECK_ERROR(InvalidArg, c.set_push_token("fcm", "bad token"));
    std::string conv = c.conversation_start("a save file");
    std::string data;
    for (int i = 0; i < 30000; i++)
        data.push_back(static_cast<char>('a' + i % 26));
    CHECK_ERROR(InvalidArg, c.send_attachment_bytes(conv, data, "bad/name"));
    std::string cid = c.send_attachment_bytes(conv, data, "save.txt", "text/plain", "my save");
    CHECK(rec.wait([&](const parley::Event &e) {
        return e.type() == parley::EventType::Attachment && e.client_id() == cid &&
               e.attachment_state() == parley::AttachmentState::Uploaded;
    }, "UPLOADED"));
    CHECK(rec.wait([&](const parley::Event &e) {
        return e.type() == parley::EventType::MessageStatus && e.client_id() == cid &&
               e.msg_state() == parley::MsgState::Sent;
    }, "SENT"));
    // The agent's view names the file; fetch it back by its id.
    std::string req = c.load_history(conv, std::nullopt, 20);
    auto local = rec.wait([&](const parley::Event &e) { return e.request_id() == req && e.from_device(); },
                          "local history");
    CHECK(local.has_value());
    auto page = rec.wait([&](const parley::Event &e) { return e.request_id() == req && !e.from_device(); },
                         "server history");
    std::optional<std::string> id;
    if (page)
        for (const parley::Event &item : page->items())
            if (item.attachment_id())
                id = item.attachment_id();
    CHECK(id.has_value());
    if (!id)
        return;
    req = c.fetch_attachment(*id);
    std::string got;
    for (;;) {
        auto ev = rec.wait([&](const parley::Event &e) { return e.request_id() == req; }, "download");
        if (!ev || ev->attachment_state() != parley::AttachmentState::Data) {
            CHECK(ev && ev->attachment_state() == parley::AttachmentState::Downloaded);
            break;
        }
        got += ev->chunk();
    }
    CHECK(got == data);
    c.handle_push(R"({"parley":{"conv":")" + conv + R"(","seq":"1"}})");
    CHECK_ERROR(InvalidArg, c.handle_push("not json"));
    CHECK_ERROR(NotFound, c.send_attachment(conv, dir + "/no-such-file"));
}

void test_threaded_survey()
{
    std::mutex m;
    std::set<std::thread::id> log_threads;
    parley::Config cfg = server_config();
    cfg.log([&](parley::LogLevel, std::string_view) {
        std::lock_guard<std::mutex> lock(m);
        log_threads.insert(std::this_thread::get_id());
    }, parley::LogLevel::Debug);
    parley::Client c(cfg);
    Recorder rec{c, true, {}};
    c.start();
    std::string conv = c.conversation_start("Survey please");
    c.send_text(conv, "hello");
    CHECK(rec.wait(is_bot, "greeting"));
    std::string cmd = "curl -sS --fail --max-time 10 --cacert '" + env("PARLEY_TEST_CA") +
                      "' -H 'Authorization: Bearer " + env("PARLEY_TEST_AGENT_TOKEN") +
                      "' -H 'Content-Type: application/json' -d '{}' -o /dev/null '" + env("PARLEY_TEST_API") +
                      "/conversations/" + conv + "/close'";
    CHECK(std::system(cmd.c_str()) == 0);
    auto ev = rec.wait([](const parley::Event &e) { return e.type() == parley::EventType::Survey; }, "survey");
    CHECK(ev && ev->survey());
    if (ev && ev->survey()) {
        const parley::Survey &s = *ev->survey();
        CHECK(s.questions.size() == 3 && s.questions[0].kind == parley::QuestionKind::Rating);
        parley::SurveyResponse r = c.survey_response(s.id);
        auto inc = thrown<parley::IncompleteError>([&] { r.submit(); });
        CHECK(inc && inc->question_id() == "q1");
        CHECK_ERROR(Range, r.answer_number("q1", 9));
        r.answer_number("q1", 1);
        CHECK(r.question_visible("q3"));
        r.answer_text("q3", "slow");
        r.answer_choice("q2", "fixed");
        r.clear_answer("q2");
        std::string cid = r.submit();
        c.close(); // the response keeps the native client alive
        CHECK_THROWS(parley::ClosedError, c.poll());
        CHECK_ERROR(State, r.answer_number("q1", 2));
        r.close();
        CHECK_THROWS(parley::ClosedError, r.submit());
        CHECK(!cid.empty());
    }
    std::lock_guard<std::mutex> lock(m);
    bool io_thread = false;
    for (const std::thread::id &t : log_threads)
        io_thread |= t != std::this_thread::get_id();
    CHECK(io_thread); // parley_log_fn's "Thread:" rule: the I/O thread after start()
}

} // namespace

int main()
{
    test_every_function_wrapped();
    test_version_and_enums();
    test_bad_input();
    test_storage_and_redactor();
    if (env("PARLEY_TEST_URL").empty()) {
        std::printf("skipped the server tests: no PARLEY_TEST_URL (run through bindings/testing/with_server.py)\n");
    } else {
        test_bot_flow();
        test_attachments_push_history();
        test_threaded_survey();
    }
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
