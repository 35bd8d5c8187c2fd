using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;

namespace InotifySim.Model.Oracles;

/// <summary>The end-of-run specifications a run asserts (<see cref="MachineOptions.Oracles"/>; default all).</summary>
[Flags]
public enum OracleSet
{
    None = 0,
    /// <summary><see cref="AccountingOracle"/>: per-user counters and per-device queue counters match the live objects.</summary>
    Accounting = 1 << 0,
    /// <summary><see cref="StructureOracle"/>: a watch is on its inode's list iff on its handle's list iff its wd is in the idr.</summary>
    Structure = 1 << 1,
    /// <summary><see cref="HandleRefcountOracle"/>: device and handle reference counts match their holders.</summary>
    HandleRefcounts = 1 << 2,
    /// <summary><see cref="IgnoredOracle"/>: inotify(7)'s IN_IGNORED rules on what read() returned.</summary>
    Ignored = 1 << 3,
    /// <summary><see cref="LimitsOracle"/>: per-user counts within max_user_watches / max_user_instances.</summary>
    Limits = 1 << 4,
    /// <summary>
    /// <see cref="UserVisibleOracle"/>: what each reader got and each inotify syscall returned is
    /// explained by some order of the operations' atomic steps (the reference specification, src/Model/Spec/).
    /// </summary>
    UserVisible = 1 << 5,
    All = Accounting | Structure | HandleRefcounts | Ignored | Limits | UserVisible,
}

/// <summary>
/// One specification checked beside the machine: the machine notifies it of what user space saw
/// (watches added, events read, events dropped) and asks it to check the quiescent state (no
/// syscall in flight), each inotify fd once drained, and each user once every fd is closed. A
/// violation is a kernel-style report (<see cref="Kernel.Kernel.Bug"/>), like every detector's.
/// </summary>
public abstract class Oracle
{
    protected readonly Machine M;
    protected Kernel.Kernel K => M.K;

    protected Oracle(Machine m) => M = m;

    public abstract OracleSet Kind { get; }
    public string Name => Kind.ToString();

    public virtual void WatchAdded(InotifyDevice dev, int wd, uint mask) { }
    public virtual void EventsRead(InotifyDevice dev, byte[] data) { }
    public virtual void EventDropped(InotifyDevice dev, uint mask) { }

    /// <summary>An inotify syscall of the machine's syscall methods is entered (<see cref="SysCall.Ret"/> not set yet).</summary>
    public virtual void CallEntered(SysCall c) { }
    /// <summary>The syscall <paramref name="c"/> returned <see cref="SysCall.Ret"/>.</summary>
    public virtual void CallReturned(SysCall c) { }

    /// <summary>The very end of the teardown, after kmemleak: every other check had its say.</summary>
    public virtual void CheckFinal() { }

    /// <summary>No syscall in flight: the state must satisfy the specification.</summary>
    public virtual void CheckQuiescent() { }

    /// <summary>Fd <paramref name="fd"/> of <paramref name="t"/>'s process was read until empty (teardown).</summary>
    public virtual void CheckDrained(TaskStruct t, int fd, InotifyDevice dev) { }

    /// <summary>Every fd of <paramref name="u"/>'s processes is closed (teardown).</summary>
    public virtual void CheckClosed(UserStruct u) { }

    protected void Fail(BugClass cls, string prefix, string what, params string[] fns) =>
        K.Bug(new BugReport(cls, prefix + what)
        {
            Functions = fns,
            Threads = new[] { K.current.Name },
            Body = what + "\n",
        });
}

/// <summary>The inotify syscalls the machine reports to the oracles.</summary>
public enum CallKind { Init, AddWatch, RmWatch, Read }

/// <summary>One inotify syscall as user space made it: its arguments, the device its fd named, and what it returned.</summary>
public sealed class SysCall
{
    public required CallKind Kind { get; init; }
    public required TaskStruct Task { get; init; }
    /// <summary>The calling process's user (per-user limits).</summary>
    public UserStruct? User { get; init; }
    public int Fd { get; init; } = -1;
    public string? Path { get; init; }
    public uint Mask { get; init; }
    public int Wd { get; init; }
    public int Count { get; init; }
    /// <summary>The inotify device the fd named at entry (for init: the new one, set at return).</summary>
    public InotifyDevice? Dev { get; set; }
    public long Ret { get; set; }
    public IReadOnlyList<InotifyEventRecord> Events { get; set; } = Array.Empty<InotifyEventRecord>();
}
