using System;
using System.Collections.Generic;

namespace Parley
{
    /// <summary>A quick reply or a button: answer it with Client.Postback(conversation, messageId, option.Id).</summary>
    public sealed class Option
    {
        public string Id { get; private set; }
        public string Label { get; private set; }
        public string Payload { get; private set; }
        public string Url { get; private set; }
        public OptionAction Action { get; private set; }

        internal static Option From(IntPtr o)
        {
            return new Option
            {
                Id = Utf8.Out(Native.parley_option_id(o)),
                Label = Utf8.Out(Native.parley_option_label(o)),
                Payload = Utf8.Out(Native.parley_option_payload(o)),
                Url = Utf8.Out(Native.parley_option_url(o)),
                Action = (OptionAction)Native.parley_option_action(o),
            };
        }
    }

    /// <summary>Structured content: quick replies, buttons, a card, a carousel of cards.</summary>
    public sealed class Block
    {
        public BlockKind Kind { get; private set; }
        public string Title { get; private set; }
        public string Text { get; private set; }
        public string ImageUrl { get; private set; }
        public IReadOnlyList<Option> Options { get; private set; }
        public IReadOnlyList<Block> Cards { get; private set; }

        internal static Block From(IntPtr b)
        {
            var options = new List<Option>();
            for (int j = 0; j < Native.parley_block_option_count(b); j++)
                options.Add(Option.From(Native.parley_block_option(b, j)));
            var cards = new List<Block>();
            for (int j = 0; j < Native.parley_block_card_count(b); j++)
                cards.Add(From(Native.parley_block_card(b, j)));
            return new Block
            {
                Kind = (BlockKind)Native.parley_block_kind(b),
                Title = Utf8.Out(Native.parley_block_title(b)),
                Text = Utf8.Out(Native.parley_block_text(b)),
                ImageUrl = Utf8.Out(Native.parley_block_image_url(b)),
                Options = options,
                Cards = cards,
            };
        }
    }

    public sealed class Question
    {
        public string Id { get; private set; }
        public string Text { get; private set; }
        public QuestionKind Kind { get; private set; }
        public bool Required { get; private set; }
        public int Min { get; private set; }
        public int Max { get; private set; }
        public string MinLabel { get; private set; }
        public string MaxLabel { get; private set; }
        public int MaxLength { get; private set; }
        /// <summary>(id, label) of each option of a choice question.</summary>
        public IReadOnlyList<KeyValuePair<string, string>> Options { get; private set; }
        public string ShowIfQuestion { get; private set; }
        public IReadOnlyList<string> ShowIfValues { get; private set; }

        internal static Question From(IntPtr q)
        {
            var options = new List<KeyValuePair<string, string>>();
            for (int j = 0; j < Native.parley_question_option_count(q); j++)
                options.Add(new KeyValuePair<string, string>(Utf8.Out(Native.parley_question_option_id(q, j)),
                                                             Utf8.Out(Native.parley_question_option_label(q, j))));
            var values = new List<string>();
            for (int j = 0; j < Native.parley_question_show_if_value_count(q); j++)
                values.Add(Utf8.Out(Native.parley_question_show_if_value(q, j)));
            return new Question
            {
                Id = Utf8.Out(Native.parley_question_id(q)),
                Text = Utf8.Out(Native.parley_question_text(q)),
                Kind = (QuestionKind)Native.parley_question_kind(q),
                Required = Native.parley_question_required(q) != 0,
                Min = Native.parley_question_min(q),
                Max = Native.parley_question_max(q),
                MinLabel = Utf8.Out(Native.parley_question_min_label(q)),
                MaxLabel = Utf8.Out(Native.parley_question_max_label(q)),
                MaxLength = Native.parley_question_max_length(q),
                Options = options,
                ShowIfQuestion = Utf8.Out(Native.parley_question_show_if_question(q)),
                ShowIfValues = values,
            };
        }
    }

    public sealed class Survey
    {
        public string Id { get; private set; }
        public string Name { get; private set; }
        public string Title { get; private set; }
        public string Intro { get; private set; }
        public string ConversationId { get; private set; }
        public bool Proactive { get; private set; }
        public IReadOnlyList<Question> Questions { get; private set; }

        internal static Survey From(IntPtr s)
        {
            if (s == IntPtr.Zero)
                return null;
            var questions = new List<Question>();
            for (int i = 0; i < Native.parley_survey_question_count(s); i++)
                questions.Add(Question.From(Native.parley_survey_question(s, i)));
            return new Survey
            {
                Id = Utf8.Out(Native.parley_survey_id(s)),
                Name = Utf8.Out(Native.parley_survey_name(s)),
                Title = Utf8.Out(Native.parley_survey_title(s)),
                Intro = Utf8.Out(Native.parley_survey_intro(s)),
                ConversationId = Utf8.Out(Native.parley_survey_conversation_id(s)),
                Proactive = Native.parley_survey_is_proactive(s) != 0,
                Questions = questions,
            };
        }
    }

    /// <summary>One event from Client.Poll(): a value, copied out of the native
    /// event, which is freed at once. Fields an event does not carry are null or 0.</summary>
    public sealed class Event
    {
        public EventType Type { get; private set; }
        /// <summary>The raw state; ConnState, MsgState, ConvState and TypingState type it.</summary>
        public int State { get; private set; }
        public ConnState ConnState { get { return (ConnState)State; } }
        public MsgState MsgState { get { return (MsgState)State; } }
        public ConvState ConvState { get { return (ConvState)State; } }
        public TypingState TypingState { get { return (TypingState)State; } }
        public AttachmentState AttachmentState { get { return (AttachmentState)State; } }
        public string ConversationId { get; private set; }
        public string MessageId { get; private set; }
        public string ClientId { get; private set; }
        public string Seq { get; private set; }
        public string Text { get; private set; }
        public AuthorKind AuthorKind { get; private set; }
        public string AuthorName { get; private set; }
        public long TimestampMs { get; private set; }
        public uint RetryMs { get; private set; }
        public ErrorCode ErrorCode { get; private set; }
        public TlsFailure TlsFailures { get; private set; }
        public int QueuePosition { get; private set; }
        public uint WaitS { get; private set; }
        public uint Count { get; private set; }
        public string RequestId { get; private set; }
        public bool More { get; private set; }
        public string Title { get; private set; }
        public string Url { get; private set; }
        public string RawJson { get; private set; }
        public IReadOnlyList<Block> Blocks { get; private set; }
        public IReadOnlyList<Event> Items { get; private set; }
        public Survey Survey { get; private set; }
        /// <summary>The attachment a message carries, or an upload's file.</summary>
        public string AttachmentId { get; private set; }
        public string AttachmentName { get; private set; }
        public string AttachmentType { get; private set; }
        public string AttachmentSha256 { get; private set; }
        public long AttachmentSize { get; private set; }
        /// <summary>EventType.Attachment: bytes moved so far and the file's size.</summary>
        public long BytesDone { get; private set; }
        public long BytesTotal { get; private set; }
        /// <summary>AttachmentState.Data: the chunk's bytes (empty otherwise).</summary>
        public byte[] Chunk { get; private set; }
        /// <summary>EventType.History: the answer came from the local history.</summary>
        public bool FromDevice { get; private set; }

        /// <summary>The options of the quick-reply blocks.</summary>
        public IReadOnlyList<Option> QuickReplies
        {
            get
            {
                var all = new List<Option>();
                foreach (Block b in Blocks)
                    if (b.Kind == BlockKind.QuickReplies)
                        all.AddRange(b.Options);
                return all;
            }
        }

        static byte[] ChunkOf(IntPtr ev)
        {
            var buf = new byte[Constants.AttachmentChunkSize];
            int n = Native.parley_event_attachment_chunk(ev, buf, new UIntPtr((uint)buf.Length));
            if (n <= 0)
                return new byte[0];
            Array.Resize(ref buf, n);
            return buf;
        }

        internal static Event From(IntPtr ev)
        {
            var blocks = new List<Block>();
            for (int i = 0; i < Native.parley_event_block_count(ev); i++)
                blocks.Add(Block.From(Native.parley_event_block(ev, i)));
            var items = new List<Event>();
            for (int i = 0; i < Native.parley_event_item_count(ev); i++)
                items.Add(From(Native.parley_event_item(ev, i)));
            return new Event
            {
                Type = (EventType)Native.parley_event_type(ev),
                State = Native.parley_event_state(ev),
                ConversationId = Utf8.Out(Native.parley_event_conversation_id(ev)),
                MessageId = Utf8.Out(Native.parley_event_message_id(ev)),
                ClientId = Utf8.Out(Native.parley_event_client_id(ev)),
                Seq = Utf8.Out(Native.parley_event_seq(ev)),
                Text = Utf8.Out(Native.parley_event_text(ev)),
                AuthorKind = (AuthorKind)Native.parley_event_author_kind(ev),
                AuthorName = Utf8.Out(Native.parley_event_author_name(ev)),
                TimestampMs = Native.parley_event_timestamp_ms(ev),
                RetryMs = Native.parley_event_retry_ms(ev),
                ErrorCode = (ErrorCode)Native.parley_event_error_code(ev),
                TlsFailures = (TlsFailure)Native.parley_event_tls_failures(ev),
                QueuePosition = Native.parley_event_queue_position(ev),
                WaitS = Native.parley_event_wait_s(ev),
                Count = Native.parley_event_count(ev),
                RequestId = Utf8.Out(Native.parley_event_request_id(ev)),
                More = Native.parley_event_more(ev) != 0,
                Title = Utf8.Out(Native.parley_event_title(ev)),
                Url = Utf8.Out(Native.parley_event_url(ev)),
                RawJson = Utf8.Out(Native.parley_event_raw_json(ev)),
                Blocks = blocks,
                Items = items,
                Survey = Survey.From(Native.parley_event_survey(ev)),
                AttachmentId = Utf8.Out(Native.parley_event_attachment_id(ev)),
                AttachmentName = Utf8.Out(Native.parley_event_attachment_name(ev)),
                AttachmentType = Utf8.Out(Native.parley_event_attachment_type(ev)),
                AttachmentSha256 = Utf8.Out(Native.parley_event_attachment_sha256(ev)),
                AttachmentSize = Native.parley_event_attachment_size(ev),
                BytesDone = Native.parley_event_bytes_done(ev),
                BytesTotal = Native.parley_event_bytes_total(ev),
                Chunk = ChunkOf(ev),
                FromDevice = Native.parley_event_from_device(ev) != 0,
            };
        }
    }
}
