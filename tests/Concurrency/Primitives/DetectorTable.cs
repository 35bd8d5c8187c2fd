using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;
using KMutex = InotifySim.Model.Kernel.Mutex;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>
/// One row of a detector table: one BRANCH of a detector (one way it decides), its planted fault with the
/// exact expected report (class, title, kernel functions in order, task comms in order, text fragments), and
/// its silent twin (the same code made correct). A row whose fault stops firing, or whose twin starts firing,
/// fails its own named test case, so a detector that goes partly blind fails a test (issue 16).
/// </summary>
public sealed record Branch(
    string Name,
    BugClass Class,
    string Title,
    string[] Functions,
    string[] Threads,
    Action<Kernel> Fault,
    Action<Kernel> Twin,
    params string[] TextHas)
{
    public override string ToString() => Name;
}

public static class DetectorTable
{
    /// <summary>Runs the planted fault on a fresh sequential kernel and checks the exact report.</summary>
    public static Report AssertFires(Branch b)
    {
        var k = new Kernel();
        var r = Seq.ExpectBug(k, () => b.Fault(k));
        Assert.True(b.Class == r.Class, $"{b.Name}: expected {b.Class.Name()}, got {r.Summary}");
        Assert.Equal(b.Title, r.Title);
        Assert.Equal(b.Functions, r.Functions);
        Assert.Equal(b.Threads, r.Threads.Select(Comm));
        foreach (var s in b.TextHas) Assert.Contains(s, r.Text);
        return r;
    }

    /// <summary>Runs the silent twin on a fresh sequential kernel: no detector may fire.</summary>
    public static void AssertSilent(Branch b)
    {
        var k = new Kernel();
        b.Twin(k);
        Seq.AssertSilent(k);
    }

    /// <summary>"worker/3" -> "worker": task names carry pids, the tables name tasks by comm.</summary>
    public static string Comm(string task) => task.Contains('/') ? task[..task.LastIndexOf('/')] : task;

    /// <summary>Runs <paramref name="body"/> as a new task <paramref name="comm"/> inside kernel function <paramref name="fn"/>.</summary>
    public static void Run(Kernel k, string comm, string fn, Action body) =>
        k.Spawn(k.NewTask(comm, 0), () =>
        {
            using var f = k.Fn(fn);
            body();
        });

    /// <summary>Runs <paramref name="body"/> inside kernel function <paramref name="fn"/> of the current task.</summary>
    public static void In(Kernel k, string fn, Action body)
    {
        using var f = k.Fn(fn);
        body();
    }

    public static TheoryData<string> Names(IEnumerable<Branch> rows)
    {
        var d = new TheoryData<string>();
        foreach (var r in rows) d.Add(r.Name);
        return d;
    }

    public static Branch Find(IEnumerable<Branch> rows, string name) => rows.Single(r => r.Name == name);
}

/// <summary>
/// A lock primitive and the side that feeds lockdep: each kind creates a lock of a given class on the
/// static kernel object and takes / releases it through its own API.
/// </summary>
public sealed record LockKind(string Name, bool Sleeps, Func<Kernel, string, string, ILockInstance> Make, Action<ILockInstance> Lock, Action<ILockInstance> Unlock)
{
    public override string ToString() => Name;

    public static readonly LockKind MutexLock = new("mutex_lock", true,
        (k, f, c) => new KMutex(k.Globals, f, k.Lockdep.Class(c)), l => ((KMutex)l).mutex_lock(), l => ((KMutex)l).mutex_unlock());
    public static readonly LockKind MutexLockNested = new("mutex_lock_nested", true,
        (k, f, c) => new KMutex(k.Globals, f, k.Lockdep.Class(c)), l => ((KMutex)l).mutex_lock_nested(1), l => ((KMutex)l).mutex_unlock());
    public static readonly LockKind SpinLock = new("spin_lock", false,
        (k, f, c) => new Spinlock(k.Globals, f, k.Lockdep.Class(c, spin: true)), l => ((Spinlock)l).spin_lock(), l => ((Spinlock)l).spin_unlock());
    public static readonly LockKind DownRead = new("down_read", true,
        (k, f, c) => new RwSemaphore(k.Globals, f, k.Lockdep.Class(c)), l => ((RwSemaphore)l).down_read(), l => ((RwSemaphore)l).up_read());
    public static readonly LockKind DownWrite = new("down_write", true,
        (k, f, c) => new RwSemaphore(k.Globals, f, k.Lockdep.Class(c)), l => ((RwSemaphore)l).down_write(), l => ((RwSemaphore)l).up_write());

    public static readonly LockKind[] All = { MutexLock, MutexLockNested, SpinLock, DownRead, DownWrite };
}
