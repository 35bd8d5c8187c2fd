using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>An IN_ONESHOT watch on a mounted filesystem: it fires, or the filesystem goes first.</summary>
public sealed class OneshotVsUmount : Scenario
{
    public override string Name => "oneshot-vs-umount";
    public override string Description => "an event on an IN_ONESHOT watch races umount of its filesystem (IN_UNMOUNT then IN_IGNORED on a watch that may not have fired)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Event, MatrixOp.Umount };

    public override void Build(Sim s)
    {
        var root = s.M.NewProcess("admin", 0);
        s.Do(root, m => m.Vfs.sys_mkdir("/mnt"), "mkdir");
        s.Do(root, m => m.Vfs.sys_mount("/mnt"), "mount");
        s.Touch(root, "/mnt/m");
        var p = s.M.NewProcess("watcher", 0);
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        s.Do(p, m => m.inotify_add_watch(fd, "/mnt/m", IN_ATTRIB | IN_ONESHOT), "add_watch");
        s.Thread(p, () => s.M.Vfs.sys_chmod("/mnt/m", InotifySim.Model.Vfs.Mode.S_IRWXU));
        s.Thread(root, () => s.M.Vfs.sys_umount("/mnt"));
    }
}
