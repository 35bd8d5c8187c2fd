using InotifySim.Model;
using InotifySim.Scenarios.Catalog;

namespace InotifySim.Bench;

public sealed record CostRow(string Name, double MicrosPerIter, double Ratio, double CoyoteSteps, double ModelPoints, int Iterations, string? Bug, double CpuShare);

public sealed class CostResults
{
    public required CostRow Empty { get; init; }
    public required CostRow KernelOnly { get; init; }
    public required CostRow Mutex { get; init; }
    public required List<CostRow> Scenarios { get; init; }
    public required List<ModelCost> Model { get; init; }
    public required (int depth, double nanos, double bytes)[] Site { get; init; }
    public double MeanScenarioRatio => Scenarios.Average(s => s.Ratio);
    public double GeoMeanScenarioRatio => Math.Exp(Scenarios.Average(s => Math.Log(s.Ratio)));
}

public static class Costs
{
    private const uint Seed = 7;

    public static CostResults Measure(Options opt, Action<string> log)
    {
        uint n = (uint)opt.CostIterations;
        log($"iteration cost: {n} iterations x {opt.CostRounds} round(s) per test, random strategy, seed {Seed}, fixed variant");
        // warm-up: JIT, Coyote runtime, every scenario's code paths
        Runner.Empty(30, Seed);
        Runner.KernelOnly(30, Seed);
        Runner.MutexMicro(10, Seed);
        foreach (var sc in ScenarioCatalog.All) Runner.Scenario(sc, Fix.All, 10, Seed);

        var samples = new Dictionary<string, List<CostSample>>();
        void Add(CostSample s)
        {
            if (!samples.TryGetValue(s.Name, out var l)) samples[s.Name] = l = new List<CostSample>();
            l.Add(s);
        }
        for (int r = 0; r < opt.CostRounds; r++)
        {
            // interleaved, so a noisy phase of the machine hits every test alike
            Add(Runner.Empty(n, Seed));
            Add(Runner.KernelOnly(n, Seed));
            Add(Runner.MutexMicro(n, Seed));
            foreach (var sc in ScenarioCatalog.All)
            {
                Add(Runner.Scenario(sc, Fix.All, n, Seed));
                Add(Runner.Empty(n / 3, Seed)); // re-measure the denominator between scenarios
            }
            // paired: what Coyote's execution-trace analysis (on by default in 1.7.11) would cost
            Add(Runner.Scenario(ScenarioCatalog.Find("rm-vs-death")!, Fix.All, n, Seed, traceAnalysis: true));
            log($"  round {r + 1}/{opt.CostRounds} done");
        }
        const string E = "empty Coyote test";
        double emptyMicros = Median(samples[E].Select(s => s.PerIterMicros));
        CostRow Row(string name)
        {
            var l = samples[name];
            double us = Median(l.Select(s => s.PerIterMicros));
            var bug = l.FirstOrDefault(s => s.Bug)?.BugText;
            return new CostRow(name, us, us / emptyMicros, Median(l.Select(s => s.CoyoteStepsPerIter)), Median(l.Select(s => s.ModelPointsPerIter)),
                l.Sum(s => s.Iterations), bug, l.Sum(s => s.CpuSeconds) / l.Sum(s => s.Seconds));
        }
        var res = new CostResults
        {
            Empty = Row(E),
            KernelOnly = Row("new Kernel only"),
            Mutex = Row(samples.Keys.First(k => k.Contains("mutex pairs"))),
            Scenarios = ScenarioCatalog.All.Select(sc => Row(sc.Name)).ToList(),
            Model = new List<ModelCost>(),
            Site = new[] { 2, 4, 8 }.Select(d => { var (ns, b) = Profile.SiteCost(d); return (d, ns, b); }).ToArray(),
        };
        log($"  empty {res.Empty.MicrosPerIter:F0} us/it, mutex micro-test {res.Mutex.Ratio:F1}x, scenarios mean {res.MeanScenarioRatio:F1}x");
        var ta = Row("rm-vs-death (Coyote trace analysis on)");
        log($"  rm-vs-death with Coyote's trace analysis on: {ta.MicrosPerIter:F0} us/it ({ta.Ratio:F1}x; off: {res.Scenarios.First(r => r.Name == "rm-vs-death").Ratio:F1}x)");
        foreach (var row in res.Scenarios)
            log($"  {row.Name,-22} {row.MicrosPerIter,8:F0} us/it {row.Ratio,6:F1}x  steps {row.CoyoteSteps,6:F0}  points {row.ModelPoints,6:F0}  cpu {100 * row.CpuShare,4:F0}%" + (row.Bug != null ? "  BUG: " + row.Bug.Split('\n')[0] : ""));
        foreach (var sc in ScenarioCatalog.All) res.Model.Add(Profile.Measure(sc, opt.ModelIterations));
        log("  model-only (sequential) costs measured");
        return res;
    }

    public static double Median(IEnumerable<double> xs)
    {
        var a = xs.OrderBy(x => x).ToArray();
        if (a.Length == 0) return double.NaN;
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}
