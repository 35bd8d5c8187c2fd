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

    private sealed class Unit
    {
        public required int ScenarioIndex;
        public required Scenario Scenario;
        public required int Worker;
        public required uint Seed;
        public long Budget = long.MaxValue;
        public long Done;
        /// <summary>Of <see cref="Done"/>, the schedules run with fault injection.</summary>
        public long FaultDone;
        public double Elapsed;
        public HuntOptions? BugOptions;
        public HuntResult? Bug;
        public long IterationsBefore;
        public Coverage? Coverage;
    }

    public static int Run(ParsedArgs a, CliContext ctx) => Run(HuntPlan.FromArgs(a, ctx), ctx);

    /// <summary>Runs a validated plan: explores, prints each bug, the per-scenario table, writes the outputs.</summary>
    public static int Run(HuntPlan plan, CliContext ctx)
    {
        if (plan.Iterations is null && plan.Time is null) plan = plan with { Iterations = HuntPlan.DefaultIterations }; // never unbounded
        var stdout = ctx.Out;
        int jobs = plan.Jobs;
        var scenarios = plan.Scenarios;
        // units: (scenario, worker), in order; this shard's share
        var all = new List<Unit>();
        for (int si = 0; si < scenarios.Count; si++)
        {
            for (int w = 0; w < jobs; w++)
            {
                var u = new Unit { ScenarioIndex = si, Scenario = scenarios[si], Worker = w, Seed = unchecked(plan.Seed + (uint)w * WorkerSeedStride) };
                if (plan.Iterations is long n) u.Budget = n / jobs + (w < n % jobs ? 1 : 0);
                all.Add(u);
            }
        }
        var shard = plan.Shard;
        var units = all.Where((u, k) => u.Budget > 0 && (shard is null || k % shard.Value.n == shard.Value.i - 1)).ToList();

        double? unitTime = plan.Time is double t && units.Count > 0 ? t * Math.Min(jobs, units.Count) / units.Count : null;
        var label = $"fix set {plan.FixSetLabel}, strategy {plan.Strategy}{(plan.Bound is null ? "" : $" bound {plan.Bound}")}, seed {plan.Seed}, {jobs} job(s)"
            + (plan.MaxSteps == HuntPlan.DefaultMaxSteps ? "" : $", max steps {plan.MaxSteps}")
            + (plan.FaultInjection ? ", fault injection" : plan.FaultShare > 0 ? $", fault injection on 1/{plan.FaultShare} of the schedules" : "")
            + (plan.Planted == Mistake.None ? "" : $", planted {Mistakes.Describe(plan.Planted)}")
            + (plan.Kcsan == false ? ", kcsan off" : "")
            + (shard is null ? "" : $", shard {shard.Value.i}/{shard.Value.n}");
        var iterations = plan.Iterations;
        var time = plan.Time;
        stdout.WriteLine($"hunt: {scenarios.Count} scenario(s), {label}, budget {(iterations is null ? "" : $"{iterations} iterations/scenario")}{(iterations != null && time != null ? " or " : "")}{(time is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{time:0.###}s"))}");

        // Coyote's engine logs "... Running test iterations" to Console.Out even with console
        // logging off: silence the console for the hunt (our output goes to `stdout`).
        var savedOut = Console.Out;
        bool live = !Console.IsOutputRedirected && ReferenceEquals(stdout, savedOut);
        Console.SetOut(TextWriter.Null);
        try
        {
            return Hunt(ctx, live, plan, units, unitTime);
        }
        finally
        {
            Console.SetOut(savedOut);
        }
    }

    private static int Hunt(CliContext ctx, bool live, HuntPlan plan, List<Unit> units, double? unitTime)
    {
        var stdout = ctx.Out;
        var stderr = ctx.Err;
        var sw = Stopwatch.StartNew();
        long total = 0;
        int bugs = 0;
        int next = -1;
        Exception? failure = null;
        using var progress = new ProgressReporter(stdout, live, () => (Interlocked.Read(ref total), Volatile.Read(ref bugs), sw.Elapsed));
        var threads = new List<Thread>();
        for (int j = 0; j < Math.Min(plan.Jobs, units.Count); j++)
        {
            var th = new Thread(() =>
            {
                try
                {
                    for (int k = Interlocked.Increment(ref next); k < units.Count; k = Interlocked.Increment(ref next))
                    {
                        RunUnit(units[k], plan, unitTime, d => Interlocked.Add(ref total, d));
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
        var shard = plan.Shard;
        var summary = new HuntSummary
        {
            Variant = plan.FixSetLabel,
            Fixes = TraceFile.FixNames(plan.Fixes),
            Strategy = plan.Strategy,
            StrategyBound = plan.Bound,
            Seed = plan.Seed,
            FaultInjection = plan.FaultInjection,
            FaultShare = plan.FaultInjection ? 0 : plan.FaultShare,
            IterationBudget = plan.Iterations,
            TimeBudget = plan.Time,
            MaxSteps = plan.MaxSteps,
            Planted = plan.Planted == Mistake.None ? null : Mistakes.Names(plan.Planted),
            Kcsan = plan.Kcsan,
            Jobs = plan.Jobs,
            Scenarios = plan.Scenarios.Select(s => s.Name).ToList(),
            Shards = shard is null ? new List<string>() : new List<string> { $"{shard.Value.i}/{shard.Value.n}" },
            Complete = shard is null || shard.Value.n == 1,
            Elapsed = Math.Round(sw.Elapsed.TotalSeconds, 3),
        };
        foreach (var s in plan.Scripts) summary.Scripts[s.Name] = HuntPlan.ScriptHash(s.Text);
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        bool writeFailed = false;
        foreach (var u in units.OrderBy(u => u.ScenarioIndex).ThenBy(u => u.Worker))
        {
            summary.Iterations += u.Done;
            summary.FaultIterations += u.FaultDone;
            summary.Units.Add(new HuntUnit { Scenario = u.Scenario.Name, Worker = u.Worker, Seed = u.Seed, Iterations = u.Done, Elapsed = Math.Round(u.Elapsed, 3), Bug = u.Bug != null, FaultIterations = u.FaultDone });
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
            // the bug first: whatever fails to be written below, it is on the output
            stdout.WriteLine(CliText.Sanitize($"BUG {bug.Scenario} [{bug.Class}] {bug.Title}"));
            if (bug.Functions.Count > 0) stdout.WriteLine($"    functions: {string.Join(", ", bug.Functions)}");
            string? traceNote = null;
            if (plan.TracesDir != null)
            {
                var baseName = $"{Sanitize(u.Scenario.Name)}-{cls}-seed{o.Seed}";
                var name = baseName;
                for (int k = 2; !usedNames.Add(name); k++) name = $"{baseName}-{k}";
                var path = Path.Combine(plan.TracesDir, name + ".json");
                try
                {
                    TraceFile.FromHunt(o, r, (u.Scenario as ScriptScenario)?.Text).Save(path);
                    bug.Trace = path;
                    traceNote = $", trace {path}";
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or TraceFormatException or UsageException)
                {
                    writeFailed = true;
                    traceNote = ", trace NOT written";
                    stderr.WriteLine(CliText.Sanitize($"inotify-sim: hunt: cannot write trace {path}: {e.Message}"));
                }
            }
            stdout.WriteLine($"    fix set {summary.Variant}, worker {bug.Worker}, seed {bug.Seed}, iteration {bug.Iteration}{traceNote}");
            summary.Bugs.Add(bug);
        }
        if (GitHubAnnotations.Enabled(ctx.Env))
            foreach (var line in summary.Annotations()) stdout.WriteLine(line);
        summary.WriteTable(stdout);
        writeFailed |= !WriteOutputs(summary, "hunt", plan.JsonOut, plan.JUnitOut, stderr);
        if (plan.CoverageOut != null)
        {
            var covered = new Coverage();
            foreach (var u in units.Where(u => u.Coverage != null)) covered.Merge(u.Coverage!);
            stdout.Write(covered.Render(plan.Fixes));
            try { File.WriteAllText(plan.CoverageOut, covered.ToJson(plan.Fixes).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"inotify-sim: cannot write {plan.CoverageOut}: {e.Message}");
                writeFailed = true;
            }
        }
        double rate = sw.Elapsed.TotalSeconds > 0 ? summary.Iterations / sw.Elapsed.TotalSeconds : 0;
        stdout.WriteLine($"hunt: {summary.Iterations} iterations in {sw.Elapsed.TotalSeconds:0.0}s ({rate:0}/s), {summary.Bugs.Count} bug(s), fix set {summary.Variant}"
            + (summary.Bugs.Count > 0 && plan.TracesDir is null ? " (use --traces DIR to save replayable traces)" : ""));
        // a found bug is never lost: exit 1 even if an output could not be written
        return summary.Bugs.Count > 0 ? CliMain.ExitBug : writeFailed ? CliMain.ExitUsage : CliMain.ExitClean;
    }

    /// <summary>Writes --json and --junit; reports each failure on stderr and returns false when one failed.</summary>
    internal static bool WriteOutputs(HuntSummary summary, string command, string? jsonOut, string? junitOut, TextWriter stderr)
    {
        bool ok = true;
        if (jsonOut != null)
        {
            try { summary.Save(jsonOut); }
            catch (UsageException e)
            {
                ok = false;
                stderr.WriteLine(CliText.Sanitize($"inotify-sim: {command}: summary not written: {e.Message}"));
            }
        }
        if (junitOut != null)
        {
            try { JUnitWriter.Write(junitOut, $"inotify-sim {command} ({summary.Variant})", summary.ToJUnit(command), summary.Elapsed); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                ok = false;
                stderr.WriteLine(CliText.Sanitize($"inotify-sim: {command}: JUnit report not written: cannot write {junitOut}: {e.Message}"));
            }
        }
        return ok;
    }

    private static string FirstLine(string? s) => s is null ? "" : s.Split('\n')[0].Trim();

    private static string Sanitize(string name)
    {
        var sb = new StringBuilder();
        foreach (var c in name) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        return sb.ToString();
    }

    private static void RunUnit(Unit u, HuntPlan plan, double? seconds, Action<long> add)
    {
        var strategy = plan.Strategy;
        var sw = Stopwatch.StartNew();
        // the fault share: with an iteration budget, the unit's last 1/share schedules run with fault injection
        // (chunks never straddle the boundary); under --time only, every share-th chunk does
        // (not for a script: its `expect`s and event assertions state what happens without faults; --fault-injection opts in)
        int share = plan.FaultInjection || !u.Scenario.ToleratesFaultInjection || u.Scenario is ScriptScenario ? 0 : plan.FaultShare;
        long plainBudget = share > 0 && u.Budget != long.MaxValue ? u.Budget - u.Budget / share : u.Budget;
        for (uint chunk = 0; u.Done < u.Budget; chunk++)
        {
            bool faults = plan.FaultInjection
                || (share > 0 && (u.Budget != long.MaxValue ? u.Done >= plainBudget : chunk % (uint)share == (uint)share - 1));
            long limit = share > 0 && u.Budget != long.MaxValue && !faults ? plainBudget : u.Budget;
            int n = (int)Math.Min(ChunkIterations, limit - u.Done);
            if (seconds is double s)
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
                Fixes = plan.Fixes,
                Strategy = strategy,
                StrategyBound = plan.Bound,
                Iterations = n,
                Seed = unchecked(u.Seed + chunk * ChunkSeedStride),
                FaultInjection = faults,
                Planted = plan.Planted,
                Kcsan = plan.Kcsan,
                MaxSteps = plan.MaxSteps,
                Progress = i => { add(i - reported); reported = i; },
                Coverage = plan.CoverageOut != null ? (u.Coverage ??= new Coverage()) : null,
            };
            var r = Explorer.Run(o);
            if (r.Iterations > reported) { add(r.Iterations - reported); reported = r.Iterations; }
            if (faults) u.FaultDone += r.Iterations;
            if (r.BugFound)
            {
                u.Bug = r;
                u.BugOptions = o;
                u.IterationsBefore = u.Done;
                u.Done += r.Iterations;
                break;
            }
            u.Done += r.Iterations;
            if (r.Iterations < n) break; // the run stopped early
        }
        u.Elapsed = sw.Elapsed.TotalSeconds;
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
