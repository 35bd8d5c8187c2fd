using System.Diagnostics;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using Microsoft.Coyote;
using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace InotifySim.Scenarios.Exploration;

/// <summary>What to explore: a scenario on a fix set, with a strategy, a budget and a seed.</summary>
public sealed class HuntOptions
{
    public required Scenario Scenario { get; init; }
    public Fix Fixes { get; init; } = Fix.All;
    /// <summary>Default: PCT with 3 change points, the fastest to every known defect (docs/bench/results.md).</summary>
    public string Strategy { get; init; } = "pct";
    public uint? StrategyBound { get; init; }
    public int Iterations { get; init; } = 1000;
    public uint Seed { get; init; }
    public bool FaultInjection { get; init; }
    public uint MaxSteps { get; init; } = 5000;
    /// <summary>A Coyote reproducible trace to replay instead of exploring.</summary>
    public string? ReplayTrace { get; init; }
    /// <summary>Record the kernel-level trace (for explanations); slower.</summary>
    public bool Tracing { get; init; }
    /// <summary>Called after each iteration with (iterations so far, bugs so far).</summary>
    public Action<int>? Progress { get; init; }
}

/// <summary>The outcome of a hunt or a replay.</summary>
public sealed class HuntResult
{
    public bool BugFound { get; init; }
    /// <summary>The model's own report (kernel-style), when a detector fired.</summary>
    public Report? Report { get; init; }
    /// <summary>A bug Coyote reported that is not one of ours (an exception in the harness, a hang).</summary>
    public string? OtherBug { get; init; }
    public string? CoyoteTrace { get; init; }
    /// <summary>1-based iteration of the bug.</summary>
    public int BugIteration { get; init; }
    public int Iterations { get; init; }
    public TimeSpan Elapsed { get; init; }
    /// <summary>The machine of the last iteration (the failing one when a bug was found).</summary>
    public Machine? LastMachine { get; init; }
    /// <summary>When replaying: Coyote's error text if the recorded schedule did not apply (names the step that diverged).</summary>
    public string? ReplayError { get; init; }
    /// <summary>Scheduling steps Coyote took in the last iteration (compare with a replayed trace's length).</summary>
    public int ScheduledSteps { get; init; }

    public string Summary => !BugFound ? $"clean after {Iterations} iterations"
        : Report != null ? $"{Report.Summary} at iteration {BugIteration}"
        : $"[harness] {OtherBug} at iteration {BugIteration}";
}

/// <summary>
/// Runs a scenario under Coyote's TestingEngine: every iteration builds a fresh machine,
/// runs the scenario's setup, starts its threads as controlled operations, waits for them,
/// runs the end checks and the teardown. The first detector report stops the iteration
/// (Specification.Assert), and the engine stops at the first bug.
/// </summary>
public static class Explorer
{
    /// <summary>The Note a traced run records between the sequential setup and the threads.</summary>
    public const string ThreadsStartNote = "threads start";
    /// <summary>The Note a traced run records when the threads finished (end checks and teardown follow).</summary>
    public const string ThreadsDoneNote = "threads done";

    private sealed class State
    {
        public Report? Report;
        public Machine? Machine;
        public int Iteration;
    }

    public static Configuration MakeConfiguration(HuntOptions o)
    {
        var c = Configuration.Create()
            .WithTestingIterations((uint)Math.Max(1, o.Iterations))
            .WithRandomGeneratorSeed(o.Seed)
            .WithMaxSchedulingSteps(o.MaxSteps)
            .WithTelemetryEnabled(false)
            .WithConsoleLoggingEnabled(false)
            .WithVerbosityEnabled(Microsoft.Coyote.Logging.VerbosityLevel.None)
            .WithPotentialDeadlocksReportedAsBugs(true)
            .WithDeadlockTimeout(5000);
        c = Strategies.Apply(c, o.Strategy, o.StrategyBound);
        if (o.ReplayTrace != null) c = c.WithReproducibleTrace(o.ReplayTrace);
        return c;
    }

    /// <summary>
    /// Every controlled operation blocks a thread-pool thread while another runs; on a 2-core
    /// machine the pool's slow thread injection left iterations idle (about half the throughput).
    /// </summary>
    private static readonly bool s_pool = EnsureThreadPool();

    public static bool EnsureThreadPool()
    {
        ThreadPool.GetMinThreads(out int worker, out int io);
        if (worker < 64) ThreadPool.SetMinThreads(64, Math.Max(io, 8));
        return true;
    }

    public static HuntResult Run(HuntOptions o)
    {
        _ = s_pool;
        var st = new State();
        var config = MakeConfiguration(o);
        var sw = Stopwatch.StartNew();
        using var engine = TestingEngine.Create(config, () => Iteration(o, st));
        engine.RegisterEndIterationCallBack(i => o.Progress?.Invoke((int)i + 1));
        engine.Run();
        sw.Stop();
        var report = engine.TestReport;
        string? replayError = o.ReplayTrace != null ? ReplayErrorText(engine) : null;
        int scheduledSteps = SchedulerStepCount(engine);
        bool bug = report.NumOfFoundBugs > 0;
        string? other = null;
        if (bug && st.Report is null)
            other = string.Join("\n", report.BugReports);
        return new HuntResult
        {
            BugFound = bug,
            Report = bug ? st.Report : null,
            OtherBug = other,
            CoyoteTrace = bug ? engine.ReproducibleTrace : null,
            BugIteration = bug ? st.Iteration : 0,
            Iterations = st.Iteration,
            Elapsed = sw.Elapsed,
            LastMachine = st.Machine,
            ReplayError = replayError,
            ScheduledSteps = scheduledSteps,
        };
    }

    /// <summary>
    /// Coyote 1.7.11 keeps a replay's divergence ("Trace is not reproducible at execution step N: ...")
    /// in the internal TestingEngine.Scheduler.Strategy.ErrorText and reports no bug; read it by reflection.
    /// </summary>
    private static int SchedulerStepCount(TestingEngine engine)
    {
        const System.Reflection.BindingFlags bf = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic;
        try
        {
            var scheduler = typeof(TestingEngine).GetProperty("Scheduler", bf)?.GetValue(engine);
            return scheduler?.GetType().GetProperty("StepCount", bf)?.GetValue(scheduler) is int n ? n : 0;
        }
        catch (Exception e) when (e is System.Reflection.TargetInvocationException or MemberAccessException)
        {
            return 0;
        }
    }

    private static string? ReplayErrorText(TestingEngine engine)
    {
        const System.Reflection.BindingFlags bf = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic;
        try
        {
            var scheduler = typeof(TestingEngine).GetProperty("Scheduler", bf)?.GetValue(engine);
            var strategy = scheduler?.GetType().GetProperty("Strategy", bf)?.GetValue(scheduler);
            var text = strategy?.GetType().GetProperty("ErrorText", bf)?.GetValue(strategy) as string;
            return string.IsNullOrEmpty(text) ? null : text;
        }
        catch (Exception e) when (e is System.Reflection.TargetInvocationException or MemberAccessException)
        {
            return null;
        }
    }

    private static void Iteration(HuntOptions o, State st)
    {
        st.Iteration++;
        st.Report = null;
        var opts = new MachineOptions
        {
            Fixes = o.Fixes,
            Mode = SchedMode.Controlled,
            FaultInjection = false,
            Tracing = o.Tracing,
        };
        o.Scenario.Configure(opts);
        var m = new Machine(opts);
        st.Machine = m;
        m.K.OnBug = r => st.Report = r;
        try
        {
            var sim = new Sim(m);
            m.K.Quiet = true; // the setup runs alone: no scheduling decisions
            o.Scenario.Build(sim);
            m.K.Quiet = false;
            m.K.FaultInjection = o.FaultInjection && o.Scenario.ToleratesFaultInjection;
            if (o.Tracing) m.K.Trace(TraceKind.Note, ThreadsStartNote);
            var tasks = new Task[sim.Threads.Count];
            for (int i = 0; i < tasks.Length; i++)
            {
                var (task, body) = sim.Threads[i];
                tasks[i] = m.K.Spawn(task, () => Guard(body));
            }
            foreach (var task in tasks) task.Wait(); // not Task.WaitAll: on .NET 10 it binds to a span overload the 1.7.11 rewriter does not control
            m.K.Quiet = true; // all threads joined: the end checks and the teardown run alone
            m.K.FaultInjection = false; // the end checks are oracles: their own syscalls must not fail
            if (o.Tracing) m.K.Trace(TraceKind.Note, ThreadsDoneNote);
            if (sim.Threads.Count > 0)
            {
                foreach (var check in sim.FinalChecks) m.As(sim.Threads[0].task, check);
            }
            m.Teardown();
        }
        catch (KernelBugException e)
        {
            Specification.Assert(false, e.Report.Summary);
        }
        catch (AggregateException e) when (e.InnerException is KernelBugException kb)
        {
            Specification.Assert(false, kb.Report.Summary);
        }
    }

    private static void Guard(Action body)
    {
        try
        {
            body();
        }
        catch (KernelBugException e)
        {
            Specification.Assert(false, e.Report.Summary);
        }
    }
}
