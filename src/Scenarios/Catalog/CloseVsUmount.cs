using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>close() of the inotify fd while the watched filesystem is unmounted.</summary>
public sealed class CloseVsUmount : Scenario
{
    public override string Name => "close-vs-umount";
    public override string Description => "close of the inotify fd (inotify_destroy) races umount (inotify_unmount_inodes)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Close, MatrixOp.Umount };

    public override void Build(Sim s)
    {
        var root = s.M.NewProcess("admin", 0);
        s.Do(root, m => m.Vfs.sys_mkdir("/mnt"), "mkdir");
        s.Do(root, m => m.Vfs.sys_mount("/mnt"), "mount");
        s.Do(root, m => m.Vfs.sys_mkdir("/mnt/x"), "mkdir");
        var p = s.M.NewProcess("watcher", 0);
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        s.Do(p, m => m.inotify_add_watch(fd, "/mnt/x", IN_ALL_EVENTS), "add_watch");
        s.Do(p, m => m.inotify_add_watch(fd, "/mnt", IN_ALL_EVENTS), "add_watch");
        s.Thread(p, () => s.M.close(fd));
        s.Thread(root, () => s.M.Vfs.sys_umount("/mnt"));
    }
}
