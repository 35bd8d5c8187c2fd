namespace InotifySim.Model.Kernel;

/// <summary>
/// struct task_struct: one simulated kernel thread of control. Carries what the
/// detectors need: the held-lock stack (lockdep's held_locks), preempt count (spinlocks),
/// the lock it waits for (wait-for graph), its wait-queue state, and the kernel function
/// stack, so every report can name the thread, its user and the functions involved.
/// </summary>
public sealed class TaskStruct
{
    public const int TASK_RUNNING = 0, TASK_INTERRUPTIBLE = 1;

    public int Pid { get; }
    /// <summary>current->comm</summary>
    public string Comm { get; }
    /// <summary>The process (thread group) this task belongs to: credentials and the fd table.</summary>
    public object? Process { get; set; }
    public int Uid { get; set; }

    internal readonly List<HeldLock> HeldLocks = new(8);
    internal int PreemptCount;
    internal ILockInstance? WaitingFor;
    internal string? WaitingForSite;
    internal volatile int State = TASK_RUNNING;
    /// <summary>This task's index in the harness-owned <see cref="Scheduler"/>; -1 for a task that is not a scheduled thread.</summary>
    internal int SchedIndex = -1;
    public bool SignalPending { get; set; }
    /// <summary>The wait queue this task's wait entry (DEFINE_WAIT, in <see cref="WaitPreparedIn"/>'s frame) is on; null when on none.</summary>
    internal WaitQueueHead? WaitQueuedOn;
    internal string? WaitPreparedIn;

    private string[] _fn = new string[32];
    private int _depth;

    internal TaskStruct(int pid, string comm, int uid)
    {
        Pid = pid;
        Comm = comm;
        Uid = uid;
    }

    private string? _name;
    public string Name => _name ??= $"{Comm}/{Pid}";
    public string Describe => $"task {Comm}/{Pid} (uid {Uid})";

    internal void Push(string fn)
    {
        if (_depth == _fn.Length) Array.Resize(ref _fn, _fn.Length * 2);
        _fn[_depth++] = fn;
        _shared = null;
    }

    internal void Pop()
    {
        if (_depth > 0) _depth--;
        _shared = null;
    }

    internal int Depth => _depth;
    internal void Unwind(int depth)
    {
        _depth = depth;
        _shared = null;
    }

    private string[]? _shared;

    /// <summary>
    /// As <see cref="Stack"/>, but one array shared by every caller until the stack changes: for a detector that keeps
    /// the stack of each access (KCSAN) and never writes to it. Several accesses in one function then cost one copy.
    /// </summary>
    internal string[] SharedStack() => _shared ??= Stack();

    /// <summary>The innermost kernel function running now.</summary>
    public string CurrentFunction => _depth == 0 ? "(user)" : _fn[_depth - 1];

    /// <summary>A copy of the function stack, innermost first.</summary>
    public string[] Stack()
    {
        var s = new string[_depth];
        for (int i = 0; i < _depth; i++) s[i] = _fn[_depth - 1 - i];
        return s;
    }

    public IReadOnlyList<HeldLock> Held => HeldLocks;
}

/// <summary>A site in the simulated kernel: who, in which function, with which stack.</summary>
public sealed class Site
{
    public string Task { get; }
    public string Function { get; }
    public string[] Stack { get; }
    public long Step { get; }

    public Site(TaskStruct t, long step)
    {
        Task = t.Name;
        Function = t.CurrentFunction;
        Stack = t.Stack();
        Step = step;
    }

    public string Render(string indent = " ")
    {
        var sb = new System.Text.StringBuilder();
        foreach (var f in Stack) sb.Append(indent).Append(f).Append('\n');
        if (Stack.Length == 0) sb.Append(indent).Append("(no kernel frame)\n");
        return sb.ToString();
    }
}
