// The C# binding: every function of bindings/api.json wrapped (or listed as
// omitted), enums and constants by reflection, bad input as exceptions,
// disposal, host storage, the redactor, a real parley-server over wss
// (PARLEY_TEST_*, set by bindings/testing/with_server.py) and the Unity
// sample driven frame by frame. args: the Runtime/ directory, package.json.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using Parley;

static class ParleyTests
{
    static int passed, failed;

    static void Check(bool cond, string what)
    {
        if (cond)
        {
            passed++;
            return;
        }
        failed++;
        Console.Error.WriteLine("FAILED: " + what + "\n" + new StackTrace(1, true));
    }

    static T Thrown<T>(Action body) where T : Exception
    {
        try
        {
            body();
        }
        catch (T e)
        {
            return e;
        }
        catch (Exception)
        {
        }
        return null;
    }

    static void CheckCode(ErrorCode code, Action body, string what)
    {
        var e = Thrown<ParleyException>(body);
        Check(e != null && e.Code == code, what + ": want " + code + ", got " + (e == null ? "no error" : e.Code.ToString()));
    }

    const string Offline = "wss://localhost:9";

    static Config OfflineConfig()
    {
        return new Config().SetUrl(Offline).SetAppId("cs-test");
    }

    static void TestDescription(string runtimeDir, string packageJson)
    {
        var source = new StringBuilder();
        foreach (string f in Directory.GetFiles(runtimeDir, "*.cs"))
            if (!f.EndsWith(".g.cs"))
                source.Append(File.ReadAllText(f));
        string text = source.ToString();
        var missing = new List<string>();
        foreach (string fn in Api.Functions)
        {
            bool used = text.Contains("Native." + fn + "(");
            bool omitted = Omitted.Functions.ContainsKey(fn);
            if (!used && !omitted)
                missing.Add(fn);
            Check(!(used && omitted), fn + " is wrapped yet listed in Omitted");
        }
        Check(missing.Count == 0, "neither wrapped nor in Omitted.Functions: " + string.Join(", ", missing));
        foreach (string name in Omitted.Functions.Keys)
            Check(Api.Functions.Contains(name), "Omitted names a function the API no longer has: " + name);
        Check(Api.Functions.Length > 100, "the function list");

        Assembly asm = typeof(Client).Assembly;
        foreach (string m in Api.EnumMembers)
        {
            string[] parts = m.Split('=');
            string[] names = parts[0].Split('.');
            Type t = asm.GetType("Parley." + names[0]);
            Check(t != null && t.IsEnum, "enum " + names[0]);
            if (t == null)
                continue;
            object v = Enum.Parse(t, names[1]);
            Check(Convert.ToInt64(v) == long.Parse(parts[1]), m);
        }
        foreach (string c in Api.ConstantValues)
        {
            string[] parts = c.Split('=');
            FieldInfo field = typeof(Constants).GetField(parts[0]);
            Check(field != null && Convert.ToInt64(field.GetValue(null)) == long.Parse(parts[1]), c);
        }
        Check(Library.Version == Api.GeneratedMajor + "." + Api.GeneratedMinor + "." + Api.GeneratedPatch, "version");
        string package = File.ReadAllText(packageJson);
        Check(package.Contains("\"version\": \"" + Library.Version + "\""), "package.json's version is the library's");
        Check(Library.Compatible(0, 1, 0, 1) && !Library.Compatible(0, 2, 0, 1), "0.x minors must match");
        Check(Library.Compatible(1, 3, 1, 2) && !Library.Compatible(1, 1, 1, 2), "1.x: a newer minor is fine");
    }

    static void TestBadInput()
    {
        CheckCode(ErrorCode.InvalidArg, () => new Config().SetUrl("http://example.com"), "not a ws url");
        CheckCode(ErrorCode.TooLong, () => new Config().SetAppVersion(new string('v', 5000)), "app version");
        Check(Thrown<ArgumentNullException>(() => new Config().SetUrl(null)) != null, "null url");
        Check(Thrown<ArgumentException>(() => new Config().SetUrl("wss://a\0b")) != null, "NUL in a url");
        CheckCode(ErrorCode.InvalidArg, () => new Config().SetEncryptionKey(new byte[3]), "short key");
        CheckCode(ErrorCode.InvalidArg, () => new Config().SetReconnect(0, 10), "reconnect");
        CheckCode(ErrorCode.Config, () => new Client(new Config().SetAppId("x")), "no url");
        CheckCode(ErrorCode.Insecure, () => new Client(new Config().SetUrl("ws://localhost:9").SetAppId("x")), "ws://");
        Check(Thrown<ArgumentNullException>(() => new Client(null)) != null, "null config");

        using (var cfg = OfflineConfig())
        using (var c = new Client(cfg))
        {
            string conv = c.ConversationStart("Payment problem");
            Check(conv.StartsWith("c-"), "conversation id");
            Check(c.ConversationStart("Gems", "payments", "shop/gems", Severity.High).StartsWith("c-"),
                  "conversation about");
            CheckCode(ErrorCode.InvalidArg, () => c.ConversationStart(null, "pay ments", null), "bad category");
            CheckCode(ErrorCode.TooLong, () => c.ConversationStart(null, null, new string('a', 300)), "long area");
            CheckCode(ErrorCode.InvalidArg, () => c.ConversationStart(null, null, null, (Severity)9), "bad severity");
            Check(Thrown<ArgumentException>(() => c.ConversationStart(null, "a\0b", null)) != null, "NUL in category");
            Check(Thrown<ArgumentNullException>(() => c.SendText(conv, null)) != null, "null text");
            Check(Thrown<ArgumentNullException>(() => c.SendText(null, "hi")) != null, "null conversation");
            Check(Thrown<ArgumentException>(() => c.SendText(conv, "a\0b")) != null, "NUL in text");
            CheckCode(ErrorCode.TooLong, () => c.SendText(conv, new string('x', 5000)), "long text");
            CheckCode(ErrorCode.InvalidArg, () => c.SendText(conv, ""), "empty text");
            CheckCode(ErrorCode.NotFound, () => c.SendText("c-unknown", "hi"), "unknown conversation");
            CheckCode(ErrorCode.TooLong, () => c.SetScreen(new string('s', 300)), "long screen");
            CheckCode(ErrorCode.NotFound, () => c.SurveyResponse("s-nope"), "unknown survey");
            CheckCode(ErrorCode.Consent, () => c.TrackEvent("purchase_failed"), "consent");
            CheckCode(ErrorCode.InvalidArg, () => c.SetAttribute("level", double.NaN), "NaN");
            CheckCode(ErrorCode.State, () => c.Stop(), "stop before start");
            c.SetAttribute("plan", "vip");
            c.SetAttribute("level", 7);
            c.SetAttribute("beta", true);
            c.SetAttributeNull("nothing");
            c.SetAttributeJson("inventory", "{\"gems\":500}");
            string cid = c.SendText(conv, "queued offline");
            Check(c.OutboxCount == 3, "outbox");
            Check(c.UnsyncedCount == 0, "no data dir: nothing waits for a disk");
            Check(c.Events().Any(e => e.Type == EventType.MessageStatus && e.ClientId == cid && e.MsgState == MsgState.Pending),
                  "a pending status event");
            Check(c.Poll() == null, "nothing more");
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int frame = 0; frame < 1000; frame++)
                c.Poll();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Check(allocated < 1000, "1000 polls of an empty queue allocated " + allocated + " bytes");
            Check(c.AnonymousId.StartsWith("a-"), "anonymous id");
            c.Dispose();
            c.Dispose();
            Check(c.IsDisposed, "disposed");
            Check(Thrown<ObjectDisposedException>(() => c.Poll()) != null, "poll after Dispose");
            Check(Thrown<ObjectDisposedException>(() => c.SendText(conv, "x")) != null, "send after Dispose");
        }
        var closed = OfflineConfig();
        closed.Dispose();
        Check(Thrown<ObjectDisposedException>(() => closed.SetUrl(Offline)) != null, "a disposed config");
    }

    sealed class MemoryStorage : IStorage
    {
        public readonly Dictionary<string, List<byte>> Files = new Dictionary<string, List<byte>>();
        public int Calls;

        public long Size(string name)
        {
            Calls++;
            List<byte> f;
            return Files.TryGetValue(name, out f) ? f.Count : -1;
        }

        public void Read(string name, byte[] buffer)
        {
            Files[name].CopyTo(0, buffer, 0, buffer.Length);
        }

        public void Append(string name, byte[] data)
        {
            if (!Files.ContainsKey(name))
                Files[name] = new List<byte>();
            Files[name].AddRange(data);
        }

        public void Sync(string name) { }

        public void Truncate(string name, long length)
        {
            var f = Files[name];
            f.RemoveRange((int)length, f.Count - (int)length);
        }

        public void Rename(string from, string to)
        {
            Files[to] = Files[from];
            Files.Remove(from);
        }

        public void Remove(string name)
        {
            Files.Remove(name);
        }

        public string Text(string name)
        {
            return Encoding.UTF8.GetString(Files[name].ToArray());
        }
    }

    static void TestStorageAndRedactor()
    {
        var storage = new MemoryStorage();
        string conv, anon;
        using (var cfg = OfflineConfig().SetStorage(storage).SetRedactor((field, text) =>
                   field == RedactField.Message ? text.Replace("Bob", "[n]") : null))
        using (var c = new Client(cfg))
        {
            conv = c.ConversationStart();
            c.SendText(conv, "hi Bob, card 4111 1111 1111 1111");
            anon = c.AnonymousId;
        }
        Check(storage.Calls > 0, "the storage was used");
        string journal = storage.Text("journal");
        Check(!journal.Contains("Bob") && !journal.Contains("4111"), "redacted before the storage");
        Check(journal.Contains("hi [n], card [card]"), "the replacement reached the storage");
        using (var cfg = OfflineConfig().SetStorage(storage)
                   .SetRedactor((field, text) => { throw new InvalidOperationException("a bug in the redactor"); }))
        using (var c = new Client(cfg))
        {
            Check(c.AnonymousId == anon, "the anonymous id came back from the storage");
            Check(c.OutboxCount == 2, "the outbox came back from the storage");
            try
            {
                c.SendText(conv, "secret-words");
            }
            catch (ParleyException)
            {
                // an empty message may be refused: either way nothing leaks
            }
        }
        Check(!storage.Text("journal").Contains("secret-words"), "a failing redactor lets nothing out");
    }

    // ---- a real server ------------------------------------------------------------

    sealed class Recorder
    {
        readonly Client client;
        readonly bool threaded;
        readonly List<Event> seen = new List<Event>();

        public Recorder(Client client, bool threaded)
        {
            this.client = client;
            this.threaded = threaded;
        }

        public Event Wait(Func<Event, bool> want, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            for (;;)
            {
                Event hit = seen.FirstOrDefault(want);
                if (hit != null)
                {
                    seen.Remove(hit);
                    return hit;
                }
                if (DateTime.UtcNow > deadline)
                {
                    Check(false, "no " + what + " in time");
                    return null;
                }
                if (threaded)
                    Thread.Sleep(10);
                else
                    client.Service(20);
                seen.AddRange(client.Events());
            }
        }
    }

    static bool IsBot(Event e)
    {
        return e.Type == EventType.Message && e.AuthorKind == AuthorKind.Bot;
    }

    static Config ServerConfig()
    {
        return new Config().SetUrl(Environment.GetEnvironmentVariable("PARLEY_TEST_URL"))
            .SetCaFile(Environment.GetEnvironmentVariable("PARLEY_TEST_CA")).SetAppId("cs-test").SetReconnect(100, 1000);
    }

    static void TestBotFlow()
    {
        using (var cfg = ServerConfig().SetConsent(true))
        using (var c = new Client(cfg))
        {
            var rec = new Recorder(c, false);
            c.SetScreen("inventory");
            c.AddBreadcrumb("opened support");
            c.SetDeviceFact("gpu", "test");
            string conv = c.ConversationStart("Payment problem");
            string cid = c.SendText(conv, "My gems never arrived");
            Event sent = rec.Wait(e => e.Type == EventType.MessageStatus && e.ClientId == cid && e.MsgState == MsgState.Sent, "SENT");
            Check(sent != null && sent.Seq != null, "SENT with a seq");
            Event greeting = rec.Wait(IsBot, "greeting");
            if (greeting == null)
                return;
            Check(greeting.AuthorName == "Parley Bot" && greeting.QuickReplies.Count == 3, "the greeting's quick replies");
            Check(greeting.QuickReplies[0].Label == "Billing" && greeting.RawJson != null, "Billing first");
            c.Postback(conv, greeting.MessageId, greeting.QuickReplies[0].Id);
            Event answer = rec.Wait(e => IsBot(e) && e.Text == "What's the billing problem?", "the answer");
            Check(answer != null, "the answer to the postback");
            CheckCode(ErrorCode.State, () => c.Postback(conv, greeting.MessageId, greeting.QuickReplies[0].Id), "used up");
            if (answer != null)
                c.MarkRead(conv, answer.Seq);
            Check(rec.Wait(e => e.Type == EventType.Unread && e.ConversationId == conv && e.Count == 0, "unread 0") != null,
                  "the read mark brought the unread count to 0");
            Check(c.UnreadCount(conv) == 0 && c.UnreadCount() == 0, "unread counts");
            c.SetTyping(conv, true);
            string req = c.ListConversations();
            Event list = rec.Wait(e => e.RequestId == req, "the list");
            Check(list != null && list.Type == EventType.Conversations && list.Items[0].ConversationId == conv, "list");
            req = c.LoadHistory(conv, null, 50);
            Event history = rec.Wait(e => e.RequestId == req, "history");
            Check(history != null && history.Items.Count >= 3, "history");
            req = c.SearchArticles("refund");
            Event found = rec.Wait(e => e.RequestId == req, "articles");
            Check(found != null && found.Items.Count > 0, "articles");
            if (found != null && found.Items.Count > 0)
            {
                req = c.GetArticle(found.Items[0].MessageId);
                Event article = rec.Wait(e => e.RequestId == req, "article");
                Check(article != null && article.Type == EventType.Article && article.Text != null, "the article");
            }
            c.TrackEvent("purchase_failed", "{\"sku\":\"gems_500\"}");
            Check(rec.Wait(e => e.Type == EventType.Proactive, "proactive") != null, "a proactive message");
            c.MuteProactive(0);
        }
    }

    static void TestAttachments()
    {
        using (var cfg = ServerConfig().SetLocalHistory(20))
        using (var c = new Client(cfg))
        {
            var rec = new Recorder(c, false);
            c.SetPushToken("fcm", "cs-token");
            CheckCode(ErrorCode.InvalidArg, () => c.SetPushToken("fcm", "bad token"), "a token with a space");
            string conv = c.ConversationStart("a save file");
            var data = new byte[20000];
            for (int i = 0; i < data.Length; i++)
                data[i] = (byte)('a' + i % 26);
            string cid = c.SendAttachmentBytes(conv, data, "save.txt", "text/plain", "my save");
            Check(rec.Wait(e => e.Type == EventType.Attachment && e.ClientId == cid &&
                                e.AttachmentState == AttachmentState.Uploaded, "UPLOADED") != null, "uploaded");
            Check(rec.Wait(e => e.Type == EventType.MessageStatus && e.ClientId == cid && e.MsgState == MsgState.Sent,
                           "SENT") != null, "sent");
            string req = c.LoadHistory(conv, null, 20);
            Check(rec.Wait(e => e.RequestId == req && e.FromDevice, "local history") != null, "local history");
            Event page = rec.Wait(e => e.RequestId == req && !e.FromDevice, "server history");
            string id = null;
            if (page != null)
                foreach (Event item in page.Items)
                    if (item.AttachmentId != null)
                        id = item.AttachmentId;
            Check(id != null, "the file's id in the history");
            if (id == null)
                return;
            req = c.FetchAttachment(id);
            var got = new List<byte>();
            Event ev;
            while ((ev = rec.Wait(e => e.RequestId == req, "download")) != null && ev.AttachmentState == AttachmentState.Data)
                got.AddRange(ev.Chunk);
            Check(ev != null && ev.AttachmentState == AttachmentState.Downloaded, "downloaded");
            Check(got.Count == data.Length && got.ToArray().SequenceEqual(data), "the same bytes");
            c.HandlePush("{\"parley\":{\"conv\":\"" + conv + "\",\"seq\":\"1\"}}");
            CheckCode(ErrorCode.InvalidArg, () => c.HandlePush("not json"), "not a push");
            CheckCode(ErrorCode.NotFound, () => c.SendAttachment(conv, "/no/such/file"), "no file");
        }
    }

    static void TestThreadedSurvey()
    {
        int mainThread = Thread.CurrentThread.ManagedThreadId, otherThread = 0;
        using (var cfg = ServerConfig().SetLog((level, msg) =>
               {
                   if (Thread.CurrentThread.ManagedThreadId != mainThread)
                       Interlocked.Exchange(ref otherThread, 1);
               }, LogLevel.Debug))
        using (var c = new Client(cfg))
        {
            var rec = new Recorder(c, true);
            c.Start();
            string conv = c.ConversationStart("Survey please");
            c.SendText(conv, "hello");
            Check(rec.Wait(IsBot, "greeting") != null, "threaded greeting");
            var curl = Process.Start(new ProcessStartInfo("curl",
                "-sS --fail --max-time 10 --cacert '" + Environment.GetEnvironmentVariable("PARLEY_TEST_CA") +
                "' -H 'Authorization: Bearer " + Environment.GetEnvironmentVariable("PARLEY_TEST_AGENT_TOKEN") +
                "' -H 'Content-Type: application/json' -d '{}' -o /dev/null '" +
                Environment.GetEnvironmentVariable("PARLEY_TEST_API") + "/conversations/" + conv + "/close'")
                { UseShellExecute = false });
            curl.WaitForExit();
            Check(curl.ExitCode == 0, "the agent closes the conversation");
            Event ev = rec.Wait(e => e.Type == EventType.Survey, "survey");
            Check(ev != null && ev.Survey != null && ev.Survey.Questions.Count == 3, "the survey");
            if (ev != null && ev.Survey != null)
            {
                SurveyResponse r = c.SurveyResponse(ev.Survey.Id);
                var inc = Thrown<IncompleteException>(() => r.Submit());
                Check(inc != null && inc.QuestionId == "q1", "submit without q1");
                CheckCode(ErrorCode.Range, () => r.AnswerNumber("q1", 9), "out of the scale");
                r.AnswerNumber("q1", 1);
                Check(r.QuestionVisible("q3"), "q3 shown");
                r.AnswerText("q3", "slow");
                r.AnswerChoice("q2", "fixed");
                r.ClearAnswer("q2");
                CheckCode(ErrorCode.InvalidArg, () => r.AnswerChoices("q2", new[] { "fixed" }), "choices on a single question");
                c.Dispose(); // the response keeps the native client alive
                Check(Thrown<ObjectDisposedException>(() => c.Poll()) != null, "a disposed client");
                Check(!string.IsNullOrEmpty(r.Submit()), "submitted after the client was disposed");
                r.Dispose();
                Check(Thrown<ObjectDisposedException>(() => r.Submit()) != null, "a disposed response");
            }
        }
        Check(otherThread == 1, "the log sink ran on the I/O thread");
    }

    static void TestUnitySample()
    {
        var behaviour = new SupportChat();
        Type t = typeof(SupportChat);
        const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
        t.GetField("serverUrl", Private).SetValue(behaviour, Environment.GetEnvironmentVariable("PARLEY_TEST_URL"));
        t.GetField("caFile", Private).SetValue(behaviour, Environment.GetEnvironmentVariable("PARLEY_TEST_CA"));
        UnityEngine.Application.persistentDataPath = Path.Combine(Path.GetTempPath(), "parley-unity-" + Guid.NewGuid());
        t.GetMethod("Start", Private).Invoke(behaviour, null);
        MethodInfo update = t.GetMethod("Update", Private);
        for (int frame = 0; frame < 1000 && !behaviour.GotAnswer; frame++)
        {
            update.Invoke(behaviour, null); // a frame
            Thread.Sleep(10);
        }
        t.GetMethod("OnDestroy", Private).Invoke(behaviour, null);
        Directory.Delete(UnityEngine.Application.persistentDataPath, true);
        Check(behaviour.GotAnswer, "the sample got the bot's answer to its quick reply");
        Check(behaviour.Transcript.Contains("> Billing"), "the sample answered a quick reply");
    }

    static int Main(string[] args)
    {
        TestDescription(args[0], args[1]);
        TestBadInput();
        TestStorageAndRedactor();
        if (Environment.GetEnvironmentVariable("PARLEY_TEST_URL") == null)
        {
            Console.WriteLine("skipped the server tests: no PARLEY_TEST_URL (run through bindings/testing/with_server.py)");
        }
        else
        {
            TestBotFlow();
            TestAttachments();
            TestThreadedSurvey();
            TestUnitySample();
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }
}
