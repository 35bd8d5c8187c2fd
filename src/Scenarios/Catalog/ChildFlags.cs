using InotifySim.Model;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>A child is instantiated while its parent directory gets its first watch.</summary>
public sealed class ChildFlags : Scenario
{
    public override string Name => "child-flags";
    public override string Description => "a file is created in a directory while the directory gets its first watch (DCACHE_INOTIFY_PARENT_WATCHED of the new child)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Add, MatrixOp.Event };

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("watcher", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        var q = s.M.NewProcess("creator", 0);
        long wd = -1;
        s.Thread(p, () => wd = s.M.inotify_add_watch(fd, "/d", IN_MODIFY));
        s.Thread(q, () =>
        {
            int f = (int)s.M.Vfs.sys_open("/d/f", InotifySim.Model.Vfs.O.O_CREAT | InotifySim.Model.Vfs.O.O_WRONLY);
            if (f >= 0) s.M.Vfs.sys_close(f);
        });
        s.AtEnd(() =>
        {
            // once both are done, a write to the child must reach the parent's watch
            var k = s.M.K;
            int f = (int)s.M.Vfs.sys_open("/d/f", InotifySim.Model.Vfs.O.O_WRONLY);
            if (f < 0) return; // the create failed (an injected ENOMEM): nothing to check
            s.M.Vfs.sys_write(f, 1);
            s.M.Vfs.sys_close(f);
            s.M.read_events(fd, 4096, out var evs);
            if (wd > 0 && !evs.Any(e => e.Wd == wd && (e.Mask & IN_MODIFY) != 0 && e.Name == "f"))
                k.Bug(new BugReport(BugClass.SpecViolation, "inotify(7): IN_MODIFY of /d/f was not reported to the watch on /d")
                {
                    Functions = new[] { "inotify_add_watch", "set_dentry_child_flags", "inotify_d_instantiate", "inotify_dentry_parent_queue_event" },
                    Threads = new[] { k.current.Name },
                    Objects = new[] { "/d/f" },
                    Body = "the child dentry lacks DCACHE_INOTIFY_PARENT_WATCHED although its parent is watched: events on it skip the parent.\n",
                });
        });
    }
}
