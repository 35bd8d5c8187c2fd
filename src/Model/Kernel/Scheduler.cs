using System.Runtime.CompilerServices;
using InotifySim.Handoff;
using Microsoft.Coyote.Runtime;

namespace InotifySim.Model.Kernel;

/// <summary>Where a scheduling decision is taken.</summary>
public enum DecisionKind : byte
{
    /// <summary>All threads are spawned: which one runs first (free).</summary>
    Start,
    /// <summary>A scheduling point of a running thread: it may go on (free) or be preempted.</summary>
    Point,
    /// <summary>The running thread blocks (mutex, rw_semaphore, wait queue): which runnable thread goes next (free).</summary>
    Block,
    /// <summary>The running thread exits: which runnable thread goes next (free).</summary>
    Exit,
    /// <summary>A controlled nondeterministic choice in [0, n): fault injection, the workload's operation picks (free).</summary>
    Choice,
}

/// <summary>
/// One branching decision of a schedule (a node with at least two options). For thread decisions
/// <see cref="Options"/> is the bit set of runnable thread indices and <see cref="Chosen"/> a thread index;
/// for a <see cref="DecisionKind.Choice"/> it is the number of values and the value.
/// <see cref="Current"/> is the thread that took the decision (-1 for the start).
/// </summary>
public readonly record struct Decision(DecisionKind Kind, ulong Options, int Chosen, int Current, string Site)
{
    /// <summary>A switch away from a thread that could still run (CHESS's preemption).</summary>
    public bool IsPreemption => Kind == DecisionKind.Point && Chosen != Current;
    public int OptionCount => Kind == DecisionKind.Choice ? (int)Options : System.Numerics.BitOperations.PopCount(Options);
}

/// <summary>
/// Picks at each branching node. Implemented by the exploration strategies (random, probabilistic, PCT,
/// the bounded enumerator of <c>verify</c>, strict replay). <paramref name="index"/> is the node's position
/// in the schedule; <paramref name="points"/> counts the scheduling points reached so far (PCT's steps).
/// </summary>
public interface ISchedulePolicy
{
    int Pick(DecisionKind kind, ulong options, int current, int index, long points, string site);
}

/// <summary>
/// The harness-owned scheduler (issue 12). Every simulated thread is a Coyote-controlled operation, but at
/// any moment exactly one of them may run: the one whose turn it is. At the model's own scheduling points
/// (<see cref="Kernel.Point"/>, blocking on a lock or wait queue, thread start and exit) the scheduler asks
/// its <see cref="ISchedulePolicy"/> which runnable thread goes next. Going on with the same thread costs no
/// Coyote call; a switch hands the turn over and pauses (<see cref="Operation.PauseUntil"/>), so Coyote
/// always sees exactly one enabled operation and its own strategy has nothing to decide. The scheduler
/// therefore knows the exact schedule: <see cref="Log"/> holds every branching decision, which is what a
/// trace records and a replay consumes, and it counts preemptions (a switch away from a thread that could
/// still run; switching at blocking or exit is free, as in CHESS).
/// <para>
/// Two ways to hand the turn over (the decisions, the log and everything a policy sees are the same):
/// <list type="bullet">
/// <item><b>direct</b> (a <see cref="SimThreadPool"/> is given): the simulated threads run on the pool's
/// harness-owned OS threads, reused from schedule to schedule, which Coyote does not control; a switch is
/// one semaphore release and one wait in the pool's assembly, which Coyote does not rewrite. The thread that
/// starts them (Coyote's controlled operation: the explorer runs the setup, the end checks and the teardown there,
/// and neither the model nor the tool is rewritten, so that costs no call-site hook) waits for the last one, then
/// runs the end checks. A simulated thread's exception (a <see cref="KernelBugException"/>, or a harness fault) is kept
/// in <see cref="Failure"/>, the other threads are unwound one at a time (each wakes to a
/// <see cref="SimThreadAbortException"/>), and the starting thread rethrows it, so the iteration ends
/// exactly as when the thread was a Coyote operation.</item>
/// <item><b>coyote</b> (no pool): every simulated thread is a Coyote operation, and a switch is
/// <see cref="Operation.PauseUntil"/> on the turn (a Coyote operation handoff).</item>
/// </list>
/// </para>
/// </summary>
public sealed class Scheduler
{
    /// <summary>Simulated threads one schedule may have (a runnable set is a 64-bit mask); a script with more is refused before exploring.</summary>
    public const int MaxThreads = 64;

    private sealed class SimThread
    {
        public required int Index;
        public required TaskStruct Task;
        public Func<bool>? BlockedOn;
        public Func<string>? BlockedWhat;
        public bool Done;
    }

    private readonly Kernel _k;
    private readonly ISchedulePolicy _policy;
    private readonly List<SimThread> _threads = new();
    private readonly List<Decision> _log = new();
    private volatile int _turn = -1;
    private int _maxDecisions;
    private readonly SimThreadPool? _pool;
    private volatile bool _aborting;
    private Exception? _failure;

    /// <summary>True when switches are direct handoffs between the pool's threads (false: Coyote operations).</summary>
    public bool Direct => _pool != null;
    /// <summary>Direct handoff: the first exception a simulated thread raised (null: none); the main operation rethrows it.</summary>
    public Exception? Failure => _failure;

    /// <summary>The branching decisions of this run, in order.</summary>
    public IReadOnlyList<Decision> Log => _log;
    /// <summary>Scheduling points reached by the simulated threads (branching or not).</summary>
    public long Points { get; private set; }
    public int Preemptions { get; private set; }
    /// <summary>Context switches (preemptions + switches at blocking and exit).</summary>
    public int Switches { get; private set; }
    /// <summary>True when the run reached <see cref="MaxDecisions"/>: from there on the running thread goes on until it blocks or exits (no more branching), so the run is not a complete exploration of its subtree.</summary>
    public bool Cut { get; private set; }
    /// <summary>What this run reached (null: not collected).</summary>
    public RunCoverage? Coverage { get; set; }

    public int MaxDecisions { get => _maxDecisions; set => _maxDecisions = value; }

    /// <param name="pool">the harness-owned threads for the direct handoff; null: every simulated thread is a Coyote operation</param>
    public Scheduler(Kernel k, ISchedulePolicy policy, int maxDecisions = 5000, SimThreadPool? pool = null)
    {
        _k = k;
        _policy = policy;
        _maxDecisions = maxDecisions;
        _pool = pool;
    }

    public int ThreadCount => _threads.Count;
    public string ThreadName(int i) => _threads[i].Task.Name;

    /// <summary>Registers a simulated thread (before <see cref="Begin"/>); returns its index.</summary>
    internal int Register(TaskStruct t)
    {
        if (_threads.Count >= MaxThreads) throw new InvalidOperationException($"the scheduler handles at most {MaxThreads} simulated threads");
        var st = new SimThread { Index = _threads.Count, Task = t };
        _threads.Add(st);
        t.SchedIndex = st.Index;
        return st.Index;
    }

    /// <summary>A spawned thread's first act: wait for its first turn.</summary>
    internal void WaitFirstTurn(int me) => Operation.PauseUntil(() => _turn == me);

    /// <summary>All threads are spawned: the start decision (free) gives the first turn.</summary>
    public void Begin()
    {
        ulong enabled = EnabledMask();
        if (enabled == 0)
        {
            if (_pool != null && _threads.Count > 0) _pool.Finished(); // cannot happen (spawned threads are runnable), but never leave the main thread waiting
            return;
        }
        _turn = Decide(DecisionKind.Start, enabled, -1, "start");
        _pool?.Resume(_turn);
    }

    /// <summary>
    /// Direct handoff: starts simulated thread <paramref name="me"/> on the pool. <paramref name="body"/> runs
    /// once the thread has its first turn; whatever it throws ends the schedule (see <see cref="Failure"/>).
    /// </summary>
    internal void StartDirect(int me, Action body)
    {
        var pool = _pool ?? throw new InvalidOperationException("no thread pool: the scheduler hands over through Coyote");
        pool.Start(me, () => RunDirect(me, body));
    }

    private void RunDirect(int me, Action body)
    {
        _pool!.Park(me);
        try
        {
            if (!_aborting) body();
        }
        catch (SimThreadAbortException) { }
        catch (Exception e) { Fail(e); }
        // the exit may itself report (a hang) or be asked to unwind: then it goes the aborting way
        while (true)
        {
            try
            {
                ExitDirect(me);
                return;
            }
            catch (SimThreadAbortException) { }
            catch (Exception e) { Fail(e); }
        }
    }

    private void Fail(Exception e)
    {
        _failure ??= e;
        _aborting = true;
    }

    /// <summary>
    /// Direct handoff, a thread's end: as <see cref="Exit"/>; when the schedule is aborting, the turn goes to the
    /// lowest unfinished thread (blocked or not: it wakes to unwind), and after the last one to the main thread.
    /// </summary>
    private void ExitDirect(int me)
    {
        var t = _threads[me];
        if (!_aborting)
        {
            Exit(t.Task); // the exit decision, or the hang check and the join when no thread can run
            if (_turn >= 0)
            {
                _pool!.Resume(_turn);
                return;
            }
        }
        else
        {
            t.Done = true;
            foreach (var o in _threads)
            {
                if (o.Done) continue;
                _turn = o.Index;
                _pool!.Resume(o.Index);
                return;
            }
            _turn = -1;
        }
        _pool!.Finished();
    }

    private ulong EnabledMask()
    {
        ulong m = 0;
        foreach (var t in _threads)
        {
            if (t.Done) continue;
            if (t.BlockedOn is { } c && !c()) continue;
            m |= 1UL << t.Index;
        }
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Single(ulong m) => (m & (m - 1)) == 0;

    private int Decide(DecisionKind kind, ulong options, int current, string site)
    {
        if (Single(options)) return System.Numerics.BitOperations.TrailingZeroCount(options);
        if (Cut)
        {
            // past the bound: no more branching; the running thread goes on, else the lowest runnable one
            if (kind == DecisionKind.Point) return current;
            return System.Numerics.BitOperations.TrailingZeroCount(options);
        }
        int pick = _policy.Pick(kind, options, current, _log.Count, Points, site);
        if ((options & (1UL << pick)) == 0)
            throw new InvalidOperationException($"schedule policy picked thread {pick}, not runnable at {site}");
        _log.Add(new Decision(kind, options, pick, current, site));
        if (_log.Count >= _maxDecisions) Cut = true;
        return pick;
    }

    private void SwitchTo(int next, int me)
    {
        Switches++;
        _turn = next;
        if (_pool is { } pool)
        {
            pool.Resume(next);
            pool.Park(me);
            if (_aborting) throw new SimThreadAbortException();
            return;
        }
        Operation.PauseUntil(() => _turn == me);
    }

    /// <summary>A scheduling point of the current thread.</summary>
    internal void Point(TaskStruct t)
    {
        int me = t.SchedIndex;
        if (me < 0) return; // the main operation (setup, end checks, teardown) runs alone
        if (_aborting) return; // direct handoff: unwinding after another thread's failure, no more decisions
        Points++;
        ulong enabled = EnabledMask();
        int next = Decide(DecisionKind.Point, enabled, me, t.CurrentFunction);
        bool preempt = next != me;
        Coverage?.Point(t, t.CurrentFunction, preempt, next);
        if (!preempt) return;
        Preemptions++;
        SwitchTo(next, me);
    }

    /// <summary>
    /// The current thread blocks until <paramref name="cond"/> holds. When no thread can run, the run hangs:
    /// reported at once, as the kernel's hung-task detector would, naming every blocked task, where it
    /// waits and what it holds.
    /// </summary>
    internal void Block(TaskStruct t, Func<bool> cond, Func<string> what)
    {
        int me = t.SchedIndex;
        if (_aborting) throw new SimThreadAbortException(); // unwinding: never sleep again
        var st = _threads[me];
        st.BlockedOn = cond;
        st.BlockedWhat = what;
        ulong enabled = EnabledMask();
        if (enabled == 0) ReportHang(t);
        int next = Decide(DecisionKind.Block, enabled, me, t.CurrentFunction);
        Coverage?.Point(t, t.CurrentFunction, false, next);
        SwitchTo(next, me);
        // whoever gave us the turn saw cond() hold, and nothing ran since
        st.BlockedOn = null;
        st.BlockedWhat = null;
    }

    /// <summary>The current thread has finished its body: hand the turn on (or back to the main operation).</summary>
    internal void Exit(TaskStruct t)
    {
        int me = t.SchedIndex;
        _threads[me].Done = true;
        ulong enabled = EnabledMask();
        if (enabled == 0)
        {
            foreach (var o in _threads)
            {
                if (!o.Done) ReportHang(t);
            }
            _k.Kcsan?.JoinAll(); // join: the main operation goes on after everything the threads did
            _turn = -1;
            return;
        }
        Switches++;
        _turn = Decide(DecisionKind.Exit, enabled, me, "exit");
    }

    /// <summary>A controlled choice in [0, n).</summary>
    internal int Choose(int n, string why)
    {
        if (n <= 1) return 0;
        if (n > 64) throw new ArgumentOutOfRangeException(nameof(n), "a controlled choice has at most 64 values");
        int me = _k.current.SchedIndex;
        if (Cut || _aborting) return 0;
        int v = _policy.Pick(DecisionKind.Choice, (ulong)n, me, _log.Count, Points, why);
        if (v < 0 || v >= n) throw new InvalidOperationException($"schedule policy chose {v} of {n} at {why}");
        _log.Add(new Decision(DecisionKind.Choice, (ulong)n, v, me, why));
        if (_log.Count >= _maxDecisions) Cut = true;
        return v;
    }

    private void ReportHang(TaskStruct reporter)
    {
        var sb = new System.Text.StringBuilder();
        var threads = new List<string>();
        var fns = new List<string>();
        var objs = new List<string>();
        foreach (var o in _threads)
        {
            if (o.Done) continue;
            var t = o.Task;
            string waits = o.BlockedWhat?.Invoke() ?? "(runnable)";
            sb.Append($"INFO: task {t.Comm}:{t.Pid} blocked for more than 120 seconds.\n");
            sb.Append($"  {t.Describe} sleeps in {t.CurrentFunction} waiting for {waits}\n");
            if (t.HeldLocks.Count == 0) sb.Append("  holding no locks\n");
            else
            {
                sb.Append($"  {t.HeldLocks.Count} lock{(t.HeldLocks.Count == 1 ? "" : "s")} held by {t.Name}:\n");
                foreach (var h in t.HeldLocks) sb.Append($"   ({h.Class.Name}) {h.Lock.Name}, taken in {h.Function}\n");
            }
            sb.Append("  Call Trace:\n");
            foreach (var f in t.Stack()) sb.Append("   ").Append(f).Append('\n');
            threads.Add(t.Name);
            fns.Add(t.CurrentFunction);
            objs.Add(waits);
        }
        sb.Append("No task can run and none will wake them: every remaining task sleeps (hung tasks).\n");
        _k.SetCurrent(reporter);
        _k.Bug(new BugReport(BugClass.HungTask, $"INFO: task {threads.FirstOrDefault() ?? reporter.Name} blocked forever in {fns.FirstOrDefault() ?? reporter.CurrentFunction}")
        {
            Functions = fns,
            Threads = threads,
            Objects = objs,
            Body = sb.ToString(),
        });
    }
}

/// <summary>
/// Direct handoff: thrown in a simulated thread woken after another thread failed, so that it unwinds
/// (its finally blocks run, without scheduling decisions) and the schedule can end. Never escapes the scheduler.
/// </summary>
public sealed class SimThreadAbortException : Exception
{
    public SimThreadAbortException() : base("the schedule ended in another simulated thread: unwinding") { }
}
