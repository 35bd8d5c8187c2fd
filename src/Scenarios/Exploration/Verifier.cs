using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using InotifySim.Model;
using InotifySim.Model.Kernel;

namespace InotifySim.Scenarios.Exploration;

/// <summary>What <c>verify</c> explores.</summary>
public sealed class VerifyPlan
{
    public required IReadOnlyList<Scenario> Scenarios { get; init; }
    public Fix Fixes { get; init; } = Fix.All;
    /// <summary>K: every schedule with at most K preemptions.</summary>
    public int Preemptions { get; init; } = 1;
    /// <summary>Parts each scenario's schedule tree is split into (run in parallel; <see cref="BoundedEnumerator"/>).</summary>
    public int Jobs { get; init; } = 1;
    /// <summary>Only the parts whose index is <c>I-1</c> modulo <c>N</c> (across processes; merged by <c>merge</c>).</summary>
    public (int I, int N)? Shard { get; init; }
    /// <summary>The most schedules one part may run (0: no limit). Reaching it makes the verdict "not exhausted".</summary>
    public long MaxSchedules { get; init; }
    /// <summary>Wall-clock budget of the whole run in seconds (null: none). Running out makes the verdict "not exhausted".</summary>
    public double? TimeSeconds { get; init; }
    public uint MaxSteps { get; init; } = 5000;
    public bool FaultInjection { get; init; }
    /// <summary>Mistakes planted in the model (`--plant`); the data-race detector's override (`--no-kcsan`).</summary>
    public Mistake Planted { get; init; }
    public bool? Kcsan { get; init; }
    public bool CollectCoverage { get; init; }
}

/// <summary>The verdict on one scenario (or, sharded, on this shard's parts of it).</summary>
public sealed class VerifyResult
{
    public required Scenario Scenario { get; init; }
    public required int Bound { get; init; }
    /// <summary>Schedules at each preemption count 0..Bound, summed over the parts run here (each part counts the schedules it owns).</summary>
    public required long[] PerLevel { get; init; }
    public long Schedules => PerLevel.Sum();
    /// <summary>Runs made (summed over the parts): the schedules plus each part's uncounted runs through the shared level-0 skeleton.</summary>
    public long Runs { get; init; }
    /// <summary>Every schedule up to the bound was explored (in this shard's parts), none cut, no budget ran out.</summary>
    public required bool Exhausted { get; init; }
    public required bool Cut { get; init; }
    /// <summary>The first bug (by part order), if any.</summary>
    public HuntResult? Bug { get; init; }
    public required double Seconds { get; init; }
    public required int[] Parts { get; init; }
    public required int Jobs { get; init; }
    public Coverage? Coverage { get; init; }

    /// <summary>The highest preemption count with at least one schedule run (-1 if none).</summary>
    public int LevelReached
    {
        get
        {
            for (int i = PerLevel.Length - 1; i >= 0; i--) if (PerLevel[i] > 0) return i;
            return -1;
        }
    }

    public string Verdict => Bug != null ? "bug" : Exhausted ? "exhausted" : Cut ? "not exhausted (schedules cut by --max-steps)" : "not exhausted (budget ran out)";
}

/// <summary>
/// <c>verify</c>: bounded-exhaustive exploration (issue 12) with <see cref="BoundedEnumerator"/>. Each
/// scenario is split into <see cref="VerifyPlan.Jobs"/> parts (every schedule has one owner part, a function
/// of its decisions; a part runs a shared shallow skeleton of level 0 and then only what it owns), run in
/// parallel; the parts' union is exactly the one-job exploration, each schedule counted once. Exit codes: 0 exhausted and clean, 1 a bug, 4 a budget ran out or a schedule was cut
/// before the tree was exhausted (no bug, but no proof either).
/// </summary>
public static class Verifier
{
    public const int ExitClean = 0, ExitBug = 1, ExitNotExhausted = 4;

    private sealed class Unit
    {
        public required int ScenarioIndex;
        public required Scenario Scenario;
        public required int Part;
        public HuntResult? Result;
        public Coverage? Coverage;
        public double Seconds;
    }

    public static List<VerifyResult> Run(VerifyPlan plan, Action<string>? progress = null)
    {
        var units = new List<Unit>();
        for (int si = 0; si < plan.Scenarios.Count; si++)
        {
            for (int p = 0; p < plan.Jobs; p++)
            {
                int index = si * plan.Jobs + p;
                if (plan.Shard is { } sh && index % sh.N != sh.I - 1) continue;
                units.Add(new Unit { ScenarioIndex = si, Scenario = plan.Scenarios[si], Part = p });
            }
        }
        var deadline = plan.TimeSeconds is double t ? Stopwatch.GetTimestamp() + (long)(t * Stopwatch.Frequency) : long.MaxValue;
        long done = 0;
        var lastReport = Stopwatch.StartNew();
        object gate = new();
        void RunUnit(Unit u)
        {
            var sw = Stopwatch.StartNew();
            u.Coverage = plan.CollectCoverage ? new Coverage() : null;
            u.Result = Explorer.Run(new HuntOptions
            {
                Scenario = u.Scenario,
                Fixes = plan.Fixes,
                PreemptionBound = plan.Preemptions,
                Parts = plan.Jobs,
                Part = u.Part,
                Iterations = plan.MaxSchedules > 0 ? (int)Math.Min(int.MaxValue, plan.MaxSchedules) : 0,
                FaultInjection = plan.FaultInjection,
                Planted = plan.Planted,
                Kcsan = plan.Kcsan,
                MaxSteps = plan.MaxSteps,
                Coverage = u.Coverage,
                ShouldStop = () => Stopwatch.GetTimestamp() >= deadline,
                Progress = _ =>
                {
                    long n = Interlocked.Increment(ref done);
                    if (progress is null || lastReport.ElapsedMilliseconds < 5000) return;
                    lock (gate)
                    {
                        if (lastReport.ElapsedMilliseconds < 5000) return;
                        lastReport.Restart();
                        progress($"progress: {n} schedules");
                    }
                },
            });
            u.Seconds = sw.Elapsed.TotalSeconds;
        }
        int workers = Math.Max(1, Math.Min(plan.Jobs, units.Count));
        var queue = new Queue<Unit>(units);
        var threads = new List<Thread>();
        for (int w = 0; w < workers; w++)
        {
            var th = new Thread(() =>
            {
                for (; ; )
                {
                    Unit? u;
                    lock (queue) { if (!queue.TryDequeue(out u)) return; }
                    RunUnit(u);
                }
            }, 16 * 1024 * 1024) { IsBackground = true, Name = "verify-" + w };
            threads.Add(th);
            th.Start();
        }
        foreach (var th in threads) th.Join();

        var results = new List<VerifyResult>();
        foreach (var group in units.GroupBy(u => u.ScenarioIndex).OrderBy(g => g.Key))
        {
            var parts = group.OrderBy(u => u.Part).ToList();
            // every part counts only the schedules it owns (BoundedEnumerator): the scenario's counts are the sums
            var per = new long[plan.Preemptions + 1];
            for (int l = 0; l < per.Length; l++)
                per[l] = parts.Sum(u => u.Result!.SchedulesPerLevel.Length > l ? u.Result.SchedulesPerLevel[l] : 0);
            Coverage? cov = null;
            if (plan.CollectCoverage)
            {
                cov = new Coverage();
                foreach (var u in parts) cov.Merge(u.Coverage!);
            }
            var bug = parts.Select(u => u.Result!).FirstOrDefault(r => r.BugFound);
            results.Add(new VerifyResult
            {
                Scenario = parts[0].Scenario,
                Bound = plan.Preemptions,
                PerLevel = per,
                Runs = parts.Sum(u => (long)u.Result!.Iterations),
                Exhausted = bug is null && parts.All(u => u.Result!.Exhausted),
                Cut = parts.Any(u => u.Result!.AnyCut),
                Bug = bug,
                Seconds = Math.Round(parts.Sum(u => u.Seconds), 3),
                Parts = parts.Select(u => u.Part).ToArray(),
                Jobs = plan.Jobs,
                Coverage = cov,
            });
        }
        return results;
    }

    public static int ExitCode(IReadOnlyList<VerifyResult> rs) =>
        rs.Any(r => r.Bug != null) ? ExitBug : rs.All(r => r.Exhausted) ? ExitClean : ExitNotExhausted;

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>One line per scenario: what was explored and the verdict.</summary>
    public static string Render(VerifyResult r)
    {
        var sb = new StringBuilder();
        string levels = string.Join(", ", r.PerLevel.Select((n, i) => $"{i}: {N(n)}"));
        if (r.Bug != null)
        {
            sb.Append($"BUG {r.Scenario.Name} [{r.Bug.Report?.Class.Name() ?? "harness"}] {r.Bug.Report?.Title ?? r.Bug.OtherBug?.Split('\n')[0]}\n");
            if (r.Bug.Report != null) sb.Append($"    functions: {string.Join(", ", r.Bug.Report.Functions)}\n");
            sb.Append($"    found at schedule {r.Bug.BugIteration} with {r.Bug.Preemptions} preemption{(r.Bug.Preemptions == 1 ? "" : "s")} (schedules per preemption count: {levels})\n");
        }
        else if (r.Exhausted)
            sb.Append($"{r.Scenario.Name}: every schedule with at most {r.Bound} preemption{(r.Bound == 1 ? "" : "s")} explored: {N(r.Schedules)} schedules ({levels}), 0 bugs, {r.Seconds:F1} s\n");
        else
            sb.Append($"{r.Scenario.Name}: NOT exhausted at {r.Bound} preemption{(r.Bound == 1 ? "" : "s")}: {r.Verdict}; {N(r.Schedules)} schedules explored ({levels}), 0 bugs, {r.Seconds:F1} s\n");
        // a fixed workload program: the verdict covers that program only, so say which one it is
        if (r.Scenario is Catalog.GeneratedWorkload { Program: not null } w) sb.Append($"    the program: {w.Listing()}\n");
        return sb.ToString();
    }

    public static JsonObject ToJson(VerifyResult r)
    {
        var o = new JsonObject
        {
            ["scenario"] = r.Scenario.Name,
            ["preemptions"] = r.Bound,
            ["levelReached"] = r.LevelReached,
            ["schedules"] = r.Schedules,
            ["runs"] = r.Runs,
            ["schedulesPerPreemptionCount"] = new JsonArray(r.PerLevel.Select(n => (JsonNode)n).ToArray()),
            ["exhausted"] = r.Exhausted,
            ["cut"] = r.Cut,
            ["bugs"] = r.Bug is null ? 0 : 1,
            ["seconds"] = r.Seconds,
            ["parts"] = new JsonArray(r.Parts.Select(p => (JsonNode)p).ToArray()),
            ["jobs"] = r.Jobs,
        };
        if (r.Scenario is Catalog.GeneratedWorkload { Program: not null } w) o["program"] = w.Listing();
        if (r.Bug != null)
        {
            o["bug"] = new JsonObject
            {
                ["class"] = r.Bug.Report?.Class.Name() ?? "harness",
                ["title"] = r.Bug.Report?.Title ?? r.Bug.OtherBug?.Split('\n')[0],
                ["functions"] = new JsonArray((r.Bug.Report?.Functions ?? Array.Empty<string>()).Select(f => (JsonNode)f!).ToArray()),
                ["schedule"] = r.Bug.BugIteration,
                ["preemptions"] = r.Bug.Preemptions,
            };
        }
        return o;
    }
}
