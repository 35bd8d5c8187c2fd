using System.Globalization;
using System.Text.RegularExpressions;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;

namespace InotifySim.Scenarios.Scripts;

/// <summary>A script that cannot be used; the message starts with "name:line: ".</summary>
public sealed class ScriptException(string message) : Exception(message);

/// <summary>An optional assertion on a step's return value.</summary>
public sealed record Expectation(string Text, Func<long, bool> Holds);

/// <summary>One operation line: <c>[var =] op args... [expect VALUE]</c>.</summary>
public sealed class ScriptStep
{
    public required int Line { get; init; }
    public required string Op { get; init; }
    public required IReadOnlyList<string> Args { get; init; }
    public string? Assign { get; init; }
    public Expectation? Expect { get; set; }
    public required string Text { get; init; }
}

/// <summary>A <c>thread NAME [uid N] [process NAME]</c> section.</summary>
public sealed class ScriptThread
{
    public required string Name { get; init; }
    public required int Uid { get; init; }
    public required string Process { get; init; }
    public required int Line { get; init; }
    /// <summary>Steps above the <c>start</c> line: run sequentially during setup, as this thread.</summary>
    public List<ScriptStep> Prelude { get; } = new();
    /// <summary>The concurrent part.</summary>
    public List<ScriptStep> Body { get; } = new();
    internal bool Started;
}

/// <summary>
/// A parsed scenario script (.isim): a line-oriented text format. See README "## Command line"
/// and examples/*.isim. Grammar (one statement a line, '#' starts a comment):
/// <code>
/// setup                                   # optional, first: runs as root, sequentially
///   sysctl max_user_watches 8             # max_user_instances, max_user_watches, max_queued_events
///   audit on                              # load the audit-like kernel consumer
///   mkdir /d | touch /d/f | mount /mnt | symlink /d/f /d/l | chmod /d 0777 | ...
/// thread NAME [uid N] [process NAME]      # one or more; threads naming one process share its fds
///   fd = inotify_init nonblock            # [var =] op args... [expect VALUE]
///   wd = add_watch $fd /d IN_CREATE|IN_DELETE
///   start                                 # optional: steps above it run during setup
///   rm_watch $fd $wd expect 0
///   expect ok                             # alone: applies to the previous step
/// </code>
/// </summary>
public sealed class Script
{
    public required string Name { get; init; }
    public List<ScriptStep> Setup { get; } = new();
    public Dictionary<string, int> Sysctl { get; } = new();
    public bool Audit { get; set; }
    public List<ScriptThread> Threads { get; } = new();

    /// <summary>Argument kinds of an operation: f = fd/int value ($var or number), p = path, m = mask, o = octal mode, F = open flags, w = a keyword, x = path or value.</summary>
    internal sealed record OpSpec(string Name, string Kinds, int Optional, string Usage, bool SetupOnly = false);

    internal static readonly OpSpec[] Ops =
    {
        new("inotify_init", "w", 1, "inotify_init [nonblock]"),
        new("add_watch", "fpm", 0, "add_watch FD PATH MASK"),
        new("rm_watch", "ff", 0, "rm_watch FD WD"),
        new("read", "ff", 0, "read FD COUNT"),
        new("close", "f", 0, "close FD"),
        new("fionread", "f", 0, "fionread FD"),
        new("poll", "f", 0, "poll FD"),
        new("open", "pF", 1, "open PATH [rdonly|wronly|rdwr|creat|excl|...]"),
        new("write", "xf", 0, "write PATH|FD COUNT"),
        new("touch", "p", 0, "touch PATH"),
        new("mkdir", "po", 1, "mkdir PATH [MODE]"),
        new("rmdir", "p", 0, "rmdir PATH"),
        new("unlink", "p", 0, "unlink PATH"),
        new("rename", "pp", 0, "rename OLD NEW"),
        new("chmod", "po", 0, "chmod PATH MODE"),
        new("symlink", "pp", 0, "symlink TARGET PATH"),
        new("setxattr", "p", 0, "setxattr PATH"),
        new("mount", "p", 0, "mount PATH"),
        new("umount", "p", 0, "umount PATH"),
        new("audit_add", "pm", 0, "audit_add PATH MASK"),
        new("audit_remove", "p", 0, "audit_remove PATH"),
        new("sysctl", "ww", 0, "sysctl max_user_instances|max_user_watches|max_queued_events N", SetupOnly: true),
        new("audit", "w", 0, "audit on|off", SetupOnly: true),
    };

    private static readonly Dictionary<string, string> s_aliases = new()
    {
        ["inotify_add_watch"] = "add_watch",
        ["inotify_rm_watch"] = "rm_watch",
        ["inotify_init1"] = "inotify_init",
        ["umount2"] = "umount",
    };

    internal static readonly string[] SysctlNames = { "max_user_instances", "max_user_watches", "max_queued_events" };

    private static readonly Regex s_ident = new("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant);

    public int ThreadCount => Threads.Count;

    public static Script Parse(string text, string name)
    {
        var sc = new Script { Name = name };
        var assigned = new HashSet<string>(StringComparer.Ordinal);
        List<ScriptStep>? section = null; // where steps go
        ScriptThread? thread = null;
        bool inSetup = false, sawSetup = false;
        var lines = text.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int ln = i + 1;
            string Err(string msg) => $"{name}:{ln}: {msg}";
            var raw = lines[i];
            int hash = raw.IndexOf('#');
            if (hash >= 0) raw = raw[..hash];
            var tok = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (tok.Length == 0) continue;

            switch (tok[0])
            {
                case "setup":
                    if (tok.Length != 1) throw new ScriptException(Err("'setup' takes no arguments"));
                    if (sawSetup) throw new ScriptException(Err("a second 'setup' section"));
                    if (sc.Threads.Count > 0) throw new ScriptException(Err("'setup' must come before the first 'thread'"));
                    sawSetup = inSetup = true;
                    section = sc.Setup;
                    continue;
                case "thread":
                {
                    if (tok.Length < 2) throw new ScriptException(Err("'thread' needs a name: thread NAME [uid N] [process NAME]"));
                    var tname = tok[1];
                    if (!s_ident.IsMatch(tname.Replace('-', '_'))) throw new ScriptException(Err($"bad thread name '{tname}'"));
                    if (tname == "setup") throw new ScriptException(Err("'setup' is reserved; choose another thread name"));
                    if (sc.Threads.Any(t => t.Name == tname)) throw new ScriptException(Err($"thread '{tname}' is declared twice"));
                    int uid = -1;
                    string? proc = null;
                    for (int k = 2; k < tok.Length; k += 2)
                    {
                        if (k + 1 >= tok.Length) throw new ScriptException(Err($"'{tok[k]}' needs a value: thread NAME [uid N] [process NAME]"));
                        switch (tok[k])
                        {
                            case "uid":
                                if (!int.TryParse(tok[k + 1], NumberStyles.None, CultureInfo.InvariantCulture, out uid))
                                    throw new ScriptException(Err($"bad uid '{tok[k + 1]}' (expected a number >= 0)"));
                                break;
                            case "process": proc = tok[k + 1]; break;
                            default: throw new ScriptException(Err($"unknown thread attribute '{tok[k]}' (expected uid or process)"));
                        }
                    }
                    proc ??= tname;
                    var sibling = sc.Threads.FirstOrDefault(t => t.Process == proc);
                    if (sibling != null)
                    {
                        if (uid >= 0 && uid != sibling.Uid)
                            throw new ScriptException(Err($"thread '{tname}' has uid {uid} but process '{proc}' has uid {sibling.Uid}"));
                        uid = sibling.Uid;
                    }
                    if (uid < 0) uid = 0;
                    thread = new ScriptThread { Name = tname, Uid = uid, Process = proc, Line = ln };
                    sc.Threads.Add(thread);
                    inSetup = false;
                    section = thread.Prelude;
                    continue;
                }
                case "start":
                    if (tok.Length != 1) throw new ScriptException(Err("'start' takes no arguments"));
                    if (thread is null) throw new ScriptException(Err("'start' outside a thread section"));
                    if (thread.Started) throw new ScriptException(Err($"a second 'start' in thread '{thread.Name}'"));
                    thread.Started = true;
                    section = thread.Body;
                    continue;
                case "expect":
                {
                    if (section is null || section.Count == 0) throw new ScriptException(Err("'expect' without a step before it in this section"));
                    var prev = section[^1];
                    if (prev.Expect != null) throw new ScriptException(Err($"line {prev.Line} already has an expectation"));
                    if (tok.Length != 2) throw new ScriptException(Err("usage: expect VALUE (a number, -ERRNO, ok or error)"));
                    prev.Expect = ParseExpect(tok[1], Err);
                    continue;
                }
            }

            if (section is null) throw new ScriptException(Err($"'{tok[0]}' outside a section (start with 'setup' or 'thread NAME')"));

            // [var =] op args... [expect VALUE]
            string? assign = null;
            int p = 0;
            if (tok.Length >= 2 && tok[1] == "=")
            {
                assign = tok[0];
                if (!s_ident.IsMatch(assign)) throw new ScriptException(Err($"bad variable name '{assign}'"));
                p = 2;
                if (tok.Length == 2) throw new ScriptException(Err($"nothing to assign to '{assign}'"));
            }
            var opName = tok[p];
            if (s_aliases.TryGetValue(opName, out var canon)) opName = canon;
            var spec = Ops.FirstOrDefault(o => o.Name == opName)
                ?? throw new ScriptException(Err($"unknown operation '{tok[p]}' (operations: {string.Join(", ", Ops.Select(o => o.Name))})"));
            var args = tok.Skip(p + 1).ToList();
            Expectation? expect = null;
            int ex = args.IndexOf("expect");
            if (ex >= 0)
            {
                if (ex != args.Count - 2) throw new ScriptException(Err("'expect' takes one value at the end of the line: ... expect VALUE"));
                expect = ParseExpect(args[^1], Err);
                args.RemoveRange(ex, 2);
            }
            if (spec.SetupOnly && !inSetup) throw new ScriptException(Err($"'{spec.Name}' is allowed only in the setup section"));
            if (spec.SetupOnly && assign != null) throw new ScriptException(Err($"'{spec.Name}' has no result to assign"));
            int max = spec.Kinds.Length, min = max - spec.Optional;
            if (args.Count < min || args.Count > max) throw new ScriptException(Err($"'{spec.Name}' takes {(min == max ? min.ToString(CultureInfo.InvariantCulture) : $"{min} to {max}")} argument(s): {spec.Usage}"));
            for (int a = 0; a < args.Count; a++) CheckArg(spec, spec.Kinds[a], args[a], assigned, Err);

            if (spec.Name == "sysctl")
            {
                if (!SysctlNames.Contains(args[0])) throw new ScriptException(Err($"unknown sysctl '{args[0]}' (sysctls: {string.Join(", ", SysctlNames)})"));
                if (!int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1)
                    throw new ScriptException(Err($"bad number '{args[1]}' for {args[0]} (expected an integer >= 1)"));
                sc.Sysctl[args[0]] = v;
                continue;
            }
            if (spec.Name == "audit")
            {
                if (args[0] is not ("on" or "off")) throw new ScriptException(Err($"usage: audit on|off (got '{args[0]}')"));
                sc.Audit = args[0] == "on";
                continue;
            }
            if (spec.Name is "audit_add" or "audit_remove" && !sc.Audit)
                throw new ScriptException(Err($"'{spec.Name}' needs 'audit on' in the setup section"));
            if (spec.Name == "inotify_init" && args.Count == 1 && args[0] is not ("nonblock" or "block"))
                throw new ScriptException(Err($"usage: inotify_init [nonblock] (got '{args[0]}')"));

            section.Add(new ScriptStep { Line = ln, Op = spec.Name, Args = args, Assign = assign, Expect = expect, Text = string.Join(' ', tok) });
            if (assign != null) assigned.Add(assign);
        }
        if (!sawSetup && sc.Threads.Count == 0) throw new ScriptException($"{name}: empty script (no 'setup' or 'thread' section)");
        foreach (var t in sc.Threads)
        {
            // without 'start', the whole thread is concurrent
            if (!t.Started) { t.Body.AddRange(t.Prelude); t.Prelude.Clear(); }
        }
        return sc;
    }

    private static void CheckArg(OpSpec spec, char kind, string arg, HashSet<string> assigned, Func<string, string> err)
    {
        if (arg.StartsWith('$'))
        {
            var v = arg[1..];
            if (kind is 'p' or 'm' or 'o' or 'F' or 'w') throw new ScriptException(err($"'{spec.Name}': a variable cannot stand for a {KindName(kind)} ('{arg}')"));
            if (!assigned.Contains(v)) throw new ScriptException(err($"variable '{arg}' is used before it is assigned"));
            return;
        }
        switch (kind)
        {
            case 'f':
                if (!long.TryParse(arg, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                    throw new ScriptException(err($"bad number '{arg}' for '{spec.Name}' (expected an integer or $variable)"));
                break;
            case 'x':
                if (!arg.StartsWith('/') && !long.TryParse(arg, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                    throw new ScriptException(err($"bad argument '{arg}' for '{spec.Name}' (expected an absolute path, a number or $variable)"));
                break;
            case 'p':
                if (!arg.StartsWith('/')) throw new ScriptException(err($"'{spec.Name}': path '{arg}' must be absolute"));
                break;
            case 'm':
                if (IN.ParseMask(arg) is null) throw new ScriptException(err($"bad mask '{arg}' (names like IN_CREATE|IN_DELETE, or a number)"));
                break;
            case 'o':
                if (ParseMode(arg) is null) throw new ScriptException(err($"bad mode '{arg}' (expected octal, e.g. 0755)"));
                break;
            case 'F':
                if (ParseOpenFlags(arg) is null) throw new ScriptException(err($"bad open flags '{arg}' (rdonly, wronly, rdwr, creat, excl joined by '|', or a number)"));
                break;
        }
    }

    private static string KindName(char k) => k switch { 'p' => "path", 'm' => "mask", 'o' => "mode", 'F' => "flag set", _ => "keyword" };

    internal static int? ParseMode(string s)
    {
        try
        {
            int v = Convert.ToInt32(s, 8);
            return v is >= 0 and <= 0xfff ? v : null;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException) { return null; }
    }

    internal static int? ParseOpenFlags(string s)
    {
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return n;
        int f = 0;
        foreach (var part in s.Split('|'))
        {
            switch (part.ToLowerInvariant().Replace("o_", ""))
            {
                case "rdonly": case "r": break;
                case "wronly": case "w": f |= 1; break;
                case "rdwr": case "rw": f |= 2; break;
                case "creat": f |= 0x40; break;
                case "excl": f |= 0x80; break;
                default: return null;
            }
        }
        return f;
    }

    private static Expectation ParseExpect(string v, Func<string, string> err)
    {
        switch (v)
        {
            case "ok": return new Expectation("ok (>= 0)", r => r >= 0);
            case "error": case "fail": return new Expectation("an error (< 0)", r => r < 0);
        }
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)) return new Expectation(Errno.Ret(n), r => r == n);
        var name = v.TrimStart('-');
        for (int e = 1; e < 64; e++)
        {
            if (Errno.Name(e) == name && name != "E" + e.ToString(CultureInfo.InvariantCulture))
            {
                long want = -e;
                return new Expectation("-" + name, r => r == want);
            }
        }
        throw new ScriptException(err($"bad expected value '{v}' (a number, -ENOENT-style errno, ok or error)"));
    }
}
