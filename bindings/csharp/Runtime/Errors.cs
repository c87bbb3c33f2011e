using System;
using System.Runtime.InteropServices;

namespace Parley
{
    /// <summary>A libparley call failed: <see cref="Code"/> says why (parley.h's PARLEY_ERR_*).</summary>
    public class ParleyException : Exception
    {
        public ParleyException(int code, string function)
            : this(code, function, null)
        {
        }

        protected ParleyException(int code, string function, string detail)
            : base(function + ": " + Library.Strerror(code) + " (" + (ErrorCode)code + ")" +
                   (detail == null ? "" : ": " + detail))
        {
            Code = (ErrorCode)code;
            Function = function;
        }

        public ErrorCode Code { get; private set; }
        public string Function { get; private set; }

        internal static int Check(int rc, string function)
        {
            if (rc < 0)
                throw new ParleyException(rc, function);
            return rc;
        }
    }

    /// <summary>A survey submission lacks the answer to a required question.</summary>
    public sealed class IncompleteException : ParleyException
    {
        internal IncompleteException(string questionId)
            : base((int)ErrorCode.Incomplete, "parley_survey_submit", "question '" + questionId + "'")
        {
            QuestionId = questionId;
        }

        public string QuestionId { get; private set; }
    }

    /// <summary>The loaded libparley does not fit the header this binding was generated from.</summary>
    public sealed class VersionMismatchException : Exception
    {
        internal VersionMismatchException(string message) : base(message)
        {
        }
    }

    /// <summary>The library: its version, checked once before first use.</summary>
    public static class Library
    {
        static readonly object Gate = new object();
        static string checkedVersion;

        /// <summary>docs/abi.md: the same major; before 1.0 the same minor, from 1.0 on a
        /// library minor at least the generated one.</summary>
        public static bool Compatible(int libMajor, int libMinor, int genMajor, int genMinor)
        {
            return libMajor == genMajor && (genMajor == 0 ? libMinor == genMinor : libMinor >= genMinor);
        }

        /// <summary>The loaded library's version; throws VersionMismatchException when it does not fit.</summary>
        public static string Version
        {
            get
            {
                lock (Gate)
                {
                    if (checkedVersion != null)
                        return checkedVersion;
                    int major, minor, patch;
                    string text = Utf8.Out(Native.parley_version(out major, out minor, out patch));
                    if (!Compatible(major, minor, Api.GeneratedMajor, Api.GeneratedMinor))
                        throw new VersionMismatchException("libparley " + text + " is not compatible with this " +
                            "binding, generated from " + Api.GeneratedMajor + "." + Api.GeneratedMinor + " (docs/abi.md)");
                    checkedVersion = text;
                    return text;
                }
            }
        }

        public static string Strerror(int code)
        {
            return Utf8.Out(Native.parley_strerror(code));
        }
    }
}
