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
    /// <summary>Of <see cref="Iterations"/>, the schedules run with fault injection (the fault share, or all with --fault-injection).</summary>
    [JsonPropertyName("faultIterations")] public long FaultIterations { get; set; }
}

/// <summary>The --json summary of a hunt (or of merged shards).</summary>
public sealed class HuntSummary
{
    public const string FormatName = "inotify-sim-hunt";
    /// <summary>2: adds maxSteps and scripts, and "variant" is the fix-set label (FixLabel).</summary>
    public const int FormatVersion = 2;

    [JsonPropertyName("format")] public string Format { get; set; } = FormatName;
    [JsonPropertyName("version")] public int Version { get; set; } = FormatVersion;
    /// <summary>The fix-set label (<see cref="FixLabel"/>): rfc, fixed, fixed-destroy-recheck, rfc+ev-mutex-unlock.</summary>
    [JsonPropertyName("variant")] public string Variant { get; set; } = "";
    [JsonPropertyName("fixes")] public List<string> Fixes { get; set; } = new();
    [JsonPropertyName("strategy")] public string Strategy { get; set; } = "";
    [JsonPropertyName("strategyBound")] public uint? StrategyBound { get; set; }
    [JsonPropertyName("seed")] public uint Seed { get; set; }
    [JsonPropertyName("faultInjection")] public bool FaultInjection { get; set; }
    /// <summary>Without --fault-injection, 1 in this many schedules of each unit runs with fault injection (0: none, or all with --fault-injection).</summary>
    [JsonPropertyName("faultShare")] public int FaultShare { get; set; }
    /// <summary>Of <see cref="Iterations"/>, the schedules run with fault injection.</summary>
    [JsonPropertyName("faultIterations")] public long FaultIterations { get; set; }
    /// <summary>Iteration budget per scenario (split over the workers), null when only --time was given.</summary>
    [JsonPropertyName("iterationBudget")] public long? IterationBudget { get; set; }
    [JsonPropertyName("timeBudget")] public double? TimeBudget { get; set; }
    [JsonPropertyName("maxSteps")] public uint MaxSteps { get; set; }
    /// <summary>The mistakes planted in the model (`--plant`); absent when none.</summary>
    [JsonPropertyName("planted")] public List<string>? Planted { get; set; }
    /// <summary>false under `--no-kcsan`; absent: the machine's default.</summary>
    [JsonPropertyName("kcsan")] public bool? Kcsan { get; set; }
    [JsonPropertyName("jobs")] public int Jobs { get; set; }
    /// <summary>Per script scenario, "sha256:" and the hash of its text (two scripts with one file name are different hunts).</summary>
    [JsonPropertyName("scripts")] public SortedDictionary<string, string> Scripts { get; set; } = new(StringComparer.Ordinal);
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
        var text = InputFiles.ReadText(path, "hunt summary", InputFiles.MaxSummaryBytes);
        HuntSummary? s;
        JsonDocument doc;
        try
        {
            // parsed once: the document tells which fields the file names itself, the summary is read from it
            doc = JsonDocument.Parse(text);
            s = doc.RootElement.Deserialize<HuntSummary>(s_json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new UsageException($"{path}: not a hunt summary: {e.Message.Split('.')[0]}");
        }
        using (doc)
        {
            if (s is null || s.Format != FormatName) throw new UsageException($"{path}: not a hunt summary (\"format\" is not '{FormatName}')");
            // a summary names these itself: a default (an empty "{}" deserializes to a clean, empty hunt) is not a summary
            foreach (var key in new[] { "format", "version", "variant", "fixes", "strategy", "scenarios", "units", "bugs", "iterations" })
                if (!doc.RootElement.TryGetProperty(key, out _)) throw new UsageException($"{path}: not a valid hunt summary: no \"{key}\"");
        }
        if (s.Version != FormatVersion) throw new UsageException($"{path}: hunt summary version {s.Version} is not supported (this build reads {FormatVersion})");
        var problem = s.Problem();
        if (problem != null) throw new UsageException($"{path}: not a valid hunt summary: {problem}");
        return s;
    }

    /// <summary>What is missing or null in a loaded summary (JSON null, or null inside a list); null when whole.</summary>
    private string? Problem()
    {
        // the deserializer keeps an explicit JSON null even where the property is declared non-null
        if (Variant is null) return "\"variant\" is null";
        if (Strategy is null) return "\"strategy\" is null";
        if (Fixes is null) return "\"fixes\" is null";
        if (Scenarios is null) return "\"scenarios\" is null";
        if (Shards is null) return "\"shards\" is null";
        if (Bugs is null) return "\"bugs\" is null";
        if (Units is null) return "\"units\" is null";
        if (Scripts is null) return "\"scripts\" is null";
        if (Fixes.Any(x => x is null)) return "a null in \"fixes\"";
        if (Scenarios.Any(x => x is null)) return "a null in \"scenarios\"";
        if (Shards.Any(x => x is null)) return "a null in \"shards\"";
        if (Scripts.Values.Any(x => x is null)) return "a null in \"scripts\"";
        for (int i = 0; i < Bugs.Count; i++)
        {
            var b = Bugs[i];
            if (b is null) return $"bugs[{i}] is null";
            if (b.Scenario is null || b.Class is null || b.Title is null) return $"bugs[{i}] lacks its scenario, class or title";
            if (b.Functions is null || b.Functions.Any(f => f is null)) return $"bugs[{i}].functions is null or holds a null";
        }
        for (int i = 0; i < Units.Count; i++)
        {
            if (Units[i] is null) return $"units[{i}] is null";
            if (Units[i].Scenario is null) return $"units[{i}].scenario is null";
        }
        if (Iterations < 0 || Jobs < 0 || Units.Any(u => u.Iterations < 0) || IterationBudget < 0 || FaultIterations < 0 || Units.Any(u => u.FaultIterations < 0 || u.Worker < 0)) return "a negative count";
        try
        {
            // a hunt's total is the sum of its units'
            long sum = 0;
            foreach (var u in Units) sum = checked(sum + u.Iterations);
            if (sum != Iterations) return $"\"iterations\" is {Iterations} but its units ran {sum}";
        }
        catch (OverflowException) { return "counts too large to add up"; }
        static bool Seconds(double d) => double.IsFinite(d) && d >= 0;
        if (!Seconds(Elapsed) || Units.Any(u => !Seconds(u.Elapsed))) return "an elapsed time that is negative or not finite";
        if (TimeBudget is double t && (!Seconds(t) || t > ParsedArgs.MaxSeconds)) return "\"timeBudget\" is negative, not finite or over 30 days";
        return null;
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
            Seed = first.Seed, FaultInjection = first.FaultInjection, FaultShare = first.FaultShare, IterationBudget = first.IterationBudget,
            TimeBudget = first.TimeBudget, MaxSteps = first.MaxSteps, Planted = first.Planted, Kcsan = first.Kcsan, Jobs = first.Jobs, Scenarios = first.Scenarios,
            Scripts = first.Scripts,
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
            Same(first.FaultShare, s.FaultShare, "fault share");
            Same(first.IterationBudget, s.IterationBudget, "iteration budget");
            Same(first.TimeBudget, s.TimeBudget, "time budget");
            Same(first.MaxSteps, s.MaxSteps, "max steps");
            Same(first.Planted is null ? "none" : string.Join(",", first.Planted), s.Planted is null ? "none" : string.Join(",", s.Planted), "planted mistakes");
            Same(first.Kcsan, s.Kcsan, "kcsan");
            Same(first.Jobs, s.Jobs, "jobs");
            Same(string.Join(",", first.Scenarios), string.Join(",", s.Scenarios), "scenarios");
            foreach (var sc in first.Scenarios.Distinct())
            {
                first.Scripts.TryGetValue(sc, out var a);
                s.Scripts.TryGetValue(sc, out var b);
                if (a == b) continue;
                string What(string? h) => h is null ? "the catalogue scenario" : $"a script ({h[..Math.Min(h.Length, 19)]}...)";
                throw new UsageException($"merge: scenario '{sc}' is {What(b)} in {path} but {What(a)} in {parts[0].path} (not shards of one hunt)");
            }
            var shards = s.Shards.Count == 0 ? new List<string> { "1/1" } : s.Shards;
            foreach (var sh in shards)
            {
                var (i, k) = ShardSpec.ParseCanonical(sh) ?? throw new UsageException($"merge: {path}: bad shard '{sh}'");
                if (n < 0) n = k;
                else if (n != k) throw new UsageException($"merge: {path} is shard {sh} but others are shards of {n}");
                if (!seen.Add(i)) throw new UsageException($"merge: shard {i}/{n} appears twice ({path})");
            }
            try
            {
                m.Iterations = checked(m.Iterations + s.Iterations);
                m.FaultIterations = checked(m.FaultIterations + s.FaultIterations);
            }
            catch (OverflowException) { throw new UsageException($"merge: {path}: counts too large to add up"); }
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

    /// <summary>Per scenario: schedules, bugs and the seconds its workers spent (summed).</summary>
    public IReadOnlyList<(string scenario, long schedules, int bugs, double seconds)> PerScenario() =>
        Scenarios.Distinct().Select(sc =>
        {
            var us = Units.Where(u => u.Scenario == sc).ToList();
            return (sc, us.Sum(u => u.Iterations), Bugs.Count(b => b.Scenario == sc), us.Sum(u => u.Elapsed));
        }).Where(r => Units.Any(u => u.Scenario == r.sc)).ToList();

    /// <summary>The end-of-hunt table: scenario, schedules, bugs, seconds.</summary>
    public void WriteTable(TextWriter o)
    {
        var rows = PerScenario();
        if (rows.Count == 0) return;
        int w = Math.Max("scenario".Length, rows.Max(r => r.scenario.Length));
        o.WriteLine($"{"scenario".PadRight(w)}  {"schedules",10}  {"bugs",4}  {"seconds",8}");
        foreach (var (sc, n, b, t) in rows)
            o.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{sc.PadRight(w)}  {n,10}  {b,4}  {t,8:0.0}"));
    }

    /// <summary>The replay command of a bug's trace (what JUnit and annotations print).</summary>
    public static string ReplayCommand(HuntBug b) =>
        b.Trace is null ? "(no trace saved: rerun the hunt with --traces DIR)" : $"inotify-sim replay {b.Trace}";

    /// <summary>The JUnit cases of this summary: one per scenario with units here, a failure per bug.</summary>
    public List<JUnitCase> ToJUnit(string command) =>
        PerScenario().Select(r => new JUnitCase(
            $"inotify-sim.{command}.{Variant}",
            r.scenario,
            r.seconds,
            Bugs.Where(b => b.Scenario == r.scenario).Select(b => new JUnitFailure(
                b.Class,
                $"[{b.Class}] {b.Title}",
                $"class: {b.Class}\nfunctions: {string.Join(", ", b.Functions)}\nworker {b.Worker}, seed {b.Seed}, iteration {b.Iteration}\n"
                + $"trace: {b.Trace ?? "none"}\nreplay: {ReplayCommand(b)}\n")).ToList())).ToList();

    /// <summary>One GitHub Actions error annotation per bug.</summary>
    public IEnumerable<string> Annotations() =>
        Bugs.Select(b => GitHubAnnotations.Error(
            $"inotify-sim: {b.Scenario} [{b.Class}] ({Variant})",
            $"{b.Title} (functions: {string.Join(", ", b.Functions)}); {(b.Trace is null ? "no trace saved" : "trace " + b.Trace)}; replay: {ReplayCommand(b)}"));
}
