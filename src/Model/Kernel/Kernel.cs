using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Coyote.Runtime;

namespace InotifySim.Model.Kernel;

/// <summary>How a run is scheduled: sequentially (one task, no interleaving) or under Coyote's controlled scheduler.</summary>
public enum SchedMode { Sequential, Controlled }

public enum TraceKind { Syscall, Return, Enter, Lock, Unlock, Get, Put, Alloc, Free, Event, Read, Choice, Note, Bug }

/// <summary>
/// One step of a traced run: <see cref="Text"/> is what the step printed; the typed fields carry what it is about as
/// data (filled by the primitive that emits it), so nothing reading a trace has to parse the text back.
/// </summary>
public sealed record TraceStep(long Seq, string Task, TraceKind Kind, string Function, string Text)
{
    /// <summary>The object the step is about: allocated or freed (Alloc, Free), whose counter moved (Get, Put), or that embeds the lock (Lock, Unlock).</summary>
    public TraceObject? Object { get; init; }
    /// <summary>The counter's or the lock's field in <see cref="Object"/> ("i_count", "inotify_mutex").</summary>
    public string? Field { get; init; }
    /// <summary>Lock, Unlock: the lockdep class of the lock.</summary>
    public string? LockClass { get; init; }
    /// <summary>Lock, Unlock: the lock instance as lockdep prints it, with the mode it is held in (" (read)", " (write)").</summary>
    public string? Lock { get; init; }
    /// <summary>Get, Put: the reference count after the step.</summary>
    public int? Refcount { get; init; }
}

/// <summary>A kernel object as a trace step names it: its type, its slab allocation id and cache (both null for a static object).</summary>
public sealed record TraceObject(string Type, int? Id, string? Cache)
{
    public static TraceObject Of(KObject o) => new(o.TypeName, o.Alloc?.Id, o.Alloc?.Cache);

    /// <summary>The name without the cache: "struct inode #13", or the static object's name.</summary>
    public string Name => Id is null ? Type : $"{Type} #{Id}";

    /// <summary>The name with the cache, as <see cref="KObject.Describe"/> prints it: "struct inode #13 (inode_cache)".</summary>
    public string Describe => Id is null ? Type + " (static)" : $"{Type} #{Id} ({Cache})";
}

/// <summary>
/// One simulated kernel: the context of one run (one Coyote iteration, one property-test case).
/// It owns the slab, lockdep, the tasks, the scheduling and choice hooks, and the first bug
/// report. Nothing here is static, so runs are independent and deterministic.
/// </summary>
public sealed class Kernel
{
    /// <summary>
    /// The task the running thread simulates: every thread that runs model code sets it before it does (the kernel's
    /// constructor, <see cref="SetCurrent"/>/As, each simulated thread's start), and nothing needs it to flow into other
    /// threads (the model starts no task of its own that does not set it, and has no async code). A thread-static,
    /// not an AsyncLocal: it is read in every kernel function, and an AsyncLocal read walks the execution context.
    /// </summary>
    [ThreadStatic] private static TaskStruct? t_current;

    public SchedMode Mode { get; }
    public bool FaultInjection { get; set; }
    public bool Tracing { get; set; }
    public Slab Slab { get; }
    public Lockdep Lockdep { get; }
    /// <summary>The data-race detector (<see cref="Kernel.Kcsan"/>), or null when off.</summary>
    public Kcsan? Kcsan { get; private set; }
    /// <summary>Turns the data-race detector on or off (checked in controlled runs only: sequential runs cannot race).</summary>
    public bool KcsanEnabled
    {
        get => Kcsan != null;
        set => Kcsan = value && Mode == SchedMode.Controlled ? Kcsan ?? new Kcsan(this) : null;
    }

    /// <summary>
    /// data_race() / READ_ONCE(): the accesses inside the scope are intentionally lockless (the kernel says so where
    /// it is used) and the data-race detector does not check them: <c>using (K.data_race()) ...</c>.
    /// </summary>
    public DataRaceScope data_race() => new(Kcsan);

    /// <summary>data_race(expr): evaluates <paramref name="expr"/> (a static lambda: no allocation) unchecked by the data-race detector.</summary>
    public T data_race<TArg, T>(TArg arg, Func<TArg, T> expr)
    {
        using (data_race()) return expr(arg);
    }
    public StaticObject Globals { get; }
    public ListHead LIST_POISON1 { get; }
    public ListHead LIST_POISON2 { get; }

    private readonly List<TaskStruct> _tasks = new();
    private readonly System.Random _seqRandom;
    private Microsoft.Coyote.Random.Generator? _gen;
    private int _nextPid = 1;
    private long _step;
    private readonly List<TraceStep> _trace = new();
    private readonly TaskStruct _init;

    /// <summary>The first report of this run, if a detector fired.</summary>
    public Report? FirstReport { get; private set; }
    public bool Bugged => FirstReport != null;
    /// <summary>Invoked once, with the first report, before the exception is thrown.</summary>
    public Action<Report>? OnBug { get; set; }

    public Kernel(SchedMode mode = SchedMode.Sequential, int seed = 0)
    {
        Mode = mode;
        _seqRandom = new System.Random(seed);
        Slab = new Slab(this);
        Lockdep = new Lockdep(this);
        Globals = new StaticObject(this, "kernel globals");
        LIST_POISON1 = new ListHead(Globals, "LIST_POISON1");
        LIST_POISON2 = new ListHead(Globals, "LIST_POISON2");
        _init = NewTask("init", 0);
        t_current = _init;
    }

    public IReadOnlyList<TaskStruct> Tasks => _tasks;
    public IReadOnlyList<TraceStep> TraceLog => _trace;
    public long Steps => _step;

    /// <summary>The kernel's `current`.</summary>
    public TaskStruct current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current ?? _init;
    }

    public TaskStruct NewTask(string comm, int uid)
    {
        var t = new TaskStruct(_nextPid++, comm, uid);
        _tasks.Add(t);
        return t;
    }

    /// <summary>Makes <paramref name="t"/> the current task of this flow of control.</summary>
    public void SetCurrent(TaskStruct t) => t_current = t;

    /// <summary>
    /// Starts a simulated thread. Under Coyote the Task is a controlled operation (Coyote's controlled Task.Run,
    /// called by name: this assembly is not rewritten), unless the harness-owned scheduler hands over directly (<see cref="Scheduler.Direct"/>:
    /// the thread runs on the scheduler's pool and the returned Task is already complete); sequentially it runs to
    /// completion at once.
    /// </summary>
    public System.Threading.Tasks.Task Spawn(TaskStruct t, Action body)
    {
        if (Sched is { } sched && Mode == SchedMode.Controlled)
        {
            int me = sched.Register(t);
            Kcsan?.Fork(current, t); // thread start: the child runs after its parent's past
            if (sched.Direct)
            {
                // a harness-owned thread, not a Coyote operation: the main operation waits through the scheduler
                sched.StartDirect(me, () =>
                {
                    t_current = t;
                    body();
                });
                return System.Threading.Tasks.Task.CompletedTask;
            }
            // Coyote's controlled Task.Run, called by name: this assembly is not rewritten (Model.csproj)
            return Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task.Run(() =>
            {
                t_current = t;
                sched.WaitFirstTurn(me);
                body();
                sched.Exit(t);
            });
        }
        if (Mode == SchedMode.Sequential)
        {
            var saved = t_current;
            t_current = t;
            try { body(); }
            finally { t_current = saved; }
            return System.Threading.Tasks.Task.CompletedTask;
        }
        return Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task.Run(() =>
        {
            t_current = t;
            body();
        });
    }

    // ---------------------------------------------------------------- scheduling

    /// <summary>
    /// While set, scheduling points do not interleave: the scenario's setup and the teardown run
    /// on the main operation with no other operation alive, so a Coyote decision there only
    /// lengthens every schedule (55-70% of the steps, docs/bench/results.md).
    /// </summary>
    public bool Quiet { get; set; }

    /// <summary>
    /// The harness-owned scheduler (<see cref="Scheduler"/>): when set, every scheduling point, block,
    /// thread start and exit and every controlled choice is decided by it, not by Coyote's strategy.
    /// When null, a controlled run leaves the decisions to Coyote (the primitive tests).
    /// </summary>
    public Scheduler? Sched { get; set; }

    /// <summary>
    /// Debug switch: also interleave inside list_head, idr and slab operations, whose callers all
    /// hold the lock that protects the structure (off by default: it only multiplies schedules).
    /// </summary>
    public bool FineGrainedPoints { get; set; }

    /// <summary>A scheduling point: where the kernel could be preempted or block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Point()
    {
        _step++;
        if (Mode == SchedMode.Controlled && !Quiet)
        {
            if (Sched is { } s) s.Point(current);
            else SchedulingPoint.Interleave();
        }
    }

    /// <summary>A scheduling point inside a lock-protected data-structure operation (see <see cref="FineGrainedPoints"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FinePoint()
    {
        _step++;
        if (FineGrainedPoints && Mode == SchedMode.Controlled && !Quiet)
        {
            if (Sched is { } s) s.Point(current);
            else SchedulingPoint.Interleave();
        }
    }

    /// <summary>
    /// Blocks the current task until <paramref name="cond"/> holds: a Coyote-controlled wait,
    /// never a timeout. Sequentially nothing else can make it true, so it is a hang.
    /// </summary>
    public void WaitUntil(Func<bool> cond, Func<string> what)
    {
        if (cond()) return;
        if (Mode == SchedMode.Controlled)
        {
            if (Sched is { } s && current.SchedIndex >= 0) s.Block(current, cond, what);
            else Operation.PauseUntil(cond);
            return;
        }
        var t = current;
        Bug(new BugReport(BugClass.HungTask, $"INFO: task {t.Name} blocked forever in {t.CurrentFunction}")
        {
            Functions = new[] { t.CurrentFunction },
            Threads = new[] { t.Name },
            Objects = new[] { what() },
            Body = $"INFO: task {t.Comm}:{t.Pid} blocked for more than 120 seconds.\n{t.Describe} waits for {what()}; no other task can run in a sequential run.\n" + Lockdep.RenderHeld(t) + "Call Trace:\n" + SiteHere().Render(),
        });
    }

    /// <summary>Coverage: the code path of a named fix ran (a Fix flag; the model's fix checks call this).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FixPath(int fix)
    {
        if (Sched?.Coverage is { } c) c.FixPaths |= fix;
    }

    // ---------------------------------------------------------------- choices

    private Microsoft.Coyote.Random.Generator Gen => _gen ??= Microsoft.Coyote.Random.Generator.Create();

    /// <summary>A controlled nondeterministic choice in [0, n): Coyote chooses under test, a seeded PRNG otherwise.</summary>
    public int ChooseInt(int n, string why)
    {
        if (n <= 1) return 0;
        int v = Sched is { } s ? s.Choose(n, why) : Mode == SchedMode.Controlled ? Gen.NextInteger(n) : _seqRandom.Next(n);
        if (Tracing) Trace(TraceKind.Choice, $"{why} -> {v}");
        return v;
    }

    public bool ChooseBool(string why)
    {
        bool v = Sched is { } s ? s.Choose(2, why) == 1 : Mode == SchedMode.Controlled ? Gen.NextBoolean() : _seqRandom.Next(2) == 1;
        if (Tracing) Trace(TraceKind.Choice, $"{why} -> {v}");
        return v;
    }

    /// <summary>Fault injection: should this allocation (or idr_pre_get) fail?</summary>
    public bool ChooseFault(string site) => ChooseBool("fail " + site);

    // ---------------------------------------------------------------- function scopes

    /// <summary>Enters a kernel function: `using var _ = K.Fn("inotify_rm_wd");`</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FnScope Fn(string name)
    {
        var t = current;
        t.Push(name);
        if (Tracing) Trace(TraceKind.Enter, name);
        return new FnScope(t);
    }

    /// <summary>
    /// Enters a syscall or kernel entry point. On return it checks lockdep's rule that no
    /// lock is held when returning to user space and that preemption is enabled again.
    /// </summary>
    public EntryScope Entry(string name)
    {
        var t = current;
        int depth = t.Depth;
        t.Push(name);
        if (Tracing) Trace(TraceKind.Syscall, name);
        return new EntryScope(this, t, depth, name);
    }

    internal void EntryExit(TaskStruct t, int depth, string name)
    {
        if (Bugged) { t.Unwind(depth); return; }
        if (Tracing) Trace(TraceKind.Return, name);
        if (t.HeldLocks.Count > 0) Lockdep.HeldAtReturn(t, name);
        if (t.WaitQueuedOn is { } wq) WaitEntryAtReturn(t, wq, name);
        if (t.PreemptCount != 0)
        {
            Bug(new BugReport(BugClass.LockHeldAtReturn, $"BUG: scheduling while atomic: {t.Name} returns from {name} with preempt_count {t.PreemptCount}")
            {
                Functions = new[] { name },
                Threads = new[] { t.Name },
                Body = SiteHere().Render(),
            });
        }
        t.Unwind(depth);
    }

    /// <summary>
    /// A wait entry still queued when the syscall returns: DEFINE_WAIT put it in a frame of this syscall, prepare_to_wait
    /// linked it into the queue, and no finish_wait (or wake-up) unlinked it. The queue now points into a dead stack
    /// frame: the next wake_up on it writes there (KASAN: stack-use-after-return), and the task's next wait would add a
    /// second entry. Reported at the return, where it becomes certain, whether or not a wake-up follows in this schedule.
    /// </summary>
    private void WaitEntryAtReturn(TaskStruct t, WaitQueueHead q, string name)
    {
        string fn = t.WaitPreparedIn ?? name;
        Bug(new BugReport(BugClass.UseAfterFree, $"BUG: wait entry left on {q.Describe} when {name} returned")
        {
            Functions = new[] { fn, name },
            Threads = new[] { t.Name },
            Body = $"{fn} called prepare_to_wait() on {q.Describe} with a wait entry on its stack (DEFINE_WAIT) and no\n" +
                   $"finish_wait() unlinked it before {name} returned to user space: the queue keeps a pointer into a dead\n" +
                   "stack frame, and the next wake_up on it writes there (KASAN: stack-out-of-bounds / use-after-return).\n" +
                   SiteHere().Render(),
        });
    }

    /// <summary>might_sleep(): sleeping with a spinlock held is a bug.</summary>
    public void might_sleep(string what)
    {
        var t = current;
        if (t.PreemptCount == 0) return;
        var sb = new StringBuilder();
        sb.Append($"in_atomic(): 1, {t.Describe}, sleeping in {what}\n");
        sb.Append(Lockdep.RenderHeld(t));
        sb.Append("Call Trace:\n").Append(SiteHere().Render());
        var fns = new List<string> { t.CurrentFunction };
        foreach (var h in t.HeldLocks) fns.Add(h.Function);
        Bug(new BugReport(BugClass.SleepInAtomic, $"BUG: sleeping function called from invalid context in {t.CurrentFunction}")
        {
            Functions = fns,
            Threads = new[] { t.Name },
            Body = sb.ToString(),
        });
    }

    // ---------------------------------------------------------------- reports

    public Site SiteHere() => new(current, _step);

    /// <summary>Reports a bug: the first report of the run is kept; the current task stops.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Bug(BugReport parts)
    {
        var r = new Report(parts);
        if (FirstReport is null)
        {
            FirstReport = r;
            if (Tracing) Trace(TraceKind.Bug, r.Title);
            OnBug?.Invoke(r);
        }
        throw new KernelBugException(FirstReport);
    }

    // ---------------------------------------------------------------- trace

    public void Trace(TraceKind kind, string text)
    {
        var t = current;
        _trace.Add(new TraceStep(_step, t.Name, kind, t.CurrentFunction, text));
    }

    /// <summary>Traces an allocation or a free of <paramref name="obj"/> (Alloc: "struct X #N = cache", Free: "struct X #N").</summary>
    public void TraceObj(TraceKind kind, KObject obj)
    {
        var t = current;
        var o = TraceObject.Of(obj);
        string text = kind == TraceKind.Alloc ? $"{o.Type} #{o.Id} = {o.Cache}" : $"{o.Type} #{o.Id}";
        _trace.Add(new TraceStep(_step, t.Name, kind, t.CurrentFunction, text) { Object = o });
    }

    /// <summary>Traces a reference count step (Get, Put) of <paramref name="obj"/>'s <paramref name="field"/>, now <paramref name="value"/>.</summary>
    public void TraceRef(TraceKind kind, KObject obj, string field, int value)
    {
        var t = current;
        _trace.Add(new TraceStep(_step, t.Name, kind, t.CurrentFunction, $"{obj.Describe}->{field} -> {value}")
        {
            Object = TraceObject.Of(obj), Field = field, Refcount = value,
        });
    }

    /// <summary>Traces a Lock or Unlock of <paramref name="l"/> held in <paramref name="mode"/> ("", " (read)", " (write)").</summary>
    public void TraceLock(TraceKind kind, ILockInstance l, string mode)
    {
        var t = current;
        string name = l.Name + mode;
        _trace.Add(new TraceStep(_step, t.Name, kind, t.CurrentFunction, name)
        {
            Object = l.Container is { } c ? TraceObject.Of(c) : null, Field = l.Field, LockClass = l.Class.Name, Lock = name,
        });
    }
}

public readonly struct FnScope : IDisposable
{
    private readonly TaskStruct _t;
    internal FnScope(TaskStruct t) => _t = t;
    public void Dispose() => _t.Pop();
}

public readonly struct EntryScope : IDisposable
{
    private readonly Kernel _k;
    private readonly TaskStruct _t;
    private readonly int _depth;
    private readonly string _name;
    internal EntryScope(Kernel k, TaskStruct t, int depth, string name)
    {
        _k = k; _t = t; _depth = depth; _name = name;
    }
    public void Dispose() => _k.EntryExit(_t, _depth, _name);
}
