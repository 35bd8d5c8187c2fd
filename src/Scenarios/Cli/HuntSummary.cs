using System.Text.Json;
using System.Text.Json.Serialization;

namespace InotifySim.Scenarios.Cli;

/// <summary>One bug of a hunt summary.</summary>
public sealed class HuntBug
{
    [JsonPropertyName("scenario")] public string Scenario { get; set; } = "";
    [JsonPropertyName("worker")] public int Worker { get; set; }
    [JsonPropertyName("class")] public string Class { get; set; } = "";
    [JsonPropertyName("title")] public string Title { get; set; } = "";
    [JsonPropertyName("functions")] public List<string> Functions { get; set; } = new();
    /// <summary>The Coyote seed of the chunk that found it.</summary>
    [JsonPropertyName("seed")] public uint Seed { get; set; }
    /// <summary>1-based iteration within that chunk.</summary>
    [JsonPropertyName("iteration")] public int Iteration { get; set; }
    /// <summary>Iterations this worker had run on the scenario before the bug's chunk.</summary>
    [JsonPropertyName("iterationsBefore")] public long IterationsBefore { get; set; }
    [JsonPropertyName("trace")] public string? Trace { get; set; }
}

/// <summary>One (scenario, worker) unit of a hunt.</summary>
public sealed class HuntUnit
{
    [JsonPropertyName("scenario")] public string Scenario { get; set; } = "";
    [JsonPropertyName("worker")] public int Worker { get; set; }
    [JsonPropertyName("seed")] public uint Seed { get; set; }
    [JsonPropertyName("iterations")] public long Iterations { get; set; }
    [JsonPropertyName("elapsed")] public double Elapsed { get; set; }
    [JsonPropertyName("bug")] public bool Bug { get; set; }
}

/// <summary>The --json summary of a hunt (or of merged shards).</summary>
public sealed class HuntSummary
{
    public const string FormatName = "inotify-sim-hunt";
    public const int FormatVersion = 1;

    [JsonPropertyName("format")] public string Format { get; set; } = FormatName;
    [JsonPropertyName("version")] public int Version { get; set; } = FormatVersion;
    [JsonPropertyName("variant")] public string Variant { get; set; } = "";
    [JsonPropertyName("fixes")] public List<string> Fixes { get; set; } = new();
    [JsonPropertyName("strategy")] public string Strategy { get; set; } = "";
    [JsonPropertyName("strategyBound")] public uint? StrategyBound { get; set; }
    [JsonPropertyName("seed")] public uint Seed { get; set; }
    [JsonPropertyName("faultInjection")] public bool FaultInjection { get; set; }
    /// <summary>Iteration budget per scenario (split over the workers), null when only --time was given.</summary>
    [JsonPropertyName("iterationBudget")] public long? IterationBudget { get; set; }
    [JsonPropertyName("timeBudget")] public double? TimeBudget { get; set; }
    [JsonPropertyName("jobs")] public int Jobs { get; set; }
    /// <summary>Every scenario of the hunt, in order (all shards list all of them).</summary>
    [JsonPropertyName("scenarios")] public List<string> Scenarios { get; set; } = new();
    /// <summary>The shards this summary covers ("2/4"); empty for an unsharded hunt.</summary>
    [JsonPropertyName("shards")] public List<string> Shards { get; set; } = new();
    [JsonPropertyName("complete")] public bool Complete { get; set; } = true;
    [JsonPropertyName("iterations")] public long Iterations { get; set; }
    /// <summary>Wall-clock seconds (for merged shards: the longest shard).</summary>
    [JsonPropertyName("elapsed")] public double Elapsed { get; set; }
    [JsonPropertyName("bugs")] public List<HuntBug> Bugs { get; set; } = new();
    [JsonPropertyName("units")] public List<HuntUnit> Units { get; set; } = new();

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string ToJson() => JsonSerializer.Serialize(this, s_json) + "\n";

    public void Save(string path)
    {
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            File.WriteAllText(path, ToJson());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write {path}: {e.Message}");
        }
    }

    public static HuntSummary Load(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"{path}: no such file");
        HuntSummary? s;
        try { s = JsonSerializer.Deserialize<HuntSummary>(File.ReadAllText(path), s_json); }
        catch (JsonException e) { throw new UsageException($"{path}: not a hunt summary: {e.Message.Split('.')[0]}"); }
        catch (IOException e) { throw new UsageException($"{path}: cannot read: {e.Message}"); }
        if (s is null || s.Format != FormatName) throw new UsageException($"{path}: not a hunt summary (\"format\" is not '{FormatName}')");
        if (s.Version != FormatVersion) throw new UsageException($"{path}: hunt summary version {s.Version} is not supported (this build reads {FormatVersion})");
        return s;
    }

    /// <summary>Sorts units and bugs by (scenario order, worker).</summary>
    public void Sort()
    {
        int Idx(string sc) { int i = Scenarios.IndexOf(sc); return i < 0 ? int.MaxValue : i; }
        Units = Units.OrderBy(u => Idx(u.Scenario)).ThenBy(u => u.Worker).ToList();
        Bugs = Bugs.OrderBy(b => Idx(b.Scenario)).ThenBy(b => b.Worker).ToList();
    }

    /// <summary>Combines shard summaries of one hunt; throws <see cref="UsageException"/> when they do not belong together.</summary>
    public static HuntSummary Merge(IReadOnlyList<(string path, HuntSummary s)> parts, TextWriter stderr)
    {
        var first = parts[0].s;
        var m = new HuntSummary
        {
            Variant = first.Variant, Fixes = first.Fixes, Strategy = first.Strategy, StrategyBound = first.StrategyBound,
            Seed = first.Seed, FaultInjection = first.FaultInjection, IterationBudget = first.IterationBudget,
            TimeBudget = first.TimeBudget, Jobs = first.Jobs, Scenarios = first.Scenarios,
        };
        int n = -1;
        var seen = new HashSet<int>();
        foreach (var (path, s) in parts)
        {
            void Same<T>(T a, T b, string what)
            {
                if (!EqualityComparer<T>.Default.Equals(a, b))
                    throw new UsageException($"merge: {path} has {what} {Fmt(b)} but {parts[0].path} has {Fmt(a)} (not shards of one hunt)");
            }
            Same(first.Variant, s.Variant, "variant");
            Same(string.Join(",", first.Fixes), string.Join(",", s.Fixes), "fixes");
            Same(first.Strategy, s.Strategy, "strategy");
            Same(first.StrategyBound, s.StrategyBound, "strategy bound");
            Same(first.Seed, s.Seed, "seed");
            Same(first.FaultInjection, s.FaultInjection, "fault injection");
            Same(first.IterationBudget, s.IterationBudget, "iteration budget");
            Same(first.TimeBudget, s.TimeBudget, "time budget");
            Same(first.Jobs, s.Jobs, "jobs");
            Same(string.Join(",", first.Scenarios), string.Join(",", s.Scenarios), "scenarios");
            var shards = s.Shards.Count == 0 ? new List<string> { "1/1" } : s.Shards;
            foreach (var sh in shards)
            {
                var (i, k) = ParseShard(sh) ?? throw new UsageException($"merge: {path}: bad shard '{sh}'");
                if (n < 0) n = k;
                else if (n != k) throw new UsageException($"merge: {path} is shard {sh} but others are shards of {n}");
                if (!seen.Add(i)) throw new UsageException($"merge: shard {i}/{n} appears twice ({path})");
            }
            m.Iterations += s.Iterations;
            m.Elapsed = Math.Max(m.Elapsed, s.Elapsed);
            m.Bugs.AddRange(s.Bugs);
            m.Units.AddRange(s.Units);
        }
        var missing = Enumerable.Range(1, n).Where(i => !seen.Contains(i)).ToList();
        if (missing.Count > 0)
        {
            m.Complete = false;
            stderr.WriteLine($"inotify-sim: merge: warning: shard(s) {string.Join(", ", missing.Select(i => $"{i}/{n}"))} missing; the summary is incomplete");
        }
        m.Shards = n == 1 ? new List<string>() : seen.OrderBy(i => i).Select(i => $"{i}/{n}").ToList();
        m.Sort();
        return m;
    }

    private static string Fmt<T>(T v) => v is null ? "none" : $"'{v}'";

    public static (int i, int n)? ParseShard(string s)
    {
        var parts = s.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n) || n < 1 || i < 1 || i > n) return null;
        return (i, n);
    }
}
