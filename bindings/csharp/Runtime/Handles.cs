using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Parley
{
    /// <summary>The managed side of a config's callbacks, reached from C through a
    /// GCHandle in `user`. Shared by the config and every client made from it; the
    /// handle is freed when the last of them has freed its native object.</summary>
    internal sealed class Hooks
    {
        int refs = 1;
        GCHandle self;

        internal Hooks()
        {
            self = GCHandle.Alloc(this);
        }

        internal Action<LogLevel, string> Log;
        internal Func<RedactField, string, string> Redactor;
        internal IStorage Storage;

        internal IntPtr Pointer { get { return GCHandle.ToIntPtr(self); } }

        internal static Hooks From(IntPtr user)
        {
            return (Hooks)GCHandle.FromIntPtr(user).Target;
        }

        internal void AddRef()
        {
            Interlocked.Increment(ref refs);
        }

        internal void Release()
        {
            if (Interlocked.Decrement(ref refs) == 0)
                self.Free();
        }
    }

    internal sealed class ConfigHandle : SafeHandle
    {
        public ConfigHandle() : base(IntPtr.Zero, true) { }
        internal Hooks Hooks;
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            Native.parley_config_free(handle);
            if (Hooks != null)
                Hooks.Release();
            return true;
        }
    }

    internal sealed class ClientHandle : SafeHandle
    {
        public ClientHandle() : base(IntPtr.Zero, true) { }
        internal ClientHandle(IntPtr p) : base(IntPtr.Zero, true) { SetHandle(p); }
        internal Hooks Hooks;
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        // After every SurveyResponseHandle (they hold a reference): the native
        // client first, then the callbacks it may call.
        protected override bool ReleaseHandle()
        {
            Native.parley_client_free(handle);
            if (Hooks != null)
                Hooks.Release();
            return true;
        }
    }

    internal sealed class SurveyResponseHandle : SafeHandle
    {
        public SurveyResponseHandle() : base(IntPtr.Zero, true) { }
        internal SurveyResponseHandle(IntPtr p) : base(IntPtr.Zero, true) { SetHandle(p); }
        internal ClientHandle Client; // referenced (DangerousAddRef) until this is released
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            Native.parley_survey_response_free(handle);
            if (Client != null)
                Client.DangerousRelease();
            return true;
        }
    }

    internal sealed class EventHandle : SafeHandle
    {
        public EventHandle() : base(IntPtr.Zero, true) { }
        internal EventHandle(IntPtr p) : base(IntPtr.Zero, true) { SetHandle(p); }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            Native.parley_event_free(handle);
            return true;
        }
    }
}
