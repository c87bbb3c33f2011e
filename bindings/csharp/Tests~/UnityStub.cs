// Just enough of UnityEngine to compile and drive Samples~/SupportChat
// outside Unity: the test sets the inspector's fields and calls Start(),
// Update() once per "frame" and OnDestroy(), as the engine would.
using System;

namespace UnityEngine
{
    public class MonoBehaviour
    {
    }

    // Unity's own, which make Parley's Event and EventType ambiguous unless qualified.
    public class Event
    {
    }

    public enum EventType
    {
        MouseDown,
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute
    {
        public TooltipAttribute(string tooltip)
        {
            Tooltip = tooltip;
        }

        public string Tooltip { get; private set; }
    }

    public static class Debug
    {
        public static void Log(object message)
        {
            Console.WriteLine("[unity] " + message);
        }
    }

    public static class Application
    {
        public static string persistentDataPath = System.IO.Path.GetTempPath();
    }
}
