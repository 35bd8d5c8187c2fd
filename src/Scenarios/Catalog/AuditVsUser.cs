using InotifySim.Model;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>The audit-like consumer and the syscall layer watch one inode while it dies.</summary>
public sealed class AuditVsUser : Scenario
{
    public override string Name => "audit-vs-user";
    public override string Description => "the audit-like kernel consumer removes its rule (inotify_find_watch + inotify_rm_watch) while a user watch is removed and the inode dies";
    public override IReadOnlyList<MatrixOp> ThreadOps => new[] { MatrixOp.Rm, MatrixOp.InodeDeath | MatrixOp.RenameUnlink | MatrixOp.Event, MatrixOp.Rm };

    public override void Configure(MachineOptions o) => o.Audit = true;

    public override void Build(Sim s)
    {
        var root = s.M.NewProcess("auditctl", 0);
        s.Do(root, m => m.Vfs.sys_mkdir("/d"), "mkdir");
        s.Touch(root, "/d/f");
        s.Do(root, m => m.Audit!.audit_add_rule("/d/f", IN_ALL_EVENTS), "audit_add_rule");
        var p = s.M.NewProcess("watcher", 0);
        int fd = (int)s.Do(p, m => m.inotify_init_nonblock(), "inotify_init");
        int wd = (int)s.Do(p, m => m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS), "add_watch");
        var q = s.M.NewProcess("unlinker", 0);
        s.Thread(root, () => s.M.Audit!.audit_remove_rule("/d/f"));
        s.Thread(q, () => s.M.Vfs.sys_unlink("/d/f"));
        s.Thread(p, () => s.M.inotify_rm_watch(fd, wd));
    }
}
