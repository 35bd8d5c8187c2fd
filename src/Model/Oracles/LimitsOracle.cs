using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;

namespace InotifySim.Model.Oracles;

/// <summary>Limits: no user holds more watches than max_user_watches, nor more instances than max_user_instances.</summary>
public sealed class LimitsOracle(Machine m) : Oracle(m)
{
    public override OracleSet Kind => OracleSet.Limits;

    public override void CheckQuiescent()
    {
        var s = M.Sysctl;
        foreach (var o in K.Slab.Live())
        {
            if (o is not UserStruct u) continue;
            if (u.inotify_watches.Peek > s.max_user_watches)
                Fail(BugClass.LimitExceeded, "inotify limit exceeded: ", $"user {u.Uid} has {u.inotify_watches.Peek} inotify watches, over max_user_watches {s.max_user_watches}", "create_watch", "sys_inotify_add_watch");
            if (u.inotify_devs.Peek > s.max_user_instances)
                Fail(BugClass.LimitExceeded, "inotify limit exceeded: ", $"user {u.Uid} has {u.inotify_devs.Peek} inotify instances, over max_user_instances {s.max_user_instances}", "sys_inotify_init");
        }
    }
}
