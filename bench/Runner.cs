using System.Diagnostics;
using System.Linq.Expressions;
using System.Reflection;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Exploration;
using Microsoft.Coyote;
using Microsoft.Coyote.Logging;
using Microsoft.Coyote.SystematicTesting;
using KMutex = InotifySim.Model.Kernel.Mutex;

namespace InotifySim.Bench;

/// <summary>One cost measurement: iterations, wall time, Coyote's and the model's step counts.</summary>
public sealed record CostSample(string Name, int Iterations, double Seconds, double CoyoteStepsPerIter, double ModelPointsPerIter, bool Bug, string? BugText, double CpuSeconds = 0, double SwitchesPerIter = 0, int Threads = 0)
{
    public double PerIterMicros => Seconds * 1e6 / Math.Max(1, Iterations);
    public double IterPerSec => Iterations / Seconds;
}

/// <summary>
/// Runs Coyote TestingEngines for the benchmark. Scenario iterations go through the harness's
/// own iteration body (Explorer.Iteration, private: bound once by reflection into a compiled
/// delegate, so the measured work is exactly what `Explorer.Run` does), with our own engine so
/// the TestReport's step statistics are available.
/// </summary>
public static class Runner
{
    private static readonly Type s_stateType = typeof(Explorer).GetNestedType("State", BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("Explorer.State not found (the bench binds to Explorer's iteration body)");
    private static readonly Action<HuntOptions, object> s_iteration = BindIteration();
    private static readonly FieldInfo s_iterationField = s_stateType.GetField("Iteration")!;
    private static readonly FieldInfo s_stepsField = s_stateType.GetField("StepsTotal")!;
    private static readonly FieldInfo s_switchesField = s_stateType.GetField("SwitchesTotal")!;
    private static readonly FieldInfo s_threadsField = s_stateType.GetField("MaxThreads")!;
    private static readonly MethodInfo s_dispose = s_stateType.GetMethod("Dispose")!;

    private static Action<HuntOptions, object> BindIteration()
    {
        var mi = typeof(Explorer).GetMethod("Iteration", BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new InvalidOperationException("Explorer.Iteration not found");
        var o = Expression.Parameter(typeof(HuntOptions), "o");
        var s = Expression.Parameter(typeof(object), "s");
        return Expression.Lambda<Action<HuntOptions, object>>(Expression.Call(mi, o, Expression.Convert(s, s_stateType)), o, s).Compile();
    }

    /// <summary>The harness's one Coyote configuration (Explorer.MakeConfiguration): the empty test and the scenarios run alike.</summary>
    public static Configuration BaseConfig(uint iterations, uint seed) => Explorer.MakeConfiguration((int)iterations);

    /// <summary>
    /// Runs <paramref name="body"/> as the engine's test; without <paramref name="totals"/> an iteration is one sample
    /// and the step/switch counters are read after each iteration; with it, the totals (schedules, model points,
    /// switches) are read once at the end (the explorer's batches: several schedules per Coyote iteration).
    /// </summary>
    private static CostSample RunEngine(string name, Configuration c, Action body, Func<long>? modelPoints = null, Func<long>? switches = null,
        Func<(int schedules, long points, long switches)>? totals = null)
    {
        int entered = 0;
        long points = 0, sw0 = 0;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        using var engine = TestingEngine.Create(c, () => { entered++; body(); });
        engine.RegisterEndIterationCallBack(_ => { if (modelPoints != null) points += modelPoints(); if (switches != null) sw0 += switches(); });
        engine.Run();
        sw.Stop();
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        var r = engine.TestReport;
        double coyoteSteps = r.TotalExploredFairSteps + r.TotalExploredUnfairSteps;
        if (totals != null) (entered, points, sw0) = totals();
        double steps = coyoteSteps / Math.Max(1, entered);
        return new CostSample(name, entered, sw.Elapsed.TotalSeconds, steps, (double)points / Math.Max(1, entered),
            r.NumOfFoundBugs > 0, r.NumOfFoundBugs > 0 ? string.Join("\n", r.BugReports) : null, cpu, (double)sw0 / Math.Max(1, entered));
    }

    /// <summary>(a) an empty Coyote test body.</summary>
    public static CostSample Empty(uint iterations, uint seed) =>
        RunEngine("empty Coyote test", BaseConfig(iterations, seed), () => { });

    /// <summary>(a') an iteration that only builds a controlled Kernel (what CoyoteHost's empty test does).</summary>
    public static CostSample KernelOnly(uint iterations, uint seed) =>
        RunEngine("new Kernel only", BaseConfig(iterations, seed), () => { _ = new Kernel(SchedMode.Controlled); });

    /// <summary>(b) 3 tasks x 30 mutex_lock/mutex_unlock on one mutex (as tests/Concurrency OverheadMeasurement).</summary>
    public static CostSample MutexMicro(uint iterations, uint seed, int tasks = 3, int pairs = 30)
    {
        Kernel? last = null;
        return RunEngine($"{tasks} tasks x {pairs} mutex pairs", BaseConfig(iterations, seed), () =>
        {
            var k = new Kernel(SchedMode.Controlled);
            last = k;
            var m = new KMutex(k.Globals, "bench_mutex", k.Lockdep.Class("bench->mutex"));
            var ws = new Task[tasks];
            for (int i = 0; i < tasks; i++)
            {
                ws[i] = k.Spawn(k.NewTask("bench" + i, 0), () =>
                {
                    using var e = k.Entry("sys_bench");
                    for (int j = 0; j < pairs; j++)
                    {
                        m.mutex_lock();
                        m.mutex_unlock();
                    }
                });
            }
            foreach (var w in ws) w.Wait();
        }, () => last?.Steps ?? 0);
    }

    /// <summary>A schedule policy for the switch micro-test: always switch away at a scheduling point (alternate), or never.</summary>
    private sealed class PingPongPolicy(bool alternate) : ISchedulePolicy
    {
        public int Pick(DecisionKind kind, ulong options, int current, int index, long points, string site)
        {
            bool has(int i) => i >= 0 && (options & (1UL << i)) != 0;
            if (alternate && kind == DecisionKind.Point)
            {
                for (int i = 0; i < 64; i++)
                    if (i != current && has(i)) return i;
            }
            if (has(current)) return current;
            return System.Numerics.BitOperations.TrailingZeroCount(options);
        }
    }

    /// <summary>
    /// The switch micro-test: 2 simulated threads x <paramref name="points"/> scheduling points under the harness
    /// scheduler, switching at every point (alternate) or never; the difference per switch is the handoff's cost.
    /// </summary>
    public static CostSample PingPong(uint iterations, int points, bool alternate, HandoffMode handoff)
    {
        using var pool = handoff == HandoffMode.Direct ? new InotifySim.Handoff.SimThreadPool("bench") : null;
        Scheduler? last = null;
        return RunEngine($"2 threads x {points} points, {(alternate ? "switch at every point" : "no switch")}, {handoff.ToString().ToLowerInvariant()} handoff",
            BaseConfig(iterations, 0), () =>
            {
                var k = new Kernel(SchedMode.Controlled);
                var sched = new Scheduler(k, new PingPongPolicy(alternate), int.MaxValue, pool);
                k.Sched = sched;
                last = sched;
                var ts = new Task[2];
                for (int i = 0; i < 2; i++)
                    ts[i] = k.Spawn(k.NewTask("pp" + i, 0), () => { for (int j = 0; j < points; j++) k.Point(); });
                sched.Begin();
                if (pool != null)
                {
                    while (!pool.WaitFinished(1000)) Microsoft.Coyote.Runtime.SchedulingPoint.Interleave(); // as Explorer: keeps Coyote's hang monitor quiet
                    if (sched.Failure is { } f) throw f;
                }
                else foreach (var t in ts) t.Wait();
            }, () => last?.Points ?? 0, () => last?.Switches ?? 0);
    }

    /// <summary>The name suffix of a scenario measured with the Coyote operation handoff.</summary>
    public const string CoyoteHandoffSuffix = " (Coyote handoff)";

    /// <summary>A scenario's iterations on a fix set, through Explorer's iteration body (the default strategy), with either handoff.</summary>
    /// <summary>The name suffix of a scenario measured with one schedule per Coyote iteration (the direct handoff without batches).</summary>
    public const string UnbatchedSuffix = " (1 schedule per iteration)";

    /// <summary>
    /// A scenario's schedules on a fix set, through Explorer's iteration body (the default strategy), with either handoff,
    /// in the explorer's batches (<paramref name="batch"/>: schedules per Coyote iteration; null: the explorer's default).
    /// The sample counts schedules, not Coyote iterations.
    /// </summary>
    public static CostSample Scenario(InotifySim.Scenarios.Scenario sc, Fix fixes, uint iterations, uint seed, bool traceAnalysis = false,
        HandoffMode handoff = Explorer.DefaultHandoff, int? batch = null)
    {
        var o = new HuntOptions
        {
            Scenario = sc, Fixes = fixes, Iterations = (int)iterations, Seed = seed, Handoff = handoff,
            SchedulesPerIteration = batch ?? Explorer.DefaultSchedulesPerIteration,
        };
        var st = Activator.CreateInstance(s_stateType, nonPublic: true)!;
        var config = Explorer.MakeConfiguration(Explorer.CoyoteIterations(o)).WithTraceAnalysisEnabled(traceAnalysis);
        try
        {
            string name = sc.Name + (traceAnalysis ? " (Coyote trace analysis on)" : "") + (handoff == HandoffMode.Coyote ? CoyoteHandoffSuffix : "")
                + (handoff == HandoffMode.Direct && Explorer.BatchSize(o) == 1 && batch != null ? UnbatchedSuffix : "");
            var sample = RunEngine(name, config, () => s_iteration(o, st), totals: () =>
                ((int)s_iterationField.GetValue(st)!, (long)s_stepsField.GetValue(st)!, (long)s_switchesField.GetValue(st)!));
            return sample with { Threads = (int)s_threadsField.GetValue(st)! };
        }
        finally
        {
            s_dispose.Invoke(st, null); // the direct handoff's pool threads
        }
    }
}
