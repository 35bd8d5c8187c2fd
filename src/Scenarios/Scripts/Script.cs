using System.Globalization;
using System.Text.RegularExpressions;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;

namespace InotifySim.Scenarios.Scripts;

/// <summary>A script that cannot be used; the message starts with "name:line: ".</summary>
public sealed class ScriptException(string message) : Exception(message);

/// <summary>An optional assertion on a step's return value.</summary>
public sealed record Expectation(string Text, Func<long, bool> Holds);

/// <summary>One expected event: <c>WD MASK [NAME] [cookie=LABEL]</c> (WD a number or $var).</summary>
public sealed record ExpectedEvent(int Line, string Wd, uint Mask, string? Name, string? Cookie)
{
    public override string ToString() => $"{Wd} {IN.MaskNames(Mask)}" + (Name is null ? "" : " " + Name) + (Cookie is null ? "" : " cookie=" + Cookie);
}

/// <summary>
/// An <c>events</c> block after a <c>read</c>: the events that read returns, exactly (wd, mask,
/// name, and cookies: events sharing a label share one non-zero cookie, different labels
/// differ, no label means cookie 0); with <c>oneof</c>, one of the alternatives separated by <c>or</c>.
/// </summary>
public sealed class EventsAssertion
{
    public required int Line { get; init; }
    public required bool OneOf { get; init; }
    public List<List<ExpectedEvent>> Alternatives { get; } = new() { new() };
}

/// <summary>The stream properties of <c>assert $FD KIND $WD</c>: over every event the script's reads of $FD returned.</summary>
public enum StreamProperty
{
    /// <summary>no-event-after-ignored: once IN_IGNORED was read for the wd, no event names it again (checked at each read).</summary>
    NoEventAfterIgnored,
    /// <summary>ignored-last: when the declaring thread ends, the last event read for the wd is IN_IGNORED.</summary>
    IgnoredLast,
}

/// <summary>An <c>assert $FD no-event-after-ignored|ignored-last $WD</c> line.</summary>
public sealed record StreamAssertion(int Line, string FdVar, StreamProperty Kind, string Wd, string Thread, string Text);

/// <summary>One operation line: <c>[var =] op args... [expect VALUE]</c>.</summary>
public sealed class ScriptStep
{
    public required int Line { get; init; }
    public required string Op { get; init; }
    /// <summary>The operation in the shared vocabulary (<see cref="SysOps"/>).</summary>
    public required SysOp Spec { get; init; }
    public required IReadOnlyList<string> Args { get; init; }
    public string? Assign { get; init; }
    public Expectation? Expect { get; set; }
    /// <summary>An <c>events</c> block after a <c>read</c>.</summary>
    public EventsAssertion? Events { get; set; }
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
    /// <summary>The <c>assert</c> lines (stream properties of an fd's events).</summary>
    public List<StreamAssertion> Asserts { get; } = new();

    /// <summary>The script-only directives (setup section): not syscalls, so not in <see cref="SysOps"/>.</summary>
    internal static readonly string[] Directives = { "sysctl", "audit" };

    internal static readonly string[] SysctlNames = { "max_user_instances", "max_user_watches", "max_queued_events" };

    private static readonly Regex s_ident = new("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant);

    public int ThreadCount => Threads.Count;

    public static Script Parse(string text, string name)
    {
        var sc = new Script { Name = name };
        var assigned = new HashSet<string>(StringComparer.Ordinal);
        List<ScriptStep>? section = null; // where steps go
        EventsAssertion? block = null; // an open events block
        int blockLine = 0;
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

            if (block != null)
            {
                // inside an events block: event lines, 'or' (oneof only), 'end'
                if (tok.Length == 1 && tok[0] == "end")
                {
                    block = null;
                    continue;
                }
                if (tok.Length == 1 && tok[0] == "or")
                {
                    if (!block.OneOf) throw new ScriptException(Err("'or' is allowed only in an 'events oneof' block"));
                    block.Alternatives.Add(new());
                    continue;
                }
                block.Alternatives[^1].Add(ParseEvent(tok, ln, assigned, Err));
                continue;
            }

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
                case "events":
                {
                    if (section is null || section.Count == 0 || section[^1].Op != "read")
                        throw new ScriptException(Err("'events' must follow a 'read' step: read FD COUNT, then events [oneof|none] ... end"));
                    var prev = section[^1];
                    if (prev.Events != null) throw new ScriptException(Err($"the read at line {prev.Line} already has an events block"));
                    if (tok.Length > 2 || tok.Length == 2 && tok[1] is not ("oneof" or "none"))
                        throw new ScriptException(Err("usage: events [oneof|none] (then one event a line: WD MASK [NAME] [cookie=LABEL], 'or' between alternatives, 'end')"));
                    prev.Events = new EventsAssertion { Line = ln, OneOf = tok.Length == 2 && tok[1] == "oneof" };
                    if (tok.Length == 2 && tok[1] == "none") continue; // no block: the read returns no event
                    block = prev.Events;
                    blockLine = ln;
                    continue;
                }
                case "assert":
                {
                    if (thread is null) throw new ScriptException(Err("'assert' belongs in a thread section"));
                    if (tok.Length != 4 || !tok[1].StartsWith('$') || !tok[3].StartsWith('$'))
                        throw new ScriptException(Err("usage: assert $FD no-event-after-ignored|ignored-last $WD"));
                    var kind = tok[2] switch
                    {
                        "no-event-after-ignored" => StreamProperty.NoEventAfterIgnored,
                        "ignored-last" => StreamProperty.IgnoredLast,
                        _ => throw new ScriptException(Err($"unknown property '{tok[2]}' (no-event-after-ignored, ignored-last)")),
                    };
                    foreach (var v in new[] { tok[1], tok[3] })
                        if (!assigned.Contains(v[1..])) throw new ScriptException(Err($"variable '{v}' is used before it is assigned"));
                    sc.Asserts.Add(new StreamAssertion(ln, tok[1][1..], kind, tok[3], thread.Name, string.Join(' ', tok)));
                    continue;
                }
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
            var args = tok.Skip(p + 1).ToList();
            Expectation? expect = null;
            int ex = args.IndexOf("expect");
            if (ex >= 0)
            {
                if (ex != args.Count - 2) throw new ScriptException(Err("'expect' takes one value at the end of the line: ... expect VALUE"));
                expect = ParseExpect(args[^1], Err);
                args.RemoveRange(ex, 2);
            }

            if (Directives.Contains(opName))
            {
                if (!inSetup) throw new ScriptException(Err($"'{opName}' is allowed only in the setup section"));
                if (assign != null || expect != null) throw new ScriptException(Err($"'{opName}' has no result to assign or expect"));
                if (opName == "sysctl")
                {
                    if (args.Count != 2) throw new ScriptException(Err("usage: sysctl max_user_instances|max_user_watches|max_queued_events N"));
                    if (!SysctlNames.Contains(args[0])) throw new ScriptException(Err($"unknown sysctl '{args[0]}' (sysctls: {string.Join(", ", SysctlNames)})"));
                    if (!int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1)
                        throw new ScriptException(Err($"bad number '{args[1]}' for {args[0]} (expected an integer >= 1)"));
                    sc.Sysctl[args[0]] = v;
                }
                else
                {
                    if (args.Count != 1 || args[0] is not ("on" or "off")) throw new ScriptException(Err($"usage: audit on|off (got '{string.Join(' ', args)}')"));
                    sc.Audit = args[0] == "on";
                }
                continue;
            }
            var spec = SysOps.Find(opName)
                ?? throw new ScriptException(Err($"unknown operation '{opName}' (operations: {string.Join(", ", SysOps.All.Select(o => o.Name).Concat(Directives))})"));
            int max = spec.Args.Length, min = spec.MinArgs;
            if (args.Count < min || args.Count > max) throw new ScriptException(Err($"'{spec.Name}' takes {(min == max ? min.ToString(CultureInfo.InvariantCulture) : $"{min} to {max}")} argument(s): {spec.Usage}"));
            for (int a = 0; a < args.Count; a++) CheckArg(spec, spec.Args[a], args[a], assigned, Err);
            if (spec.Name is "audit_add" or "audit_remove" && !sc.Audit)
                throw new ScriptException(Err($"'{spec.Name}' needs 'audit on' in the setup section"));

            section.Add(new ScriptStep { Line = ln, Op = spec.Name, Spec = spec, Args = args, Assign = assign, Expect = expect, Text = string.Join(' ', tok) });
            if (assign != null) assigned.Add(assign);
        }
        if (block != null) throw new ScriptException($"{name}:{blockLine}: 'events' block without 'end'");
        if (!sawSetup && sc.Threads.Count == 0) throw new ScriptException($"{name}: empty script (no 'setup' or 'thread' section)");
        foreach (var t in sc.Threads)
        {
            // without 'start', the whole thread is concurrent
            if (!t.Started) { t.Body.AddRange(t.Prelude); t.Prelude.Clear(); }
        }
        return sc;
    }

    private static void CheckArg(SysOp spec, ArgSpec a, string arg, HashSet<string> assigned, Func<string, string> err)
    {
        if (arg.StartsWith('$'))
        {
            var v = arg[1..];
            if (a.Kind is not (ArgKind.Fd or ArgKind.Wd or ArgKind.Num or ArgKind.PathOrFd))
                throw new ScriptException(err($"'{spec.Name}': a variable cannot stand for {a.Name} ('{arg}'; expected {SysOps.Expected(a.Kind, a.Keywords)})"));
            if (!assigned.Contains(v)) throw new ScriptException(err($"variable '{arg}' is used before it is assigned"));
            return;
        }
        if (SysOps.ParseValue(a.Kind, arg, a.Keywords) is null)
            throw new ScriptException(err($"bad {Label(a)} '{arg}' for '{spec.Name}' (expected {SysOps.Expected(a.Kind, a.Keywords)})"));
    }

    private static ExpectedEvent ParseEvent(string[] tok, int ln, HashSet<string> assigned, Func<string, string> err)
    {
        const string usage = "an event line is WD MASK [NAME] [cookie=LABEL] (WD a number or $var; end the block with 'end')";
        if (tok.Length < 2 || tok.Length > 4) throw new ScriptException(err(usage));
        var wd = tok[0];
        if (wd.StartsWith('$'))
        {
            if (!assigned.Contains(wd[1..])) throw new ScriptException(err($"variable '{wd}' is used before it is assigned"));
        }
        else if (!int.TryParse(wd, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            throw new ScriptException(err($"bad wd '{wd}' ({usage})"));
        var mask = IN.ParseMask(tok[1]) ?? throw new ScriptException(err($"bad mask '{tok[1]}' (names like IN_CREATE|IN_ISDIR, or a number)"));
        string? name = null, cookie = null;
        foreach (var t in tok.Skip(2))
        {
            if (t.StartsWith("cookie=", StringComparison.Ordinal))
            {
                if (cookie != null || t.Length == 7) throw new ScriptException(err($"bad cookie '{t}' ({usage})"));
                cookie = t[7..];
            }
            else if (name is null && cookie is null) name = t;
            else throw new ScriptException(err(usage));
        }
        return new ExpectedEvent(ln, wd, mask, name, cookie);
    }

    private static string Label(ArgSpec a) => a.Kind switch
    {
        ArgKind.Fd or ArgKind.Wd or ArgKind.Num => "number",
        ArgKind.OpenFlags => "open flags",
        ArgKind.PathOrFd => "argument",
        _ => a.Kind.ToString().ToLowerInvariant(),
    };

    private static Expectation ParseExpect(string v, Func<string, string> err)
    {
        switch (v)
        {
            case "ok": return new Expectation("ok (>= 0)", r => r >= 0);
            case "error": case "fail": return new Expectation("an error (< 0)", r => r < 0);
        }
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)) return new Expectation(Errno.Ret(n), r => r == n);
        var name = v.TrimStart('-');
        for (int e = 1; e < 128; e++)
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
