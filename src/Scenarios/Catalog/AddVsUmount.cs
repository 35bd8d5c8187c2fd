using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>inotify_add_watch on a mounted filesystem while it is unmounted.</summary>
public sealed class AddVsUmount : Scenario
{
    public override string Name => "add-vs-umount";
    public override string Description => "inotify_add_watch on a file of a mounted filesystem races its umount (EBUSY, or IN_UNMOUNT + IN_IGNORED)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Add, MatrixOp.Umount };

    public override void Build(Sim s)
    {
        var root = s.M.NewProcess("admin", 0);
        s.Do(root, m => m.Vfs.sys_mkdir("/mnt"), "mkdir");
        s.Do(root, m => m.Vfs.sys_mount("/mnt"), "mount");
        s.Touch(root, "/mnt/f");
        var p = s.M.NewProcess("watcher", 0);
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        s.Thread(p, () => s.M.inotify_add_watch(fd, "/mnt/f", IN_ALL_EVENTS));
        s.Thread(root, () => s.M.Vfs.sys_umount("/mnt"));
    }
}
