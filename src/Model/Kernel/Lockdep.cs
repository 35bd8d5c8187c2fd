using System.Text;

namespace InotifySim.Model.Kernel;

/// <summary>A lock class, as lockdep keys them: "inode->inotify_mutex", "inotify_handle->mutex", ...</summary>
public sealed class LockClass
{
    public int Id { get; }
    public string Name { get; }
    public bool IsSpin { get; }
    internal LockClass(int id, string name, bool spin)
    {
        Id = id;
        Name = name;
        IsSpin = spin;
    }
    public override string ToString() => Name;
}

/// <summary>What a task holds: the lock, its class, and where it was taken.</summary>
public sealed class HeldLock
{
    public ILockInstance Lock { get; }
    public LockClass Class => Lock.Class;
    public string Function { get; }
    public string[] Stack { get; }
    public int Subclass { get; }
    internal HeldLock(ILockInstance l, string fn, string[] stack, int subclass)
    {
        Lock = l;
        Function = fn;
        Stack = stack;
        Subclass = subclass;
    }
}

public interface ILockInstance
{
    LockClass Class { get; }
    string Name { get; }
    TaskStruct? Owner { get; }
    /// <summary>The object the lock is embedded in (null for a pseudo-lock such as fs_reclaim), for the trace's data.</summary>
    KObject? Container => null;
    /// <summary>The lock's field in <see cref="Container"/>.</summary>
    string Field => Name;
    /// <summary>How many tasks hold the lock now (the wait-for graph follows each): the owner, or an rw_semaphore's readers.</summary>
    int HolderCount => Owner is null ? 0 : 1;
    /// <summary>Holder <paramref name="i"/> of <see cref="HolderCount"/>, in the order they took the lock.</summary>
    TaskStruct Holder(int i) => Owner!;
}

/// <summary>
/// The lock validator. It keeps a dependency graph between lock classes accumulated over
/// every acquisition of a run (A -> B when B is taken with A held) and reports a
/// lock-order inversion as soon as a new edge closes a cycle, with both acquisition chains,
/// whether or not this schedule deadlocked. It also reports recursive locking, unlock by a
/// non-owner, and locks still held when an entry point returns.
/// </summary>
public sealed class Lockdep
{
    private readonly Kernel _k;
    private readonly Dictionary<string, LockClass> _classes = new();
    private readonly List<LockClass> _byId = new();
    // adjacency lists in insertion order: deterministic
    private readonly List<List<int>> _after = new();
    private readonly Dictionary<long, Dependency> _edges = new();

    private sealed record Dependency(LockClass From, LockClass To, string Task, string FromFunction, string ToFunction, string[] Stack);

    internal Lockdep(Kernel k)
    {
        _k = k;
        _reclaim = new ReclaimContext(this);
    }

    /// <summary>
    /// The "fs_reclaim" pseudo-lock (as lockdep's fs_reclaim_acquire annotations): a GFP_KERNEL
    /// allocation may enter filesystem reclaim, so every lock held across one is ordered before
    /// whatever reclaim takes (shrink_icache_memory: iprune_mutex).
    /// </summary>
    private sealed class ReclaimContext : ILockInstance
    {
        public ReclaimContext(Lockdep ld) => Class = ld.Class("fs_reclaim");
        public LockClass Class { get; }
        public string Name => "fs_reclaim";
        public TaskStruct? Owner => null;
    }

    private readonly ReclaimContext _reclaim;

    /// <summary>An allocation that may enter fs reclaim: record held locks -> fs_reclaim.</summary>
    public void fs_reclaim_might_enter()
    {
        var t = _k.current;
        if (t.HeldLocks.Count == 0) return;
        Acquire(t, _reclaim, 0);
    }

    /// <summary>Runs <paramref name="body"/> as if inside fs reclaim (fs_reclaim held), so lockdep learns what reclaim takes.</summary>
    public void in_fs_reclaim(Action body)
    {
        var t = _k.current;
        Acquire(t, _reclaim, 0);
        t.HeldLocks.Add(new HeldLock(_reclaim, "shrink_icache_memory", t.Stack(), 0));
        try { body(); }
        finally { Release(t, _reclaim); }
    }

    public LockClass Class(string name, bool spin = false)
    {
        if (_classes.TryGetValue(name, out var c)) return c;
        c = new LockClass(_byId.Count, name, spin);
        _classes.Add(name, c);
        _byId.Add(c);
        _after.Add(new List<int>());
        return c;
    }

    public int DependencyCount => _edges.Count;

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    /// <summary>lock_acquire(): validate before the task takes (or waits for) the lock.</summary>
    internal void Acquire(TaskStruct t, ILockInstance l, int subclass)
    {
        var held = t.HeldLocks;
        for (int i = 0; i < held.Count; i++)
        {
            var h = held[i];
            if (ReferenceEquals(h.Lock, l))
            {
                Recursive(t, l, h, "recursive locking of the same lock (self-deadlock)");
            }
            if (h.Class == l.Class && h.Subclass == subclass)
            {
                Recursive(t, l, h, "possible recursive locking detected (same class, no nesting annotation)");
            }
        }
        for (int i = 0; i < held.Count; i++)
        {
            var from = held[i].Class;
            if (from == l.Class) continue;
            long key = Key(from.Id, l.Class.Id);
            if (_edges.ContainsKey(key)) continue;
            // would from -> to close a cycle? i.e. is there already a path to -> ... -> from?
            var path = FindPath(l.Class.Id, from.Id);
            var dep = new Dependency(from, l.Class, t.Name, held[i].Function, t.CurrentFunction, t.Stack());
            if (path != null) Inversion(t, held[i], l, path, dep);
            _edges.Add(key, dep);
            _after[from.Id].Add(l.Class.Id);
        }
    }

    private List<Dependency>? FindPath(int src, int dst)
    {
        // BFS over class ids; deterministic (adjacency in insertion order)
        var prev = new int[_byId.Count];
        Array.Fill(prev, -2);
        var q = new Queue<int>();
        q.Enqueue(src);
        prev[src] = -1;
        while (q.Count > 0)
        {
            int u = q.Dequeue();
            if (u == dst)
            {
                var path = new List<Dependency>();
                for (int v = dst; prev[v] != -1; v = prev[v]) path.Add(_edges[Key(prev[v], v)]);
                path.Reverse();
                return path;
            }
            foreach (var v in _after[u])
            {
                if (prev[v] != -2) continue;
                prev[v] = u;
                q.Enqueue(v);
            }
        }
        return null;
    }

    private void Inversion(TaskStruct t, HeldLock holding, ILockInstance wanted, List<Dependency> existing, Dependency dep)
    {
        var sb = new StringBuilder();
        sb.Append("======================================================\n");
        sb.Append("WARNING: possible circular locking dependency detected\n");
        sb.Append("------------------------------------------------------\n");
        sb.Append($"{t.Describe} is trying to acquire lock:\n  ({wanted.Class.Name}) at {t.CurrentFunction}\n");
        sb.Append($"but task is already holding lock:\n  ({holding.Class.Name}) taken at {holding.Function}\n");
        sb.Append("which lock already depends on the new lock.\n\nthe existing dependency chain (in reverse order) is:\n");
        var fns = new List<string> { t.CurrentFunction, holding.Function };
        var threads = new List<string> { t.Name };
        for (int i = existing.Count - 1; i >= 0; i--)
        {
            var d = existing[i];
            sb.Append($"\n-> #{i} ({d.To.Name}) taken while holding ({d.From.Name}) by task {d.Task}:\n");
            sb.Append($"   {d.From.Name} acquired in {d.FromFunction}\n");
            foreach (var f in d.Stack) sb.Append("       ").Append(f).Append('\n');
            fns.Add(d.ToFunction);
            fns.Add(d.FromFunction);
            threads.Add(d.Task);
        }
        sb.Append($"\nthe new dependency: ({dep.From.Name}) -> ({dep.To.Name}):\n");
        foreach (var f in dep.Stack) sb.Append("       ").Append(f).Append('\n');
        sb.Append("\nother info that might help us debug this:\n Possible unsafe locking scenario:\n\n");
        sb.Append("       CPU0                    CPU1\n       ----                    ----\n");
        sb.Append($"  lock({dep.From.Name});\n                               lock({dep.To.Name});\n");
        sb.Append($"                               lock({dep.From.Name});\n  lock({dep.To.Name});\n\n *** DEADLOCK ***\n");
        _k.Bug(new BugReport(BugClass.LockOrderInversion,
            $"WARNING: possible circular locking dependency detected: {dep.From.Name} -> {dep.To.Name} in {t.CurrentFunction}")
        {
            Functions = fns,
            Threads = threads,
            Objects = new[] { dep.From.Name, dep.To.Name },
            Body = sb.ToString(),
        });
    }

    private void Recursive(TaskStruct t, ILockInstance l, HeldLock h, string what)
    {
        var sb = new StringBuilder();
        sb.Append("=============================================\n");
        sb.Append("WARNING: possible recursive locking detected\n");
        sb.Append("---------------------------------------------\n");
        sb.Append($"{t.Describe} is trying to acquire lock:\n  ({l.Class.Name}) {l.Name} at {t.CurrentFunction}\n");
        sb.Append($"but task is already holding lock:\n  ({h.Class.Name}) {h.Lock.Name} taken at {h.Function}\n");
        sb.Append(what).Append('\n');
        sb.Append("\n *** DEADLOCK ***\n\n");
        sb.Append(RenderHeld(t));
        sb.Append("stack backtrace:\n").Append(_k.SiteHere().Render());
        _k.Bug(new BugReport(BugClass.Deadlock, $"WARNING: possible recursive locking detected: {l.Class.Name} in {t.CurrentFunction}")
        {
            Functions = new[] { t.CurrentFunction, h.Function },
            Threads = new[] { t.Name },
            Objects = new[] { l.Name },
            Body = sb.ToString(),
        });
    }

    internal void Release(TaskStruct t, ILockInstance l)
    {
        var held = t.HeldLocks;
        for (int i = held.Count - 1; i >= 0; i--)
        {
            if (ReferenceEquals(held[i].Lock, l))
            {
                held.RemoveAt(i);
                _k.Kcsan?.LockReleased(t, l); // KCSAN: release -> the next acquire of this lock
                return;
            }
        }
        BadUnlock(t, l, "but there are no more locks to release!");
    }

    internal void BadUnlock(TaskStruct t, ILockInstance l, string why)
    {
        var sb = new StringBuilder();
        sb.Append("=====================================\n");
        sb.Append("WARNING: bad unlock balance detected!\n");
        sb.Append("-------------------------------------\n");
        sb.Append($"{t.Describe} is trying to release lock ({l.Class.Name}) {l.Name} at {t.CurrentFunction}\n{why}\n");
        if (l.Owner != null) sb.Append($"the lock is owned by task {l.Owner.Name}\n");
        sb.Append(RenderHeld(t)).Append("stack backtrace:\n").Append(_k.SiteHere().Render());
        _k.Bug(new BugReport(BugClass.BadUnlock, $"WARNING: bad unlock balance detected: {l.Class.Name} in {t.CurrentFunction}")
        {
            Functions = new[] { t.CurrentFunction },
            Threads = l.Owner is null ? new[] { t.Name } : new[] { t.Name, l.Owner.Name },
            Objects = new[] { l.Name },
            Body = sb.ToString(),
        });
    }

    internal void HeldAtReturn(TaskStruct t, string entry)
    {
        var sb = new StringBuilder();
        sb.Append("================================================\n");
        sb.Append("WARNING: lock held when returning to user space!\n");
        sb.Append("------------------------------------------------\n");
        sb.Append($"{t.Describe} is leaving the kernel from {entry} with locks still held!\n");
        sb.Append(RenderHeld(t));
        var fns = new List<string> { entry };
        var locks = new List<string>();
        foreach (var h in t.HeldLocks)
        {
            fns.Add(h.Function);
            locks.Add(h.Lock.Name);
        }
        var h0 = t.HeldLocks[0];
        _k.Bug(new BugReport(BugClass.LockHeldAtReturn,
            $"WARNING: lock held when returning to user space: {h0.Class.Name} acquired in {h0.Function}, returning from {entry}")
        {
            Functions = fns,
            Threads = new[] { t.Name },
            Objects = locks,
            Body = sb.ToString(),
        });
    }

    public string RenderHeld(TaskStruct t)
    {
        var sb = new StringBuilder();
        sb.Append($"{t.HeldLocks.Count} lock{(t.HeldLocks.Count == 1 ? "" : "s")} held by {t.Name}:\n");
        for (int i = 0; i < t.HeldLocks.Count; i++)
        {
            var h = t.HeldLocks[i];
            sb.Append($" #{i}: ({h.Class.Name}) {h.Lock.Name}, at: {h.Function}\n");
        }
        return sb.ToString();
    }
}
