using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>Event delivery (write, rename) while the watch is removed.</summary>
public sealed class EventVsRm : Scenario
{
    public override string Name => "event-vs-rm";
    public override string Description => "writes and a rename in a watched directory race inotify_rm_watch of that directory's watch";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Event, MatrixOp.Rm };

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("watcher", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        s.Touch(p, "/d/f");
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        int wd = (int)s.Do(p, m => m.inotify_add_watch(fd, "/d", IN_MODIFY | IN_MOVE), "add_watch");
        var q = s.M.NewProcess("writer", 0);
        s.Thread(q, () =>
        {
            int f = (int)s.M.Vfs.sys_open("/d/f", InotifySim.Model.Vfs.O.O_WRONLY);
            if (f < 0) return;
            s.M.Vfs.sys_write(f, 1);
            s.M.Vfs.sys_close(f);
            s.M.Vfs.sys_rename("/d/f", "/d/g");
        });
        s.Thread(p, () => s.M.inotify_rm_watch(fd, wd));
    }
}
