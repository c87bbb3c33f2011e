using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Parley
{
    internal static partial class Native
    {
#if UNITY_IOS && !UNITY_EDITOR
        internal const string Lib = "__Internal"; // linked statically into the player
#else
        internal const string Lib = "parley"; // libparley.so / parley.dll / libparley.dylib
#endif
    }

    /// <summary>Strings across the C ABI: UTF-8, NUL-terminated, copied both ways.</summary>
    internal static class Utf8
    {
        /// <summary>`s` as NUL-terminated UTF-8; null only when `nullable`.</summary>
        internal static byte[] In(string s, string name, bool nullable = false)
        {
            if (s == null)
            {
                if (nullable)
                    return null;
                throw new ArgumentNullException(name);
            }
            if (s.IndexOf('\0') >= 0)
                throw new ArgumentException("contains a NUL character", name);
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>A borrowed C string, copied (null for NULL).</summary>
        internal static string Out(IntPtr p)
        {
            if (p == IntPtr.Zero)
                return null;
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0)
                len++;
            var bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>What the library wrote into an output buffer.</summary>
        internal static string Out(byte[] buffer)
        {
            int len = Array.IndexOf(buffer, (byte)0);
            return Encoding.UTF8.GetString(buffer, 0, len < 0 ? buffer.Length : len);
        }

        internal static UIntPtr Size(byte[] buffer)
        {
            return new UIntPtr((uint)buffer.Length);
        }
    }

    /// <summary>IL2CPP compiles a native-to-managed callback only for a static
    /// method carrying an attribute of this name (Unity's own lives in UnityEngine's
    /// AOT namespace; any attribute so named works).</summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type)
        {
            Type = type;
        }

        public Type Type { get; private set; }
    }
}
