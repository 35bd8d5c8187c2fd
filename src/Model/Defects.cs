using System.Text;
using InotifySim.Model.Kernel;

namespace InotifySim.Model;

/// <summary>
/// What a defect's report must say: one of its classes (a defect may show as more than one: the
/// ev_mutex kept at return is "held at return" when the syscall returns, a lock-order inversion
/// when the same call then takes another lock), and every listed kernel function among the
/// report's functions. The one schema of an expected report (finds tests, bench, record-traces).
/// </summary>
public sealed record ExpectedReport(IReadOnlyList<BugClass> Classes, IReadOnlyList<string> Functions)
{
    public bool Matches(Report r) => Classes.Contains(r.Class) && Functions.All(f => r.Functions.Contains(f));
    /// <summary>Also accept <paramref name="c"/>.</summary>
    public ExpectedReport Or(BugClass c) => this with { Classes = Classes.Append(c).ToList() };
    public string ClassList => string.Join(" or ", Classes.Select(c => c.Name()));
    public string FunctionList => string.Join(", ", Functions);
    public override string ToString() => $"{ClassList} in {FunctionList}";
}

/// <summary>
/// A scenario where a defect shows, on <see cref="Variants.ForDefect"/>, with PCT and seed 1
/// (bench `--registry` measures every showing): the report it gives, the budget the finds test allows, and the iteration
/// of the first bug as measured (the finds test checks it: when the model or the scheduler
/// changes, update <see cref="Measured"/> here and the table in docs/findings.md).
/// </summary>
/// <param name="Preemptions">The fewest preemptions with which `verify` finds it (iterative context bounding
/// finds it at this bound and exhausts the bound below clean); -1 when the scenario's schedule tree is too large
/// for verify (the generated workload's larger shapes).</param>
/// <param name="VerifySchedules">The schedule at which `verify --preemptions <see cref="Preemptions"/>` finds it.</param>
public sealed record Showing(string Scenario, ExpectedReport Report, int Budget, int Measured, bool Faults = false, int Preemptions = -1, int VerifySchedules = -1)
{
    /// <summary>The catalogue scenario this one is an instance of ("workload:threads=2,ops=3" is a "workload").</summary>
    public string Family => Scenario.Split(':')[0];
    public string Label => Faults ? Scenario + " (faults)" : Scenario;
    /// <summary>A catalogue scenario (not an instance of the workload with other parameters, which only record-traces tries).</summary>
    public bool InCatalogue => Scenario == Family;
}

/// <summary>
/// One defect of the seed (or of the merged API), declared once: the fix that repairs it, where it
/// comes from, the scenarios that show it in preference order and the report each gives.
/// Everything else is derived: <see cref="Variants"/> (the fix list, `list fixes`), the finds tests,
/// `record-traces` (src/Scenarios/Traces/DefectTraces.cs), the bench pairings (bench/Defects.cs),
/// the targets `list scenarios` prints, and the table of docs/findings.md (checked by a test).
/// </summary>
/// <param name="Fix">The flag that switches the fix on.</param>
/// <param name="Name">The fix's name on the command line and in trace files.</param>
/// <param name="Bug">What is wrong (the defect).</param>
/// <param name="Description">What the fix changes (`list fixes`).</param>
/// <param name="Requires">The fix this one builds on (a usage error without it).</param>
/// <param name="Origin">Where the defect comes from (docs/findings.md's legend: seed, 2.6.17, 2.6.18+ ...).</param>
/// <param name="Source">Where the fix comes from.</param>
/// <param name="Finding">The number of the defect's entry in docs/findings.md (its table row and its numbered item).</param>
/// <param name="UserVisibleOnly">Null when a detector reports the defect; else why no scenario shows it and which tests do.</param>
/// <param name="Shows">The scenarios that show it, in preference order (record-traces tries them in this order).</param>
public sealed record Defect(Fix Fix, string Name, string Bug, string Description, Fix Requires, string Origin, string Source,
    int Finding, string? UserVisibleOnly, IReadOnlyList<Showing> Shows)
{
    /// <summary>The regression trace record-traces writes: traces/&lt;name&gt;.json (none for a user-visible-only defect).</summary>
    public string? TraceFile => Shows.Count == 0 ? null : Name + ".json";

    /// <summary>The scenarios record-traces tries, in order (fault-injection showings need faults, which it does not use).</summary>
    public IEnumerable<string> TraceScenarios => Shows.Where(s => !s.Faults).Select(s => s.Scenario);
}

/// <summary>The defect registry. Adding a defect: a <see cref="Fix"/> flag, an entry here, and its Has(Fix.X) branch in the model.</summary>
public static class Defects
{
    private static ExpectedReport R(BugClass c, params string[] functions) => new(new[] { c }, functions);

    public static readonly IReadOnlyList<Defect> All = new Defect[]
    {
        new(Fix.EvMutexUnlock, "ev-mutex-unlock",
            "inotify_dev_queue_event returns with dev->ev_mutex held on its early-return paths (2.6.18: goto out).",
            "inotify_dev_queue_event: unlock dev->ev_mutex on every return path", Fix.None,
            "seed",
            "repost of 25 May 2006 (\"Fixed a deadlock in inotify_dev_queue_event()\"); Linux 2.6.18 inotify_dev_queue_event (goto out; mutex_unlock)",
            1, null, new Showing[]
            {
                new("read-vs-queue-limit", R(BugClass.LockHeldAtReturn, "inotify_dev_queue_event"), 1000, 1, Preemptions: 0, VerifySchedules: 1),
                new("event-vs-rm", R(BugClass.LockHeldAtReturn, "inotify_dev_queue_event"), 1000, 2, Faults: true, Preemptions: 0, VerifySchedules: 2),
                // in the workload the kept ev_mutex shows either at the syscall's return or, when the same call
                // queues another event, to lockdep as ev_mutex -> inode->inotify_mutex (inotify_inode_queue_event)
                new("workload:threads=1,ops=4", R(BugClass.LockOrderInversion, "inotify_dev_queue_event").Or(BugClass.LockHeldAtReturn), 1000, 1),
                new("workload:threads=2,ops=3", R(BugClass.LockHeldAtReturn, "inotify_dev_queue_event").Or(BugClass.LockOrderInversion), 1000, 20),
                new("workload", R(BugClass.LockOrderInversion, "inotify_dev_queue_event").Or(BugClass.LockHeldAtReturn), 1000, 1),
            }),
        new(Fix.DestroyRecheck, "destroy-recheck",
            "inotify_destroy removes a watch without re-checking it is still installed (\"XXX need second idr_find\").",
            "inotify_destroy: second idr_find after re-taking the locks; skip a watch already removed", Fix.None,
            "seed (\"XXX need second idr_find\")",
            "Linux 2.6.18 fs/inotify.c inotify_destroy (\"make sure we didn't race with another list removal\")",
            2, null, new Showing[]
            {
                new("close-vs-death", R(BugClass.ListCorruption, "remove_watch_no_event", "inotify_destroy"), 1000, 20, Preemptions: 1, VerifySchedules: 6),
            }),
        new(Fix.RmWdRecheck, "rm-wd-recheck",
            "inotify_rm_wd overwrites `watch` with the second idr_find and puts that pointer (NULL when it vanished).",
            "inotify_rm_wd: remove only if idr_find still returns the same watch, and put the watch we got", Fix.None,
            "seed",
            "Linux 2.6.18 fs/inotify.c inotify_rm_wd (idr_find(&ih->idr, wd) == watch)",
            3, null, new Showing[]
            {
                new("rm-vs-death", R(BugClass.NullDereference, "inotify_rm_wd"), 1000, 20, Preemptions: 1, VerifySchedules: 5),
                new("rm-vs-rm", R(BugClass.NullDereference, "inotify_rm_wd"), 1000, 20, Preemptions: 1, VerifySchedules: 8),
                new("oneshot-vs-rm", R(BugClass.NullDereference, "inotify_rm_wd"), 1000, 28, Preemptions: 1, VerifySchedules: 12),
            }),
        new(Fix.WatchDestroyOp, "watch-destroy-op",
            "remove_watch calls the IN_IGNORED callback, which frees the watch, before remove_watch_no_event touches it.",
            "free the watch through a destroy_watch operation at the final put_inotify_watch; IN_IGNORED is sent after the watch is unlinked and the consumer drops its reference instead of freeing", Fix.None,
            "seed",
            "repost of 25 May 2006 (\"Re-ordered calls to event handler with IN_IGNORED events. Since caller may do final put here, this must be the last thing inotify does with an inotify_watch\"); Linux 2.6.18 struct inotify_operations, put_inotify_watch, inotify_remove_watch_locked",
            4, null, new Showing[]
            {
                new("rm-vs-death", R(BugClass.UseAfterFree, "remove_watch_no_event", "free_inotify_user_watch"), 1000, 1, Preemptions: 0, VerifySchedules: 1),
                new("event-vs-rm", R(BugClass.UseAfterFree, "remove_watch_no_event", "free_inotify_user_watch"), 1000, 1, Preemptions: 0, VerifySchedules: 1),
                new("rm-vs-rm", R(BugClass.UseAfterFree, "remove_watch_no_event", "free_inotify_user_watch"), 1000, 1, Preemptions: 0, VerifySchedules: 1),
                // the audit-like consumer or the user layer frees its watch on IN_IGNORED, depending on the schedule
                new("audit-vs-user", R(BugClass.UseAfterFree, "remove_watch_no_event", "remove_watch"), 1000, 1, Preemptions: 0, VerifySchedules: 1),
            }),
        new(Fix.DestroyLeak, "destroy-leak",
            "inotify_destroy drops no reference for the consumer: user watches and the device leak at close.",
            "inotify_destroy drops the reference of the handle's list, so the consumer's destroy_watch frees each watch", Fix.WatchDestroyOp,
            "seed",
            "repost of 25 May 2006 (\"Fixed memleaks in inotify_destroy()\"); Linux 2.6.18 inotify_destroy (put_inotify_watch after remove_watch_no_event)",
            5, null, new Showing[]
            {
                new("close-vs-death", R(BugClass.Accounting, "inotify_destroy", "free_inotify_user_watch"), 1000, 1, Preemptions: 0, VerifySchedules: 1),
            }),
        new(Fix.OneshotLeak, "oneshot-leak",
            "IN_ONESHOT removal sends no IN_IGNORED and frees nothing: the user watch and its accounting leak.",
            "inotify_dev_queue_event drops the final reference of an IN_ONESHOT watch", Fix.WatchDestroyOp,
            "seed (and 2.6.18 until 2008)",
            "2008 IN_ONESHOT fixes (ac74c00e, 6ee5a399): 2.6.18 tested the event mask and still leaked; put the final reference when w->mask & IN_ONESHOT",
            6, null, new Showing[]
            {
                new("oneshot-vs-rm", R(BugClass.Accounting, "inotify_inode_queue_event", "remove_watch_no_event"), 1000, 3, Preemptions: 0, VerifySchedules: 1),
            }),
        new(Fix.CoalesceEmpty, "coalesce-empty",
            "Coalescing reads list_entry(dev->events.next) of an empty queue (a bogus event inside the device).",
            "inotify_dev_queue_event: coalesce only when the queue is not empty", Fix.None,
            "2.6.17",
            "commit 1c17d18e (2.6.25): inotify_dev_get_last_event returns NULL for an empty list",
            7, null, new Showing[]
            {
                new("read-vs-queue-limit", R(BugClass.TypeConfusion, "inotify_dev_queue_event"), 1000, 1, Preemptions: 0, VerifySchedules: 1),
                new("event-vs-rm", R(BugClass.TypeConfusion, "inotify_dev_queue_event"), 1000, 1, Preemptions: 0, VerifySchedules: 1),
                new("workload:threads=2,ops=3", R(BugClass.TypeConfusion, "inotify_dev_queue_event"), 1000, 1, Preemptions: 0, VerifySchedules: 73),
            }),
        new(Fix.CoalesceLast, "coalesce-last",
            "Coalescing compares with the oldest queued event instead of the newest: A,B,A loses the second A.",
            "inotify_dev_queue_event: compare with the newest queued event (dev->events.prev), as inotify(7) states", Fix.None,
            "2.6.17 (fixed 2.6.25)",
            "commit 1c17d18e (2.6.25): coalesce with the last event, list_entry(dev->events.prev, ...)",
            8, null, new Showing[]
            {
                // the user-visible oracle (src/Model/Oracles/UserVisibleOracle.cs): no order of the operations explains
                // what the reader got against the reference specification (the lost second event, no IN_Q_OVERFLOW)
                new("read-vs-queue-limit", R(BugClass.SpecViolation, "inotify_dev_queue_event", "inotify_read"), 1000, 1),
            }),
        new(Fix.InstanceLimitRace, "instance-limit-race",
            "sys_inotify_init checks inotify_devs with atomic_read, then increments later: racing opens exceed max_user_instances.",
            "sys_inotify_init: reserve the instance with atomic_inc_return and check the limit on the result", Fix.None,
            "2.6.17 (until 2.6.34 era)",
            "commit b3b38d84 (2.6.34 era): atomic_inc_return on user->inotify_devs",
            9, null, new Showing[]
            {
                new("limit-race", R(BugClass.LimitExceeded, "sys_inotify_init"), 1000, 2, Preemptions: 1, VerifySchedules: 31),
            }),
        new(Fix.WatchLimitRace, "watch-limit-race",
            "create_watch checks inotify_watches with atomic_read, then increments: two instances of one user exceed max_user_watches.",
            "create_watch: reserve the watch with atomic_inc_return and check the limit on the result", Fix.None,
            "2.6.17",
            "later kernels: per-user watch counts charged atomically (ucounts)",
            10, null, new Showing[]
            {
                new("limit-race", R(BugClass.LimitExceeded, "create_watch"), 1000, 35, Preemptions: 1, VerifySchedules: 14),
            }),
        new(Fix.FindWatchRef, "find-watch-ref",
            "inotify_find_watch returns the watch without a reference: the caller's later use (inotify_rm_watch reads watch->wd) races with its removal and free.",
            "inotify_find_watch takes a reference on the watch it returns; the caller puts it", Fix.WatchDestroyOp,
            "seed (API)",
            "A. Griffis, \"[PATCH] inotify kernel API\" repost, 25 May 2006; Linux 2.6.18 inotify_find_watch (get_inotify_watch(old); /* caller must put watch */)",
            11, null, new Showing[]
            {
                new("audit-vs-user", R(BugClass.UseAfterFree, "inotify_rm_watch", "audit_destroy_watch"), 1000, 3, Preemptions: 1, VerifySchedules: 42),
            }),
        new(Fix.UmountPin, "umount-pin",
            "inotify_destroy and inotify_rm_wd pin a watch (and so its inode) across dropping ih->mutex: an umount in that window finds the inode busy and frees its superblock under it.",
            "pin_to_kill / unpin_and_kill: hold the superblock active (or wait for its shutdown on s_umount) instead of only a watch reference", Fix.None,
            "2.6.18+ (until 2.6.28)",
            "commit 8f7b0ba1 \"Fix inotify watch removal/umount races\" (Al Viro, v2.6.28-rc5)",
            14, null, new Showing[]
            {
                // the data-race detector may report the cause before the busy inodes (pct does): the watch's last iput reads
                // sb->s_flags (MS_ACTIVE) in iput_final while generic_shutdown_super clears it, which a pinned superblock
                // rules out; verify's first buggy schedule still ends in the busy inodes
                new("close-vs-umount", R(BugClass.DataRace, "generic_shutdown_super").Or(BugClass.BusyInodes), 1000, 9, Preemptions: 1, VerifySchedules: 6),
                new("rm-vs-umount", R(BugClass.DataRace, "generic_shutdown_super").Or(BugClass.BusyInodes), 1000, 2, Preemptions: 1, VerifySchedules: 5),
            }),
        new(Fix.ChildFlagsWarn, "child-flags-warn",
            "set_dentry_child_flags warns about a negative child still flagged, which d_delete leaves for a moment (it clears the flag after fsnotify_nameremove, without dcache_lock).",
            "drop the negative-dentry WARN_ON of set_dentry_child_flags (d_delete's comment: \"remove this and other inotify debug checks after 2.6.18\")", Fix.None,
            "2.6.17",
            "later fs/inotify.c: set_dentry_child_flags without WARN_ONs",
            13, null, new Showing[]
            {
                new("workload:threads=2,ops=3", R(BugClass.KernelWarning, "set_dentry_child_flags"), 1000, 428),
                new("workload:threads=3,ops=4", R(BugClass.KernelWarning, "set_dentry_child_flags"), 1000, 45),
                // the warning, or the data-race detector seeing its cause first (d_delete's unlocked
                // "dentry->d_flags &= ~DCACHE_INOTIFY_PARENT_WATCHED" against set_dentry_child_flags' update of the
                // same flags under the child's d_lock): which comes first depends on the schedule
                new("workload", R(BugClass.KernelWarning, "set_dentry_child_flags").Or(BugClass.DataRace), 1000, 45),
            }),
        new(Fix.OneshotUnmount, "oneshot-unmount",
            "On umount, the IN_UNMOUNT callback of an IN_ONESHOT watch drops its final reference, and remove_watch then touches the freed watch.",
            "inotify_unmount_inodes holds a reference on each watch across the IN_UNMOUNT callback and its removal", Fix.WatchDestroyOp,
            "2.6.25 (a consequence of the 2008 oneshot fix)",
            "commit 6ee5a399 \"inotify: fix IN_ONESHOT unmount event watcher\" (D. Monakhov, 2008)",
            15, null, new Showing[]
            {
                new("oneshot-vs-umount", R(BugClass.UseAfterFree, "remove_watch", "inotify_unmount_inodes"), 1000, 1, Preemptions: 0, VerifySchedules: 2),
                new("workload:threads=2,ops=3", R(BugClass.UseAfterFree, "remove_watch", "inotify_unmount_inodes"), 1000, 28),
                new("workload:threads=3,ops=4", R(BugClass.UseAfterFree, "remove_watch", "inotify_unmount_inodes"), 1000, 51),
            }),
        new(Fix.OneshotUnmountPut, "oneshot-unmount-put",
            "Even with 6ee5a399, an IN_ONESHOT watch that never fired is put twice at umount (on IN_UNMOUNT as if it had fired, and on IN_IGNORED): the extra reference of inotify_unmount_inodes is then dropped on freed memory.",
            "the consumers drop an IN_ONESHOT watch's reference for the event that fired it, not for IN_UNMOUNT", Fix.WatchDestroyOp,
            "2.6.25-2.6.30 (see below)",
            "none in the kernel found: inotify was rebuilt on fsnotify in 2.6.31, which holds its own mark references (this project's fix)",
            16, null, new Showing[]
            {
                new("oneshot-vs-umount", R(BugClass.UseAfterFree, "put_inotify_watch", "inotify_unmount_inodes"), 1000, 1, Preemptions: 0, VerifySchedules: 2),
                new("workload:threads=2,ops=3", R(BugClass.UseAfterFree, "put_inotify_watch", "inotify_unmount_inodes"), 1000, 28),
                new("workload:threads=3,ops=4", R(BugClass.UseAfterFree, "put_inotify_watch", "inotify_unmount_inodes"), 1000, 51),
            }),
        new(Fix.GfpNofs, "gfp-nofs",
            "GFP_KERNEL allocations under dev->ev_mutex / ih->mutex may enter reclaim, which takes iprune_mutex, held by umount around inotify_unmount_inodes: a lock-order cycle.",
            "allocate with GFP_NOFS under inotify's locks (kernel_event's event and name, idr_pre_get in inotify_handle_get_wd)", Fix.None,
            "seed and 2.6.18-rc",
            "\"[patch] inotify: fix deadlock found by lockdep\" (A. van de Ven, 24 Jul 2006, 2.6.18-rc: kernel_event GFP_NOFS); later kernels for the name and the idr",
            17, null, new Showing[]
            {
                new("add-vs-umount", R(BugClass.LockOrderInversion, "inotify_unmount_inodes", "shrink_icache_memory"), 1000, 3, Preemptions: 0, VerifySchedules: 1),
                new("rm-vs-umount", R(BugClass.LockOrderInversion, "inotify_unmount_inodes", "shrink_icache_memory"), 1000, 2, Preemptions: 0, VerifySchedules: 2),
                new("close-vs-umount", R(BugClass.LockOrderInversion, "inotify_unmount_inodes", "shrink_icache_memory"), 1000, 2, Preemptions: 0, VerifySchedules: 2),
                new("workload:threads=2,ops=3", R(BugClass.LockOrderInversion, "inotify_unmount_inodes", "shrink_icache_memory"), 1000, 12),
                new("workload:threads=3,ops=4", R(BugClass.LockOrderInversion, "inotify_unmount_inodes", "shrink_icache_memory"), 1000, 17),
                new("workload", R(BugClass.LockOrderInversion, "inotify_unmount_inodes", "shrink_icache_memory"), 1000, 22),
            }),
        new(Fix.ChildFlagsRace, "child-flags-race",
            "inotify_add_watch sets the children's DCACHE_INOTIFY_PARENT_WATCHED before the watch is on the inode's list: a child instantiated in between misses the flag (WARN_ON in set_dentry_child_flags, lost parent events).",
            "inotify_add_watch: set the children's flags after adding the watch to the inode's list (and drop the WARN_ONs that then misfire)", Fix.None,
            "2.6.17",
            "later fs/inotify.c: \"Set child flags _after_ adding the watch, so there is no race windows where newly instantiated children could miss their parent's watched flag.\"",
            12, null, new Showing[]
            {
                new("child-flags", R(BugClass.SpecViolation, "inotify_add_watch", "set_dentry_child_flags"), 1000, 41, Preemptions: 1, VerifySchedules: 24),
            }),
        new(Fix.NameSnapshot, "name-snapshot",
            "The fsnotify hooks that run without the parent's i_mutex (access, modify, open, close, xattr, change) read dentry->d_name.name for the parent's event with no lock, racing d_move's rewrite of the name (a torn name, or one freed with the target dentry).",
            "take_dentry_name_snapshot: the hooks copy the name under dentry->d_lock (d_move holds both dentries' d_lock)", Fix.None,
            "2.6.17 (until 4.13)",
            "commit 49d31c2f \"dentry name snapshots\" (Al Viro, v4.13, CVE-2017-7533): __fsnotify_parent takes a name snapshot",
            18, null, new Showing[]
            {
                // the data-race detector (src/Model/Kernel/Kcsan.cs): the hook's read of d_name against d_move's write
                new("workload", R(BugClass.DataRace, "d_move"), 1000, 35),
            }),
        new(Fix.ReadCheckDequeue, "read-check-dequeue",
            "inotify_read checks !list_empty(&dev->events) under ev_mutex, drops it, re-takes it to dequeue: a concurrent reader can empty the queue in between, and the read returns 0 (an EOF to user space) instead of -EAGAIN or sleeping.",
            "inotify_read: keep dev->ev_mutex from the queue check to the dequeue (an empty queue means -EAGAIN or sleep again)", Fix.None,
            "2.6.17 (until 2.6.29)",
            "\"inotify: clean up inotify_read and fix locking problems\" (V. Nossum, Linus Torvalds; 2.6.29-rc3, CVE-2009-0935): get_one_event under ev_mutex in the wait loop",
            19, null, new Showing[]
            {
                // the user-visible oracle: the read that lost the race returned 0, where every order gives -EAGAIN.
                // The workload shows it too (probabilistic, seed 0: `hunt --scenario all`, worker 0, iteration 279),
                // but PCT from seed 1 does not within 5000 schedules, so it is not a showing here.
                new("read-vs-read", R(BugClass.SpecViolation, "inotify_dev_queue_event", "inotify_read"), 1000, 107, Preemptions: 1, VerifySchedules: 5),
            }),
    };

    /// <summary>Every fix (what the `fixed` variant applies).</summary>
    public static Fix AllFixes { get; } = All.Aggregate(Fix.None, (s, d) => s | d.Fix);

    public static Defect Of(Fix f) => All.FirstOrDefault(d => d.Fix == f) ?? throw new ArgumentException("not a single fix: " + f);

    public static Defect? ByName(string name) => All.FirstOrDefault(d => d.Name == name);

    /// <summary>The defects a catalogue scenario shows (`list scenarios`): those with a showing in it or in an instance of it.</summary>
    public static Fix TargetsOf(string scenario) =>
        All.Where(d => d.Shows.Any(s => s.Scenario == scenario || s.Family == scenario)).Aggregate(Fix.None, (t, d) => t | d.Fix);

    /// <summary>
    /// The table of docs/findings.md, as the registry states it (a test checks the document against
    /// it): per defect its showings in catalogue scenarios, each with the iteration of the first bug.
    /// </summary>
    public static string FindingsTable()
    {
        var sb = new StringBuilder();
        sb.Append("| # | fix name | origin | class found | kernel functions | scenario | iterations to first bug (pct, seed 1) | fewest preemptions (verify: schedules to the bug) |\n");
        sb.Append("|---|---|---|---|---|---|---|---|\n");
        foreach (var d in All.OrderBy(d => d.Finding))
        {
            string cls, fns, scen, its, ver;
            if (d.UserVisibleOnly != null)
            {
                (cls, fns, scen, its, ver) = ("user-visible only (no detector)", "—", "sequential + property tests", "—", "—");
            }
            else
            {
                var measured = d.Shows.Where(s => s.InCatalogue).ToList();
                // one value when every showing agrees, else one per showing, aligned with the scenarios
                static string Column(IEnumerable<string> xs) { var l = xs.ToList(); return string.Join(" / ", l.Distinct().Count() == 1 ? l.Take(1) : l); }
                cls = Column(measured.Select(s => s.Report.ClassList));
                fns = Column(measured.Select(s => s.Report.FunctionList));
                scen = string.Join(" / ", measured.Select(s => s.Label));
                its = string.Join(" / ", measured.Select(s => s.Measured.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                ver = string.Join(" / ", measured.Select(s => s.Preemptions < 0 ? "— (tree too large)" : $"{s.Preemptions} ({s.VerifySchedules})"));
            }
            sb.Append($"| {d.Finding} | `{d.Name}` | {d.Origin} | {cls} | {fns} | {scen} | {its} | {ver} |\n");
        }
        return sb.ToString();
    }
}
