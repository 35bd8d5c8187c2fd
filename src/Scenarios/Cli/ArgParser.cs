using System.Globalization;

namespace InotifySim.Scenarios.Cli;

/// <summary>A usage or input error: printed as "inotify-sim: message", exit code 2, never a stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The parsed command line of one command: positionals and --options. Options are
/// "--name value" or "--name=value"; a flag takes no value. Repeated options accumulate.
/// </summary>
public sealed class ParsedArgs
{
    public string Command { get; }
    public List<string> Positionals { get; } = new();
    private readonly Dictionary<string, List<string>> _opts = new(StringComparer.Ordinal);

    private ParsedArgs(string command) => Command = command;

    public static ParsedArgs Parse(string command, IReadOnlyList<string> argv, IEnumerable<string> valued, IEnumerable<string> flags)
    {
        var v = new HashSet<string>(valued);
        var f = new HashSet<string>(flags);
        var p = new ParsedArgs(command);
        bool onlyPositionals = false;
        for (int i = 0; i < argv.Count; i++)
        {
            var a = argv[i];
            if (onlyPositionals || !a.StartsWith("--", StringComparison.Ordinal) || a == "-")
            {
                if (!onlyPositionals && a.StartsWith('-') && a.Length > 1 && !IsNumber(a))
                    throw new UsageException($"{command}: unknown option '{a}' (options are spelled --name)");
                p.Positionals.Add(a);
                continue;
            }
            if (a == "--") { onlyPositionals = true; continue; }
            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            if (f.Contains(name))
            {
                if (value != null) throw new UsageException($"{command}: --{name} takes no value");
                p.Add(name, "");
            }
            else if (v.Contains(name))
            {
                if (value is null)
                {
                    if (i + 1 >= argv.Count) throw new UsageException($"{command}: --{name} needs a value");
                    value = argv[++i];
                }
                p.Add(name, value);
            }
            else
            {
                var all = v.Concat(f).OrderBy(x => x, StringComparer.Ordinal).Select(x => "--" + x);
                throw new UsageException($"{command}: unknown option '--{name}' (options: {string.Join(", ", all)})");
            }
        }
        return p;
    }

    private static bool IsNumber(string s) => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);

    private void Add(string name, string value)
    {
        if (!_opts.TryGetValue(name, out var l)) _opts[name] = l = new List<string>();
        l.Add(value);
    }

    public bool Has(string name) => _opts.ContainsKey(name);

    /// <summary>The value of a single-valued option (the last one wins if repeated).</summary>
    public string? Get(string name) => _opts.TryGetValue(name, out var l) ? l[^1] : null;

    /// <summary>All values, each split on commas (for --with a,b --with c).</summary>
    public List<string> GetList(string name) =>
        _opts.TryGetValue(name, out var l)
            ? l.SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList()
            : new List<string>();

    public long? GetLong(string name, long min, long max)
    {
        var s = Get(name);
        if (s is null) return null;
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v < min || v > max)
            throw new UsageException($"{Command}: bad number '{s}' for --{name} (expected an integer from {min} to {max})");
        return v;
    }

    public double? GetSeconds(string name)
    {
        var s = Get(name);
        if (s is null) return null;
        var t = s.EndsWith('s') ? s[..^1] : s;
        double mult = 1;
        if (t.EndsWith('m') ) { mult = 60; t = t[..^1]; }
        if (!double.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v) || v <= 0 || double.IsInfinity(v))
            throw new UsageException($"{Command}: bad duration '{s}' for --{name} (expected seconds, e.g. 30, 2.5 or 5m)");
        return v * mult;
    }

    public void ExpectPositionals(int min, int max, string usage)
    {
        if (Positionals.Count < min) throw new UsageException($"{Command}: missing argument; usage: {usage}");
        if (Positionals.Count > max) throw new UsageException($"{Command}: unexpected argument '{Positionals[max]}'; usage: {usage}");
    }
}
