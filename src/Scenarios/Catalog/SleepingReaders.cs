using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>
/// A reader asleep in a blocking read() (prepare_to_wait / schedule on dev->wq) while another thread does
/// something whose event must wake it: rm (IN_IGNORED), inode death (IN_DELETE_SELF, IN_IGNORED), umount
/// (IN_UNMOUNT, IN_IGNORED), an overflowing queue (IN_Q_OVERFLOW). A lost wake-up leaves the reader asleep
/// for good: the scheduler's hung-task report names it and the wait queue. The reader must also get the
/// event that woke it (checked at the end).
/// </summary>
public abstract class SleepingReader : Scenario
{
    /// <summary>A dropped event (injected allocation failure) leaves the reader asleep: the seed's behaviour, not a bug.</summary>
    public override bool ToleratesFaultInjection => false;

    /// <summary>What the reader must see among the events it read (any of these bits).</summary>
    protected abstract uint Wakes { get; }

    /// <summary>The reader's process: <paramref name="fd"/> is a blocking inotify fd; registers the reader thread and the end check.</summary>
    protected void Reader(Sim s, TaskStruct reader, int fd)
    {
        long got = 0;
        List<InotifyEventRecord>? evs = null;
        s.Thread(reader, () => got = s.M.read_events(fd, 4096, out evs));
        s.AtEnd(() =>
        {
            var k = s.M.K;
            if (got <= 0 || evs is null || !evs.Exists(e => (e.Mask & Wakes) != 0))
                k.Bug(new BugReport(BugClass.SpecViolation, $"inotify(7): a blocking read in {Name} returned {Errno.Ret(got)} without the {MaskNames(Wakes)} that woke it")
                {
                    Functions = new[] { "inotify_read", "inotify_dev_queue_event" },
                    Threads = new[] { k.current.Name },
                    Body = "read() on an inotify fd without O_NONBLOCK blocks until an event is available and returns it.\n" +
                    "events read: " + (evs is null ? "none" : string.Join("; ", evs)) + "\n",
                });
        });
    }
}

/// <summary>A reader sleeps while another thread of its process removes the watch (IN_IGNORED wakes it).</summary>
public sealed class ReadVsRm : SleepingReader
{
    public override string Name => "read-vs-rm";
    public override string Description => "a blocking read() sleeps while another thread of the process calls inotify_rm_watch: the IN_IGNORED must wake it";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Read, MatrixOp.Rm };
    protected override uint Wakes => IN_IGNORED;

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("reader", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        int fd = (int)s.Do(p, m => m.inotify_init(), "inotify_init"); // blocking
        int wd = (int)s.Do(p, m => m.inotify_add_watch(fd, "/d", IN_ATTRIB), "add_watch");
        var p2 = s.M.NewThread(p, "remover");
        Reader(s, p, fd);
        s.Thread(p2, () => s.M.inotify_rm_watch(fd, wd));
    }
}

/// <summary>A reader sleeps while the watched file is unlinked (IN_DELETE_SELF, IN_IGNORED wake it).</summary>
public sealed class ReadVsDeath : SleepingReader
{
    public override string Name => "read-vs-death";
    public override string Description => "a blocking read() sleeps while the watched file is unlinked (inotify_inode_is_dead): IN_DELETE_SELF / IN_IGNORED must wake it";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Read, MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event };
    protected override uint Wakes => IN_DELETE_SELF | IN_IGNORED | IN_ATTRIB;

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("reader", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        s.Touch(p, "/d/f");
        int fd = (int)s.Do(p, m => m.inotify_init(), "inotify_init");
        s.Do(p, m => m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS), "add_watch");
        var q = s.M.NewProcess("unlinker", 0);
        Reader(s, p, fd);
        s.Thread(q, () => s.M.Vfs.sys_unlink("/d/f"));
    }
}

/// <summary>A reader sleeps while the watched filesystem is unmounted (IN_UNMOUNT, IN_IGNORED wake it).</summary>
public sealed class ReadVsUmount : SleepingReader
{
    public override string Name => "read-vs-umount";
    public override string Description => "a blocking read() sleeps while the watched filesystem is unmounted (inotify_unmount_inodes): IN_UNMOUNT / IN_IGNORED must wake it";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Read, MatrixOp.Umount };
    protected override uint Wakes => IN_UNMOUNT | IN_IGNORED;

    public override void Build(Sim s)
    {
        var root = s.M.NewProcess("admin", 0);
        s.Do(root, m => m.Vfs.sys_mkdir("/mnt"), "mkdir");
        s.Do(root, m => m.Vfs.sys_mount("/mnt"), "mount");
        s.Do(root, m => m.Vfs.sys_mkdir("/mnt/x"), "mkdir");
        var p = s.M.NewProcess("reader", 0);
        int fd = (int)s.Do(p, m => m.inotify_init(), "inotify_init");
        s.Do(p, m => m.inotify_add_watch(fd, "/mnt/x", IN_ALL_EVENTS), "add_watch");
        Reader(s, p, fd);
        s.Thread(root, () => s.M.Vfs.sys_umount("/mnt"));
    }
}

/// <summary>A reader sleeps while a writer overflows a one-event queue (the first event, then IN_Q_OVERFLOW).</summary>
public sealed class ReadVsOverflow : SleepingReader
{
    public override string Name => "read-vs-overflow";
    public override string Description => "a blocking read() sleeps while a writer fills a queue of max_queued_events = 1 (IN_Q_OVERFLOW): the first event must wake it";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Read, MatrixOp.Event };
    protected override uint Wakes => IN_ATTRIB | IN_Q_OVERFLOW;

    public override void Configure(MachineOptions o) => o.MaxQueuedEvents = 1;

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("reader", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        s.Touch(p, "/d/a");
        s.Touch(p, "/d/b");
        int fd = (int)s.Do(p, m => m.inotify_init(), "inotify_init");
        s.Do(p, m => m.inotify_add_watch(fd, "/d", IN_ATTRIB), "add_watch");
        var q = s.M.NewProcess("writer", 0);
        Reader(s, p, fd);
        s.Thread(q, () =>
        {
            s.M.Vfs.sys_chmod("/d/a", InotifySim.Model.Vfs.Mode.S_IRWXU);
            s.M.Vfs.sys_chmod("/d/b", InotifySim.Model.Vfs.Mode.S_IRWXU);
            s.M.Vfs.sys_chmod("/d/a", InotifySim.Model.Vfs.Mode.S_0600);
        });
    }
}
