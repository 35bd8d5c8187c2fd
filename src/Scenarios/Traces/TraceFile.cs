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
/// (scenario name or script text, fix set, strategy, seed), the scheduler's decisions, and
/// the bug report. <see cref="FormatVersion"/> guards the layout.
/// </summary>
public sealed class TraceFile
{
    public const string FormatName = "inotify-sim-trace";
    /// <summary>Version 2: the harness-owned scheduler's decisions ("schedule"); version 1 held a Coyote trace.</summary>
    public const int FormatVersion = 2;

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
    /// <summary>The mistakes planted in the model (`--plant`, src/Model/Mistakes.cs); absent when none (older traces: none).</summary>
    [JsonPropertyName("planted")] public List<string>? Planted { get; set; }
    /// <summary>false when the run had the data-race detector off (`--no-kcsan`); absent: the machine's default.</summary>
    [JsonPropertyName("kcsan")] public bool? Kcsan { get; set; }
    [JsonPropertyName("bug")] public TraceBug? Bug { get; set; }
    /// <summary>A failure that is not a model report (a harness condition).</summary>
    [JsonPropertyName("otherBug")] public string? OtherBug { get; set; }
    /// <summary>The scenario's threads, by scheduler index.</summary>
    [JsonPropertyName("threads")] public List<string> Threads { get; set; } = new();
    /// <summary>Preemptions in the schedule (switches away from a thread that could still run).</summary>
    [JsonPropertyName("preemptions")] public int Preemptions { get; set; }
    /// <summary>
    /// Every branching decision of the schedule, one per line: KIND THREAD OPTIONS CHOSEN SITE, where KIND is
    /// start, point, block, exit or choice; THREAD the deciding thread's index (-1 at the start); OPTIONS the
    /// runnable thread indices ("0,1") or, for a choice, "n=N"; CHOSEN the thread or value chosen; SITE the
    /// kernel function (or the choice's name). Replay consumes exactly these, and checks every field.
    /// </summary>
    [JsonPropertyName("schedule")] public List<string>? Schedule { get; set; }

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

    /// <summary>The mistakes this trace's run planted (none when "planted" is absent).</summary>
    public Mistake PlantedSet(string name = "trace")
    {
        if (Planted is null) return Mistake.None;
        var m = Mistakes.Parse(Planted.Select(p => p ?? "(null)"), out var err);
        return m ?? throw new TraceFormatException($"{name}: \"planted\": {err}");
    }

    public static List<string> FixNames(Fix set) =>
        Variants.Fixes.Where(i => (set & i.Fix) != 0).Select(i => i.Name).ToList();

    public static TraceFile FromHunt(HuntOptions o, HuntResult r, string? script = null) => new()
    {
        Scenario = script != null ? "script" : o.Scenario.Name,
        Script = script,
        Variant = Variants.Describe(o.Fixes),
        Fixes = FixNames(o.Fixes),
        Strategy = o.PreemptionBound is null ? o.Strategy : "verify",
        StrategyBound = o.PreemptionBound is int k ? (uint)k : o.StrategyBound,
        Seed = o.Seed,
        Iteration = r.BugIteration,
        FaultInjection = o.FaultInjection,
        MaxSteps = o.MaxSteps,
        Planted = o.Planted == Mistake.None ? null : Mistakes.Names(o.Planted),
        Kcsan = o.Kcsan,
        Bug = r.Report is null ? null : TraceBug.From(r.Report),
        OtherBug = r.OtherBug,
        Threads = r.ThreadNames.ToList(),
        Preemptions = r.Preemptions,
        Schedule = r.Schedule.Select(FormatStep).ToList(),
    };

    public static string FormatStep(Decision d) =>
        $"{d.Kind.ToString().ToLowerInvariant()} {d.Current} {(d.Kind == DecisionKind.Choice ? "n=" + d.Options : string.Join(",", ThreadSet.Members(d.Options)))} {d.Chosen} {d.Site}";

    private static readonly System.Text.RegularExpressions.Regex s_step = new(
        @"^(start|point|block|exit|choice) (-1|[0-9]|[1-5][0-9]|6[0-3]) (n=([2-9]|[1-5][0-9]|6[0-4])|(?:[0-9]|[1-5][0-9]|6[0-3])(?:,(?:[0-9]|[1-5][0-9]|6[0-3]))+) ([0-9]|[1-5][0-9]|6[0-3]) ([\x21-\x7e][\x20-\x7e]*)$",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Parses one "schedule" line; throws naming the step when it is malformed.</summary>
    public static Decision ParseStep(string? line, int index, string name)
    {
        var m = line is null ? null : s_step.Match(line);
        if (m is null || !m.Success)
            throw new TraceFormatException($"{name}: \"schedule\" step {index + 1} is malformed: {Quote(line)} (expected KIND THREAD OPTIONS CHOSEN SITE)");
        var kind = m.Groups[1].Value switch
        {
            "start" => DecisionKind.Start, "point" => DecisionKind.Point, "block" => DecisionKind.Block,
            "exit" => DecisionKind.Exit, _ => DecisionKind.Choice,
        };
        int current = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        int chosen = int.Parse(m.Groups[5].Value, System.Globalization.CultureInfo.InvariantCulture);
        ulong options;
        bool isChoice = m.Groups[3].Value.StartsWith("n=", StringComparison.Ordinal);
        if (isChoice != (kind == DecisionKind.Choice))
            throw new TraceFormatException($"{name}: \"schedule\" step {index + 1}: {(isChoice ? "only a choice has n=N options" : "a choice needs n=N options")}: {Quote(line)}");
        if (isChoice)
        {
            options = ulong.Parse(m.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture);
            if ((ulong)chosen >= options) throw new TraceFormatException($"{name}: \"schedule\" step {index + 1}: value {chosen} is not below n={options}");
        }
        else
        {
            options = 0;
            int last = -1;
            foreach (var part in m.Groups[3].Value.Split(','))
            {
                int t = int.Parse(part, System.Globalization.CultureInfo.InvariantCulture);
                if (t <= last) throw new TraceFormatException($"{name}: \"schedule\" step {index + 1}: thread indices must ascend: {Quote(line)}");
                last = t;
                options |= 1UL << t;
            }
            if (!ThreadSet.Has(options, chosen)) throw new TraceFormatException($"{name}: \"schedule\" step {index + 1}: thread {chosen} is not among the runnable threads: {Quote(line)}");
        }
        return new Decision(kind, options, chosen, current, m.Groups[6].Value);
    }

    private static string Quote(string? s) => s is null ? "null" : "'" + (s.Length > 80 ? s[..80] + "..." : s) + "'";

    /// <summary>The recorded decisions (validated by <see cref="Parse"/>).</summary>
    public List<Decision> Decisions(string name = "trace")
    {
        if (Schedule is null) throw new TraceFormatException($"{name}: \"schedule\" is missing");
        var list = new List<Decision>(Schedule.Count);
        for (int i = 0; i < Schedule.Count; i++) list.Add(ParseStep(Schedule[i], i, name));
        return list;
    }

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
        if (!File.Exists(path) && !Directory.Exists(path)) throw new TraceFormatException($"{path}: no such file");
        string text;
        try { text = Cli.InputFiles.ReadText(path, "trace", Cli.InputFiles.MaxTraceBytes); }
        catch (Cli.UsageException e) { throw new TraceFormatException(e.Message); }
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
        if (t.Schedule is null) throw new TraceFormatException($"{name}: \"schedule\" is missing");
        if (t.Threads is null || t.Threads.Any(x => x is null)) throw new TraceFormatException($"{name}: \"threads\" is missing or holds null");
        if (t.Fixes is null || t.Fixes.Any(x => x is null)) throw new TraceFormatException($"{name}: \"fixes\" is missing or holds null");
        if (t.Bug != null && (t.Bug.Functions is null || t.Bug.Threads is null || t.Bug.Objects is null || t.Bug.Class is null || t.Bug.Title is null))
            throw new TraceFormatException($"{name}: \"bug\" has a null field");
        // a trace records a failing schedule: a kernel bug or a harness condition
        if (t.Bug is null && string.IsNullOrWhiteSpace(t.OtherBug))
            throw new TraceFormatException($"{name}: the trace records no bug (neither \"bug\" nor \"otherBug\")");
        var decisions = t.Decisions(name);
        // the scheduler stops branching (and recording) at maxSteps decisions: a longer schedule was not recorded so
        if (t.MaxSteps > 0 && decisions.Count > t.MaxSteps)
            throw new TraceFormatException($"{name}: \"maxSteps\" is {t.MaxSteps} but the schedule records {decisions.Count} decisions (a run records at most maxSteps)");
        int pre = decisions.Count(d => d.IsPreemption);
        if (pre != t.Preemptions) throw new TraceFormatException($"{name}: \"preemptions\" is {t.Preemptions} but the schedule has {pre}");
        if (t.Strategy != "verify" && Strategies.Find(t.Strategy) is null) throw new TraceFormatException($"{name}: unknown strategy '{t.Strategy}'");
        t.PlantedSet(name);
        var fixes = t.FixSet();
        var err = Variants.Validate(fixes);
        if (err != null) throw new TraceFormatException($"{name}: {err}");
        if (t.Bug != null && !BugClassNames.TryParse(t.Bug.Class, out _)) throw new TraceFormatException($"{name}: unknown bug class '{t.Bug.Class}'");
        return t;
    }
}

/// <summary>A trace file that cannot be used, with a message naming the problem.</summary>
public sealed class TraceFormatException(string message) : Exception(message);
