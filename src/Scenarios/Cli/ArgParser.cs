using System.Globalization;
using System.Text.RegularExpressions;

namespace InotifySim.Scenarios.Cli;

/// <summary>A usage or input error: printed as "inotify-sim: message", exit code 2, never a stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The parsed command line of one command, against its <see cref="CommandSpec"/>: positionals
/// and --options. Options are "--name value" or "--name=value"; a flag takes no value. A
/// single-valued option given twice is an error; a list option (--with) accumulates.
/// </summary>
public sealed partial class ParsedArgs
{
    public string Command { get; }
    public List<string> Positionals { get; } = new();
    private readonly Dictionary<string, List<string>> _opts = new(StringComparer.Ordinal);

    private ParsedArgs(string command) => Command = command;

    public static ParsedArgs Parse(CommandSpec spec, IReadOnlyList<string> argv)
    {
        var byName = spec.Options.ToDictionary(o => o.Name, StringComparer.Ordinal);
        var p = new ParsedArgs(spec.Name);
        bool onlyPositionals = false;
        for (int i = 0; i < argv.Count; i++)
        {
            var a = argv[i];
            if (onlyPositionals || !a.StartsWith("--", StringComparison.Ordinal))
            {
                if (!onlyPositionals && a.StartsWith('-') && a.Length > 1)
                    throw new UsageException($"{spec.Name}: unknown option '{a}' (options are spelled --name)");
                p.Positionals.Add(a);
                continue;
            }
            if (a == "--") { onlyPositionals = true; continue; }
            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            if (!byName.TryGetValue(name, out var o))
            {
                var all = spec.Options.Select(x => "--" + x.Name).OrderBy(x => x, StringComparer.Ordinal);
                throw new UsageException(spec.Options.Count == 0
                    ? $"{spec.Name}: unknown option '--{name}' ({spec.Name} takes no options)"
                    : $"{spec.Name}: unknown option '--{name}' (options: {string.Join(", ", all)})");
            }
            if (o.Kind == OptionKind.Flag)
            {
                if (value != null) throw new UsageException($"{spec.Name}: --{name} takes no value");
                if (p._opts.ContainsKey(name)) throw new UsageException($"{spec.Name}: --{name} is given twice");
                p.Add(name, "");
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= argv.Count) throw new UsageException($"{spec.Name}: --{name} needs a value");
                value = argv[++i];
            }
            if (value.Length == 0) throw new UsageException($"{spec.Name}: --{name} needs a value (got an empty string)");
            if (o.Kind == OptionKind.Single && p._opts.ContainsKey(name))
                throw new UsageException($"{spec.Name}: --{name} is given twice (it takes one value)");
            p.Add(name, value);
        }
        if (p.Positionals.Count < spec.MinPositionals)
            throw new UsageException($"{spec.Name}: missing argument; usage: {spec.Synopsis}");
        if (p.Positionals.Count > spec.MaxPositionals)
            throw new UsageException($"{spec.Name}: unexpected argument '{p.Positionals[spec.MaxPositionals]}'; usage: {spec.Synopsis}");
        foreach (var o in spec.Options)
            if (o.Required && !p.Has(o.Name)) throw new UsageException($"{spec.Name}: {o.Usage} is required; usage: {spec.Synopsis}");
        return p;
    }

    private void Add(string name, string value)
    {
        if (!_opts.TryGetValue(name, out var l)) _opts[name] = l = new List<string>();
        l.Add(value);
    }

    public bool Has(string name) => _opts.ContainsKey(name);

    /// <summary>The value of a single-valued option.</summary>
    public string? Get(string name) => _opts.TryGetValue(name, out var l) ? l[^1] : null;

    /// <summary>All values, each split on commas (for --with a,b --with c).</summary>
    public List<string> GetList(string name) =>
        _opts.TryGetValue(name, out var l)
            ? l.SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList()
            : new List<string>();

    /// <summary>A decimal integer written canonically (no sign, no leading zero, no spaces) from min to max.</summary>
    public long? GetLong(string name, long min, long max)
    {
        var s = Get(name);
        if (s is null) return null;
        if (ParseCanonical(s) is not long v || v < min || v > max)
            throw new UsageException($"{Command}: bad number '{s}' for --{name} (expected an integer from {min} to {max})");
        return v;
    }

    /// <summary>"0" or [1-9][0-9]*, within long; null otherwise ("+1", "01", " 1", "1e3", "0x10").</summary>
    public static long? ParseCanonical(string s)
    {
        if (!CanonicalInteger().IsMatch(s)) return null;
        return long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : null;
    }

    [GeneratedRegex("^(0|[1-9][0-9]{0,18})$", RegexOptions.CultureInvariant)]
    private static partial Regex CanonicalInteger();

    /// <summary>The longest --time accepted: 30 days.</summary>
    public const double MaxSeconds = 30 * 24 * 3600;

    /// <summary>A duration: a positive decimal number with an optional unit ms, s (default), m or h.</summary>
    public double? GetSeconds(string name)
    {
        var s = Get(name);
        if (s is null) return null;
        return ParseDuration(s) ?? throw new UsageException(
            $"{Command}: bad duration '{s}' for --{name} (expected a positive number with an optional unit ms, s, m or h, e.g. 30, 2.5s, 500ms, 5m, 1h; at most 30 days)");
    }

    public static double? ParseDuration(string s)
    {
        var m = Duration().Match(s);
        if (!m.Success) return null;
        if (!double.TryParse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v)) return null;
        double mult = m.Groups[2].Value switch { "ms" => 0.001, "" or "s" => 1, "m" => 60, "h" => 3600, _ => double.NaN };
        double seconds = v * mult;
        if (!double.IsFinite(seconds) || seconds <= 0 || seconds > MaxSeconds) return null;
        return seconds;
    }

    [GeneratedRegex(@"^([0-9]{1,12}(?:\.[0-9]{1,9})?)(ms|s|m|h)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();
}
