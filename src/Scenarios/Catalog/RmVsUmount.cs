using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>inotify_rm_watch while the watched filesystem is unmounted.</summary>
public sealed class RmVsUmount : Scenario
{
    public override string Name => "rm-vs-umount";
    public override string Description => "inotify_rm_watch races umount of the watched inode's filesystem (inotify_unmount_inodes)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Rm, MatrixOp.Umount };

    public override void Build(Sim s)
    {
        var root = s.M.NewProcess("admin", 0);
        s.Do(root, m => m.Vfs.sys_mkdir("/mnt"), "mkdir");
        s.Do(root, m => m.Vfs.sys_mount("/mnt"), "mount");
        s.Do(root, m => m.Vfs.sys_mkdir("/mnt/x"), "mkdir");
        var p = s.M.NewProcess("watcher", 0);
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        int wd = (int)s.Do(p, m => m.inotify_add_watch(fd, "/mnt/x", IN_ALL_EVENTS), "add_watch");
        s.Thread(p, () => s.M.inotify_rm_watch(fd, wd));
        s.Thread(root, () => s.M.Vfs.sys_umount("/mnt"));
    }
}
