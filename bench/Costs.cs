using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Bench;

public sealed record CostRow(string Name, double MicrosPerIter, double Ratio, double CoyoteSteps, double ModelPoints, int Iterations, string? Bug, double CpuShare, double Switches = 0, int Threads = 0);

public sealed class CostResults
{
    public required CostRow Empty { get; init; }
    public required CostRow KernelOnly { get; init; }
    public required CostRow Mutex { get; init; }
    /// <summary>The scenarios with the default (direct) handoff.</summary>
    public required List<CostRow> Scenarios { get; init; }
    /// <summary>The same scenarios, paired, direct handoff with one schedule per Coyote iteration (no batches: each schedule pays Coyote's per-iteration floor).</summary>
    public required List<CostRow> ScenariosUnbatched { get; init; }
    /// <summary>The same scenarios, paired, with the Coyote operation handoff (the old path).</summary>
    public required List<CostRow> ScenariosCoyote { get; init; }
    /// <summary>The machine while the costs were measured.</summary>
    public required MachineLoad Load { get; init; }
    /// <summary>The switch micro-test: µs per switch (direct, Coyote handoff), from the fastest of its repetitions.</summary>
    public required (double direct, double coyote) PerSwitch { get; init; }
    public required List<CostRow> PingPong { get; init; }
    public required List<ModelCost> Model { get; init; }
    public required (int depth, double nanos, double bytes)[] Site { get; init; }
    public double MeanScenarioRatio => Scenarios.Average(s => s.Ratio);
    public double GeoMeanScenarioRatio => Math.Exp(Scenarios.Average(s => Math.Log(s.Ratio)));
    public double MeanScenarioRatioCoyote => ScenariosCoyote.Average(s => s.Ratio);
}

/// <summary>
/// The CPUs this process may use and what the rest of the machine did meanwhile: busy CPU time of the whole
/// machine (/proc/stat) minus this process's own, per second of wall time (0 = a quiet machine; 1 = one other
/// core's worth of load).
/// </summary>
public sealed record MachineLoad(int Cpus, int MachineCpus, string Affinity, double OtherLoadCores, string LoadAvgStart, string LoadAvgEnd)
{
    public static (long busy, long total)? ReadStat()
    {
        try
        {
            var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            long total = f.Take(8).Sum();
            long idle = f[3] + f[4];
            return (total - idle, total);
        }
        catch (Exception) { return null; }
    }

    public static string LoadAvg()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (Exception) { return "?"; }
    }

    public static string AffinityList()
    {
        try
        {
            foreach (var l in File.ReadLines("/proc/self/status"))
                if (l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)) return l.Split(':', 2)[1].Trim();
        }
        catch (Exception) { }
        return "?";
    }
}

public static class Costs
{
    private const uint Seed = 7;
    private const int PingPongPoints = 100;
    private const int PingPongRepeats = 5;
    private const int WarmupPasses = 3;

    public static CostResults Measure(Options opt, Action<string> log)
    {
        uint n = (uint)opt.CostIterations;
        log($"iteration cost: {n} iterations x {opt.CostRounds} round(s) per test, default strategy, seed {Seed}, fixed variant, direct and Coyote handoff paired");
        string load0 = MachineLoad.LoadAvg();
        var stat0 = MachineLoad.ReadStat();
        var cpu0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var wall = System.Diagnostics.Stopwatch.StartNew();
        // warm-up: JIT, Coyote runtime, every scenario's code paths, until the tiered JIT has promoted them: a method
        // reaches optimized code (tier 1) after 30 calls and a 100 ms pause in new tier-0 activity, and a short
        // warm-up measured tier-0 code (2-4x slower) for whichever scenarios came first. Three passes over
        // everything, each followed by a pause for the background compiler; the measured rounds are steady state.
        for (int pass = 0; pass < WarmupPasses; pass++)
        {
            Runner.Empty(30, Seed);
            Runner.KernelOnly(30, Seed);
            Runner.MutexMicro(10, Seed);
            foreach (var sc in ScenarioCatalog.All)
            {
                Runner.Scenario(sc, Fix.All, 12, Seed);
                Runner.Scenario(sc, Fix.All, 12, Seed, batch: 1);
                Runner.Scenario(sc, Fix.All, 12, Seed, handoff: HandoffMode.Coyote);
            }
            foreach (bool alt in new[] { false, true })
            {
                Runner.PingPong(12, PingPongPoints, alt, HandoffMode.Direct);
                Runner.PingPong(12, PingPongPoints, alt, HandoffMode.Coyote);
            }
            Thread.Sleep(500);
        }

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
                Add(Runner.Scenario(sc, Fix.All, n, Seed, batch: 1));
                Add(Runner.Scenario(sc, Fix.All, n, Seed, handoff: HandoffMode.Coyote));
                Add(Runner.Empty(n / 3, Seed)); // re-measure the denominator between scenarios
            }
            // the switch micro-test, each variant several times back to back (its minimum is the least disturbed)
            foreach (var mode in new[] { HandoffMode.Direct, HandoffMode.Coyote })
                foreach (bool alt in new[] { false, true })
                    for (int rep = 0; rep < PingPongRepeats; rep++) Add(Runner.PingPong(n, PingPongPoints, alt, mode));
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
                l.Sum(s => s.Iterations), bug, l.Sum(s => s.CpuSeconds) / l.Sum(s => s.Seconds), Median(l.Select(s => s.SwitchesPerIter)), l.Max(s => s.Threads));
        }
        wall.Stop();
        var stat1 = MachineLoad.ReadStat();
        double ownCpu = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        double other = double.NaN;
        if (stat0 is { } a && stat1 is { } b && b.total > a.total)
        {
            // jiffies -> seconds of CPU: total jiffies over the interval = machine CPUs x wall time
            double machineCpuSeconds = wall.Elapsed.TotalSeconds * MachineCpus();
            double busySeconds = (double)(b.busy - a.busy) / (b.total - a.total) * machineCpuSeconds;
            other = Math.Max(0, busySeconds - ownCpu) / wall.Elapsed.TotalSeconds;
        }
        CostRow MinRow(string name)
        {
            var l = samples[name];
            var best = l.MinBy(s => s.PerIterMicros)!;
            return new CostRow(name, best.PerIterMicros, best.PerIterMicros / emptyMicros, best.CoyoteStepsPerIter, best.ModelPointsPerIter, best.Iterations, best.BugText, best.CpuSeconds / best.Seconds, best.SwitchesPerIter);
        }
        var pp = samples.Keys.Where(k => k.StartsWith("2 threads x", StringComparison.Ordinal)).Select(MinRow).ToList();
        double PerSwitch(string mode)
        {
            var on = pp.Single(r => r.Name.Contains("every point") && r.Name.Contains(mode));
            var off = pp.Single(r => r.Name.Contains("no switch") && r.Name.Contains(mode));
            return (on.MicrosPerIter - off.MicrosPerIter) / Math.Max(1, on.Switches - off.Switches);
        }
        var load = new MachineLoad(Environment.ProcessorCount, MachineCpus(), MachineLoad.AffinityList(), other, load0, MachineLoad.LoadAvg());
        var res = new CostResults
        {
            Empty = Row(E),
            KernelOnly = Row("new Kernel only"),
            Mutex = Row(samples.Keys.First(k => k.Contains("mutex pairs"))),
            Scenarios = ScenarioCatalog.All.Select(sc => Row(sc.Name)).ToList(),
            ScenariosUnbatched = ScenarioCatalog.All.Select(sc => Row(sc.Name + Runner.UnbatchedSuffix)).ToList(),
            ScenariosCoyote = ScenarioCatalog.All.Select(sc => Row(sc.Name + Runner.CoyoteHandoffSuffix)).ToList(),
            Load = load,
            PingPong = pp,
            PerSwitch = (PerSwitch("direct"), PerSwitch("coyote")),
            Model = new List<ModelCost>(),
            Site = new[] { 2, 4, 8 }.Select(d => { var (ns, b) = Profile.SiteCost(d); return (d, ns, b); }).ToArray(),
        };
        log($"  empty {res.Empty.MicrosPerIter:F0} us/it, mutex micro-test {res.Mutex.Ratio:F1}x, scenarios mean {res.MeanScenarioRatio:F1}x per schedule (1 schedule per iteration {res.ScenariosUnbatched.Average(r => r.Ratio):F1}x, Coyote handoff {res.MeanScenarioRatioCoyote:F1}x)");
        foreach (var r in pp) log($"  {r.Name,-60} {r.MicrosPerIter,8:F0} us/it  switches {r.Switches,5:F0}  Coyote steps {r.CoyoteSteps,5:F0}");
        log($"  per switch (micro-test): direct {res.PerSwitch.direct:F1} us, Coyote handoff {res.PerSwitch.coyote:F1} us");
        log($"  machine: {load.Cpus} of {load.MachineCpus} CPUs (affinity {load.Affinity}), other load {load.OtherLoadCores:F2} cores, loadavg {load.LoadAvgStart} -> {load.LoadAvgEnd}");
        var ta = Row("rm-vs-death (Coyote trace analysis on)");
        log($"  rm-vs-death with Coyote's trace analysis on: {ta.MicrosPerIter:F0} us/it ({ta.Ratio:F1}x; off: {res.Scenarios.First(r => r.Name == "rm-vs-death").Ratio:F1}x)");
        foreach (var ((row, one), old) in res.Scenarios.Zip(res.ScenariosUnbatched).Zip(res.ScenariosCoyote))
            log($"  {row.Name,-22} {row.MicrosPerIter,8:F0} us/sched {row.Ratio,6:F1}x (1/it {one.Ratio,5:F1}x; Coyote handoff {old.MicrosPerIter,6:F0} us/it {old.Ratio,5:F1}x)  switches {row.Switches,4:F0}  steps {row.CoyoteSteps,4:F0}/{old.CoyoteSteps,4:F0}  points {row.ModelPoints,6:F0}  cpu {100 * row.CpuShare,4:F0}%" + ((row.Bug ?? old.Bug) is { } bg ? "  BUG: " + bg.Split('\n')[0] : ""));
        foreach (var sc in ScenarioCatalog.All) res.Model.Add(Profile.Measure(sc, opt.ModelIterations));
        log("  model-only (sequential) costs measured");
        return res;
    }

    /// <summary>The machine's CPUs (not only those this process may use): the cpuN lines of /proc/stat.</summary>
    public static int MachineCpus()
    {
        try { return File.ReadLines("/proc/stat").Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && l.Length > 3 && char.IsDigit(l[3])); }
        catch (Exception) { return Environment.ProcessorCount; }
    }

    public static double Median(IEnumerable<double> xs)
    {
        var a = xs.OrderBy(x => x).ToArray();
        if (a.Length == 0) return double.NaN;
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}
