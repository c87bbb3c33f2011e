using System;
using System.Runtime.InteropServices;

namespace Parley
{
    /// <summary>Host-provided storage for the library's durable state (consoles,
    /// save systems): parley.h's parley_storage. Called on the thread doing the
    /// client's work (the I/O thread after Start()) and on the client's disk
    /// thread (Sync, and the compaction's calls), one call at a time per
    /// client. Throw to report a failure (the library sees PARLEY_ERR_IO).</summary>
    public interface IStorage
    {
        /// <summary>The file's length in bytes, or -1 when it does not exist.</summary>
        long Size(string name);
        /// <summary>Fills `buffer` with the file's first buffer.Length bytes.</summary>
        void Read(string name, byte[] buffer);
        /// <summary>Adds `data` at the end of the file, creating it.</summary>
        void Append(string name, byte[] data);
        /// <summary>Makes everything appended durable.</summary>
        void Sync(string name);
        void Truncate(string name, long length);
        /// <summary>Atomically replaces `to` with `from`.</summary>
        void Rename(string from, string to);
        /// <summary>Deletes the file; not an error when it does not exist.</summary>
        void Remove(string name);
    }

    /// <summary>A client's configuration. Every setter returns the config, so
    /// calls chain; every failure throws. Dispose it once the clients are made
    /// (they keep what they need, callbacks included).</summary>
    public sealed class Config : IDisposable
    {
        internal readonly ConfigHandle Handle;

        public Config()
        {
            string version = Library.Version; // throws VersionMismatchException
            Handle = Native.parley_config_new();
            if (Handle.IsInvalid)
                throw new OutOfMemoryException("parley_config_new " + version);
            Handle.Hooks = new Hooks();
        }

        volatile bool disposed;

        public void Dispose()
        {
            disposed = true;
            Handle.Dispose();
        }

        ConfigHandle H
        {
            get
            {
                if (disposed || Handle.IsClosed)
                    throw new ObjectDisposedException("Parley.Config");
                return Handle;
            }
        }

        Config Check(int rc, string function)
        {
            ParleyException.Check(rc, function);
            return this;
        }

        public Config SetUrl(string url)
        {
            return Check(Native.parley_config_set_url(H, Utf8.In(url, "url")), "parley_config_set_url");
        }

        public Config SetAppId(string appId)
        {
            return Check(Native.parley_config_set_app_id(H, Utf8.In(appId, "appId")), "parley_config_set_app_id");
        }

        public Config SetCaFile(string path)
        {
            return Check(Native.parley_config_set_ca_file(H, Utf8.In(path, "path")), "parley_config_set_ca_file");
        }

        public Config SetCaPem(string pem)
        {
            byte[] bytes = Utf8.In(pem, "pem");
            return Check(Native.parley_config_set_ca_pem(H, bytes, new UIntPtr((uint)bytes.Length - 1)),
                         "parley_config_set_ca_pem");
        }

        public Config AddPin(string pin)
        {
            return Check(Native.parley_config_add_pin(H, Utf8.In(pin, "pin")), "parley_config_add_pin");
        }

        public Config ClearPins()
        {
            return Check(Native.parley_config_clear_pins(H), "parley_config_clear_pins");
        }

        public Config SetDataDir(string dir)
        {
            return Check(Native.parley_config_set_data_dir(H, Utf8.In(dir, "dir")), "parley_config_set_data_dir");
        }

        /// <summary>Keep the newest perConversation messages of each conversation on the device (0: none).</summary>
        public Config SetLocalHistory(uint perConversation)
        {
            return Check(Native.parley_config_set_local_history(H, perConversation), "parley_config_set_local_history");
        }

        /// <summary>When a queued item counts as stored (parley_config_set_durability).</summary>
        public Config SetDurability(Durability mode)
        {
            return Check(Native.parley_config_set_durability(H, (int)mode), "parley_config_set_durability");
        }

        public Config SetOutboxCap(uint cap)
        {
            return Check(Native.parley_config_set_outbox_cap(H, cap), "parley_config_set_outbox_cap");
        }

        public Config SetEventLimits(uint maxEvents, uint maxBytes)
        {
            return Check(Native.parley_config_set_event_limits(H, maxEvents, new UIntPtr(maxBytes)),
                         "parley_config_set_event_limits");
        }

        /// <summary>Constants.EncryptionKeySize bytes; null turns encryption off.</summary>
        public Config SetEncryptionKey(byte[] key)
        {
            return Check(Native.parley_config_set_encryption_key(H, key, new UIntPtr(key == null ? 0u : (uint)key.Length)),
                         "parley_config_set_encryption_key");
        }

        public Config SetAllowInsecure(bool allow)
        {
            return Check(Native.parley_config_set_allow_insecure(H, allow ? 1 : 0), "parley_config_set_allow_insecure");
        }

        public Config SetReconnect(uint initialMs, uint maxMs)
        {
            return Check(Native.parley_config_set_reconnect(H, initialMs, maxMs), "parley_config_set_reconnect");
        }

        public Config SetContextLimits(uint breadcrumbCap, uint intervalMs)
        {
            return Check(Native.parley_config_set_context_limits(H, breadcrumbCap, intervalMs),
                         "parley_config_set_context_limits");
        }

        public Config SetAppVersion(string version)
        {
            return Check(Native.parley_config_set_app_version(H, Utf8.In(version, "version")),
                         "parley_config_set_app_version");
        }

        public Config SetConsent(bool allowed)
        {
            return Check(Native.parley_config_set_consent(H, allowed ? 1 : 0), "parley_config_set_consent");
        }

        public Config SetDefaultRedactor(bool enabled)
        {
            return Check(Native.parley_config_set_default_redactor(H, enabled ? 1 : 0),
                         "parley_config_set_default_redactor");
        }

        /// <summary>sink(level, message) runs on the client's I/O thread after
        /// Start() (not Unity's main thread: queue what you show); what it throws
        /// is dropped. null: no log.</summary>
        public Config SetLog(Action<LogLevel, string> sink, LogLevel level = LogLevel.Warn)
        {
            H.Hooks.Log = sink;
            return Check(Native.parley_config_set_log(H, sink == null ? null : Trampolines.Log, H.Hooks.Pointer, (int)level),
                         "parley_config_set_log");
        }

        /// <summary>redactor(field, text) returns the text to keep (null: unchanged),
        /// no longer than `text` in UTF-8 bytes. It runs on the thread of the call
        /// carrying the string. A throw or an invalid result blanks the text.</summary>
        public Config SetRedactor(Func<RedactField, string, string> redactor)
        {
            H.Hooks.Redactor = redactor;
            return Check(Native.parley_config_set_text_redactor(H, redactor == null ? null : Trampolines.Redact,
                                                                H.Hooks.Pointer),
                         "parley_config_set_text_redactor");
        }

        /// <summary>Durable state through `storage` instead of a data dir; null goes back.</summary>
        public Config SetStorage(IStorage storage)
        {
            H.Hooks.Storage = storage;
            if (storage == null)
                return Check(Native.parley_config_set_storage(H, IntPtr.Zero, IntPtr.Zero), "parley_config_set_storage");
            var ops = Trampolines.StorageOps();
            IntPtr p = Marshal.AllocHGlobal(Marshal.SizeOf(typeof(Native.parley_storage)));
            try
            {
                Marshal.StructureToPtr(ops, p, false);
                return Check(Native.parley_config_set_storage(H, p, H.Hooks.Pointer), "parley_config_set_storage");
            }
            finally
            {
                Marshal.FreeHGlobal(p); // the library copies the table
            }
        }
    }

    /// <summary>The static functions C calls (IL2CPP allows no instance delegates):
    /// each finds its Hooks through `user`. Nothing thrown crosses into C.</summary>
    internal static class Trampolines
    {
        internal static readonly Native.parley_log_fn Log = OnLog;
        internal static readonly Native.parley_redact_text_fn Redact = OnRedact;
        static readonly Native.parley_storage_size Size = OnSize;
        static readonly Native.parley_storage_read Read = OnRead;
        static readonly Native.parley_storage_append Append = OnAppend;
        static readonly Native.parley_storage_sync Sync = OnSync;
        static readonly Native.parley_storage_truncate Truncate = OnTruncate;
        static readonly Native.parley_storage_rename Rename = OnRename;
        static readonly Native.parley_storage_remove Remove = OnRemove;

        [MonoPInvokeCallback(typeof(Native.parley_log_fn))]
        static void OnLog(IntPtr user, int level, IntPtr msg)
        {
            try
            {
                var sink = Hooks.From(user).Log;
                if (sink != null)
                    sink((LogLevel)level, Utf8.Out(msg));
            }
            catch (Exception)
            {
                // A log sink's failure must not stop the client.
            }
        }

        [MonoPInvokeCallback(typeof(Native.parley_redact_text_fn))]
        static void OnRedact(IntPtr user, int field, IntPtr text, IntPtr r)
        {
            try
            {
                string result = Hooks.From(user).Redactor((RedactField)field, Utf8.Out(text));
                if (result == null || Native.parley_redaction_replace(r, Utf8.In(result, "result")) == 0)
                    return;
            }
            catch (Exception)
            {
                // Fall through: a failed redaction blanks the text rather than let it out.
            }
            Native.parley_redaction_replace(r, new byte[] { 0 });
        }

        internal static Native.parley_storage StorageOps()
        {
            return new Native.parley_storage
            {
                version = (uint)Constants.StorageVersion,
                size = Marshal.GetFunctionPointerForDelegate(Size),
                read = Marshal.GetFunctionPointerForDelegate(Read),
                append = Marshal.GetFunctionPointerForDelegate(Append),
                sync = Marshal.GetFunctionPointerForDelegate(Sync),
                truncate = Marshal.GetFunctionPointerForDelegate(Truncate),
                rename = Marshal.GetFunctionPointerForDelegate(Rename),
                remove = Marshal.GetFunctionPointerForDelegate(Remove),
            };
        }

        static int Guard(IntPtr user, Action<IStorage> body)
        {
            try
            {
                body(Hooks.From(user).Storage);
                return (int)ErrorCode.Ok;
            }
            catch (Exception)
            {
                return (int)ErrorCode.Io;
            }
        }

        [MonoPInvokeCallback(typeof(Native.parley_storage_size))]
        static int OnSize(IntPtr user, IntPtr name, IntPtr len)
        {
            long size = -1;
            int rc = Guard(user, s => size = s.Size(Utf8.Out(name)));
            if (rc != 0)
                return rc;
            if (size < 0)
                return (int)ErrorCode.NotFound;
            Marshal.WriteIntPtr(len, new IntPtr(size));
            return rc;
        }

        [MonoPInvokeCallback(typeof(Native.parley_storage_read))]
        static int OnRead(IntPtr user, IntPtr name, IntPtr buf, UIntPtr len)
        {
            return Guard(user, s =>
            {
                var bytes = new byte[(int)len.ToUInt64()];
                s.Read(Utf8.Out(name), bytes);
                Marshal.Copy(bytes, 0, buf, bytes.Length);
            });
        }

        [MonoPInvokeCallback(typeof(Native.parley_storage_append))]
        static int OnAppend(IntPtr user, IntPtr name, IntPtr data, UIntPtr len)
        {
            return Guard(user, s =>
            {
                var bytes = new byte[(int)len.ToUInt64()];
                Marshal.Copy(data, bytes, 0, bytes.Length);
                s.Append(Utf8.Out(name), bytes);
            });
        }

        [MonoPInvokeCallback(typeof(Native.parley_storage_sync))]
        static int OnSync(IntPtr user, IntPtr name)
        {
            return Guard(user, s => s.Sync(Utf8.Out(name)));
        }

        [MonoPInvokeCallback(typeof(Native.parley_storage_truncate))]
        static int OnTruncate(IntPtr user, IntPtr name, UIntPtr len)
        {
            return Guard(user, s => s.Truncate(Utf8.Out(name), (long)len.ToUInt64()));
        }

        [MonoPInvokeCallback(typeof(Native.parley_storage_rename))]
        static int OnRename(IntPtr user, IntPtr from, IntPtr to)
        {
            return Guard(user, s => s.Rename(Utf8.Out(from), Utf8.Out(to)));
        }

        [MonoPInvokeCallback(typeof(Native.parley_storage_remove))]
        static int OnRemove(IntPtr user, IntPtr name)
        {
            return Guard(user, s => s.Remove(Utf8.Out(name)));
        }
    }
}
