using System.Collections.Generic;

namespace Parley
{
    internal static class Omitted
    {
        /// <summary>Functions of bindings/api.json this binding deliberately does not
        /// wrap (its test checks the list against the description).</summary>
        internal static readonly Dictionary<string, string> Functions = new Dictionary<string, string>
        {
            { "parley_config_set_allocator", "managed runtimes keep the C library's allocator; the hooks would run on any thread, also during shutdown" },
            { "parley_config_set_redactor", "it writes into a native buffer; Config.SetRedactor uses parley_config_set_text_redactor" },
        };
    }
}
