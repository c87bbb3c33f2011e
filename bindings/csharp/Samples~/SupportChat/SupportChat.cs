using System.Collections.Generic;
using Parley;
using UnityEngine; // note: UnityEngine has its own Event and EventType: qualify Parley's

/// <summary>A support chat in a Unity scene: the client runs its own I/O
/// thread and Update() polls its events once per frame, so no native
/// callback reaches managed code and nothing blocks the frame (IL2CPP-safe).
/// Add it to a GameObject, set the server in the inspector, and show
/// Transcript in your UI.</summary>
public class SupportChat : MonoBehaviour
{
    [SerializeField] string serverUrl = "wss://support.example.com";
    [SerializeField] string appId = "my-game";
    [Tooltip("PEM file of the server's CA; empty: the system's trust anchors")]
    [SerializeField] string caFile = "";

    public readonly List<string> Transcript = new List<string>();
    public bool GotAnswer { get; private set; }

    Client client;
    string conversation;
    bool answered;

    void Start()
    {
        using (var config = new Config().SetUrl(serverUrl).SetAppId(appId))
        {
            if (!string.IsNullOrEmpty(caFile))
                config.SetCaFile(caFile);
            config.SetDataDir(Application.persistentDataPath + "/parley"); // unsent messages survive a restart
            client = new Client(config);
        }
        client.SetAttribute("plan", "vip");
        client.SetScreen("inventory");
        client.Start();
        conversation = client.ConversationStart("Payment problem");
        client.SendText(conversation, "My gems never arrived");
    }

    void Update()
    {
        // A Poll() loop allocates nothing on the frames without events.
        for (Parley.Event e = client.Poll(); e != null; e = client.Poll())
        {
            if (e.Type != Parley.EventType.Message || e.AuthorKind != AuthorKind.Bot)
                continue;
            Transcript.Add(e.AuthorName + ": " + e.Text);
            Debug.Log(e.AuthorName + ": " + e.Text);
            if (answered)
            {
                GotAnswer = true;
                continue;
            }
            if (e.QuickReplies.Count == 0)
                continue;
            Option choice = e.QuickReplies[0]; // a real UI shows them as buttons
            Transcript.Add("> " + choice.Label);
            client.Postback(conversation, e.MessageId, choice.Id);
            answered = true;
        }
    }

    void OnDestroy()
    {
        if (client != null)
            client.Dispose();
    }
}
