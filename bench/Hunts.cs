using System.Collections.Concurrent;
using System.Diagnostics;
using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Bench;

public sealed record StrategySpec(string Label, string Name, uint? Bound, bool Seeded = true);

public enum Outcome { Found, NotFound, Wrong, Harness, Skipped }

public sealed record HuntRun(Pairing Defect, StrategySpec Strategy, uint Seed, Outcome Outcome, int Iterations, double Seconds, string? Found);

/// <summary>One cell of the table: a defect under a strategy over all seeds run.</summary>
public sealed class Cell
{
    public required Pairing Defect { get; init; }
    public required StrategySpec Strategy { get; init; }
    public List<HuntRun> Runs { get; } = new();
    public int SeedsPlanned { get; set; }
    public bool StoppedEarly { get; set; }

    public int FoundCount => Runs.Count(r => r.Outcome == Outcome.Found);
    public int RunCount => Runs.Count(r => r.Outcome != Outcome.Skipped);

    /// <summary>Iterations to the right bug; a run that did not find it counts as +infinity.</summary>
    public double[] Sorted => Runs.Where(r => r.Outcome != Outcome.Skipped)
        .Select(r => r.Outcome == Outcome.Found ? (double)r.Iterations : double.PositiveInfinity).OrderBy(x => x).ToArray();

    public static double Quantile(double[] s, double q)
    {
        if (s.Length == 0) return double.NaN;
        double pos = q * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        if (double.IsPositiveInfinity(s[hi])) return lo == hi || double.IsPositiveInfinity(s[lo]) ? double.PositiveInfinity : s[hi];
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }

    public double Median => Quantile(Sorted, 0.5);
    public double Q1 => Quantile(Sorted, 0.25);
    public double Q3 => Quantile(Sorted, 0.75);
    public double Min => Sorted.Length == 0 ? double.NaN : Sorted[0];
    public double Max => Sorted.Length == 0 ? double.NaN : Sorted[^1];
    public double Seconds => Runs.Sum(r => r.Seconds);
    public IEnumerable<string> WrongBugs => Runs.Where(r => r.Outcome is Outcome.Wrong or Outcome.Harness).Select(r => r.Found!).Distinct();
}

public sealed class HuntPlan
{
    public required IReadOnlyList<Pairing> Defects { get; init; }
    public required IReadOnlyList<StrategySpec> Strategies { get; init; }
    public required int Seeds { get; init; }
    public required int Cap { get; init; }
    public required int DfsCap { get; init; }
    /// <summary>A cell stops after this many runs when none of them found the bug.</summary>
    public required int GiveUpAfter { get; init; }
    public required int Threads { get; init; }
    public required TimeSpan Budget { get; init; }

    /// <summary>
    /// Seeds far apart: Coyote 1.7.11 derives an iteration's random stream from seed + iteration
    /// (seeds 1, 2, 3 found the same bug at iterations 58, 57, 56), so consecutive seeds are
    /// the same exploration shifted by one iteration. A stride above the cap keeps runs independent.
    /// </summary>
    public static uint SeedOf(int j) => 7u + (uint)j * 1_000_003u;
}

public static class Hunter
{
    public static List<Cell> Run(HuntPlan plan, Action<string> log)
    {
        var cells = new List<Cell>();
        foreach (var d in plan.Defects)
            foreach (var s in plan.Strategies)
                cells.Add(new Cell { Defect = d, Strategy = s, SeedsPlanned = s.Seeded ? plan.Seeds : 1 });

        // each cell's seeds run in order on one worker (so the give-up rule sees earlier results);
        // cells are handed out expensive-first-unknown, i.e. in plan order
        var queue = new ConcurrentQueue<Cell>(cells);
        var sw = Stopwatch.StartNew();
        int done = 0;
        var workers = new List<Thread>();
        for (int w = 0; w < plan.Threads; w++)
        {
            var th = new Thread(() =>
            {
                while (queue.TryDequeue(out var cell))
                {
                    RunCell(plan, cell, sw);
                    int n = Interlocked.Increment(ref done);
                    lock (log) log($"  [{n}/{cells.Count}] {cell.Defect.Key} {cell.Strategy.Label}: {Describe(cell)} ({cell.Seconds:F1}s, total {sw.Elapsed.TotalMinutes:F1} min)");
                }
            }, 64 * 1024 * 1024) { IsBackground = true, Name = "hunter" + w };
            workers.Add(th);
            th.Start();
        }
        foreach (var th in workers) th.Join();
        return cells;
    }

    private static void RunCell(HuntPlan plan, Cell cell, Stopwatch sw)
    {
        var sc = ScenarioCatalog.Find(cell.Defect.Scenario) ?? throw new InvalidOperationException("no scenario " + cell.Defect.Scenario);
        var fixes = Variants.ForDefect(cell.Defect.Flag);
        int cap = cell.Strategy.Name == "verify" ? plan.DfsCap : plan.Cap;
        for (int j = 0; j < cell.SeedsPlanned; j++)
        {
            uint seed = HuntPlan.SeedOf(j);
            if (sw.Elapsed > plan.Budget)
            {
                cell.Runs.Add(new HuntRun(cell.Defect, cell.Strategy, seed, Outcome.Skipped, 0, 0, "time budget"));
                continue;
            }
            if (j >= (cell.Defect.Probe ? 1 : plan.GiveUpAfter) && cell.FoundCount == 0)
            {
                cell.StoppedEarly = true;
                break;
            }
            var r = Explorer.Run(new HuntOptions
            {
                Scenario = sc,
                Fixes = fixes,
                Strategy = cell.Strategy.Name == "verify" ? Strategies.Default : cell.Strategy.Name,
                StrategyBound = cell.Strategy.Name == "verify" ? null : cell.Strategy.Bound,
                PreemptionBound = cell.Strategy.Name == "verify" ? (int?)cell.Strategy.Bound : null,
                Iterations = cap,
                Seed = seed,
                FaultInjection = cell.Defect.Faults,
            });
            Outcome o;
            string? found = null;
            if (!r.BugFound) o = Outcome.NotFound;
            else if (r.Report is null) { o = Outcome.Harness; found = "harness: " + FirstLine(r.OtherBug); }
            else if (cell.Defect.Matches(r.Report)) { o = Outcome.Found; found = Short(r.Report); }
            else { o = Outcome.Wrong; found = Short(r.Report); }
            cell.Runs.Add(new HuntRun(cell.Defect, cell.Strategy, seed, o, r.BugFound ? r.BugIteration : r.Iterations, r.Elapsed.TotalSeconds, found));
        }
    }

    public static string Short(InotifySim.Model.Kernel.Report r) =>
        $"{InotifySim.Model.Kernel.BugClassNames.Name(r.Class)} in {string.Join(",", r.Functions.Take(3))}";

    private static string FirstLine(string? s) => s is null ? "" : s.Split('\n')[0].Trim();

    public static string Fmt(double x) => double.IsPositiveInfinity(x) ? "∞" : double.IsNaN(x) ? "-" : x.ToString("0", System.Globalization.CultureInfo.InvariantCulture);

    public static string Describe(Cell c)
    {
        if (c.RunCount == 0) return "skipped";
        string s = $"median {Fmt(c.Median)} [{Fmt(c.Min)}..{Fmt(c.Max)}] found {c.FoundCount}/{c.RunCount}";
        if (c.StoppedEarly) s += " (gave up)";
        var wrong = c.WrongBugs.ToList();
        if (wrong.Count > 0) s += " WRONG: " + string.Join("; ", wrong);
        return s;
    }
}
