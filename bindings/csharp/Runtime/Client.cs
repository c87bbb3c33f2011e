using System;
using System.Collections.Generic;

namespace Parley
{
    /// <summary>A support client. Drive it with Start() (its own I/O thread) or
    /// Service() from your loop, and take events with Poll()/Events() once per
    /// frame: no callback is needed for normal use. Calls may come from any
    /// thread, but not concurrently with Dispose(). Dispose() frees it (after
    /// its last open SurveyResponse); later calls throw ObjectDisposedException.</summary>
    public sealed class Client : IDisposable
    {
        readonly ClientHandle handle;

        public Client(Config config)
        {
            if (config == null)
                throw new ArgumentNullException("config");
            ConfigHandle cfg = config.Handle;
            bool added = false;
            IntPtr pc;
            try
            {
                cfg.DangerousAddRef(ref added);
                ParleyException.Check(Native.parley_client_new(cfg.DangerousGetHandle(), out pc), "parley_client_new");
            }
            finally
            {
                if (added)
                    cfg.DangerousRelease();
            }
            handle = new ClientHandle(pc);
            cfg.Hooks.AddRef(); // the client calls them until it is freed
            handle.Hooks = cfg.Hooks;
        }

        // Our own flag: a handle still referenced by a SurveyResponse is not
        // closed by Dispose() on every runtime (mono's stays open until released).
        volatile bool disposed;

        public void Dispose()
        {
            disposed = true;
            handle.Dispose();
        }

        public bool IsDisposed { get { return disposed; } }

        ClientHandle H
        {
            get
            {
                if (disposed || handle.IsClosed)
                    throw new ObjectDisposedException("Parley.Client");
                return handle;
            }
        }

        static void Check(int rc, string function)
        {
            ParleyException.Check(rc, function);
        }

        static byte[] Id()
        {
            return new byte[Constants.IdSize];
        }

        public void Start() { Check(Native.parley_start(H), "parley_start"); }
        public void Stop() { Check(Native.parley_stop(H), "parley_stop"); }
        public void ReconnectNow() { Check(Native.parley_reconnect_now(H), "parley_reconnect_now"); }

        /// <summary>Host-driven mode: the pending network work, for up to timeoutMs.</summary>
        public void Service(int timeoutMs = 0) { Check(Native.parley_service(H, timeoutMs), "parley_service"); }

        /// <summary>The next event, or null when there is none (never blocks, and
        /// allocates nothing then: call it every frame).</summary>
        public Event Poll()
        {
            IntPtr ev;
            int rc = Native.parley_poll(H, out ev);
            if (rc == (int)ErrorCode.Again)
                return null;
            Check(rc, "parley_poll");
            using (new EventHandle(ev)) // freed even if copying it throws
                return Event.From(ev);
        }

        /// <summary>The events pending now: foreach (var e in client.Events()).
        /// (The enumerator is an allocation; a Poll() loop has none.)</summary>
        public IEnumerable<Event> Events()
        {
            for (Event e = Poll(); e != null; e = Poll())
                yield return e;
        }

        public void Identify(string userId, string token = null)
        {
            Check(Native.parley_identify(H, Utf8.In(userId, "userId"), Utf8.In(token, "token", true)), "parley_identify");
        }

        public string AnonymousId
        {
            get
            {
                byte[] buf = Id();
                Check(Native.parley_anonymous_id(H, buf, Utf8.Size(buf)), "parley_anonymous_id");
                return Utf8.Out(buf);
            }
        }

        public void Logout() { Check(Native.parley_logout(H), "parley_logout"); }
        public void SetConsent(bool allowed) { Check(Native.parley_set_consent(H, allowed ? 1 : 0), "parley_set_consent"); }

        public void SetAttribute(string key, string value)
        {
            Check(Native.parley_set_attribute_str(H, Utf8.In(key, "key"), Utf8.In(value, "value")), "parley_set_attribute_str");
        }

        public void SetAttribute(string key, double value)
        {
            Check(Native.parley_set_attribute_num(H, Utf8.In(key, "key"), value), "parley_set_attribute_num");
        }

        public void SetAttribute(string key, bool value)
        {
            Check(Native.parley_set_attribute_bool(H, Utf8.In(key, "key"), value ? 1 : 0), "parley_set_attribute_bool");
        }

        public void SetAttributeNull(string key)
        {
            Check(Native.parley_set_attribute_null(H, Utf8.In(key, "key")), "parley_set_attribute_null");
        }

        public void SetAttributeJson(string key, string jsonObject)
        {
            Check(Native.parley_set_attribute_json(H, Utf8.In(key, "key"), Utf8.In(jsonObject, "jsonObject")),
                  "parley_set_attribute_json");
        }

        public void SetScreen(string screen)
        {
            Check(Native.parley_set_screen(H, Utf8.In(screen, "screen")), "parley_set_screen");
        }

        public void AddBreadcrumb(string text)
        {
            Check(Native.parley_add_breadcrumb(H, Utf8.In(text, "text")), "parley_add_breadcrumb");
        }

        public void SetDeviceFact(string key, string value)
        {
            Check(Native.parley_set_device_fact(H, Utf8.In(key, "key"), Utf8.In(value, "value")), "parley_set_device_fact");
        }

        public void TrackEvent(string name, string jsonObject = null)
        {
            Check(Native.parley_track_event(H, Utf8.In(name, "name"), Utf8.In(jsonObject, "jsonObject", true)),
                  "parley_track_event");
        }

        /// <summary>Starts a conversation (works offline); its id.</summary>
        public string ConversationStart(string subject = null)
        {
            byte[] buf = Id();
            Check(Native.parley_conversation_start(H, Utf8.In(subject, "subject", true), buf, Utf8.Size(buf)),
                  "parley_conversation_start");
            return Utf8.Out(buf);
        }

        /// <summary>Starts a conversation saying what the app knows about the request (a category,
        /// the game or app area, a severity hint), for the server's triage and the agents; its id.</summary>
        public string ConversationStart(string subject, string category, string area,
                                        Severity severity = Severity.None)
        {
            byte[] buf = Id();
            Check(Native.parley_conversation_start_about(H, Utf8.In(subject, "subject", true),
                                                         Utf8.In(category, "category", true),
                                                         Utf8.In(area, "area", true), (int)severity, buf,
                                                         Utf8.Size(buf)),
                  "parley_conversation_start_about");
            return Utf8.Out(buf);
        }

        /// <summary>Queues a message; its client id (status events name it).</summary>
        public string SendText(string conversationId, string text)
        {
            byte[] buf = Id();
            Check(Native.parley_send_text(H, Utf8.In(conversationId, "conversationId"), Utf8.In(text, "text"), buf,
                                          Utf8.Size(buf)), "parley_send_text");
            return Utf8.Out(buf);
        }

        /// <summary>Journal writes not yet on stable storage (0: all of them survive a power loss).</summary>
        public uint UnsyncedCount
        {
            get
            {
                uint n;
                Check(Native.parley_unsynced_count(H, out n), "parley_unsynced_count");
                return n;
            }
        }

        public uint OutboxCount
        {
            get
            {
                uint n;
                Check(Native.parley_outbox_count(H, out n), "parley_outbox_count");
                return n;
            }
        }

        /// <summary>Answers a quick reply or button; the answer's client id.</summary>
        public string Postback(string conversationId, string messageId, string optionId)
        {
            byte[] buf = Id();
            Check(Native.parley_postback(H, Utf8.In(conversationId, "conversationId"), Utf8.In(messageId, "messageId"),
                                         Utf8.In(optionId, "optionId"), buf, Utf8.Size(buf)), "parley_postback");
            return Utf8.Out(buf);
        }

        public void SetTyping(string conversationId, bool on)
        {
            Check(Native.parley_set_typing(H, Utf8.In(conversationId, "conversationId"), on ? 1 : 0), "parley_set_typing");
        }

        public void MarkRead(string conversationId, string seq)
        {
            Check(Native.parley_mark_read(H, Utf8.In(conversationId, "conversationId"), Utf8.In(seq, "seq")),
                  "parley_mark_read");
        }

        /// <summary>In one conversation, or (null) over all of them.</summary>
        public uint UnreadCount(string conversationId = null)
        {
            uint n;
            Check(Native.parley_unread_count(H, Utf8.In(conversationId, "conversationId", true), out n),
                  "parley_unread_count");
            return n;
        }

        /// <summary>Requests: each returns the id its answer event carries (Event.RequestId).</summary>
        public string ListConversations()
        {
            byte[] buf = Id();
            Check(Native.parley_list_conversations(H, buf, Utf8.Size(buf)), "parley_list_conversations");
            return Utf8.Out(buf);
        }

        public string LoadHistory(string conversationId, string beforeSeq = null, int limit = 0)
        {
            byte[] buf = Id();
            Check(Native.parley_load_history(H, Utf8.In(conversationId, "conversationId"),
                                             Utf8.In(beforeSeq, "beforeSeq", true), limit, buf, Utf8.Size(buf)),
                  "parley_load_history");
            return Utf8.Out(buf);
        }

        public string SearchArticles(string query)
        {
            byte[] buf = Id();
            Check(Native.parley_search_articles(H, Utf8.In(query, "query"), buf, Utf8.Size(buf)), "parley_search_articles");
            return Utf8.Out(buf);
        }

        public string GetArticle(string articleId)
        {
            byte[] buf = Id();
            Check(Native.parley_get_article(H, Utf8.In(articleId, "articleId"), buf, Utf8.Size(buf)), "parley_get_article");
            return Utf8.Out(buf);
        }

        public SurveyResponse SurveyResponse(string surveyId)
        {
            IntPtr p;
            Check(Native.parley_survey_response_new(H, Utf8.In(surveyId, "surveyId"), out p), "parley_survey_response_new");
            var r = new SurveyResponseHandle(p);
            bool added = false;
            handle.DangerousAddRef(ref added); // released with the response
            r.Client = handle;
            return new SurveyResponse(r);
        }

        public string DismissSurvey(string surveyId)
        {
            byte[] buf = Id();
            Check(Native.parley_survey_dismiss(H, Utf8.In(surveyId, "surveyId"), buf, Utf8.Size(buf)), "parley_survey_dismiss");
            return Utf8.Out(buf);
        }

        public void MuteProactive(uint durationMs)
        {
            Check(Native.parley_mute_proactive(H, durationMs), "parley_mute_proactive");
        }

        /// <summary>Sends the file at path (name and mimeType default as parley.h says);
        /// the message's client id.</summary>
        public string SendAttachment(string conversationId, string path, string name = null, string mimeType = null,
                                     string caption = null)
        {
            byte[] buf = Id();
            Check(Native.parley_send_attachment(H, Utf8.In(conversationId, "conversationId"), Utf8.In(path, "path"),
                                                Utf8.In(name, "name", true), Utf8.In(mimeType, "mimeType", true),
                                                Utf8.In(caption, "caption", true), buf, Utf8.Size(buf)),
                  "parley_send_attachment");
            return Utf8.Out(buf);
        }

        /// <summary>Sends data (copied) as a file named name; the message's client id.</summary>
        public string SendAttachmentBytes(string conversationId, byte[] data, string name, string mimeType = null,
                                          string caption = null)
        {
            if (data == null)
                throw new ArgumentNullException("data");
            byte[] buf = Id();
            Check(Native.parley_send_attachment_bytes(H, Utf8.In(conversationId, "conversationId"), data,
                                                      new UIntPtr((uint)data.Length), Utf8.In(name, "name"),
                                                      Utf8.In(mimeType, "mimeType", true),
                                                      Utf8.In(caption, "caption", true), buf, Utf8.Size(buf)),
                  "parley_send_attachment_bytes");
            return Utf8.Out(buf);
        }

        /// <summary>Downloads into destPath, or (null) as AttachmentState.Data events; the request id.</summary>
        public string FetchAttachment(string attachmentId, string destPath = null)
        {
            byte[] buf = Id();
            Check(Native.parley_fetch_attachment(H, Utf8.In(attachmentId, "attachmentId"),
                                                 Utf8.In(destPath, "destPath", true), buf, Utf8.Size(buf)),
                  "parley_fetch_attachment");
            return Utf8.Out(buf);
        }

        /// <summary>The device's push token ("apns", "fcm" or your own); null for both removes it.</summary>
        public void SetPushToken(string platform, string token)
        {
            Check(Native.parley_set_push_token(H, Utf8.In(platform, "platform", true), Utf8.In(token, "token", true)),
                  "parley_set_push_token");
        }

        /// <summary>Hands a received push payload (JSON text) to the client.</summary>
        public void HandlePush(string payload)
        {
            Check(Native.parley_handle_push(H, Utf8.In(payload, "payload")), "parley_handle_push");
        }
    }

    /// <summary>Answers to one pending survey (Client.SurveyResponse(id)). It keeps
    /// its client's native handle alive until it is disposed.</summary>
    public sealed class SurveyResponse : IDisposable
    {
        readonly SurveyResponseHandle handle;

        internal SurveyResponse(SurveyResponseHandle handle)
        {
            this.handle = handle;
        }

        volatile bool disposed;

        public void Dispose()
        {
            disposed = true;
            handle.Dispose();
        }

        SurveyResponseHandle H
        {
            get
            {
                if (disposed || handle.IsClosed)
                    throw new ObjectDisposedException("Parley.SurveyResponse");
                return handle;
            }
        }

        static byte[] Q(string questionId)
        {
            return Utf8.In(questionId, "questionId");
        }

        public void AnswerNumber(string questionId, int value)
        {
            ParleyException.Check(Native.parley_survey_answer_number(H, Q(questionId), value), "parley_survey_answer_number");
        }

        public void AnswerChoice(string questionId, string optionId)
        {
            ParleyException.Check(Native.parley_survey_answer_choice(H, Q(questionId), Utf8.In(optionId, "optionId")),
                                  "parley_survey_answer_choice");
        }

        public void AnswerChoices(string questionId, IList<string> optionIds)
        {
            if (optionIds == null)
                throw new ArgumentNullException("optionIds");
            var pinned = new System.Runtime.InteropServices.GCHandle[optionIds.Count];
            var pointers = new IntPtr[optionIds.Count];
            try
            {
                for (int i = 0; i < optionIds.Count; i++)
                {
                    pinned[i] = System.Runtime.InteropServices.GCHandle.Alloc(Utf8.In(optionIds[i], "optionIds"),
                        System.Runtime.InteropServices.GCHandleType.Pinned);
                    pointers[i] = pinned[i].AddrOfPinnedObject();
                }
                ParleyException.Check(Native.parley_survey_answer_choices(H, Q(questionId), pointers,
                                                                          new UIntPtr((uint)pointers.Length)),
                                      "parley_survey_answer_choices");
            }
            finally
            {
                foreach (var p in pinned)
                    if (p.IsAllocated)
                        p.Free();
            }
        }

        public void AnswerText(string questionId, string text)
        {
            ParleyException.Check(Native.parley_survey_answer_text(H, Q(questionId), Utf8.In(text, "text")),
                                  "parley_survey_answer_text");
        }

        public void ClearAnswer(string questionId)
        {
            ParleyException.Check(Native.parley_survey_clear_answer(H, Q(questionId)), "parley_survey_clear_answer");
        }

        public bool QuestionVisible(string questionId)
        {
            return ParleyException.Check(Native.parley_survey_question_visible(H, Q(questionId)),
                                         "parley_survey_question_visible") == 1;
        }

        /// <summary>Submits through the durable outbox; the submission's client id.
        /// IncompleteException names a required question left unanswered.</summary>
        public string Submit()
        {
            var missing = new byte[Constants.SurveyIdSize];
            var cid = new byte[Constants.IdSize];
            int rc = Native.parley_survey_submit(H, missing, Utf8.Size(missing), cid, Utf8.Size(cid));
            if (rc == (int)ErrorCode.Incomplete)
                throw new IncompleteException(Utf8.Out(missing));
            ParleyException.Check(rc, "parley_survey_submit");
            return Utf8.Out(cid);
        }
    }
}
