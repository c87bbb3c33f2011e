"""Connects, sets context, starts a conversation, sends, prints the bot's
replies and answers its first quick reply. PARLEY_URL, PARLEY_CA: the server."""
import os
import parley

with parley.Client(url=os.environ["PARLEY_URL"], ca_file=os.environ.get("PARLEY_CA"), app_id="py-example") as client:
    client.set_attribute("plan", "vip")
    client.set_screen("inventory")
    conv = client.conversation_start("Payment problem")
    client.send_text(conv, "My gems never arrived")
    answered = False
    for frame in range(1000):  # your main loop
        client.service(10)     # or client.start() once, for an I/O thread
        for ev in client.events():
            if ev.type == parley.EventType.MESSAGE and ev.author_kind == parley.AuthorKind.BOT:
                print(f"{ev.author_name}: {ev.text}")
                if answered:
                    raise SystemExit(0)
                choice = ev.quick_replies[0]
                print(f"> {choice.label}")
                client.postback(conv, ev.message_id, choice.id)
                answered = True
raise SystemExit("no answer from the bot")
