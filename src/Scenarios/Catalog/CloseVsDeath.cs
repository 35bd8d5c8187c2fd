using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>close() of the inotify fd (inotify_destroy) while the watched file dies.</summary>
public sealed class CloseVsDeath : Scenario
{
    public override string Name => "close-vs-death";
    public override string Description => "close of the inotify fd (inotify_release -> inotify_destroy) races unlink of the watched file";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Close, MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event };

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("watcher", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        s.Touch(p, "/d/f");
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        s.Do(p, m => m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS), "add_watch");
        var q = s.M.NewProcess("unlinker", 0);
        s.Thread(p, () => s.M.close(fd));
        s.Thread(q, () => s.M.Vfs.sys_unlink("/d/f"));
    }
}
