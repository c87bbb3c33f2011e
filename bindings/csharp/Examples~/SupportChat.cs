// Connects, sets context, starts a conversation, sends, prints the bot's
// replies and answers its first quick reply. PARLEY_URL, PARLEY_CA: the server.
using System;
using Parley;

static class SupportChatExample
{
    static int Main()
    {
        using (var config = new Config().SetUrl(Environment.GetEnvironmentVariable("PARLEY_URL"))
                   .SetCaFile(Environment.GetEnvironmentVariable("PARLEY_CA")).SetAppId("cs-example"))
        using (var client = new Client(config))
        {
            client.SetAttribute("plan", "vip");
            client.SetScreen("inventory");
            string conv = client.ConversationStart("Payment problem");
            client.SendText(conv, "My gems never arrived");
            bool answered = false;
            for (int frame = 0; frame < 1000; frame++) // your main loop
            {
                client.Service(10); // or client.Start() once, for an I/O thread
                foreach (Event e in client.Events())
                {
                    if (e.Type != EventType.Message || e.AuthorKind != AuthorKind.Bot)
                        continue;
                    Console.WriteLine(e.AuthorName + ": " + e.Text);
                    if (answered)
                        return 0;
                    Option choice = e.QuickReplies[0];
                    Console.WriteLine("> " + choice.Label);
                    client.Postback(conv, e.MessageId, choice.Id);
                    answered = true;
                }
            }
        }
        return 1;
    }
}
