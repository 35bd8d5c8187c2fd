using System.Text;

namespace InotifySim.Model.Kernel;

/// <summary>
/// struct mutex (kernel/mutex.c): sleeping lock with owner tracking. Contention is a
/// Coyote-controlled wait. Before a task blocks, the wait-for graph (task -> lock it wants
/// -> owner -> lock that owner wants ...) is checked, and a cycle is reported at once as a
/// deadlock naming each task, the lock it holds and the lock it wants.
/// </summary>
public sealed class Mutex : ILockInstance
{
    private readonly KObject _container;
    private readonly string _field;
    private TaskStruct? _owner;

    public LockClass Class { get; }
    public TaskStruct? Owner => _owner;
    public string Name => $"{_container.Describe}->{_field}";
    public KObject Container => _container;
    public string Field => _field;

    /// <summary>mutex_init(): <paramref name="container"/> is the object the mutex is embedded in.</summary>
    public Mutex(KObject container, string field, LockClass cls)
    {
        _container = container;
        _field = field;
        Class = cls;
    }

    public bool IsLocked => _owner != null;

    public void mutex_lock() => Lock(0);

    /// <summary>mutex_lock_nested(): lockdep subclass annotation for same-class nesting.</summary>
    public void mutex_lock_nested(int subclass) => Lock(subclass);

    private void Lock(int subclass)
    {
        var k = _container.K;
        k.might_sleep("mutex_lock");
        k.Point();
        _container.Chk(_field);
        var t = k.current;
        k.Lockdep.Acquire(t, this, subclass);
        if (_owner != null)
        {
            Block(k, t, this, () => _owner == null);
            _container.Chk(_field); // the object may have been freed while we slept
        }
        _owner = t;
        Held(k, t, this, subclass, "");
    }

    public void mutex_unlock()
    {
        var k = _container.K;
        _container.Chk(_field);
        var t = k.current;
        if (_owner != t)
        {
            k.Lockdep.BadUnlock(t, this, _owner is null ? "but the mutex is not locked" : "but the mutex is owned by another task");
        }
        k.Lockdep.Release(t, this);
        _owner = null;
        if (k.Tracing) k.TraceLock(TraceKind.Unlock, this, "");
        // no scheduling point here: the next lock or atomic operation of any task offers the same preemption
    }

    /// <summary>
    /// Contention on any sleeping or spinning lock: check the wait-for graph (a cycle is reported
    /// at once), then wait, Coyote-controlled, until <paramref name="free"/> holds.
    /// </summary>
    internal static void Block(Kernel k, TaskStruct t, ILockInstance l, Func<bool> free)
    {
        CheckWaitFor(k, t, l);
        t.WaitingFor = l;
        t.WaitingForSite = t.CurrentFunction;
        k.WaitUntil(free, () => l.Name);
        t.WaitingFor = null;
        t.WaitingForSite = null;
    }

    /// <summary>Records an acquired lock in the task's held-lock stack (and the trace).</summary>
    internal static void Held(Kernel k, TaskStruct t, ILockInstance l, int subclass, string how)
    {
        t.HeldLocks.Add(new HeldLock(l, t.CurrentFunction, k.Tracing ? t.Stack() : Array.Empty<string>(), subclass));
        k.Kcsan?.LockAcquired(t, l, read: how == " (read)"); // KCSAN: acquire what the last release of this lock left
        k.Sched?.Coverage?.Acquired(t, l.Class);
        if (k.Tracing) k.TraceLock(TraceKind.Lock, l, how);
    }

    /// <summary>
    /// Follows task -> wanted lock -> every holder -> the lock that holder wants ... (depth first; an rw_semaphore's
    /// readers in the order they took it) and reports a cycle back to <paramref name="t"/>.
    /// </summary>
    internal static void CheckWaitFor(Kernel k, TaskStruct t, ILockInstance wanted)
    {
        var chain = new List<(TaskStruct task, ILockInstance want)> { (t, wanted) };
        if (Closes(t, wanted, chain, new List<TaskStruct>())) ReportDeadlock(k, chain);
    }

    /// <summary>Does some holder of <paramref name="want"/> lead back to <paramref name="t"/>? (then <paramref name="chain"/> is the cycle)</summary>
    private static bool Closes(TaskStruct t, ILockInstance want, List<(TaskStruct task, ILockInstance want)> chain, List<TaskStruct> seen)
    {
        int n = want.HolderCount;
        for (int i = 0; i < n; i++)
        {
            var holder = want.Holder(i);
            if (holder == t) return true;
            var next = holder.WaitingFor;
            if (next is null) continue; // this holder runs: it will release
            if (seen.Contains(holder)) continue; // explored already (a cycle not through t: reported by whoever closed it)
            seen.Add(holder);
            chain.Add((holder, next));
            if (Closes(t, next, chain, seen)) return true;
            chain.RemoveAt(chain.Count - 1);
        }
        return false;
    }

    private static void ReportDeadlock(Kernel k, List<(TaskStruct task, ILockInstance want)> chain)
    {
        var sb = new StringBuilder();
        sb.Append("Wait-for cycle:\n");
        var threads = new List<string>();
        var fns = new List<string>();
        var locks = new List<string>();
        for (int i = 0; i < chain.Count; i++)
        {
            var (task, want) = chain[i];
            var holder = chain[(i + 1) % chain.Count].task; // the holder of want on the cycle (an rw_semaphore has several)
            string holds = "";
            foreach (var h in task.HeldLocks)
            {
                if (holds.Length > 0) holds += ", ";
                holds += $"({h.Class.Name}) {h.Lock.Name} [taken in {h.Function}]";
            }
            var site = task.WaitingForSite ?? task.CurrentFunction;
            sb.Append($"  task {task.Name} holds {(holds.Length == 0 ? "nothing" : holds)}\n");
            sb.Append($"      and wants ({want.Class.Name}) {want.Name} in {site}, owned by {holder.Name}\n");
            threads.Add(task.Name);
            fns.Add(site);
            foreach (var h in task.HeldLocks) fns.Add(h.Function);
            locks.Add(want.Name);
        }
        k.Bug(new BugReport(BugClass.Deadlock, $"INFO: deadlock: {chain.Count} tasks wait for each other ({string.Join(" -> ", threads)})")
        {
            Functions = fns,
            Threads = threads,
            Objects = locks,
            Body = sb.ToString(),
        });
    }
}

/// <summary>
/// spinlock_t: a non-sleeping lock. Holding one raises the preempt count, so any sleep
/// (mutex_lock, GFP_KERNEL allocation, schedule) while it is held is a sleep-in-atomic report.
/// </summary>
public sealed class Spinlock : ILockInstance
{
    private readonly KObject _container;
    private readonly string _field;
    private TaskStruct? _owner;

    public LockClass Class { get; }
    public TaskStruct? Owner => _owner;
    public string Name => _container.Alloc is null ? _field : $"{_container.Describe}->{_field}";
    public KObject Container => _container;
    public string Field => _field;

    public Spinlock(KObject container, string field, LockClass cls)
    {
        _container = container;
        _field = field;
        Class = cls;
    }

    public void spin_lock() => spin_lock_nested(0);

    /// <summary>spin_lock_nested(lock, subclass): a second lock of the class, nested by the caller's ordering (d_move's two d_locks).</summary>
    public void spin_lock_nested(int subclass)
    {
        var k = _container.K;
        k.Point();
        _container.Chk(_field);
        var t = k.current;
        k.Lockdep.Acquire(t, this, subclass);
        if (_owner != null) Mutex.Block(k, t, this, () => _owner == null);
        _owner = t;
        t.PreemptCount++;
        Mutex.Held(k, t, this, 0, "");
    }

    public void spin_unlock()
    {
        var k = _container.K;
        _container.Chk(_field);
        var t = k.current;
        if (_owner != t)
        {
            k.Lockdep.BadUnlock(t, this, _owner is null ? "but the spinlock is not locked" : "but the spinlock is owned by another task");
        }
        k.Lockdep.Release(t, this);
        _owner = null;
        t.PreemptCount--;
        if (k.Tracing) k.TraceLock(TraceKind.Unlock, this, "");
    }
}
