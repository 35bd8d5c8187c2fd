using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>Two instances of one user add watches at max_user_watches; two threads open instances at max_user_instances.</summary>
public sealed class LimitRace : Scenario
{
    public override string Name => "limit-race";
    public override string Description => "two instances of one user race past max_user_watches in create_watch; two processes race past max_user_instances in sys_inotify_init";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Add, MatrixOp.Add };

    public override void Configure(MachineOptions o)
    {
        o.MaxUserWatches = 1;
        o.MaxUserInstances = 3;
    }

    public override void Build(Sim s)
    {
        var p = s.M.NewProcess("a", 1000);
        var q = s.M.NewProcess("b", 1000);
        s.Do(p, m => m.Vfs.sys_mkdir("/tmp"), "mkdir"); // mkdir as uid 1000 in a 0777 root
        int fa = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        int fb = (int)s.Do(q, m => m.inotify_init_nonblock(), "inotify_init");
        s.Thread(p, () => { s.M.inotify_add_watch(fa, "/tmp", IN_CREATE); s.M.inotify_init(); });
        s.Thread(q, () => { s.M.inotify_add_watch(fb, "/tmp", IN_DELETE); s.M.inotify_init(); });
    }
}
