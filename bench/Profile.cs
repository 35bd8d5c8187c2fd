using System.Diagnostics;
using System.Reflection;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios;

namespace InotifySim.Bench;

/// <summary>The model's own work per scenario, outside Coyote (SchedMode.Sequential, threads run one after the other).</summary>
public sealed record ModelCost(string Scenario, double SetupMicros, double FullMicros, double BytesPerIter, double SetupBytes, double SlabAllocsPerIter, double PointsPerIter);

public static class Profile
{
    private static readonly FieldInfo s_threads = typeof(Sim).GetField("Threads", BindingFlags.NonPublic | BindingFlags.Instance)!;
    private static readonly FieldInfo s_checks = typeof(Sim).GetField("FinalChecks", BindingFlags.NonPublic | BindingFlags.Instance)!;

    /// <summary>One sequential iteration; returns the machine. runThreads=false: setup and teardown only.</summary>
    internal static Machine Once(Scenario sc, bool runThreads)
    {
        var opts = new MachineOptions { Fixes = Fix.All, Mode = SchedMode.Sequential };
        sc.Configure(opts);
        var m = new Machine(opts);
        try
        {
            var sim = new Sim(m);
            sc.Build(sim);
            var threads = (List<(TaskStruct task, Action body)>)s_threads.GetValue(sim)!;
            if (runThreads)
            {
                foreach (var (task, body) in threads) m.K.Spawn(task, body);
                foreach (var check in (List<Action>)s_checks.GetValue(sim)!) m.As(threads[0].task, check);
            }
            m.Teardown();
        }
        catch (KernelBugException) { }
        return m;
    }

    public static ModelCost Measure(Scenario sc, int iterations)
    {
        // warm-up long enough for tiered JIT to reach tier 1 (tier 0 code ran 3-4x slower here)
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 600) { Once(sc, true); Once(sc, false); }
        long b0 = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++) Once(sc, false);
        double setup = sw.Elapsed.TotalMilliseconds * 1000 / iterations;
        double setupBytes = (double)(GC.GetAllocatedBytesForCurrentThread() - b0) / iterations;
        long slab = 0, points = 0;
        b0 = GC.GetAllocatedBytesForCurrentThread();
        sw.Restart();
        for (int i = 0; i < iterations; i++)
        {
            var m = Once(sc, true);
            slab += m.K.Slab.TotalAllocations;
            points += m.K.Steps;
        }
        double full = sw.Elapsed.TotalMilliseconds * 1000 / iterations;
        double bytes = (double)(GC.GetAllocatedBytesForCurrentThread() - b0) / iterations;
        return new ModelCost(sc.Name, setup, full, bytes, setupBytes, (double)slab / iterations, (double)points / iterations);
    }

    /// <summary>Cost of Kernel.SiteHere() (the stack copy every slab allocation makes) at a typical depth.</summary>
    public static (double nanos, double bytes) SiteCost(int depth, int n = 200_000)
    {
        var k = new Kernel(SchedMode.Sequential);
        var t = k.current;
        var scopes = new List<FnScope>();
        for (int i = 0; i < depth; i++) scopes.Add(k.Fn("fn" + i));
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 300) _ = k.SiteHere();
        long b0 = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) _ = k.SiteHere();
        double ns = sw.Elapsed.TotalMilliseconds * 1e6 / n;
        double bytes = (double)(GC.GetAllocatedBytesForCurrentThread() - b0) / n;
        foreach (var s in scopes) s.Dispose();
        return (ns, bytes);
    }
}
