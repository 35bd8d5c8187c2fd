using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>An IN_ONESHOT watch fires while it is removed.</summary>
public sealed class OneshotVsRm : Scenario
{
    public override string Name => "oneshot-vs-rm";
    public override string Description => "delivery on an IN_ONESHOT watch (removal without IN_IGNORED) races inotify_rm_watch";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Event, MatrixOp.Rm };

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("watcher", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        int wd = (int)s.Do(p, m => m.inotify_add_watch(fd, "/d", IN_ATTRIB | IN_ONESHOT), "add_watch");
        var q = s.M.NewProcess("chmoder", 0);
        s.Thread(q, () => s.M.Vfs.sys_chmod("/d", InotifySim.Model.Vfs.Mode.S_IRWXU));
        s.Thread(p, () => s.M.inotify_rm_watch(fd, wd));
    }
}
