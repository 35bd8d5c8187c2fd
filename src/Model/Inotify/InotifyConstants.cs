namespace InotifySim.Model.Inotify;

/// <summary>include/linux/inotify.h (2.6.17) event bits and flags.</summary>
public static class IN
{
    public const uint IN_ACCESS = 0x00000001;
    public const uint IN_MODIFY = 0x00000002;
    public const uint IN_ATTRIB = 0x00000004;
    public const uint IN_CLOSE_WRITE = 0x00000008;
    public const uint IN_CLOSE_NOWRITE = 0x00000010;
    public const uint IN_OPEN = 0x00000020;
    public const uint IN_MOVED_FROM = 0x00000040;
    public const uint IN_MOVED_TO = 0x00000080;
    public const uint IN_CREATE = 0x00000100;
    public const uint IN_DELETE = 0x00000200;
    public const uint IN_DELETE_SELF = 0x00000400;
    public const uint IN_MOVE_SELF = 0x00000800;

    public const uint IN_UNMOUNT = 0x00002000;
    public const uint IN_Q_OVERFLOW = 0x00004000;
    public const uint IN_IGNORED = 0x00008000;

    public const uint IN_CLOSE = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE;
    public const uint IN_MOVE = IN_MOVED_FROM | IN_MOVED_TO;

    public const uint IN_ONLYDIR = 0x01000000;
    public const uint IN_DONT_FOLLOW = 0x02000000;
    public const uint IN_MASK_ADD = 0x20000000;
    public const uint IN_ISDIR = 0x40000000;
    public const uint IN_ONESHOT = 0x80000000;

    public const uint IN_ALL_EVENTS = IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE |
        IN_CLOSE_NOWRITE | IN_OPEN | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE |
        IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF;

    /// <summary>sizeof(struct inotify_event): s32 wd, u32 mask, u32 cookie, u32 len.</summary>
    public const int EVENT_SIZE = 16;

    private static readonly (uint bit, string name)[] s_names =
    {
        (IN_ACCESS, "IN_ACCESS"), (IN_MODIFY, "IN_MODIFY"), (IN_ATTRIB, "IN_ATTRIB"),
        (IN_CLOSE_WRITE, "IN_CLOSE_WRITE"), (IN_CLOSE_NOWRITE, "IN_CLOSE_NOWRITE"), (IN_OPEN, "IN_OPEN"),
        (IN_MOVED_FROM, "IN_MOVED_FROM"), (IN_MOVED_TO, "IN_MOVED_TO"), (IN_CREATE, "IN_CREATE"),
        (IN_DELETE, "IN_DELETE"), (IN_DELETE_SELF, "IN_DELETE_SELF"), (IN_MOVE_SELF, "IN_MOVE_SELF"),
        (IN_UNMOUNT, "IN_UNMOUNT"), (IN_Q_OVERFLOW, "IN_Q_OVERFLOW"), (IN_IGNORED, "IN_IGNORED"),
        (IN_ONLYDIR, "IN_ONLYDIR"), (IN_DONT_FOLLOW, "IN_DONT_FOLLOW"), (IN_MASK_ADD, "IN_MASK_ADD"),
        (IN_ISDIR, "IN_ISDIR"), (IN_ONESHOT, "IN_ONESHOT"),
    };

    /// <summary>"IN_CREATE|IN_ISDIR"</summary>
    public static string MaskNames(uint mask)
    {
        if (mask == 0) return "0";
        var parts = new List<string>();
        uint rest = mask;
        foreach (var (bit, name) in s_names)
        {
            if ((mask & bit) != 0) { parts.Add(name); rest &= ~bit; }
        }
        if (rest != 0) parts.Add("0x" + rest.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        return string.Join("|", parts);
    }

    /// <summary>Parses "IN_CREATE|IN_DELETE", names without the IN_ prefix, or numbers; null when unknown.</summary>
    public static uint? ParseMask(string s)
    {
        uint m = 0;
        foreach (var raw in s.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var p = raw.ToUpperInvariant();
            if (!p.StartsWith("IN_", StringComparison.Ordinal)) p = "IN_" + p;
            if (p == "IN_ALL_EVENTS") { m |= IN_ALL_EVENTS; continue; }
            if (p == "IN_CLOSE") { m |= IN_CLOSE; continue; }
            if (p == "IN_MOVE") { m |= IN_MOVE; continue; }
            bool found = false;
            foreach (var (bit, name) in s_names)
            {
                if (name == p) { m |= bit; found = true; break; }
            }
            if (found) continue;
            if (raw.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
                uint.TryParse(raw.AsSpan(2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var hx)) { m |= hx; continue; }
            if (uint.TryParse(raw, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var dec)) { m |= dec; continue; }
            return null;
        }
        return m;
    }
}
