using System.Globalization;
using System.Text;
using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;
using Xunit.Abstractions;
using KMutex = InotifySim.Model.Kernel.Mutex;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>
/// Measures (does not assert) the cost of the simulated primitives under Coyote: an empty
/// test versus 3 tasks x 30 mutex_lock/mutex_unlock pairs on one mutex. The figures go to the
/// test output (and to docs/bench/primitive-overhead.md with INOTIFY_SIM_WRITE_BENCH=1). Only completion without a bug is asserted.
/// </summary>
public class OverheadMeasurement
{
    private const uint Iterations = 500;
    private const uint Seed = 7;
    private const int Tasks = 3, Pairs = 30;
    private readonly ITestOutputHelper _out;

    public OverheadMeasurement(ITestOutputHelper output) => _out = output;

    [Fact]
    public void Empty_test_versus_three_tasks_times_thirty_mutex_pairs()
    {
        // warm-up (JIT, Coyote runtime set-up), not measured
        CoyoteHost.Run(k => { }, 20, Seed);

        var empty = CoyoteHost.Run(k => { }, Iterations, Seed);

        long acquisitions = 0;
        var mutex = CoyoteHost.Run(k =>
        {
            var m = new KMutex(k.Globals, "bench_mutex", k.Lockdep.Class("bench->mutex"));
            var ws = new Task[Tasks];
            for (int i = 0; i < Tasks; i++)
            {
                ws[i] = k.Spawn(k.NewTask("bench" + i, 0), () =>
                {
                    using var e = k.Entry("sys_bench");
                    for (int j = 0; j < Pairs; j++)
                    {
                        m.mutex_lock();
                        acquisitions++;
                        m.mutex_unlock();
                    }
                });
            }
            CoyoteHost.Join(ws);
        }, Iterations, Seed);

        Assert.False(empty.BugFound, empty.ToString());
        Assert.False(mutex.BugFound, mutex.ToString());
        Assert.Equal((int)Iterations, empty.IterationsRun);
        Assert.Equal((int)Iterations, mutex.IterationsRun);
        Assert.Equal((int)Iterations, empty.ExploredPaths);
        Assert.Equal((int)Iterations, mutex.ExploredPaths);
        Assert.Equal((long)Iterations * Tasks * Pairs, acquisitions);

        double emptyRate = Iterations / empty.Elapsed.TotalSeconds;
        double mutexRate = Iterations / mutex.Elapsed.TotalSeconds;
        double ratio = mutex.Elapsed.TotalSeconds / empty.Elapsed.TotalSeconds;
        var avgSteps = (double)mutex.TestReport.TotalExploredFairSteps / Math.Max(1, mutex.TestReport.NumOfExploredFairPaths);

        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# Primitive overhead under Coyote");
        sb.AppendLine();
        sb.AppendLine("Written by `tests/Concurrency/Primitives/OverheadMeasurement.cs` (a measurement, not an assertion).");
        sb.AppendLine(string.Create(inv, $"Coyote 1.7.11, random strategy, seed {Seed}, {Iterations} iterations each, {Build} build, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}."));
        sb.AppendLine();
        sb.AppendLine("| test | iterations | elapsed (ms) | iterations/s | avg scheduling steps |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        var emptySteps = (double)empty.TestReport.TotalExploredFairSteps / Math.Max(1, empty.TestReport.NumOfExploredFairPaths);
        sb.AppendLine(string.Create(inv, $"| (a) empty Coyote test | {Iterations} | {empty.Elapsed.TotalMilliseconds:F0} | {emptyRate:F0} | {emptySteps:F1} |"));
        sb.AppendLine(string.Create(inv, $"| (b) {Tasks} tasks x {Pairs} mutex_lock/mutex_unlock | {Iterations} | {mutex.Elapsed.TotalMilliseconds:F0} | {mutexRate:F0} | {avgSteps:F1} |"));
        sb.AppendLine();
        sb.AppendLine(string.Create(inv, $"Ratio b/a (time per iteration): **{ratio:F1}x**."));
        var text = sb.ToString();
        _out.WriteLine(text);

        // a test run leaves the work tree alone; INOTIFY_SIM_WRITE_BENCH=1 records the figures
        if (Environment.GetEnvironmentVariable("INOTIFY_SIM_WRITE_BENCH") == "1")
        {
            var dir = Path.Combine(RepoRoot(), "docs", "bench");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "primitive-overhead.md"), text);
        }
    }

#if DEBUG
    private const string Build = "Debug";
#else
    private const string Build = "Release";
#endif

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Simulation.sln"))) return d.FullName;
        }
        throw new InvalidOperationException("Simulation.sln not found above " + AppContext.BaseDirectory);
    }
}
