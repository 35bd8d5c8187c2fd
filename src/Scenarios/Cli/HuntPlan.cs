using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using InotifySim.Scenarios.Scripts;

namespace InotifySim.Scenarios.Cli;

/// <summary>
/// Everything a hunt needs, validated: built from the command line by <see cref="FromArgs"/>
/// (every check, destinations included, happens here, before any exploration).
/// </summary>
public sealed record HuntPlan
{
    public required IReadOnlyList<Scenario> Scenarios { get; init; }
    public IReadOnlyList<ScriptScenario> Scripts { get; init; } = Array.Empty<ScriptScenario>();
    public Fix Fixes { get; init; } = Fix.All;
    public string Strategy { get; init; } = Strategies.Default;
    public uint? Bound { get; init; }
    public long? Iterations { get; init; }
    public double? Time { get; init; }
    public uint Seed { get; init; }
    public uint MaxSteps { get; init; } = DefaultMaxSteps;
    public bool FaultInjection { get; init; }
    /// <summary>--plant: mistakes planted in every schedule's model (src/Model/Mistakes.cs).</summary>
    public InotifySim.Model.Kernel.Mistake Planted { get; init; }
    /// <summary>--no-kcsan: false; null keeps the machine's default.</summary>
    public bool? Kcsan { get; init; }
    /// <summary>
    /// Without --fault-injection, the last 1/FaultShare of each unit's schedules (under --time: every
    /// FaultShare-th chunk) run with fault injection (allocation and idr_pre_get failures), so error paths
    /// are explored by the default hunt; 0 turns the share off. --fault-injection makes it every schedule.
    /// </summary>
    public int FaultShare { get; init; } = DefaultFaultShare;
    public int Jobs { get; init; } = 1;
    /// <summary>1-based shard and count, null when unsharded.</summary>
    public (int i, int n)? Shard { get; init; }
    public string? TracesDir { get; init; }
    public string? JsonOut { get; init; }
    public string? JUnitOut { get; init; }
    /// <summary>--coverage FILE: what the explored schedules reached (null: not collected).</summary>
    public string? CoverageOut { get; init; }

    public const uint DefaultMaxSteps = 5000;
    public const long DefaultIterations = 1000;
    public const int DefaultFaultShare = 4;

    /// <summary>The fix-set label (FixLabel).</summary>
    public string FixSetLabel => FixLabel.Of(Fixes);

    public static HuntPlan FromArgs(ParsedArgs a, CliContext ctx)
    {
        var cmd = a.Command;
        var (scenarios, scripts) = ResolveScenarios(a.Get("scenario")!, cmd);
        var fixes = CliMain.ParseFixes(a, cmd);
        var strategy = a.Get("strategy") ?? Strategies.Default; // the fastest to every known defect (docs/bench/results-quick.md)
        var sinfo = Strategies.Find(strategy)
            ?? throw new UsageException($"{cmd}: unknown strategy '{strategy}' (strategies: {string.Join(", ", Strategies.All.Select(s => s.Name))})");
        uint? bound = (uint?)a.GetLong("bound", 1, CliOptions.MaxBound);
        if (bound != null && !sinfo.TakesBound) throw new UsageException($"{cmd}: strategy '{strategy}' takes no --bound");
        long? iterations = a.GetLong("iterations", 1, long.MaxValue / 2);
        double? time = a.GetSeconds("time");
        if (iterations is null && time is null) iterations = DefaultIterations;
        uint seed = (uint)(a.GetLong("seed", 0, uint.MaxValue) ?? 0);
        uint maxSteps = (uint)(a.GetLong("max-steps", 10, 10_000_000) ?? DefaultMaxSteps);
        bool explicitJobs = a.Has("jobs");
        int jobs = (int)(a.GetLong("jobs", 1, 1024) ?? Environment.ProcessorCount);
        (int i, int n)? shard = null;
        if (a.Get("shard") is { } sh)
        {
            shard = ShardSpec.Parse(sh, ctx.Env, cmd);
            if (!explicitJobs) throw new UsageException($"{cmd}: --shard needs an explicit --jobs N (every shard must split the hunt into the same units)");
        }
        var plan = new HuntPlan
        {
            Scenarios = scenarios,
            Scripts = scripts,
            Fixes = fixes,
            Strategy = strategy,
            Bound = bound,
            Iterations = iterations,
            Time = time,
            Seed = seed,
            MaxSteps = maxSteps,
            FaultInjection = a.Has("fault-injection"),
            Planted = CliMain.ParsePlanted(a, cmd),
            Kcsan = a.Has("no-kcsan") ? false : null,
            Jobs = jobs,
            Shard = shard,
            TracesDir = a.Get("traces"),
            JsonOut = a.Get("json"),
            JUnitOut = a.Get("junit"),
            CoverageOut = a.Get("coverage"),
        };
        foreach (var s in scripts) s.CheckSetup(fixes);
        plan.CheckDestinations();
        return plan;
    }

    /// <summary>Every output is checked before exploring: a hunt never ends in "cannot write".</summary>
    public void CheckDestinations()
    {
        Destinations.CheckDistinct(Scripts.Select(s => ((string?)s.Script.Name, "--scenario", false))
            .Concat(new (string?, string, bool)[] { (JsonOut, "--json", true), (JUnitOut, "--junit", true), (CoverageOut, "--coverage", true), (TracesDir, "--traces", true) }));
        if (JsonOut != null) Destinations.CheckFile(JsonOut, "--json");
        if (JUnitOut != null) Destinations.CheckFile(JUnitOut, "--junit");
        if (CoverageOut != null) Destinations.CheckFile(CoverageOut, "--coverage");
        if (TracesDir != null) Destinations.CheckDirectory(TracesDir, "--traces");
    }

    /// <summary>"sha256:" and the hex SHA-256 of a script's text.</summary>
    public static string ScriptHash(string text) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public const int MaxWorkloadThreads = GeneratedWorkload.MaxThreads, MaxWorkloadOps = GeneratedWorkload.MaxOps;

    /// <summary>NAME, all, workload[:threads=N,ops=M[,program=P]], or FILE.isim.</summary>
    public static (List<Scenario> all, List<ScriptScenario> scripts) ResolveScenarios(string arg, string cmd)
    {
        if (arg == "all") return (ScenarioCatalog.All.ToList(), new List<ScriptScenario>());
        // a catalogue name wins over a file of that name in the working directory; FILE.isim or a path is a script
        bool catalogue = ScenarioCatalog.Find(arg) != null || arg.StartsWith("workload", StringComparison.Ordinal);
        if (arg.EndsWith(".isim", StringComparison.Ordinal) || arg.Contains('/') || (!catalogue && (File.Exists(arg) || Directory.Exists(arg))))
        {
            var text = InputFiles.ReadText(arg, "script", InputFiles.MaxScriptBytes);
            ScriptScenario sc;
            try { sc = ScriptScenario.Parse(text, arg); }
            catch (ScriptException e) { throw new UsageException(e.Message); }
            if (sc.Script.Threads.Count == 0) throw new UsageException($"{arg}: the script has no thread section; nothing to explore");
            if (sc.Script.Threads.Count > InotifySim.Model.Kernel.Scheduler.MaxThreads)
                throw new UsageException($"{arg}: {sc.Script.Threads.Count} thread sections; the scheduler handles at most {InotifySim.Model.Kernel.Scheduler.MaxThreads} simulated threads");
            return (new List<Scenario> { sc }, new List<ScriptScenario> { sc });
        }
        if (arg.StartsWith("workload", StringComparison.Ordinal))
        {
            CheckWorkloadShape(arg, cmd);
            var w = GeneratedWorkload.Parse(arg)
                ?? throw new UsageException($"{cmd}: bad workload '{arg}'");
            return (new List<Scenario> { w }, new List<ScriptScenario>());
        }
        var s = ScenarioCatalog.Find(arg)
            ?? throw new UsageException($"{cmd}: unknown scenario '{arg}' (scenarios: {string.Join(", ", ScenarioCatalog.All.Select(x => x.Name))}, all, or FILE.isim)");
        return (new List<Scenario> { s }, new List<ScriptScenario>());
    }

    /// <summary>The workload's name is checked by its parser (one line: what is wrong); a shape above its maximum is refused, not clamped.</summary>
    private static void CheckWorkloadShape(string arg, string cmd)
    {
        if (GeneratedWorkload.ParseError(arg) is { } error) throw new UsageException($"{cmd}: {error}");
    }
}
