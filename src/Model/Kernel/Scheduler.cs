using System.Runtime.CompilerServices;
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
/// </summary>
public sealed class Scheduler
{
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

    public Scheduler(Kernel k, ISchedulePolicy policy, int maxDecisions = 5000)
    {
        _k = k;
        _policy = policy;
        _maxDecisions = maxDecisions;
    }

    public int ThreadCount => _threads.Count;
    public string ThreadName(int i) => _threads[i].Task.Name;

    /// <summary>Registers a simulated thread (before <see cref="Begin"/>); returns its index.</summary>
    internal int Register(TaskStruct t)
    {
        if (_threads.Count >= 64) throw new InvalidOperationException("the scheduler handles at most 64 simulated threads");
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
        if (enabled == 0) return;
        _turn = Decide(DecisionKind.Start, enabled, -1, "start");
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
        Operation.PauseUntil(() => _turn == me);
    }

    /// <summary>A scheduling point of the current thread.</summary>
    internal void Point(TaskStruct t)
    {
        int me = t.SchedIndex;
        if (me < 0) return; // the main operation (setup, end checks, teardown) runs alone
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
        if (Cut) return 0;
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
