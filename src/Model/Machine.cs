using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using InotifySim.Model.Oracles;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Model;

public sealed class MachineOptions
{
    public Fix Fixes { get; set; } = Fix.All;
    public SchedMode Mode { get; set; } = SchedMode.Sequential;
    public int Seed { get; set; }
    public bool FaultInjection { get; set; }
    public bool Tracing { get; set; }
    public bool Audit { get; set; }
    public int MaxUserInstances { get; set; } = 128;
    public int MaxUserWatches { get; set; } = 8192;
    public int MaxQueuedEvents { get; set; } = 16384;
    /// <summary>The end-of-run specifications this run asserts (src/Model/Oracles/; default all).</summary>
    public OracleSet Oracles { get; set; } = OracleSet.All;
    /// <summary>
    /// The data-race detector (KCSAN, src/Model/Kernel/Kcsan.cs) in controlled runs: on by default (issue 13 item 2;
    /// `fixed` verifies clean at k = 1 with it on and its CI hunts are clean). Off: the detector costs nothing and only
    /// the corrupting consequences of a race are reported (the CLI's `--no-kcsan`).
    /// </summary>
    public bool Kcsan { get; set; } = true;
    /// <summary>Test only: runs at the end of the machine's construction (after boot), e.g. to plant a fault (tests/Concurrency/Oracles).</summary>
    public Action<Machine>? AfterBoot { get; set; }
}

/// <summary>
/// The simulated machine of one run: a kernel, the VFS with a root filesystem, the inotify
/// core and user layers, optionally the audit-like module, and processes. Scenarios drive it
/// through its syscall methods; <see cref="Teardown"/> closes every fd, unmounts everything
/// and runs kmemleak. The oracles (src/Model/Oracles/: accounting, structure, handle refcounts,
/// inotify(7) IN_IGNORED rules, limits, and what user space saw against the reference
/// specification of src/Model/Spec/) sit beside it: the machine notifies them of what user
/// space saw and asks them to check the quiescent state (<see cref="CheckQuiescent"/>), each fd
/// once drained and each user once its fds are closed.
/// </summary>
public sealed class Machine : IInotifyObserver
{
    public readonly Kernel.Kernel K;
    public readonly Vfs.Vfs Vfs;
    public readonly Inotify.Inotify Core;
    public readonly InotifyUser User;
    public readonly AuditModule? Audit;
    public readonly InotifySysctl Sysctl;
    public readonly MachineOptions Options;
    public readonly List<Process> Processes = new();
    /// <summary>The oracles this run asserts (<see cref="MachineOptions.Oracles"/>), in the order they check.</summary>
    public readonly IReadOnlyList<Oracle> Oracles;
    private readonly List<TaskStruct> _mainThreads = new();
    private int _nextTgid = 100;

    public Fix Fixes => Options.Fixes;

    public Machine(MachineOptions options)
    {
        Options = options;
        // a controlled machine starts quiet: its boot and the scenario's setup make no scheduling
        // decisions; the explorer turns interleaving on when the threads start
        K = new Kernel.Kernel(options.Mode, options.Seed) { Tracing = options.Tracing, Quiet = options.Mode == SchedMode.Controlled, KcsanEnabled = options.Kcsan };
        Vfs = new Vfs.Vfs(K);
        Core = new Inotify.Inotify(K, Vfs, options.Fixes);
        Sysctl = new InotifySysctl
        {
            max_user_instances = options.MaxUserInstances,
            max_user_watches = options.MaxUserWatches,
            max_queued_events = options.MaxQueuedEvents,
        };
        User = new InotifyUser(Core, Sysctl) { Observer = this };
        Vfs.Boot();
        if (options.Audit)
        {
            Audit = new AuditModule(Core);
            if (Audit.audit_init() != 0) Audit = null;
        }
        // fault injection starts after boot: boot allocations cannot fail
        K.FaultInjection = options.FaultInjection;
        Oracles = new Oracle[]
        {
            new AccountingOracle(this), new LimitsOracle(this), new StructureOracle(this),
            new HandleRefcountOracle(this), new IgnoredOracle(this), new UserVisibleOracle(this),
        }.Where(o => (options.Oracles & o.Kind) != 0).ToList();
        options.AfterBoot?.Invoke(this);
    }

    /// <summary>A new process (its first thread is returned) with its own fd table and user.</summary>
    public TaskStruct NewProcess(string comm, int uid = 1000)
    {
        var saved = K.FaultInjection;
        K.FaultInjection = false;
        var user = Vfs.alloc_uid(uid) ?? throw new InvalidOperationException("alloc_uid");
        K.FaultInjection = saved;
        var p = new Process(_nextTgid++, comm, uid, user);
        Processes.Add(p);
        var t = K.NewTask(comm, uid);
        t.Process = p;
        _mainThreads.Add(t);
        return t;
    }

    /// <summary>Another thread of <paramref name="sibling"/>'s process (shared fd table).</summary>
    public TaskStruct NewThread(TaskStruct sibling, string comm)
    {
        var t = K.NewTask(comm, sibling.Uid);
        t.Process = sibling.Process;
        return t;
    }

    /// <summary>Runs <paramref name="body"/> as <paramref name="t"/> in the current flow of control.</summary>
    public T As<T>(TaskStruct t, Func<T> body)
    {
        var saved = K.current;
        K.SetCurrent(t);
        try { return body(); }
        finally { K.SetCurrent(saved); }
    }

    public void As(TaskStruct t, Action body) => As(t, () => { body(); return 0; });

    // ---------------------------------------------------------------- syscalls (current task)

    public long inotify_init() => Call(new SysCall { Kind = CallKind.Init, Task = K.current, User = CurrentUser }, User.sys_inotify_init);
    public long inotify_init_nonblock() => Call(new SysCall { Kind = CallKind.Init, Task = K.current, User = CurrentUser }, User.sys_inotify_init_nonblock);

    public long inotify_add_watch(int fd, string path, uint mask) =>
        Call(new SysCall { Kind = CallKind.AddWatch, Task = K.current, User = CurrentUser, Fd = fd, Path = path, Mask = mask, Dev = PeekInotifyDev(fd) },
            () => User.sys_inotify_add_watch(fd, path, mask));

    public long inotify_rm_watch(int fd, int wd) =>
        Call(new SysCall { Kind = CallKind.RmWatch, Task = K.current, User = CurrentUser, Fd = fd, Wd = wd, Dev = PeekInotifyDev(fd) },
            () => User.sys_inotify_rm_watch(fd, (uint)wd));

    /// <summary>read(2) on an inotify fd, parsed.</summary>
    public long read_events(int fd, int count, out List<InotifyEventRecord> events)
    {
        var c = new SysCall { Kind = CallKind.Read, Task = K.current, User = CurrentUser, Fd = fd, Count = count, Dev = PeekInotifyDev(fd) };
        foreach (var o in Oracles) o.CallEntered(c);
        long r = Vfs.sys_read(fd, count, out var data);
        // read(2) never returns more than the buffer it was given
        if (r > count || (r > 0 && r != data.Length))
            K.Bug(new BugReport(BugClass.SpecViolation, r > count
                ? $"inotify(7): read(2) returned {r} bytes into a buffer of {count}"
                : $"inotify(7): read(2) returned {r} but wrote {data.Length} bytes")
            {
                Functions = new[] { "inotify_read" },
                Threads = new[] { K.current.Name },
                Body = $"read(fd {fd}, count {count}) returned {r}; the buffer holds {data.Length} bytes.\nread(2) transfers at most count bytes, and returns how many it transferred.\n",
            });
        events = r > 0 ? InotifyEventRecord.Parse(data) : new List<InotifyEventRecord>();
        c.Ret = r;
        c.Events = events;
        foreach (var o in Oracles) o.CallReturned(c);
        return r;
    }

    /// <summary>Runs an inotify syscall, telling the oracles when it is entered and what it returned (UserVisibleOracle).</summary>
    private long Call(SysCall c, Func<long> body)
    {
        foreach (var o in Oracles) o.CallEntered(c);
        c.Ret = body();
        if (c.Kind == CallKind.Init && c.Ret >= 0) c.Dev = PeekInotifyDev((int)c.Ret);
        foreach (var o in Oracles) o.CallReturned(c);
        return c.Ret;
    }

    private UserStruct? CurrentUser => (K.current.Process as Process)?.User;

    /// <summary>The inotify device <paramref name="fd"/> of the current process names, read without locks (oracle bookkeeping), or null.</summary>
    public InotifyDevice? PeekInotifyDev(int fd)
    {
        if (K.current.Process is not Process p || fd < 0 || fd >= p.Fds.Count) return null;
        return p.Fds[fd] is { } f && !f.IsFreed && f.f_op is InotifyUser ? f.private_data as InotifyDevice : null;
    }

    void IInotifyObserver.WatchAdded(InotifyDevice dev, int wd, uint mask)
    {
        foreach (var o in Oracles) o.WatchAdded(dev, wd, mask);
    }

    void IInotifyObserver.EventDropped(InotifyDevice dev, uint mask)
    {
        foreach (var o in Oracles) o.EventDropped(dev, mask);
    }

    void IInotifyObserver.EventsRead(InotifyDevice dev, byte[] data)
    {
        // the ABI of read(2) before any oracle parses the bytes: what user space would misparse
        if (InotifyEventRecord.FramingProblem(data) is { } problem)
            K.Bug(new BugReport(BugClass.SpecViolation, $"inotify(7): read(2) returned a malformed event buffer: {problem}")
            {
                Functions = new[] { "inotify_read" },
                Threads = new[] { K.current.Name },
                Objects = new[] { dev.Describe },
                Body = $"read from {dev.Describe}: {data.Length} bytes: {problem}.\ninotify(7): each event is a struct inotify_event followed by len bytes of name, null-terminated and padded; user space walks the buffer by len.\n",
            });
        foreach (var o in Oracles) o.EventsRead(dev, data);
    }

    public long close(int fd) => Vfs.sys_close(fd);

    // ---------------------------------------------------------------- oracles

    /// <summary>
    /// The oracles' checks of a quiescent state (no syscall in flight): per-user counters equal
    /// the live objects and respect the limits; each device's event_count and queue_size match
    /// its queue; a watch is on its inode's list iff on its handle's list iff its wd is in the
    /// idr; reference counts match their holders.
    /// </summary>
    public void CheckQuiescent()
    {
        foreach (var o in Oracles) o.CheckQuiescent();
    }

    internal static InotifyDevice? PeekDev(InotifyUserWatch uw) => uw.IsFreed ? null : uw.dev;

    /// <summary>Whether some process has <paramref name="dev"/> open.</summary>
    public bool IsOpen(InotifyDevice dev)
    {
        foreach (var p in Processes)
            foreach (var f in p.Fds)
                if (f != null && !f.IsFreed && ReferenceEquals(f.private_data, dev)) return true;
        return false;
    }

    /// <summary>
    /// Drains every open inotify fd (without blocking); the oracles then check what it showed
    /// (inotify(7): each removed watch produced exactly one IN_IGNORED).
    /// </summary>
    public void DrainAndCheckIgnored()
    {
        for (int pi = 0; pi < Processes.Count; pi++)
        {
            var p = Processes[pi];
            var t = _mainThreads[pi];
            As(t, () =>
            {
                for (int fd = 0; fd < p.Fds.Count; fd++)
                {
                    var f = p.Fds[fd];
                    if (f is null || f.f_op is not InotifyUser) continue;
                    var dev = (InotifyDevice)f.private_data!;
                    while (dev.PeekEventCount > 0)
                    {
                        if (read_events(fd, 1 << 20, out _) <= 0) break;
                    }
                    foreach (var o in Oracles) o.CheckDrained(t, fd, dev);
                }
            });
        }
    }

    /// <summary>
    /// End of a run: oracles on the quiescent state, drain and IN_IGNORED checks, then close
    /// every fd, unload the audit module, check the per-user counters are back to zero,
    /// unmount everything, release the processes' users and run kmemleak.
    /// </summary>
    public void Teardown()
    {
        using var _ = K.Fn("teardown");
        K.FaultInjection = false;
        CheckQuiescent();
        DrainAndCheckIgnored();
        for (int pi = 0; pi < Processes.Count; pi++)
        {
            var p = Processes[pi];
            As(_mainThreads[pi], () =>
            {
                for (int fd = 0; fd < p.Fds.Count; fd++)
                    if (p.Fds[fd] != null) Vfs.sys_close(fd);
            });
        }
        Audit?.audit_exit();
        foreach (var p in Processes)
        {
            var u = p.User;
            if (u.IsFreed) continue;
            foreach (var o in Oracles) o.CheckClosed(u);
        }
        Vfs.umount_all();
        for (int pi = 0; pi < Processes.Count; pi++)
        {
            var p = Processes[pi];
            As(_mainThreads[pi], () => Vfs.free_uid(p.User));
        }
        K.Slab.kmemleak_scan();
        foreach (var o in Oracles) o.CheckFinal();
    }
}
