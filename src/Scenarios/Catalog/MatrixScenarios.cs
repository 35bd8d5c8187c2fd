using InotifySim.Model;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;
using Mode = InotifySim.Model.Vfs.Mode;

namespace InotifySim.Scenarios.Catalog;

/// <summary>
/// Small two- and three-thread scenarios that close gaps of the coverage matrix (docs/scenario-matrix.md):
/// each races two (or three) of its operations on one watch, with the setup of the others. Judged by the
/// detectors and the oracles only (no scenario-specific expectation).
/// </summary>
public abstract class MatrixScenario : Scenario
{
    /// <summary>/d with /d/f, a nonblocking instance of process "watcher" (uid 0) watching /d/f (IN_ALL_EVENTS) and /d.</summary>
    protected static (TaskStruct p, int fd, int wdf, int wdd) Watched(Sim s, bool nonblock = true)
    {
        var p = s.M.NewProcess("watcher", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        s.Touch(p, "/d/f");
        int fd = (int)s.Do(p, m => nonblock ? m.inotify_init_nonblock() : m.inotify_init(), "inotify_init");
        int wdf = (int)s.Do(p, m => m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS), "add_watch");
        int wdd = (int)s.Do(p, m => m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS), "add_watch");
        return (p, fd, wdf, wdd);
    }

    /// <summary>/mnt mounted with /mnt/f, watched (IN_ALL_EVENTS) by a nonblocking instance of "watcher"; admin is root.</summary>
    protected static (TaskStruct admin, TaskStruct p, int fd, int wd) MountedWatch(Sim s)
    {
        var admin = s.M.NewProcess("admin", 0);
        s.Do(admin, m => m.Vfs.sys_mkdir("/mnt"), "mkdir");
        s.Do(admin, m => m.Vfs.sys_mount("/mnt"), "mount");
        s.Touch(admin, "/mnt/f");
        var p = s.M.NewProcess("watcher", 0);
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        int wd = (int)s.Do(p, m => m.inotify_add_watch(fd, "/mnt/f", IN_ALL_EVENTS), "add_watch");
        return (admin, p, fd, wd);
    }
}

public sealed class AddVsRm : MatrixScenario
{
    public override string Name => "add-vs-rm";
    public override string Description => "two threads of one process: inotify_add_watch updates the mask of a watch (inotify_find_update_watch) while the other removes it";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Add, MatrixOp.Rm };
    public override void Build(Sim s)
    {
        var (p, fd, wdf, _) = Watched(s);
        var p2 = s.M.NewThread(p, "watcher-t2");
        s.Thread(p, () => s.M.inotify_add_watch(fd, "/d/f", IN_MODIFY | IN_MASK_ADD));
        s.Thread(p2, () => s.M.inotify_rm_watch(fd, wdf));
    }
}

public sealed class AddVsDeath : MatrixScenario
{
    public override string Name => "add-vs-death";
    public override string Description => "inotify_add_watch on a file races its unlink (the add pins the inode through the nameidata; inotify_inode_is_dead)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Add, MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event };
    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("watcher", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        s.Touch(p, "/d/f");
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        var q = s.M.NewProcess("unlinker", 0);
        s.Thread(p, () => s.M.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS));
        s.Thread(q, () => s.M.Vfs.sys_unlink("/d/f"));
    }
}

public sealed class AddVsClose : MatrixScenario
{
    public override string Name => "add-vs-close";
    public override string Description => "two threads of one process: inotify_add_watch on the fd races its close (inotify_destroy)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Add, MatrixOp.Close };
    public override void Build(Sim s)
    {
        var (p, fd, _, _) = Watched(s);
        s.Do(p, m => m.Vfs.sys_mkdir("/e"), "mkdir");
        var p2 = s.M.NewThread(p, "watcher-t2");
        s.Thread(p, () => s.M.inotify_add_watch(fd, "/e", IN_ALL_EVENTS));
        s.Thread(p2, () => s.M.close(fd));
    }
}

public sealed class RmVsClose : MatrixScenario
{
    public override string Name => "rm-vs-close";
    public override string Description => "two threads of one process: inotify_rm_watch races close of the same fd (inotify_rm_wd vs inotify_destroy)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Rm, MatrixOp.Close };
    public override void Build(Sim s)
    {
        var (p, fd, wdf, _) = Watched(s);
        var p2 = s.M.NewThread(p, "watcher-t2");
        s.Thread(p, () => s.M.inotify_rm_watch(fd, wdf));
        s.Thread(p2, () => s.M.close(fd));
    }
}

public sealed class CloseVsEvent : MatrixScenario
{
    public override string Name => "close-vs-event";
    public override string Description => "close of the inotify fd (inotify_destroy) races events on its watches (inotify_inode_queue_event -> the callback)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Close, MatrixOp.Event };
    public override void Build(Sim s)
    {
        var (p, fd, _, _) = Watched(s);
        var q = s.M.NewProcess("writer", 0);
        s.Thread(p, () => s.M.close(fd));
        s.Thread(q, () => { s.M.Vfs.sys_chmod("/d/f", Mode.S_IRWXU); s.M.Vfs.sys_chmod("/d", Mode.S_IRWXU); });
    }
}

public sealed class CloseVsRead : MatrixScenario
{
    public override string Name => "close-vs-read";
    public override string Description => "two threads of one process: a (nonblocking) read of queued events races close of the fd (the read's file reference keeps the device alive)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Close, MatrixOp.Read };
    public override void Build(Sim s)
    {
        var (p, fd, _, _) = Watched(s);
        s.Do(p, m => m.Vfs.sys_chmod("/d/f", Mode.S_IRWXU), "chmod");
        var p2 = s.M.NewThread(p, "reader");
        s.Thread(p, () => s.M.close(fd));
        s.Thread(p2, () => s.M.read_events(fd, 4096, out _));
    }
}

public sealed class RenameVsRm : MatrixScenario
{
    public override string Name => "rename-vs-rm";
    public override string Description => "the watched file's parent is renamed (IN_MOVE_SELF, d_move) while inotify_rm_watch removes the file's watch";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.RenameUnlink | MatrixOp.Event, MatrixOp.Rm };
    public override void Build(Sim s)
    {
        var (p, fd, wdf, _) = Watched(s);
        var q = s.M.NewProcess("renamer", 0);
        s.Thread(q, () => s.M.Vfs.sys_rename("/d", "/e"));
        s.Thread(p, () => s.M.inotify_rm_watch(fd, wdf));
    }
}

public sealed class EventVsEvent : MatrixScenario
{
    public override string Name => "event-vs-event";
    public override string Description => "two writers queue events on the same watches at once (coalescing against the last event, ev_mutex)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Event, MatrixOp.Event };
    public override void Build(Sim s)
    {
        var (_, _, _, _) = Watched(s);
        var q = s.M.NewProcess("writer", 0);
        var r = s.M.NewProcess("writer2", 0);
        s.Thread(q, () => { s.M.Vfs.sys_chmod("/d/f", Mode.S_IRWXU); s.M.Vfs.sys_chmod("/d/f", Mode.S_0600); });
        s.Thread(r, () => s.M.Vfs.sys_chmod("/d/f", Mode.S_IRWXU));
    }
}

public sealed class ReadVsRead : MatrixScenario
{
    public override string Name => "read-vs-read";
    public override string Description => "two threads of one process read the same fd (nonblocking) with events queued, one 32 bytes, one 4096 (it can drain the queue): each event goes to one reader";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Read, MatrixOp.Read };
    public override void Build(Sim s)
    {
        var (p, fd, _, _) = Watched(s);
        s.Do(p, m => m.Vfs.sys_chmod("/d/f", Mode.S_IRWXU), "chmod");
        s.Do(p, m => m.Vfs.sys_chmod("/d", Mode.S_IRWXU), "chmod");
        var p2 = s.M.NewThread(p, "reader2");
        s.Thread(p, () => s.M.read_events(fd, 32, out _));
        s.Thread(p2, () => s.M.read_events(fd, 4096, out _)); // a drain: the other reader's check-then-dequeue window (read-check-dequeue)
    }
}

/// <summary>The three-party race of pin_to_kill's comment: umount's final deactivate vs a removal (rm) vs inode death.</summary>
public sealed class RmVsUmountVsDeath : MatrixScenario
{
    public override string Name => "rm-vs-umount-vs-death";
    public override string Description => "pin_to_kill's three-party race: inotify_rm_watch vs umount's final deactivate_super (inotify_unmount_inodes) vs unlink of the watched file (inotify_inode_is_dead)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Rm, MatrixOp.Umount, MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event };
    public override void Build(Sim s)
    {
        var (admin, p, fd, wd) = MountedWatch(s);
        var q = s.M.NewProcess("unlinker", 0);
        s.Thread(p, () => s.M.inotify_rm_watch(fd, wd));
        s.Thread(admin, () => s.M.Vfs.sys_umount("/mnt"));
        s.Thread(q, () => s.M.Vfs.sys_unlink("/mnt/f"));
    }
}

/// <summary>The three-party race of pin_to_kill's comment with inotify_destroy as the removal.</summary>
public sealed class CloseVsUmountVsDeath : MatrixScenario
{
    public override string Name => "close-vs-umount-vs-death";
    public override string Description => "pin_to_kill's three-party race: close (inotify_destroy) vs umount's final deactivate_super vs unlink of the watched file (inotify_inode_is_dead)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Close, MatrixOp.Umount, MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event };
    public override void Build(Sim s)
    {
        var (admin, p, fd, _) = MountedWatch(s);
        var q = s.M.NewProcess("unlinker", 0);
        s.Thread(p, () => s.M.close(fd));
        s.Thread(admin, () => s.M.Vfs.sys_umount("/mnt"));
        s.Thread(q, () => s.M.Vfs.sys_unlink("/mnt/f"));
    }
}

public sealed class AddVsRead : MatrixScenario
{
    public override string Name => "add-vs-read";
    public override string Description => "two threads of one process: inotify_add_watch adds a watch while the other reads queued events (nonblocking)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Add, MatrixOp.Read };
    public override void Build(Sim s)
    {
        var (p, fd, _, _) = Watched(s);
        s.Do(p, m => m.Vfs.sys_mkdir("/e"), "mkdir");
        s.Do(p, m => m.Vfs.sys_chmod("/d/f", Mode.S_IRWXU), "chmod");
        var p2 = s.M.NewThread(p, "reader");
        s.Thread(p, () => s.M.inotify_add_watch(fd, "/e", IN_ALL_EVENTS));
        s.Thread(p2, () => s.M.read_events(fd, 4096, out _));
    }
}

public sealed class CloseVsClose : MatrixScenario
{
    public override string Name => "close-vs-close";
    public override string Description => "two instances watching the same inodes are closed at once (two inotify_destroy on one inode->inotify_mutex)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Close, MatrixOp.Close };
    public override void Build(Sim s)
    {
        var (p, fd, _, _) = Watched(s);
        var q = s.M.NewProcess("watcher2", 0);
        int fd2 = (int)s.Do(q, m => m.inotify_init_nonblock(), "inotify_init");
        s.Do(q, m => m.inotify_add_watch(fd2, "/d/f", IN_ALL_EVENTS), "add_watch");
        s.Do(q, m => m.inotify_add_watch(fd2, "/d", IN_ALL_EVENTS), "add_watch");
        s.Thread(p, () => s.M.close(fd));
        s.Thread(q, () => s.M.close(fd2));
    }
}

public sealed class UmountVsUmount : MatrixScenario
{
    public override string Name => "umount-vs-umount";
    public override string Description => "two watched filesystems of one instance are unmounted at once (two inotify_unmount_inodes on one handle)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Umount, MatrixOp.Umount };
    public override void Build(Sim s)
    {
        var (admin, p, fd, _) = MountedWatch(s);
        s.Do(admin, m => m.Vfs.sys_mkdir("/mnt2"), "mkdir");
        s.Do(admin, m => m.Vfs.sys_mount("/mnt2"), "mount");
        s.Touch(admin, "/mnt2/f");
        s.Do(p, m => m.inotify_add_watch(fd, "/mnt2/f", IN_ALL_EVENTS), "add_watch");
        var admin2 = s.M.NewThread(admin, "admin-t2");
        s.Thread(admin, () => s.M.Vfs.sys_umount("/mnt"));
        s.Thread(admin2, () => s.M.Vfs.sys_umount("/mnt2"));
    }
}

public sealed class DeathVsDeath : MatrixScenario
{
    public override string Name => "death-vs-death";
    public override string Description => "two watched files of one instance are unlinked at once (two inotify_inode_is_dead on one handle)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event, MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event };
    public override void Build(Sim s)
    {
        var (p, fd, _, _) = Watched(s);
        s.Touch(p, "/d/g");
        s.Do(p, m => m.inotify_add_watch(fd, "/d/g", IN_ALL_EVENTS), "add_watch");
        var q = s.M.NewProcess("unlinker", 0);
        var r = s.M.NewProcess("unlinker2", 0);
        s.Thread(q, () => s.M.Vfs.sys_unlink("/d/f"));
        s.Thread(r, () => s.M.Vfs.sys_unlink("/d/g"));
    }
}

public sealed class DeathVsRename : MatrixScenario
{
    public override string Name => "death-vs-rename";
    public override string Description => "the watched file is unlinked while its watched parent is renamed (inotify_inode_is_dead vs d_move / IN_MOVE_SELF)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event, MatrixOp.RenameUnlink | MatrixOp.Event };
    public override void Build(Sim s)
    {
        Watched(s);
        var q = s.M.NewProcess("unlinker", 0);
        var r = s.M.NewProcess("renamer", 0);
        s.Thread(q, () => s.M.Vfs.sys_unlink("/d/f"));
        s.Thread(r, () => s.M.Vfs.sys_rename("/d", "/e"));
    }
}

public sealed class DeathVsEvent : MatrixScenario
{
    public override string Name => "death-vs-event";
    public override string Description => "the watched file is unlinked while another process changes it (inotify_inode_is_dead vs inotify_inode_queue_event on one inode)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event, MatrixOp.Event };
    public override void Build(Sim s)
    {
        Watched(s);
        var q = s.M.NewProcess("unlinker", 0);
        var r = s.M.NewProcess("writer", 0);
        s.Thread(q, () => s.M.Vfs.sys_unlink("/d/f"));
        s.Thread(r, () => s.M.Vfs.sys_chmod("/d/f", Mode.S_IRWXU));
    }
}

public sealed class RenameVsRename : MatrixScenario
{
    public override string Name => "rename-vs-rename";
    public override string Description => "the watched file and its watched parent are renamed at once (IN_MOVED_FROM/TO cookies, IN_MOVE_SELF, d_move)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.RenameUnlink | MatrixOp.Event, MatrixOp.RenameUnlink | MatrixOp.Event };
    public override void Build(Sim s)
    {
        Watched(s);
        var q = s.M.NewProcess("renamer", 0);
        var r = s.M.NewProcess("renamer2", 0);
        s.Thread(q, () => s.M.Vfs.sys_rename("/d/f", "/d/g"));
        s.Thread(r, () => s.M.Vfs.sys_rename("/d", "/e"));
    }
}
