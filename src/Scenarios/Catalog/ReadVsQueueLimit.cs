using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>A reader drains the queue while events arrive at max_queued_events.</summary>
public sealed class ReadVsQueueLimit : Scenario
{
    public override string Name => "read-vs-queue-limit";
    public override string Description => "read() drains the queue while a writer generates events at max_queued_events (IN_Q_OVERFLOW, dropped events, coalesced duplicates)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Event, MatrixOp.Read };

    public override void Configure(MachineOptions o) => o.MaxQueuedEvents = 2;

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("watcher", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        s.Touch(p, "/d/a");
        s.Touch(p, "/d/b");
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        s.Do(p, m => m.inotify_add_watch(fd, "/d", IN_ATTRIB), "add_watch");
        var q = s.M.NewProcess("writer", 0);
        s.Thread(q, () =>
        {
            s.M.Vfs.sys_chmod("/d/a", InotifySim.Model.Vfs.Mode.S_IRWXU);
            s.M.Vfs.sys_chmod("/d/b", InotifySim.Model.Vfs.Mode.S_IRWXU);
            s.M.Vfs.sys_chmod("/d/a", InotifySim.Model.Vfs.Mode.S_0600);
            s.M.Vfs.sys_chmod("/d/a", InotifySim.Model.Vfs.Mode.S_IRWXU); // a duplicate of the previous event: coalesced, or past the overflow
        });
        s.Thread(p, () =>
        {
            s.M.read_events(fd, 64, out _);
            s.M.read_events(fd, 64, out _);
        });
    }
}
