using System.Diagnostics;
using System.Globalization;
using System.Text;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using InotifySim.Scenarios.Scripts;
using InotifySim.Scenarios.Traces;

namespace InotifySim.Scenarios.Cli;

/// <summary>
/// <c>hunt</c>: explores scenarios under Coyote. The hunt is split into units, one per
/// (scenario, worker); worker w of every scenario explores with seed <c>seed + w * 1000003</c>,
/// in chunks of <see cref="ChunkIterations"/> iterations (chunk c uses that seed + c * 7919),
/// so the budget can be checked between chunks and every bug is reproducible from its trace.
/// Units run on <c>--jobs</c> threads, each with its own TestingEngine; a unit stops at its
/// first bug. Results are sorted by (scenario, worker), so the output does not depend on timing
/// when the budget is --iterations.
/// </summary>
public static class HuntCommand
{
    public const int ChunkIterations = 500;
    public const uint WorkerSeedStride = 1_000_003;
    public const uint ChunkSeedStride = 7_919;
    public const long DefaultIterations = 1000;

    private sealed class Unit
    {
        public required int ScenarioIndex;
        public required Scenario Scenario;
        public required int Worker;
        public required uint Seed;
        public long Budget = long.MaxValue;
        public long Done;
        public double Elapsed;
        public HuntOptions? BugOptions;
        public HuntResult? Bug;
        public long IterationsBefore;
    }

    internal static readonly string[] Valued = { "scenario", "variant", "with", "without", "strategy", "bound", "iterations", "time", "seed", "traces", "json", "jobs", "shard", "max-steps" };
    internal static readonly string[] Flags = { "fault-injection" };

    public static int Run(ParsedArgs a, TextWriter stdout, TextWriter stderr)
    {
        a.ExpectPositionals(0, 0, "inotify-sim hunt --scenario NAME|all|FILE.isim [--variant rfc|fixed] ...");
        var scenarioArg = a.Get("scenario") ?? throw new UsageException("hunt: --scenario is required (a name from 'inotify-sim list', all, workload[:threads=N,ops=M] or FILE.isim)");
        var (scenarios, scripts) = ResolveScenarios(scenarioArg);
        var fixes = CliMain.ParseFixes(a, "hunt");
        var strategy = a.Get("strategy") ?? "pct"; // the fastest to every known defect (docs/bench)
        var sinfo = Strategies.Find(strategy)
            ?? throw new UsageException($"hunt: unknown strategy '{strategy}' (strategies: {string.Join(", ", Strategies.All.Select(s => s.Name))})");
        uint? bound = (uint?)a.GetLong("bound", 1, 1_000_000);
        if (bound != null && !sinfo.TakesBound) throw new UsageException($"hunt: strategy '{strategy}' takes no --bound");
        long? iterations = a.GetLong("iterations", 1, long.MaxValue / 2);
        double? time = a.GetSeconds("time");
        if (iterations is null && time is null) iterations = DefaultIterations;
        uint seed = (uint)(a.GetLong("seed", 0, uint.MaxValue) ?? 0);
        uint maxSteps = (uint)(a.GetLong("max-steps", 10, 10_000_000) ?? 5000);
        bool explicitJobs = a.Has("jobs");
        int jobs = (int)(a.GetLong("jobs", 1, 1024) ?? Environment.ProcessorCount);
        (int i, int n)? shard = null;
        if (a.Get("shard") is { } sh)
        {
            shard = HuntSummary.ParseShard(sh) ?? throw new UsageException($"hunt: bad --shard '{sh}' (expected i/n with 1 <= i <= n, e.g. 2/4)");
            if (!explicitJobs) throw new UsageException("hunt: --shard needs an explicit --jobs N (every shard must split the hunt into the same units)");
        }
        bool fault = a.Has("fault-injection");
        string? tracesDir = a.Get("traces");
        string? jsonOut = a.Get("json");

        foreach (var s in scripts)
        {
            s.CheckSetup(fixes);
        }

        // units: (scenario, worker), in order; this shard's share
        var all = new List<Unit>();
        for (int si = 0; si < scenarios.Count; si++)
        {
            for (int w = 0; w < jobs; w++)
            {
                var u = new Unit { ScenarioIndex = si, Scenario = scenarios[si], Worker = w, Seed = unchecked(seed + (uint)w * WorkerSeedStride) };
                if (iterations is long n) u.Budget = n / jobs + (w < n % jobs ? 1 : 0);
                all.Add(u);
            }
        }
        var units = all.Where((u, k) => u.Budget > 0 && (shard is null || k % shard.Value.n == shard.Value.i - 1)).ToList();

        double? unitTime = time is double t && units.Count > 0 ? t * Math.Min(jobs, units.Count) / units.Count : null;
        var label = $"{Variants.Describe(fixes)}, strategy {strategy}{(bound is null ? "" : $" bound {bound}")}, seed {seed}, {jobs} job(s)"
            + (shard is null ? "" : $", shard {shard.Value.i}/{shard.Value.n}");
        stdout.WriteLine($"hunt: {scenarios.Count} scenario(s), {label}, budget {(iterations is null ? "" : $"{iterations} iterations/scenario")}{(iterations != null && time != null ? " or " : "")}{(time is null ? "" : $"{time:0.##}s")}");

        // Coyote's engine logs "... Running test iterations" to Console.Out even with console
        // logging off: silence the console for the hunt (our output goes to `stdout`).
        var savedOut = Console.Out;
        bool live = !Console.IsOutputRedirected && ReferenceEquals(stdout, savedOut);
        Console.SetOut(TextWriter.Null);
        try
        {
            return Hunt(stdout, live, scenarios, units, fixes, strategy, bound, fault, maxSteps, unitTime, iterations, time, seed, jobs, shard, tracesDir, jsonOut);
        }
        finally
        {
            Console.SetOut(savedOut);
        }
    }

    private static int Hunt(TextWriter stdout, bool live, List<Scenario> scenarios, List<Unit> units, Fix fixes, string strategy, uint? bound, bool fault,
        uint maxSteps, double? unitTime, long? iterations, double? time, uint seed, int jobs, (int i, int n)? shard, string? tracesDir, string? jsonOut)
    {
        var sw = Stopwatch.StartNew();
        long total = 0;
        int bugs = 0;
        int next = -1;
        Exception? failure = null;
        using var progress = new ProgressReporter(stdout, live, () => (Interlocked.Read(ref total), Volatile.Read(ref bugs), sw.Elapsed));
        var threads = new List<Thread>();
        for (int j = 0; j < Math.Min(jobs, units.Count); j++)
        {
            var th = new Thread(() =>
            {
                try
                {
                    for (int k = Interlocked.Increment(ref next); k < units.Count; k = Interlocked.Increment(ref next))
                    {
                        RunUnit(units[k], fixes, strategy, bound, fault, maxSteps, unitTime, d => Interlocked.Add(ref total, d));
                        if (units[k].Bug != null) Interlocked.Increment(ref bugs);
                    }
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            }) { IsBackground = true, Name = $"hunt-{j}" };
            threads.Add(th);
            th.Start();
        }
        foreach (var th in threads) th.Join();
        sw.Stop();
        progress.Stop();
        if (failure != null) throw new InvalidOperationException("hunt worker failed: " + failure.Message, failure);

        // results, in (scenario, worker) order
        var summary = new HuntSummary
        {
            Variant = Variants.Describe(fixes),
            Fixes = TraceFile.FixNames(fixes),
            Strategy = strategy,
            StrategyBound = bound,
            Seed = seed,
            FaultInjection = fault,
            IterationBudget = iterations,
            TimeBudget = time,
            Jobs = jobs,
            Scenarios = scenarios.Select(s => s.Name).ToList(),
            Shards = shard is null ? new List<string>() : new List<string> { $"{shard.Value.i}/{shard.Value.n}" },
            Complete = shard is null || shard.Value.n == 1,
            Elapsed = Math.Round(sw.Elapsed.TotalSeconds, 3),
        };
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var u in units.OrderBy(u => u.ScenarioIndex).ThenBy(u => u.Worker))
        {
            summary.Iterations += u.Done;
            summary.Units.Add(new HuntUnit { Scenario = u.Scenario.Name, Worker = u.Worker, Seed = u.Seed, Iterations = u.Done, Elapsed = Math.Round(u.Elapsed, 3), Bug = u.Bug != null });
            if (u.Bug is not { } r) continue;
            var o = u.BugOptions!;
            var cls = r.Report?.Class.Name() ?? "harness";
            var bug = new HuntBug
            {
                Scenario = u.Scenario.Name,
                Worker = u.Worker,
                Class = cls,
                Title = r.Report?.Title ?? FirstLine(r.OtherBug),
                Functions = r.Report?.Functions.ToList() ?? new List<string>(),
                Seed = o.Seed,
                Iteration = r.BugIteration,
                IterationsBefore = u.IterationsBefore,
            };
            if (tracesDir != null)
            {
                var baseName = $"{Sanitize(u.Scenario.Name)}-{cls}-seed{o.Seed}";
                var name = baseName;
                for (int k = 2; !usedNames.Add(name); k++) name = $"{baseName}-{k}";
                var path = Path.Combine(tracesDir, name + ".json");
                try
                {
                    TraceFile.FromHunt(o, r, (u.Scenario as ScriptScenario)?.Text).Save(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new UsageException($"hunt: cannot write trace {path}: {e.Message}");
                }
                bug.Trace = path;
            }
            summary.Bugs.Add(bug);
            stdout.WriteLine($"BUG {bug.Scenario} [{bug.Class}] {bug.Title}");
            if (bug.Functions.Count > 0) stdout.WriteLine($"    functions: {string.Join(", ", bug.Functions)}");
            stdout.WriteLine($"    worker {bug.Worker}, seed {bug.Seed}, iteration {bug.Iteration}" + (bug.Trace is null ? "" : $", trace {bug.Trace}"));
        }
        if (jsonOut != null) summary.Save(jsonOut);
        double rate = sw.Elapsed.TotalSeconds > 0 ? summary.Iterations / sw.Elapsed.TotalSeconds : 0;
        stdout.WriteLine($"hunt: {summary.Iterations} iterations in {sw.Elapsed.TotalSeconds:0.0}s ({rate:0}/s), {summary.Bugs.Count} bug(s)"
            + (summary.Bugs.Count > 0 && tracesDir is null ? " (use --traces DIR to save replayable traces)" : ""));
        return summary.Bugs.Count > 0 ? 1 : 0;
    }

    private static string FirstLine(string? s) => s is null ? "" : s.Split('\n')[0].Trim();

    private static string Sanitize(string name)
    {
        var sb = new StringBuilder();
        foreach (var c in name) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        return sb.ToString();
    }

    private static void RunUnit(Unit u, Fix fixes, string strategy, uint? bound, bool fault, uint maxSteps, double? seconds, Action<long> add)
    {
        var sw = Stopwatch.StartNew();
        for (uint chunk = 0; u.Done < u.Budget; chunk++)
        {
            // dfs ignores the seed: a new chunk would walk the same tree again, so one chunk
            int n = (int)Math.Min(strategy == "dfs" ? int.MaxValue : ChunkIterations, u.Budget - u.Done);
            if (seconds is double s && strategy != "dfs")
            {
                // under a time budget, size the chunk to end by the deadline (at most ~1 s a chunk)
                double left = s - sw.Elapsed.TotalSeconds;
                if (left <= 0) break;
                double perIteration = u.Done > 0 ? sw.Elapsed.TotalSeconds / u.Done : 0;
                n = perIteration > 0 ? (int)Math.Clamp(Math.Min(left, 1.0) / perIteration, 1, n) : Math.Min(n, 10);
            }
            int reported = 0;
            var o = new HuntOptions
            {
                Scenario = u.Scenario,
                Fixes = fixes,
                Strategy = strategy,
                StrategyBound = bound,
                Iterations = n,
                Seed = unchecked(u.Seed + chunk * ChunkSeedStride),
                FaultInjection = fault,
                MaxSteps = maxSteps,
                Progress = i => { add(i - reported); reported = i; },
            };
            var r = Explorer.Run(o);
            if (r.Iterations > reported) { add(r.Iterations - reported); reported = r.Iterations; }
            if (r.BugFound)
            {
                u.Bug = r;
                u.BugOptions = o;
                u.IterationsBefore = u.Done;
                u.Done += r.Iterations;
                break;
            }
            u.Done += r.Iterations;
            if (r.Iterations < n) break; // the strategy is exhausted (dfs)
        }
        u.Elapsed = sw.Elapsed.TotalSeconds;
    }

    /// <summary>NAME, all, workload[:...], or FILE.isim.</summary>
    internal static (List<Scenario> all, List<ScriptScenario> scripts) ResolveScenarios(string arg)
    {
        if (arg == "all") return (ScenarioCatalog.All.ToList(), new List<ScriptScenario>());
        if (arg.EndsWith(".isim", StringComparison.Ordinal) || arg.Contains('/') || File.Exists(arg))
        {
            ScriptScenario sc;
            try { sc = ScriptScenario.Load(arg); }
            catch (ScriptException e) { throw new UsageException(e.Message); }
            if (sc.Script.Threads.Count == 0) throw new UsageException($"{arg}: the script has no thread section; nothing to explore");
            return (new List<Scenario> { sc }, new List<ScriptScenario> { sc });
        }
        if (arg.StartsWith("workload", StringComparison.Ordinal))
        {
            var w = GeneratedWorkload.Parse(arg)
                ?? throw new UsageException($"hunt: bad workload '{arg}' (expected workload or workload:threads=N,ops=M with positive numbers)");
            return (new List<Scenario> { w }, new List<ScriptScenario>());
        }
        var s = ScenarioCatalog.Find(arg)
            ?? throw new UsageException($"hunt: unknown scenario '{arg}' (scenarios: {string.Join(", ", ScenarioCatalog.All.Select(x => x.Name))}, all, or FILE.isim)");
        return (new List<Scenario> { s }, new List<ScriptScenario>());
    }
}

/// <summary>
/// Hunt progress: on a terminal a live line (\r) updated a few times a second; otherwise a
/// plain line every <see cref="PlainInterval"/>.
/// </summary>
internal sealed class ProgressReporter : IDisposable
{
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);
    private readonly TextWriter _out;
    private readonly Func<(long iterations, int bugs, TimeSpan elapsed)> _read;
    private readonly bool _live;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private int _lastLen;

    public ProgressReporter(TextWriter output, bool live, Func<(long, int, TimeSpan)> read)
    {
        _out = output;
        _read = read;
        _live = live;
        _thread = new Thread(Loop) { IsBackground = true, Name = "hunt-progress" };
        _thread.Start();
    }

    private void Loop()
    {
        var interval = _live ? TimeSpan.FromMilliseconds(250) : PlainInterval;
        while (!_stop.Wait(interval))
        {
            var (it, bugs, el) = _read();
            var line = string.Create(CultureInfo.InvariantCulture, $"{it} iterations, {(el.TotalSeconds > 0 ? it / el.TotalSeconds : 0):0} schedules/s, {bugs} bug(s), {el.TotalSeconds:0}s");
            lock (_out)
            {
                if (_live)
                {
                    _out.Write("\r" + line.PadRight(_lastLen));
                    _lastLen = line.Length;
                }
                else _out.WriteLine("progress: " + line);
                _out.Flush();
            }
        }
    }

    public void Stop()
    {
        if (_stop.IsSet) return;
        _stop.Set();
        _thread.Join();
        if (_live && _lastLen > 0)
        {
            _out.Write("\r" + new string(' ', _lastLen) + "\r");
            _out.Flush();
        }
    }

    public void Dispose()
    {
        Stop();
        _stop.Dispose();
    }
}
