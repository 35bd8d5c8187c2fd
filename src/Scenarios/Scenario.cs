using InotifySim.Model;
using InotifySim.Model.Kernel;

namespace InotifySim.Scenarios;

/// <summary>
/// A concurrent scenario: a deterministic setup on a fresh <see cref="Machine"/>, then 2 to 4
/// simulated threads whose interleavings Coyote explores, then the machine's teardown
/// (oracles, close everything, umount, kmemleak).
/// </summary>
public abstract class Scenario
{
    /// <summary>kebab-case name, e.g. "rm-vs-death".</summary>
    public abstract string Name { get; }
    public abstract string Description { get; }
    /// <summary>The defects this scenario shows (for the catalogue; not used to judge): derived from the registry, src/Model/Defects.cs.</summary>
    public Fix Targets => Defects.TargetsOf(Name);

    /// <summary>
    /// False when an injected allocation failure makes the scenario's own expectation meaningless
    /// (a dropped event leaves a blocking reader asleep forever: the seed's behaviour, not a bug).
    /// The explorer then runs it without fault injection.
    /// </summary>
    public virtual bool ToleratesFaultInjection => true;

    /// <summary>
    /// The coverage-matrix operations (docs/scenario-matrix.md) each concurrent thread runs, one entry per
    /// thread (the setup does not count): a pair of operations is covered when two different threads run them.
    /// </summary>
    public virtual IReadOnlyList<MatrixOp> ThreadOps => Array.Empty<MatrixOp>();

    /// <summary>Limits, the audit module, ... for this scenario's machine.</summary>
    public virtual void Configure(MachineOptions o) { }

    /// <summary>Runs the setup (as tasks of the machine, sequentially) and registers the threads.</summary>
    public abstract void Build(Sim s);

    public override string ToString() => Name;
}

/// <summary>The operations of the scenario coverage matrix (issue 13.6, docs/scenario-matrix.md).</summary>
[Flags]
public enum MatrixOp
{
    None = 0,
    /// <summary>inotify_add_watch</summary>
    Add = 1 << 0,
    /// <summary>inotify_rm_watch</summary>
    Rm = 1 << 1,
    /// <summary>close of the inotify fd (inotify_release -> inotify_destroy)</summary>
    Close = 1 << 2,
    /// <summary>umount of the watched inode's filesystem (inotify_unmount_inodes)</summary>
    Umount = 1 << 3,
    /// <summary>death of the watched inode (inotify_inode_is_dead)</summary>
    InodeDeath = 1 << 4,
    /// <summary>rename or unlink of the watched inode or of its parent</summary>
    RenameUnlink = 1 << 5,
    /// <summary>event delivery to a watch (inotify_inode_queue_event -> the callback)</summary>
    Event = 1 << 6,
    /// <summary>read of the inotify fd (blocking or not)</summary>
    Read = 1 << 7,
}

/// <summary>The scenario's view of one run: the machine, and the threads to start.</summary>
public sealed class Sim
{
    public Machine M { get; }
    internal readonly List<(TaskStruct task, Action body)> Threads = new();
    internal readonly List<Action> FinalChecks = new();

    public Sim(Machine m) => M = m;

    /// <summary>Registers a thread that runs <paramref name="body"/> as <paramref name="task"/>.</summary>
    public void Thread(TaskStruct task, Action body) => Threads.Add((task, body));

    /// <summary>A check run after all threads finished, before the teardown (as the first process).</summary>
    public void AtEnd(Action check) => FinalChecks.Add(check);

    /// <summary>Runs setup code as <paramref name="t"/>; the result must be a success (>= 0).</summary>
    public long Do(TaskStruct t, Func<Machine, long> op, string what)
    {
        long r = M.As(t, () => op(M));
        if (r < 0) throw new InvalidOperationException($"scenario setup step '{what}' failed with {Errno.Ret(r)}");
        return r;
    }

    /// <summary>Creates a file (open O_CREAT|O_WRONLY, close).</summary>
    public void Touch(TaskStruct t, string path)
    {
        int fd = (int)Do(t, m => m.Vfs.sys_open(path, InotifySim.Model.Vfs.O.O_CREAT | InotifySim.Model.Vfs.O.O_WRONLY), "create " + path);
        Do(t, m => m.Vfs.sys_close(fd), "close " + path);
    }
}
