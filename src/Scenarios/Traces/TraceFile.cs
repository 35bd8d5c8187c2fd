using System.Text.Json;
using System.Text.Json.Serialization;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Scenarios.Traces;

/// <summary>The bug part of a trace file.</summary>
public sealed class TraceBug
{
    [JsonPropertyName("class")] public string Class { get; set; } = "";
    [JsonPropertyName("title")] public string Title { get; set; } = "";
    [JsonPropertyName("functions")] public List<string> Functions { get; set; } = new();
    [JsonPropertyName("threads")] public List<string> Threads { get; set; } = new();
    [JsonPropertyName("objects")] public List<string> Objects { get; set; } = new();
    [JsonPropertyName("text")] public string Text { get; set; } = "";

    public static TraceBug From(Report r) => new()
    {
        Class = r.Class.Name(),
        Title = r.Title,
        Functions = r.Functions.ToList(),
        Threads = r.Threads.ToList(),
        Objects = r.Objects.ToList(),
        Text = r.Text,
    };
}

/// <summary>
/// One self-contained failing-schedule file (JSON, stable key order, diff-friendly): what ran
/// (scenario name or script text, fix set, strategy, seed), Coyote's reproducible trace, and
/// the bug report. <see cref="FormatVersion"/> guards the layout.
/// </summary>
public sealed class TraceFile
{
    public const string FormatName = "inotify-sim-trace";
    public const int FormatVersion = 1;

    [JsonPropertyName("format")] public string Format { get; set; } = FormatName;
    [JsonPropertyName("version")] public int Version { get; set; } = FormatVersion;
    /// <summary>Scenario name ("rm-vs-death", "workload:threads=2,ops=3", or "script").</summary>
    [JsonPropertyName("scenario")] public string Scenario { get; set; } = "";
    /// <summary>The scenario script's text when <see cref="Scenario"/> is "script".</summary>
    [JsonPropertyName("script")] public string? Script { get; set; }
    [JsonPropertyName("variant")] public string Variant { get; set; } = "";
    [JsonPropertyName("fixes")] public List<string> Fixes { get; set; } = new();
    [JsonPropertyName("strategy")] public string Strategy { get; set; } = "random";
    [JsonPropertyName("strategyBound")] public uint? StrategyBound { get; set; }
    [JsonPropertyName("seed")] public uint Seed { get; set; }
    [JsonPropertyName("iteration")] public int Iteration { get; set; }
    [JsonPropertyName("faultInjection")] public bool FaultInjection { get; set; }
    [JsonPropertyName("maxSteps")] public uint MaxSteps { get; set; }
    [JsonPropertyName("bug")] public TraceBug? Bug { get; set; }
    /// <summary>A bug Coyote reported that is not a model report (harness error, hang).</summary>
    [JsonPropertyName("otherBug")] public string? OtherBug { get; set; }
    [JsonPropertyName("coyoteTrace")] public string CoyoteTrace { get; set; } = "";

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The fix set this trace names.</summary>
    public Fix FixSet()
    {
        Fix f = Fix.None;
        foreach (var n in Fixes) f |= Variants.ByName(n) ?? throw new TraceFormatException($"unknown fix '{n}' in \"fixes\"");
        return f;
    }

    public static List<string> FixNames(Fix set) =>
        Variants.Fixes.Where(i => (set & i.Fix) != 0).Select(i => i.Name).ToList();

    public static TraceFile FromHunt(HuntOptions o, HuntResult r, string? script = null) => new()
    {
        Scenario = script != null ? "script" : o.Scenario.Name,
        Script = script,
        Variant = Variants.Describe(o.Fixes),
        Fixes = FixNames(o.Fixes),
        Strategy = o.Strategy,
        StrategyBound = o.StrategyBound,
        Seed = o.Seed,
        Iteration = r.BugIteration,
        FaultInjection = o.FaultInjection,
        MaxSteps = o.MaxSteps,
        Bug = r.Report is null ? null : TraceBug.From(r.Report),
        OtherBug = r.OtherBug,
        CoyoteTrace = r.CoyoteTrace ?? "",
    };

    public string ToJson() => JsonSerializer.Serialize(this, s_json) + "\n";

    public void Save(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, ToJson());
    }

    /// <summary>Loads and validates a trace file; throws <see cref="TraceFormatException"/> naming the problem.</summary>
    public static TraceFile Load(string path)
    {
        if (!File.Exists(path)) throw new TraceFormatException($"{path}: no such file");
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException e) { throw new TraceFormatException($"{path}: cannot read: {e.Message}"); }
        return Parse(text, path);
    }

    public static TraceFile Parse(string text, string name = "trace")
    {
        TraceFile? t;
        try { t = JsonSerializer.Deserialize<TraceFile>(text, s_json); }
        catch (JsonException e)
        {
            var where = e.LineNumber is long l ? $" at line {l + 1}" : "";
            throw new TraceFormatException($"{name}: not valid trace JSON{where}: {e.Message.Split('.')[0]} (truncated or corrupted?)");
        }
        if (t is null) throw new TraceFormatException($"{name}: empty trace file");
        if (t.Format != FormatName) throw new TraceFormatException($"{name}: \"format\" is '{t.Format}', expected '{FormatName}'");
        if (t.Version != FormatVersion) throw new TraceFormatException($"{name}: format version {t.Version} is not supported (this build reads version {FormatVersion})");
        if (string.IsNullOrEmpty(t.Scenario)) throw new TraceFormatException($"{name}: \"scenario\" is missing");
        if (t.Scenario == "script" && string.IsNullOrEmpty(t.Script)) throw new TraceFormatException($"{name}: scenario is \"script\" but \"script\" is missing");
        if (string.IsNullOrEmpty(t.CoyoteTrace)) throw new TraceFormatException($"{name}: \"coyoteTrace\" is missing");
        if (Strategies.Find(t.Strategy) is null) throw new TraceFormatException($"{name}: unknown strategy '{t.Strategy}'");
        var fixes = t.FixSet();
        var err = Variants.Validate(fixes);
        if (err != null) throw new TraceFormatException($"{name}: {err}");
        if (t.Bug != null && !BugClassNames.TryParse(t.Bug.Class, out _)) throw new TraceFormatException($"{name}: unknown bug class '{t.Bug.Class}'");
        return t;
    }
}

/// <summary>A trace file that cannot be used, with a message naming the problem.</summary>
public sealed class TraceFormatException(string message) : Exception(message);
