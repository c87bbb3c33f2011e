// Connects, sets context, starts a conversation, sends, prints the bot's
// replies and answers its first quick reply. PARLEY_URL, PARLEY_CA: the server.
#include <cstdio>
#include <cstdlib>
#include <parley.hpp>

int main()
{
    parley::Config cfg;
    cfg.url(std::getenv("PARLEY_URL")).ca_file(std::getenv("PARLEY_CA")).app_id("cpp-example");
    parley::Client client(cfg);
    client.set_attribute("plan", "vip");
    client.set_screen("inventory");
    std::string conv = client.conversation_start("Payment problem");
    client.send_text(conv, "My gems never arrived");
    bool answered = false;
    for (int frame = 0; frame < 1000; frame++) { // your main loop
        client.service(10);                      // or client.start() once, for an I/O thread
        for (const parley::Event &ev : client.events()) {
            if (ev.type() != parley::EventType::Message || ev.author_kind() != parley::AuthorKind::Bot)
                continue;
            std::printf("%s: %s\n", ev.author_name().value_or("bot").c_str(), ev.text().value_or("").c_str());
            if (answered)
                return 0;
            parley::Option choice = ev.quick_replies().at(0);
            std::printf("> %s\n", choice.label.c_str());
            client.postback(conv, *ev.message_id(), choice.id);
            answered = true;
        }
    }
    return 1;
}
