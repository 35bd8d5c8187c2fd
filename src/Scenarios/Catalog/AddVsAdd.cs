using InotifySim.Model;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>Two threads add a watch on the same inode through the same fd: one watch, one wd.</summary>
public sealed class AddVsAdd : Scenario
{
    public override string Name => "add-vs-add";
    public override string Description => "two threads of one process add a watch on the same inode and fd (up_mutex must prevent a double watch)";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Add, MatrixOp.Add };

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("watcher", 0);
        s.Do(p, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        var p2 = s.M.NewThread(p, "watcher-t2");
        long wd1 = 0, wd2 = 0;
        s.Thread(p, () => wd1 = s.M.inotify_add_watch(fd, "/d", IN_CREATE));
        s.Thread(p2, () => wd2 = s.M.inotify_add_watch(fd, "/d", IN_DELETE | IN_MASK_ADD));
        s.AtEnd(() =>
        {
            var k = s.M.K;
            // both calls succeeded (an injected allocation failure may fail either): one watch, one wd
            if (wd1 >= 0 && wd2 >= 0 && (wd1 != wd2 || wd1 == 0))
                k.Bug(new BugReport(BugClass.SpecViolation, $"inotify(7): two inotify_add_watch calls on one inode and fd returned wd {Errno.Ret(wd1)} and {Errno.Ret(wd2)}")
                {
                    Functions = new[] { "sys_inotify_add_watch", "inotify_find_update_watch", "create_watch" },
                    Threads = new[] { k.current.Name },
                    Body = "inotify(7): adding a watch for an inode already watched by this instance modifies the existing watch and returns its wd.\n",
                });
        });
    }
}
