using InotifySim.Model;

namespace InotifySim.Scenarios.Cli;

/// <summary>
/// A readable name for a fix set: the shortest description relative to a variant. `rfc`,
/// `fixed`, `fixed-destroy-recheck` (fixed without one fix), `rfc+ev-mutex-unlock` (rfc with
/// one), `fixed-a,b` / `rfc+a,b` for several. Fewer names wins; on a tie, the rfc form. Each
/// label reads back as `--variant fixed --without a,b` or `--variant rfc --with a,b`.
/// </summary>
public static class FixLabel
{
    public static string Of(Fix set)
    {
        set &= Fix.All;
        if (set == Fix.None) return "rfc";
        if (set == Fix.All) return "fixed";
        var with = Variants.Fixes.Where(f => (set & f.Fix) != 0).Select(f => f.Name).ToList();
        var without = Variants.Fixes.Where(f => (set & f.Fix) == 0).Select(f => f.Name).ToList();
        return without.Count < with.Count
            ? "fixed-" + string.Join(",", without)
            : "rfc+" + string.Join(",", with);
    }

    /// <summary>The command-line options that select the set (for replay commands and annotations).</summary>
    public static string Options(Fix set)
    {
        var label = Of(set);
        if (label is "rfc" or "fixed") return "--variant " + label;
        return label.StartsWith("fixed-", StringComparison.Ordinal)
            ? "--variant fixed --without " + label["fixed-".Length..]
            : "--variant rfc --with " + label["rfc+".Length..];
    }
}

/// <summary>--shard: "I/N" (1-based) or "env:VAR/N" (VAR holds a 0-based index, as a Kubernetes Indexed Job's JOB_COMPLETION_INDEX).</summary>
public static class ShardSpec
{
    public const int MaxShards = 100_000;

    /// <summary>Parses a canonical "I/N" with 1 &lt;= I &lt;= N; null otherwise.</summary>
    public static (int i, int n)? ParseCanonical(string s)
    {
        var parts = s.Split('/');
        if (parts.Length != 2) return null;
        if (ParsedArgs.ParseCanonical(parts[0]) is not long i || ParsedArgs.ParseCanonical(parts[1]) is not long n) return null;
        if (n < 1 || n > MaxShards || i < 1 || i > n) return null;
        return ((int)i, (int)n);
    }

    public static (int i, int n) Parse(string s, Func<string, string?> env, string command)
    {
        if (s.StartsWith("env:", StringComparison.Ordinal))
        {
            int slash = s.LastIndexOf('/');
            var name = slash > 4 ? s[4..slash] : "";
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || ParsedArgs.ParseCanonical(s[(slash + 1)..]) is not long n || n < 1 || n > MaxShards)
                throw new UsageException($"{command}: bad --shard '{s}' (expected env:VAR/N, e.g. env:JOB_COMPLETION_INDEX/4)");
            var v = env(name);
            if (v is null) throw new UsageException($"{command}: --shard {s}: environment variable {name} is not set");
            if (ParsedArgs.ParseCanonical(v) is not long idx || idx >= n)
                throw new UsageException($"{command}: --shard {s}: {name}='{v}' is not a 0-based index below {n}");
            return ((int)idx + 1, (int)n);
        }
        return ParseCanonical(s) ?? throw new UsageException($"{command}: bad --shard '{s}' (expected I/N with 1 <= I <= N written as plain decimals, e.g. 2/4, or env:VAR/N)");
    }
}
