using InotifySim.Model;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>A blocking read() sleeps on the device's wait queue until an event arrives (no lost wake-up).</summary>
public sealed class BlockingRead : Scenario
{
    public override string Name => "blocking-read";
    public override string Description => "a blocking read() (prepare_to_wait / schedule) races the event that wakes it (wake_up_interruptible): a lost wake-up hangs the reader";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Read, MatrixOp.Event };

    public override bool ToleratesFaultInjection => false;

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("reader", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        int fd = (int)s.Do(p, m => m.inotify_init(), "inotify_init"); // blocking
        int wd = (int)s.Do(p, m => m.inotify_add_watch(fd, "/d", IN_ATTRIB), "add_watch");
        var q = s.M.NewProcess("writer", 0);
        long got = 0;
        List<InotifySim.Model.Inotify.InotifyEventRecord>? evs = null;
        s.Thread(p, () => got = s.M.read_events(fd, 4096, out evs));
        s.Thread(q, () => s.M.Vfs.sys_chmod("/d", InotifySim.Model.Vfs.Mode.S_IRWXU));
        s.AtEnd(() =>
        {
            var k = s.M.K;
            if (got <= 0 || evs is null || evs.Count == 0 || evs[0].Wd != wd || (evs[0].Mask & IN_ATTRIB) == 0)
                k.Bug(new BugReport(BugClass.SpecViolation, $"inotify(7): a blocking read returned {Errno.Ret(got)} instead of the IN_ATTRIB that woke it")
                {
                    Functions = new[] { "inotify_read", "inotify_dev_queue_event" },
                    Threads = new[] { k.current.Name },
                    Body = "read() on an inotify fd without O_NONBLOCK blocks until an event is available and returns it.\n",
                });
        });
    }
}
