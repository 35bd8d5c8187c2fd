using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>Two threads of one process remove the same wd.</summary>
public sealed class RmVsRm : Scenario
{
    public override string Name => "rm-vs-rm";
    public override string Description => "two threads of one process call inotify_rm_watch on the same wd";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Rm, MatrixOp.Rm };

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("watcher", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        int wd = (int)s.Do(p, m => m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS), "add_watch");
        var p2 = s.M.NewThread(p, "watcher-t2");
        s.Thread(p, () => s.M.inotify_rm_watch(fd, wd));
        s.Thread(p2, () => s.M.inotify_rm_watch(fd, wd));
    }
}
