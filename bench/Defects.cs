using InotifySim.Model;
using InotifySim.Model.Kernel;

namespace InotifySim.Bench;

/// <summary>
/// A known rfc defect, the scenario that should expose it (run on Variants.AllBut(fix)), and the
/// report it must produce: one of <see cref="Classes"/>, and at least one of <see cref="Hints"/>
/// among the report's functions or in its title. The expectations follow what each fix changes
/// (src/Model/Variants.cs and the Has(Fix.X) sites of the model).
/// </summary>
public sealed record Defect(string Fix, string Scenario, BugClass[] Classes, string[] Hints, string Why, bool Faults = false, bool Probe = false)
{
    public Fix Flag => Variants.ByName(Fix) ?? throw new ArgumentException("unknown fix " + Fix);
    public string Key => Faults ? $"{Fix} @ {Scenario}+faults" : $"{Fix} @ {Scenario}";

    public bool Matches(Report r) =>
        Classes.Contains(r.Class) && (Hints.Length == 0 || Hints.Any(h => r.Functions.Contains(h) || r.Title.Contains(h, StringComparison.Ordinal)));

    public string Expected => $"{string.Join("/", Classes.Select(c => c.Name()))}" + (Hints.Length == 0 ? " (any function)" : $" in {string.Join(" \\| ", Hints)}");
}

public static class Defects
{
    private static BugClass[] C(params BugClass[] c) => c;
    private static string[] H(params string[] h) => h;

    public static readonly IReadOnlyList<Defect> All = new Defect[]
    {
        new("ev-mutex-unlock", "event-vs-rm", C(BugClass.LockHeldAtReturn, BugClass.Deadlock, BugClass.LockOrderInversion), H("inotify_dev_queue_event", "ev_mutex"),
            "an early return of inotify_dev_queue_event (here: the failed kernel_event allocation, fault injection on) keeps dev->ev_mutex", Faults: true),
        new("ev-mutex-unlock", "workload", C(BugClass.LockHeldAtReturn, BugClass.Deadlock, BugClass.LockOrderInversion), H("inotify_dev_queue_event", "ev_mutex"),
            "an early return (coalesced duplicate, overflow) keeps dev->ev_mutex: held at return, or lockdep sees ev_mutex -> inotify_mutex"),
        new("destroy-recheck", "close-vs-death", C(BugClass.ListCorruption, BugClass.UseAfterFree, BugClass.DoubleFree), H("inotify_destroy"),
            "inotify_destroy removes a watch already removed by the inode's death: double list_del"),
        new("rm-wd-recheck", "rm-vs-death", C(BugClass.NullDereference), H("inotify_rm_wd"),
            "inotify_rm_wd puts the second idr_find's result, NULL when the watch vanished"),
        new("watch-destroy-op", "rm-vs-death", C(BugClass.UseAfterFree), H("remove_watch_no_event", "remove_watch"),
            "the IN_IGNORED callback frees the watch before remove_watch_no_event touches it"),
        new("destroy-leak", "close-vs-death", C(BugClass.Accounting, BugClass.Leak), H("inotify_destroy"),
            "inotify_destroy drops no reference: the user watch and its accounting leak at close"),
        new("oneshot-leak", "oneshot-vs-rm", C(BugClass.Accounting, BugClass.Leak), H(),
            "a fired IN_ONESHOT watch is never freed nor uncharged (found by the close-time accounting check)"),
        new("coalesce-empty", "event-vs-rm", C(BugClass.TypeConfusion), H("inotify_dev_queue_event"),
            "coalescing reads list_entry of the empty event queue"),
        new("instance-limit-race", "limit-race", C(BugClass.LimitExceeded), H("sys_inotify_init"),
            "check-then-increment of inotify_devs lets two inits pass max_user_instances"),
        new("watch-limit-race", "limit-race", C(BugClass.LimitExceeded), H("create_watch"),
            "check-then-increment of inotify_watches lets two adds pass max_user_watches"),
        new("find-watch-ref", "audit-vs-user", C(BugClass.UseAfterFree), H("inotify_rm_watch", "inotify_find_watch", "audit_remove_rule"),
            "inotify_find_watch returns an unreferenced watch; inotify_rm_watch then reads freed memory"),
        new("child-flags-race", "child-flags", C(BugClass.SpecViolation, BugClass.KernelWarning), H("set_dentry_child_flags"),
            "a child instantiated between set_dentry_child_flags and the list add misses the parent-watched flag"),
        new("umount-pin", "close-vs-umount", C(BugClass.BusyInodes, BugClass.UseAfterFree), H("generic_shutdown_super", "inotify_destroy", "inotify_rm_wd"),
            "a watch reference does not keep the superblock: umount finds busy inodes"),
        new("oneshot-unmount", "oneshot-vs-umount", C(BugClass.UseAfterFree, BugClass.RefcountUnderflow, BugClass.DoubleFree), H("inotify_unmount_inodes", "remove_watch"),
            "the IN_UNMOUNT callback of a oneshot watch drops the final reference before remove_watch"),
        new("oneshot-unmount-put", "oneshot-vs-umount", C(BugClass.UseAfterFree, BugClass.RefcountUnderflow, BugClass.DoubleFree), H("put_inotify_watch", "inotify_unmount_inodes"),
            "a oneshot watch that never fired is put twice at umount"),
        new("child-flags-warn", "workload", C(BugClass.KernelWarning), H("set_dentry_child_flags"),
            "WARN_ON on a negative child still flagged, a window d_delete leaves"),
        new("gfp-nofs", "workload", C(BugClass.LockOrderInversion, BugClass.Deadlock), H("shrink_icache_memory", "iprune_mutex"),
            "GFP_KERNEL under inotify locks may enter reclaim (iprune_mutex): lock-order cycle with umount"),
        new("ev-mutex-unlock", "event-vs-rm", C(BugClass.LockHeldAtReturn, BugClass.Deadlock, BugClass.LockOrderInversion), H("inotify_dev_queue_event", "ev_mutex"),
            "probe: no early-return path is reachable here without faults (no duplicate event, no event past the overflow)", Probe: true),
        new("ev-mutex-unlock", "read-vs-queue-limit", C(BugClass.LockHeldAtReturn, BugClass.Deadlock, BugClass.LockOrderInversion), H("inotify_dev_queue_event", "ev_mutex"),
            "the writer's fourth event (a duplicate, or past the overflow) takes an early return that keeps dev->ev_mutex"),
    };
}
