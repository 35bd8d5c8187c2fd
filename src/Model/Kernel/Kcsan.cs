using System.Runtime.CompilerServices;
using System.Text;

namespace InotifySim.Model.Kernel;

/// <summary>
/// The data-race detector (KCSAN / ThreadSanitizer, happens-before flavour, FastTrack-style shadow).
/// Every simulated task has a vector clock; the synchronisation edges are
/// <list type="bullet">
/// <item>lock release -> the next acquire of the same lock (mutex, spinlock, rw_semaphore; a read release orders
/// only the next write acquire, as TSan's rwlocks), hooked where every primitive records its held lock
/// (<see cref="Mutex.Held"/>) and in <see cref="Lockdep.Release"/>;</item>
/// <item><c>wake_up_interruptible</c> -> the woken task (its return from <c>schedule()</c>);</item>
/// <item>every <c>atomic_t</c> operation: acquire from the counter, then release into it;</item>
/// <item>thread start (<see cref="Kernel.Spawn"/>: the child starts after its parent's past) and join (all threads
/// done: everything is ordered before what the main operation does next).</item>
/// </list>
/// Accesses are the model's checked accessors: <see cref="KObject.Chk"/> (read) and <see cref="KObject.ChkW"/>
/// (write) on every field, list_head next/prev (list_add / list_del write, list_empty / walks read), idr
/// (idr_find reads; idr_get_new_above / idr_remove / idr_destroy write). Two accesses to one (object, field) by
/// different tasks, at least one a write, not ordered by happens-before, are reported at the second one, the
/// first time it happens in a schedule: class <c>data-race</c>, title <c>data-race in A / B</c>, both sides with
/// function, field, stack and locks held.
///
/// Only the concurrent part of a controlled run is checked (the kernel is not <see cref="Kernel.Quiet"/>): the
/// setup and the teardown run alone on the main operation. Intentional lockless accesses are annotated in the
/// model code with <see cref="Kernel.data_race()"/> (the kernel's <c>data_race()</c> / <c>READ_ONCE()</c>) and not
/// checked. On when <see cref="Kernel.KcsanEnabled"/> is set (<c>MachineOptions.Kcsan</c>, on by default in controlled runs).
///
/// Cost: per checked access one pid-indexed lookup, a walk of the object's few shadow cells and an epoch compare,
/// plus a copy of the task's function stack for the record; per lock operation a vector-clock join over the handful
/// of tasks. Measured (2026-11-30, `verify --preemptions 1` of the 15 catalogue scenarios on `fixed`, 1,678 schedules,
/// three alternating runs on a shared 2-core machine at load 25): off 15.7 / 6.8 / 5.2 s, on 8.8 / 6.1 / 4.9 s, i.e.
/// the overhead is below the noise of that machine; by CPU time, all 38 scenarios at k = 1, about +13 %
/// (docs/bench/primitive-overhead.md).
/// </summary>
public sealed class Kcsan
{
    private readonly Kernel _k;
    /// <summary>Per task, indexed by pid (pids are small and dense per kernel).</summary>
    private TaskState?[] _tasks = new TaskState?[8];
    private readonly Dictionary<ILockInstance, LockClock> _locks = new(ReferenceEqualityComparer.Instance);
    /// <summary>Nesting depth of <see cref="Kernel.data_race()"/> scopes (one simulated thread runs at a time, and an annotated access has no scheduling point).</summary>
    internal int Suppress;

    /// <summary>Accesses checked (for the overhead note).</summary>
    public long Accesses { get; private set; }

    internal Kcsan(Kernel k) => _k = k;

    private sealed class TaskState
    {
        public readonly TaskStruct Task;
        public readonly int Tid;
        public int[] Vc;
        /// <summary>The held locks as last seen (null: changed since, rebuilt at the next access).</summary>
        public HeldLock[]? Held;
        /// <summary>Locks this task holds for reading (rw_semaphore down_read).</summary>
        public List<ILockInstance>? ReadHeld;

        public TaskState(TaskStruct t, int tid, int width)
        {
            Task = t;
            Tid = tid;
            Vc = new int[width];
            Vc[tid] = 1;
        }

        public int Epoch => Vc[Tid];
    }

    private sealed class LockClock
    {
        public int[] Write = Array.Empty<int>();
        public int[] Read = Array.Empty<int>();
    }

    /// <summary>One access remembered in the shadow of a field.</summary>
    internal sealed class Access
    {
        public int Tid;
        public int Epoch;
        public bool Write;
        public TaskStruct Task = null!;
        public string[] Stack = null!;
        public HeldLock[] Held = null!;
        public string Op = "";
        public long Step;
    }

    /// <summary>The shadow of one (object, field): its last write and the last read of each task since.</summary>
    internal sealed class Cell
    {
        public readonly string Field;
        public Cell? Next;
        public Access? LastWrite;
        public List<Access>? Reads;
        public Cell(string field, Cell? next)
        {
            Field = field;
            Next = next;
        }
    }

    /// <summary>Whether accesses are checked now: the concurrent part of a run, outside an annotated lockless access.</summary>
    public bool Active
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => !_k.Quiet && Suppress == 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TaskState State(TaskStruct t)
    {
        int pid = t.Pid;
        if (pid < _tasks.Length && _tasks[pid] is { } s) return s;
        return NewState(t);
    }

    private TaskState NewState(TaskStruct t)
    {
        int pid = t.Pid;
        if (pid >= _tasks.Length) Array.Resize(ref _tasks, Math.Max(pid + 1, _tasks.Length * 2));
        var s = new TaskState(t, pid, _tasks.Length);
        _tasks[pid] = s;
        return s;
    }

    private static void Join(ref int[] into, int[] from)
    {
        if (into.Length < from.Length) Array.Resize(ref into, from.Length);
        for (int i = 0; i < from.Length; i++)
            if (from[i] > into[i]) into[i] = from[i];
    }

    /// <summary>A release: the task's clock goes into <paramref name="into"/>, then the task's epoch advances.</summary>
    private static void Release(TaskState s, ref int[] into)
    {
        Join(ref into, s.Vc);
        s.Vc[s.Tid]++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool HappensBefore(Access a, TaskState s) => a.Tid < s.Vc.Length && a.Epoch <= s.Vc[a.Tid];

    // ------------------------------------------------------------------ synchronisation

    /// <summary>A lock was taken (called once the task holds it): acquire the clock its last releases left.</summary>
    internal void LockAcquired(TaskStruct t, ILockInstance l, bool read)
    {
        var s = State(t);
        s.Held = null;
        if (read) (s.ReadHeld ??= new List<ILockInstance>()).Add(l);
        if (!_locks.TryGetValue(l, out var c)) return;
        Join(ref s.Vc, c.Write);
        if (!read) Join(ref s.Vc, c.Read);
    }

    /// <summary>A lock is released: the next acquire is ordered after everything this task did.</summary>
    internal void LockReleased(TaskStruct t, ILockInstance l)
    {
        var s = State(t);
        s.Held = null;
        if (!_locks.TryGetValue(l, out var c))
        {
            c = new LockClock();
            _locks.Add(l, c);
        }
        if (s.ReadHeld != null && s.ReadHeld.Remove(l)) Release(s, ref c.Read);
        else Release(s, ref c.Write);
    }

    /// <summary>An atomic_t operation: acquire what earlier operations on the counter released, then release into it.</summary>
    internal void Atomic(ref int[] clock, bool acquire, bool release)
    {
        var s = State(_k.current);
        if (acquire) Join(ref s.Vc, clock);
        if (release) Release(s, ref clock);
    }

    /// <summary>wake_up: the woken task's return from schedule() is ordered after the waker's past.</summary>
    internal void WakeUp(TaskStruct woken)
    {
        var s = State(_k.current);
        var w = State(woken);
        Join(ref w.Vc, s.Vc);
        s.Vc[s.Tid]++;
    }

    /// <summary>
    /// rcu_assign_pointer() / a store under a lock the model does not have (fd_install: files->file_lock): publishes
    /// <paramref name="obj"/> with a release; whoever finds it through <see cref="Subscribe"/> is ordered after.
    /// </summary>
    public void Publish(KObject obj)
    {
        var s = State(_k.current);
        Release(s, ref obj.KcsanPublished);
    }

    /// <summary>rcu_dereference() / a load under that lock (fget: fcheck_files): acquires what <see cref="Publish"/> released.</summary>
    public void Subscribe(KObject obj)
    {
        if (obj.KcsanPublished.Length == 0) return;
        var s = State(_k.current);
        Join(ref s.Vc, obj.KcsanPublished);
    }

    /// <summary>Thread start: the child starts after its parent's past.</summary>
    public void Fork(TaskStruct parent, TaskStruct child)
    {
        if (ReferenceEquals(parent, child)) return;
        var p = State(parent);
        var c = State(child);
        Join(ref c.Vc, p.Vc);
        p.Vc[p.Tid]++;
    }

    /// <summary>All threads are done (joined): whatever runs next is ordered after everything every task did.</summary>
    public void JoinAll()
    {
        var g = Array.Empty<int>();
        foreach (var s in _tasks)
            if (s != null) Join(ref g, s.Vc);
        foreach (var s in _tasks)
        {
            if (s is null) continue;
            Join(ref s.Vc, g);
            s.Vc[s.Tid]++;
        }
    }

    // ------------------------------------------------------------------ accesses

    /// <summary>A plain access of <paramref name="field"/> of <paramref name="obj"/> by the current task.</summary>
    internal void OnAccess(KObject obj, string field, bool write, string op)
    {
        var t = _k.current;
        if (t.Depth == 0) return; // no kernel frame: the harness looking at kernel state (user space cannot touch it), not a kernel access
        Accesses++;
        var s = State(t);
        var cell = obj.KcsanShadow;
        while (cell != null && !ReferenceEquals(cell.Field, field) && cell.Field != field) cell = cell.Next;
        if (cell is null) obj.KcsanShadow = cell = new Cell(field, obj.KcsanShadow);

        var w = cell.LastWrite;
        if (w != null && w.Tid != s.Tid && !HappensBefore(w, s)) Race(obj, field, w, s, write, op);
        if (write)
        {
            var rs = cell.Reads;
            if (rs != null)
            {
                for (int i = 0; i < rs.Count; i++)
                {
                    var r = rs[i];
                    if (r.Tid != s.Tid && !HappensBefore(r, s)) Race(obj, field, r, s, write, op);
                }
                rs.Clear();
            }
            cell.LastWrite = Record(w != null && w.Tid == s.Tid ? w : new Access(), s, true, op);
        }
        else
        {
            var rs = cell.Reads ??= new List<Access>(2);
            Access? mine = null;
            for (int i = 0; i < rs.Count; i++)
                if (rs[i].Tid == s.Tid) { mine = rs[i]; break; }
            if (mine is null) rs.Add(mine = new Access());
            Record(mine, s, false, op);
        }
    }

    private Access Record(Access a, TaskState s, bool write, string op)
    {
        a.Tid = s.Tid;
        a.Epoch = s.Epoch;
        a.Write = write;
        a.Task = s.Task;
        a.Stack = s.Task.SharedStack(); // read-only here and in the report
        a.Held = s.Held ??= s.Task.HeldLocks.ToArray();
        a.Op = op;
        a.Step = _k.Steps;
        return a;
    }

    private void Race(KObject obj, string field, Access other, TaskState s, bool write, string op)
    {
        var t = s.Task;
        string fnThis = t.CurrentFunction;
        string fnOther = other.Stack.Length > 0 ? other.Stack[0] : "(user)";
        string loc = $"{obj.Describe}->{field}";
        var sb = new StringBuilder();
        sb.Append($"BUG: KCSAN: data-race in {fnOther} / {fnThis}\n\n");
        Side(sb, other.Write, other.Op, loc, other.Task.Name, other.Step, other.Stack, other.Held);
        sb.Append('\n');
        Side(sb, write, op, loc, t.Name, _k.Steps, t.Stack(), t.HeldLocks.ToArray());
        sb.Append("\nno happens-before edge orders the two accesses (no common lock, no wake-up, atomic or thread start/join between them)");
        sb.Append(other.Held.Length == 0 && t.HeldLocks.Count == 0 ? ".\n" : "; locks held are listed with each access.\n");
        var fns = new List<string> { fnOther, fnThis };
        fns.AddRange(other.Stack.Skip(1).Take(2));
        fns.AddRange(t.Stack().Skip(1).Take(2));
        _k.Bug(new BugReport(BugClass.DataRace, $"data-race in {fnOther} / {fnThis}")
        {
            Functions = fns,
            Threads = new[] { other.Task.Name, t.Name },
            Objects = new[] { loc },
            Body = sb.ToString(),
        });
    }

    private static void Side(StringBuilder sb, bool write, string op, string loc, string task, long step, string[] stack, HeldLock[] held)
    {
        sb.Append($"{(write ? "write" : "read")} to {loc}{(op.Length > 0 ? " (" + op + ")" : "")} by task {task} (step {step}):\n");
        foreach (var f in stack) sb.Append(' ').Append(f).Append('\n');
        if (stack.Length == 0) sb.Append(" (no kernel frame)\n");
        if (held.Length == 0) sb.Append(" locks held: none\n");
        else
        {
            sb.Append(" locks held:");
            foreach (var h in held) sb.Append($" ({h.Class.Name}) {h.Lock.Name} [taken in {h.Function}]");
            sb.Append('\n');
        }
    }
}

/// <summary>A <see cref="Kernel.data_race()"/> scope: the accesses inside are intentionally lockless and not checked.</summary>
public readonly struct DataRaceScope : IDisposable
{
    private readonly Kcsan? _kcsan;
    internal DataRaceScope(Kcsan? kcsan)
    {
        _kcsan = kcsan;
        if (kcsan != null) kcsan.Suppress++;
    }
    public void Dispose()
    {
        if (_kcsan != null) _kcsan.Suppress--;
    }
}
