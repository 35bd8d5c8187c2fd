using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>inotify_rm_watch on a file's watch while the file is unlinked (inode death).</summary>
public sealed class RmVsDeath : Scenario
{
    public override string Name => "rm-vs-death";
    public override string Description => "sys_inotify_rm_watch races unlink of the watched file (inotify_inode_is_dead)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Rm, MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event };

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("watcher", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        s.Touch(p, "/d/f");
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        int wd = (int)s.Do(p, m => m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS), "add_watch");
        var q = s.M.NewProcess("unlinker", 0);
        s.Thread(p, () => s.M.inotify_rm_watch(fd, wd));
        s.Thread(q, () => s.M.Vfs.sys_unlink("/d/f"));
    }
}
