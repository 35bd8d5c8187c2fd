using System.Diagnostics;
using System.Runtime.ExceptionServices;
using InotifySim.Handoff;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using Microsoft.Coyote;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace InotifySim.Scenarios.Exploration;

/// <summary>How the turn passes from one simulated thread to the next (the decisions are the same either way).</summary>
public enum HandoffMode
{
    /// <summary>Harness-owned OS threads, reused across schedules, and a semaphore handoff Coyote does not see (the default: docs/bench/harness-scheduler.md).</summary>
    Direct,
    /// <summary>Every simulated thread a Coyote operation, every switch a Coyote operation handoff (Operation.PauseUntil).</summary>
    Coyote,
}

/// <summary>What to explore: a scenario on a fix set, with a strategy, a budget and a seed.</summary>
public sealed class HuntOptions
{
    public required Scenario Scenario { get; init; }
    public Fix Fixes { get; init; } = Fix.All;
    /// <summary>A sampling strategy of the harness-owned scheduler (<see cref="Strategies"/>); ignored under <see cref="PreemptionBound"/> and <see cref="Replay"/>.</summary>
    public string Strategy { get; init; } = Strategies.Default;
    public uint? StrategyBound { get; init; }
    /// <summary>Schedules to run (for <c>verify</c>: the most to run before giving up; 0 = no limit).</summary>
    public int Iterations { get; init; } = 1000;
    public uint Seed { get; init; }
    public bool FaultInjection { get; init; }
    /// <summary>Mistakes planted in every schedule's model (mutation testing of the detectors, src/Model/Mistakes.cs; `--plant`).</summary>
    public Mistake Planted { get; init; }
    /// <summary>The data-race detector (<see cref="MachineOptions.Kcsan"/>): null keeps the machine's default; false is `--no-kcsan`.</summary>
    public bool? Kcsan { get; init; }
    /// <summary>Branching decisions per schedule before the schedule is cut (no more branching; a verify verdict becomes "not exhausted").</summary>
    public uint MaxSteps { get; init; } = 5000;
    /// <summary>Strict replay of a recorded schedule (one run).</summary>
    public IReadOnlyList<Decision>? Replay { get; init; }
    /// <summary>verify: enumerate every schedule with at most this many preemptions (iterative context bounding).</summary>
    public int? PreemptionBound { get; init; }
    /// <summary>verify split: this run explores part <see cref="Part"/> of <see cref="Parts"/> of the schedule tree (<see cref="BoundedEnumerator"/>).</summary>
    public int Parts { get; init; } = 1;
    public int Part { get; init; }
    /// <summary>Record the kernel-level trace (for explanations); slower.</summary>
    public bool Tracing { get; init; }
    /// <summary>Called after each schedule with the number of schedules so far.</summary>
    public Action<int>? Progress { get; init; }
    /// <summary>Polled after each schedule: true stops the exploration (a time budget).</summary>
    public Func<bool>? ShouldStop { get; init; }
    /// <summary>Accumulates what the explored schedules reached (null: not collected).</summary>
    public Coverage? Coverage { get; init; }
    /// <summary>How a switch hands the turn over (<see cref="HandoffMode"/>; default <see cref="Explorer.DefaultHandoff"/>).</summary>
    public HandoffMode Handoff { get; init; } = Explorer.DefaultHandoff;
    /// <summary>
    /// Schedules one Coyote iteration runs, one after another, under the direct handoff (the Coyote handoff runs
    /// one: its threads are Coyote operations of the iteration). Nothing of a schedule depends on it: schedule
    /// numbers, seeds, the enumerator's order, the traces and the verdicts are the same for every value.
    /// </summary>
    public int SchedulesPerIteration { get; init; } = Explorer.DefaultSchedulesPerIteration;
}

/// <summary>The outcome of a hunt, a verify run or a replay.</summary>
public sealed class HuntResult
{
    public bool BugFound { get; init; }
    /// <summary>The model's own report (kernel-style), when a detector fired.</summary>
    public Report? Report { get; init; }
    /// <summary>A failure that is not a kernel bug: a harness condition (an exception in the harness, nondeterminism).</summary>
    public string? OtherBug { get; init; }
    /// <summary>The branching decisions of the failing schedule (or of the last one run).</summary>
    public IReadOnlyList<Decision> Schedule { get; init; } = Array.Empty<Decision>();
    /// <summary>The scheduled threads' names, by scheduler index.</summary>
    public IReadOnlyList<string> ThreadNames { get; init; } = Array.Empty<string>();
    /// <summary>Preemptions in <see cref="Schedule"/>.</summary>
    public int Preemptions { get; init; }
    /// <summary>1-based schedule number of the bug.</summary>
    public int BugIteration { get; init; }
    public int Iterations { get; init; }
    public TimeSpan Elapsed { get; init; }
    /// <summary>The machine of the last schedule (the failing one when a bug was found).</summary>
    public Machine? LastMachine { get; init; }
    /// <summary>When replaying: where the run left the recorded schedule (null: it followed it exactly).</summary>
    public string? Diverged { get; init; }
    /// <summary>verify: every schedule up to the bound was explored (and none was cut).</summary>
    public bool Exhausted { get; init; }
    /// <summary>verify: some schedule hit <see cref="HuntOptions.MaxSteps"/>.</summary>
    public bool AnyCut { get; init; }
    /// <summary>verify: schedules run at each preemption count (0..bound).</summary>
    public long[] SchedulesPerLevel { get; init; } = Array.Empty<long>();
    /// <summary>verify: the preemption level reached (the last level begun).</summary>
    public int LevelReached { get; init; }

    public string Summary => !BugFound ? $"clean after {Iterations} schedules"
        : Report != null ? $"{Report.Summary} at schedule {BugIteration}"
        : $"[harness] {OtherBug} at schedule {BugIteration}";
}

/// <summary>
/// Runs a scenario under Coyote's TestingEngine with the harness-owned <see cref="Scheduler"/>: every
/// schedule builds a fresh machine, runs the scenario's setup, starts its threads as controlled
/// operations that run one at a time as the scheduler's policy decides, waits for them, runs the end
/// checks and the teardown. The first detector report stops the schedule (Specification.Assert), and
/// the engine stops at the first bug. Coyote only executes: with exactly one enabled operation at every
/// step its own strategy has nothing to choose, and its execution-trace analysis is off.
/// Under the direct handoff one Coyote iteration runs up to <see cref="HuntOptions.SchedulesPerIteration"/>
/// schedules: Coyote's per-iteration floor (a new operation thread and a new monitor thread) is paid once
/// per batch, not once per schedule (docs/bench/harness-scheduler.md, stop 13).
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
        public Scheduler? Sched;
        public RunCoverage? RunCov;
        public int Iteration;
        public long MaxPoints = 64;
        public bool Stop;
        public BoundedEnumerator? Enumerator;
        public ReplayPolicy? Replay;
        /// <summary>The harness-owned threads of the direct handoff, reused by every schedule of this run.</summary>
        public SimThreadPool? Pool;
        /// <summary>The pool's threads are inside a schedule (spawned, not yet all finished): it must not be reused.</summary>
        public bool PoolBusy;
        /// <summary>The current schedule's end (<see cref="EndSchedule"/>) has run.</summary>
        public bool Ended = true;
        /// <summary>Totals over every schedule ended so far (the bench's per-schedule statistics).</summary>
        public long StepsTotal, SwitchesTotal;
        public int MaxThreads;

        /// <summary>Ends the pool's threads (the bench, which drives <see cref="Iteration"/> itself, calls it by reflection).</summary>
        public void Dispose()
        {
            Pool?.Dispose();
            Pool = null;
        }
    }

    /// <summary>The handoff every run uses unless its options say otherwise.</summary>
    public const HandoffMode DefaultHandoff = HandoffMode.Direct;

    /// <summary>Schedules per Coyote iteration under the direct handoff unless the options say otherwise.</summary>
    public const int DefaultSchedulesPerIteration = 32;

    /// <summary>Schedules one Coyote iteration of this run may run (1 under the Coyote handoff).</summary>
    public static int BatchSize(HuntOptions o) => o.Handoff == HandoffMode.Direct ? Math.Max(1, o.SchedulesPerIteration) : 1;

    /// <summary>The most schedules this run may run (a replay runs one; 0 iterations: no limit).</summary>
    public static int ScheduleLimit(HuntOptions o) => o.Replay != null ? 1 : o.Iterations > 0 ? o.Iterations : int.MaxValue;

    /// <summary>The Coyote iterations that run <see cref="ScheduleLimit"/> schedules in batches of <see cref="BatchSize"/>.</summary>
    public static int CoyoteIterations(HuntOptions o)
    {
        long limit = ScheduleLimit(o), b = BatchSize(o);
        return (int)Math.Min(int.MaxValue, (limit + b - 1) / b);
    }

    /// <summary>The Coyote configuration of every run of the harness (the one Coyote host: CLI, tests and bench use it).</summary>
    public static Configuration MakeConfiguration(int iterations) =>
        Configuration.Create()
            .WithTestingIterations((uint)Math.Max(1, iterations))
            .WithRandomGeneratorSeed(0)
            .WithRandomStrategy()
            .WithMaxSchedulingSteps(1_000_000)
            .WithTraceAnalysisEnabled(false)
            .WithTelemetryEnabled(false)
            .WithConsoleLoggingEnabled(false)
            .WithVerbosityEnabled(Microsoft.Coyote.Logging.VerbosityLevel.None)
            .WithPotentialDeadlocksReportedAsBugs(true)
            .WithDeadlockTimeout(5000);

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

    private static ISchedulePolicy? NextPolicy(HuntOptions o, State st, int schedule)
    {
        if (o.Replay != null)
        {
            if (schedule > 0) return null;
            return st.Replay = new ReplayPolicy(o.Replay);
        }
        if (st.Enumerator != null) return st.Enumerator.Exhausted ? null : st.Enumerator;
        var rng = SplitMix64.For(o.Seed, schedule);
        var info = Strategies.Find(o.Strategy) ?? throw new ArgumentException($"unknown strategy '{o.Strategy}'");
        uint b = o.StrategyBound ?? info.DefaultBound;
        return info.Name switch
        {
            "random" => new RandomPolicy(rng),
            "probabilistic" => new ProbabilisticPolicy(rng, b),
            "pct" => new PctPolicy(rng, (int)b, st.MaxPoints),
            _ => throw new ArgumentException(o.Strategy),
        };
    }

    public static HuntResult Run(HuntOptions o)
    {
        _ = s_pool;
        var st = new State();
        if (o.Replay == null && o.PreemptionBound is int k)
            st.Enumerator = new BoundedEnumerator(k, o.Parts, o.Part);
        var config = MakeConfiguration(CoyoteIterations(o));
        var sw = Stopwatch.StartNew();
        using var engine = TestingEngine.Create(config, () => Iteration(o, st));
        // Coyote 1.7.11 writes its progress ("... Running test iterations") to Console.Out even with console logging off
        engine.SetLogger(new Microsoft.Coyote.Logging.TextWriterLogger(TextWriter.Null, Microsoft.Coyote.Logging.VerbosityLevel.None));
        engine.RegisterEndIterationCallBack(_ =>
        {
            // A schedule Coyote ended (a failure, or an iteration it cancelled) is ended here, and the engine is not
            // stopped: it stops by itself after a failed iteration, and a Stop() racing with its recording of the
            // bug lost the bug from the TestReport.
            if (!st.Ended)
            {
                EndScheduleAndReport(o, st);
                return;
            }
            if (st.Stop) engine.Stop();
        });
        try
        {
            engine.Run();
        }
        finally
        {
            st.Dispose();
        }
        sw.Stop();
        st.Replay?.Finish();
        var report = engine.TestReport;
        bool bug = report.NumOfFoundBugs > 0;
        string? other = null;
        if (bug && st.Report is null)
            other = string.Join("\n", report.BugReports);
        var sched = st.Sched;
        var en = st.Enumerator;
        return new HuntResult
        {
            BugFound = bug,
            Report = bug ? st.Report : null,
            OtherBug = other,
            Schedule = sched?.Log.ToArray() ?? Array.Empty<Decision>(),
            Preemptions = sched?.Preemptions ?? 0,
            ThreadNames = sched is null ? Array.Empty<string>() : Enumerable.Range(0, sched.ThreadCount).Select(sched.ThreadName).ToArray(),
            BugIteration = bug ? st.Iteration : 0,
            Iterations = st.Iteration,
            Elapsed = sw.Elapsed,
            LastMachine = st.Machine,
            Diverged = st.Replay?.Divergence,
            Exhausted = en != null && en.Exhausted && !en.AnyCut && !bug,
            AnyCut = en?.AnyCut ?? false,
            SchedulesPerLevel = en?.SchedulesPerLevel ?? Array.Empty<long>(),
            LevelReached = en?.Level ?? 0,
        };
    }

    /// <summary>
    /// After every schedule: <see cref="EndSchedule"/>, the progress callback, and whether the run stops here (the
    /// schedule limit, the stop poll, an exhausted tree; a failed schedule stops the engine by itself).
    /// </summary>
    private static void EndScheduleAndReport(HuntOptions o, State st)
    {
        st.Ended = true;
        EndSchedule(o, st);
        o.Progress?.Invoke(st.Iteration);
        if (st.Iteration >= ScheduleLimit(o) || (o.ShouldStop?.Invoke() ?? false) || (st.Enumerator?.Exhausted ?? false))
            st.Stop = true;
    }

    /// <summary>After every schedule (also a failing one): the enumerator advances, PCT learns the schedule length, coverage is added.</summary>
    private static void EndSchedule(HuntOptions o, State st)
    {
        var sched = st.Sched;
        if (sched is null) return;
        st.StepsTotal += st.Machine?.K.Steps ?? 0;
        st.SwitchesTotal += sched.Switches;
        st.MaxThreads = Math.Max(st.MaxThreads, sched.ThreadCount);
        if (sched.Points > st.MaxPoints) st.MaxPoints = sched.Points;
        bool counted = true; // verify split over parts: a run that belongs to another part is not this part's coverage
        if (st.Enumerator is { Exhausted: false } en && st.Report is null) counted = en.EndRun(sched.Cut);
        if (o.Coverage != null && st.RunCov != null && counted) o.Coverage.Add(sched, st.RunCov);
    }

    /// <summary>
    /// One Coyote iteration: up to <see cref="BatchSize"/> schedules, one after another, each ended (enumerator,
    /// coverage, progress) before the next begins; the first failing schedule ends the batch and fails the iteration.
    /// </summary>
    private static void Iteration(HuntOptions o, State st)
    {
        int batch = BatchSize(o);
        // No Coyote step between schedules: Coyote's hang monitor fires only while the operation waits (the pool wait
        // in Schedule takes a step each second), not while it runs; a batch of 20 schedules of 300 ms each (6 s, over
        // the 5 s deadlock timeout) ended clean without one.
        for (int b = 0; b < batch && !st.Stop; b++)
        {
            var policy = NextPolicy(o, st, st.Iteration);
            if (policy is null)
            {
                st.Stop = true; // no schedule left
                st.Sched = null;
                return;
            }
            if (OneSchedule(o, st, policy) is { } failure)
            {
                // the iteration fails: Coyote's end-of-iteration callback ends the schedule
                EndIteration(failure);
                return;
            }
            EndScheduleAndReport(o, st);
        }
    }

    /// <summary>The next schedule, under <paramref name="policy"/>, run to its end; what it threw (null: it passed).</summary>
    private static Exception? OneSchedule(HuntOptions o, State st, ISchedulePolicy policy)
    {
        st.Iteration++;
        st.Report = null;
        st.Ended = false;
        // Direct: the whole schedule (setup, end checks, teardown) runs here, on Coyote's controlled operation, and only
        // the simulated threads on the pool's threads. Neither this assembly nor the model is rewritten by Coyote
        // (Scenarios.csproj, Model.csproj), so model code on the operation pays no call-site hook.
        var pool = o.Handoff == HandoffMode.Direct ? st.Pool ??= new SimThreadPool("inotify-sim") : null;
        try
        {
            Schedule(o, st, policy, pool);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
        finally
        {
            // abandoned with threads parked or running (Coyote cancelled the iteration while the operation waited for
            // them): never reuse them
            if (st.PoolBusy)
            {
                pool!.Dispose();
                st.Pool = null;
                st.PoolBusy = false;
            }
        }
    }

    /// <summary>
    /// How a schedule's outcome ends the Coyote iteration (both handoffs): a kernel bug fails it with the
    /// report's summary; anything else is a harness fault and is rethrown as it was.
    /// </summary>
    private static void EndIteration(Exception? failure)
    {
        switch (failure)
        {
            case null:
                return;
            case KernelBugException e:
                Specification.Assert(false, e.Report.Summary);
                return;
            case AggregateException { InnerException: KernelBugException kb }:
                Specification.Assert(false, kb.Report.Summary);
                return;
            default:
                ExceptionDispatchInfo.Throw(failure);
                return;
        }
    }

    /// <summary>One schedule: machine, setup, the simulated threads, end checks, teardown (a bug is thrown).</summary>
    private static void Schedule(HuntOptions o, State st, ISchedulePolicy policy, SimThreadPool? pool)
    {
        var opts = new MachineOptions
        {
            Fixes = o.Fixes,
            Mode = SchedMode.Controlled,
            FaultInjection = false,
            Tracing = o.Tracing,
        };
        o.Scenario.Configure(opts);
        if (o.Kcsan is bool kcsan) opts.Kcsan = kcsan;
        var m = new Machine(opts);
        if (o.Planted != Mistake.None) m.K.Plant(o.Planted);
        st.Machine = m;
        m.K.OnBug = r => st.Report = r;
        var sched = new Scheduler(m.K, policy, (int)Math.Min(int.MaxValue, o.MaxSteps), pool);
        st.Sched = sched;
        st.RunCov = o.Coverage != null ? new RunCoverage() : null;
        sched.Coverage = st.RunCov;
        m.K.Sched = sched;
        var sim = new Sim(m);
        m.K.Quiet = true; // the setup runs alone: no scheduling decisions
        o.Scenario.Build(sim);
        m.K.Quiet = false;
        m.K.FaultInjection = o.FaultInjection && o.Scenario.ToleratesFaultInjection;
        if (o.Tracing) m.K.Trace(TraceKind.Note, ThreadsStartNote);
        var tasks = new Task[sim.Threads.Count];
        st.PoolBusy = pool != null && tasks.Length > 0;
        for (int i = 0; i < tasks.Length; i++)
        {
            var (task, body) = sim.Threads[i];
            tasks[i] = m.K.Spawn(task, pool != null ? body : () => Guard(body));
        }
        sched.Begin();
        if (pool != null)
        {
            // the operation waits for the last simulated thread, then rethrows what a thread raised; a Coyote
            // scheduling point once a second: Coyote's hang monitor reports a "potential deadlock" when no step
            // happened for its deadlock timeout (5 s), and the schedule makes no Coyote steps
            if (tasks.Length > 0)
            {
                while (!pool.WaitFinished(1000)) SchedulingPoint.Interleave();
            }
            st.PoolBusy = false;
            if (sched.Failure is { } f) ExceptionDispatchInfo.Throw(f);
        }
        else
        {
            // Coyote's controlled wait, called by name (this assembly is not rewritten: Scenarios.csproj)
            foreach (var task in tasks) Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task.Wait(task);
        }
        m.K.Quiet = true; // all threads joined: the end checks and the teardown run alone
        m.K.FaultInjection = false; // the end checks are oracles: their own syscalls must not fail
        if (o.Tracing) m.K.Trace(TraceKind.Note, ThreadsDoneNote);
        if (sim.Threads.Count > 0)
        {
            foreach (var check in sim.FinalChecks) m.As(sim.Threads[0].task, check);
        }
        m.Teardown();
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
