namespace InotifySim.Model;

/// <summary>
/// The named, separately switchable fixes of the seed's defects. The variant `rfc` applies
/// none (the code exactly as posted); `fixed` applies all. See docs/findings.md.
/// </summary>
[Flags]
public enum Fix
{
    None = 0,
    /// <summary>inotify_dev_queue_event returns with dev->ev_mutex held on its early-return paths (2.6.18: goto out).</summary>
    EvMutexUnlock = 1 << 0,
    /// <summary>inotify_destroy removes a watch without re-checking it is still installed ("XXX need second idr_find").</summary>
    DestroyRecheck = 1 << 1,
    /// <summary>inotify_rm_wd overwrites `watch` with the second idr_find and puts that pointer (NULL when it vanished).</summary>
    RmWdRecheck = 1 << 2,
    /// <summary>remove_watch calls the IN_IGNORED callback, which frees the watch, before remove_watch_no_event touches it.</summary>
    WatchDestroyOp = 1 << 3,
    /// <summary>inotify_destroy drops no reference for the consumer: user watches and the device leak at close.</summary>
    DestroyLeak = 1 << 4,
    /// <summary>IN_ONESHOT removal sends no IN_IGNORED and frees nothing: the user watch and its accounting leak.</summary>
    OneshotLeak = 1 << 5,
    /// <summary>Coalescing reads list_entry(dev->events.next) of an empty queue (a bogus event inside the device).</summary>
    CoalesceEmpty = 1 << 6,
    /// <summary>Coalescing compares with the oldest queued event instead of the newest: A,B,A loses the second A.</summary>
    CoalesceLast = 1 << 7,
    /// <summary>sys_inotify_init checks inotify_devs with atomic_read, then increments later: racing opens exceed max_user_instances.</summary>
    InstanceLimitRace = 1 << 8,
    /// <summary>create_watch checks inotify_watches with atomic_read, then increments: two instances of one user exceed max_user_watches.</summary>
    WatchLimitRace = 1 << 9,

    /// <summary>inotify_add_watch sets the children's DCACHE_INOTIFY_PARENT_WATCHED before the watch is on the inode's list: a child instantiated in between misses the flag (WARN_ON in set_dentry_child_flags, lost parent events).</summary>
    ChildFlagsRace = 1 << 10,

    /// <summary>inotify_find_watch returns the watch without a reference: the caller's later use (inotify_rm_watch reads watch->wd) races with its removal and free.</summary>
    FindWatchRef = 1 << 11,

    /// <summary>inotify_destroy and inotify_rm_wd pin a watch (and so its inode) across dropping ih->mutex: an umount in that window finds the inode busy and frees its superblock under it.</summary>
    UmountPin = 1 << 12,
    /// <summary>set_dentry_child_flags warns about a negative child still flagged, which d_delete leaves for a moment (it clears the flag after fsnotify_nameremove, without dcache_lock).</summary>
    ChildFlagsWarn = 1 << 13,

    /// <summary>On umount, the IN_UNMOUNT callback of an IN_ONESHOT watch drops its final reference, and remove_watch then touches the freed watch.</summary>
    OneshotUnmount = 1 << 14,
    /// <summary>GFP_KERNEL allocations under dev->ev_mutex / ih->mutex may enter reclaim, which takes iprune_mutex, held by umount around inotify_unmount_inodes: a lock-order cycle.</summary>
    GfpNofs = 1 << 15,

    /// <summary>Even with 6ee5a399, an IN_ONESHOT watch that never fired is put twice at umount (on IN_UNMOUNT as if it had fired, and on IN_IGNORED): the extra reference of inotify_unmount_inodes is then dropped on freed memory.</summary>
    OneshotUnmountPut = 1 << 16,

    All = OneshotUnmountPut | OneshotUnmount | GfpNofs | UmountPin | ChildFlagsWarn | FindWatchRef | ChildFlagsRace | EvMutexUnlock | DestroyRecheck | RmWdRecheck | WatchDestroyOp | DestroyLeak | OneshotLeak |
          CoalesceEmpty | CoalesceLast | InstanceLimitRace | WatchLimitRace,
}

public sealed record FixInfo(Fix Fix, string Name, string Description, Fix Requires, string Source);

public static class Variants
{
    public static readonly IReadOnlyList<FixInfo> Fixes = new[]
    {
        new FixInfo(Fix.EvMutexUnlock, "ev-mutex-unlock",
            "inotify_dev_queue_event: unlock dev->ev_mutex on every return path", Fix.None,
            "repost of 25 May 2006 (\"Fixed a deadlock in inotify_dev_queue_event()\"); Linux 2.6.18 inotify_dev_queue_event (goto out; mutex_unlock)"),
        new FixInfo(Fix.DestroyRecheck, "destroy-recheck",
            "inotify_destroy: second idr_find after re-taking the locks; skip a watch already removed", Fix.None,
            "Linux 2.6.18 fs/inotify.c inotify_destroy (\"make sure we didn't race with another list removal\")"),
        new FixInfo(Fix.RmWdRecheck, "rm-wd-recheck",
            "inotify_rm_wd: remove only if idr_find still returns the same watch, and put the watch we got", Fix.None,
            "Linux 2.6.18 fs/inotify.c inotify_rm_wd (idr_find(&ih->idr, wd) == watch)"),
        new FixInfo(Fix.WatchDestroyOp, "watch-destroy-op",
            "free the watch through a destroy_watch operation at the final put_inotify_watch; IN_IGNORED is sent after the watch is unlinked and the consumer drops its reference instead of freeing", Fix.None,
            "repost of 25 May 2006 (\"Re-ordered calls to event handler with IN_IGNORED events. Since caller may do final put here, this must be the last thing inotify does with an inotify_watch\"); Linux 2.6.18 struct inotify_operations, put_inotify_watch, inotify_remove_watch_locked"),
        new FixInfo(Fix.DestroyLeak, "destroy-leak",
            "inotify_destroy drops the reference of the handle's list, so the consumer's destroy_watch frees each watch", Fix.WatchDestroyOp,
            "repost of 25 May 2006 (\"Fixed memleaks in inotify_destroy()\"); Linux 2.6.18 inotify_destroy (put_inotify_watch after remove_watch_no_event)"),
        new FixInfo(Fix.OneshotLeak, "oneshot-leak",
            "inotify_dev_queue_event drops the final reference of an IN_ONESHOT watch", Fix.WatchDestroyOp,
            "2008 IN_ONESHOT fixes (ac74c00e, 6ee5a399): 2.6.18 tested the event mask and still leaked; put the final reference when w->mask & IN_ONESHOT"),
        new FixInfo(Fix.CoalesceEmpty, "coalesce-empty",
            "inotify_dev_queue_event: coalesce only when the queue is not empty", Fix.None,
            "commit 1c17d18e (2.6.25): inotify_dev_get_last_event returns NULL for an empty list"),
        new FixInfo(Fix.CoalesceLast, "coalesce-last",
            "inotify_dev_queue_event: compare with the newest queued event (dev->events.prev), as inotify(7) states", Fix.None,
            "commit 1c17d18e (2.6.25): coalesce with the last event, list_entry(dev->events.prev, ...)"),
        new FixInfo(Fix.InstanceLimitRace, "instance-limit-race",
            "sys_inotify_init: reserve the instance with atomic_inc_return and check the limit on the result", Fix.None,
            "commit b3b38d84 (2.6.34 era): atomic_inc_return on user->inotify_devs"),
        new FixInfo(Fix.WatchLimitRace, "watch-limit-race",
            "create_watch: reserve the watch with atomic_inc_return and check the limit on the result", Fix.None,
            "later kernels: per-user watch counts charged atomically (ucounts)"),
        new FixInfo(Fix.FindWatchRef, "find-watch-ref",
            "inotify_find_watch takes a reference on the watch it returns; the caller puts it", Fix.WatchDestroyOp,
            "A. Griffis, \"[PATCH] inotify kernel API\" repost, 25 May 2006; Linux 2.6.18 inotify_find_watch (get_inotify_watch(old); /* caller must put watch */)"),
        new FixInfo(Fix.UmountPin, "umount-pin",
            "pin_to_kill / unpin_and_kill: hold the superblock active (or wait for its shutdown on s_umount) instead of only a watch reference", Fix.None,
            "commit 8f7b0ba1 \"Fix inotify watch removal/umount races\" (Al Viro, v2.6.28-rc5)"),
        new FixInfo(Fix.ChildFlagsWarn, "child-flags-warn",
            "drop the negative-dentry WARN_ON of set_dentry_child_flags (d_delete's comment: \"remove this and other inotify debug checks after 2.6.18\")", Fix.None,
            "later fs/inotify.c: set_dentry_child_flags without WARN_ONs"),
        new FixInfo(Fix.OneshotUnmount, "oneshot-unmount",
            "inotify_unmount_inodes holds a reference on each watch across the IN_UNMOUNT callback and its removal", Fix.WatchDestroyOp,
            "commit 6ee5a399 \"inotify: fix IN_ONESHOT unmount event watcher\" (D. Monakhov, 2008)"),
        new FixInfo(Fix.OneshotUnmountPut, "oneshot-unmount-put",
            "the consumers drop an IN_ONESHOT watch's reference for the event that fired it, not for IN_UNMOUNT", Fix.WatchDestroyOp,
            "none in the kernel found: inotify was rebuilt on fsnotify in 2.6.31, which holds its own mark references (this project's fix)"),
        new FixInfo(Fix.GfpNofs, "gfp-nofs",
            "allocate with GFP_NOFS under inotify's locks (kernel_event's event and name, idr_pre_get in inotify_handle_get_wd)", Fix.None,
            "\"[patch] inotify: fix deadlock found by lockdep\" (A. van de Ven, 24 Jul 2006, 2.6.18-rc: kernel_event GFP_NOFS); later kernels for the name and the idr"),
        new FixInfo(Fix.ChildFlagsRace, "child-flags-race",
            "inotify_add_watch: set the children's flags after adding the watch to the inode's list (and drop the WARN_ONs that then misfire)", Fix.None,
            "later fs/inotify.c: \"Set child flags _after_ adding the watch, so there is no race windows where newly instantiated children could miss their parent's watched flag.\""),
    };

    public static FixInfo Info(Fix f)
    {
        foreach (var i in Fixes) if (i.Fix == f) return i;
        throw new ArgumentException("not a single fix: " + f);
    }

    public static string Name(this Fix f) => Info(f).Name;

    /// <summary>"rfc", "fixed", or the list of fix names.</summary>
    public static string Describe(Fix set)
    {
        if (set == Fix.None) return "rfc";
        if (set == Fix.All) return "fixed";
        var names = new List<string>();
        foreach (var i in Fixes) if ((set & i.Fix) != 0) names.Add(i.Name);
        return "rfc+" + string.Join(",", names);
    }

    /// <summary>
    /// Parses a variant ("rfc", "fixed") optionally followed by +fix,fix or -fix,fix
    /// (e.g. "fixed-ev-mutex-unlock" is not accepted; use "fixed" with --without), or a bare
    /// comma list of fix names on top of rfc. Returns null and an error naming the problem.
    /// </summary>
    public static Fix? Parse(string variant, IEnumerable<string>? with, IEnumerable<string>? without, out string? error)
    {
        error = null;
        Fix set;
        switch (variant)
        {
            case "rfc": set = Fix.None; break;
            case "fixed": set = Fix.All; break;
            default:
                error = $"unknown variant '{variant}' (variants: rfc, fixed)";
                return null;
        }
        foreach (var n in with ?? Array.Empty<string>())
        {
            var f = ByName(n);
            if (f is null) { error = UnknownFix(n); return null; }
            set |= f.Value;
        }
        foreach (var n in without ?? Array.Empty<string>())
        {
            var f = ByName(n);
            if (f is null) { error = UnknownFix(n); return null; }
            set &= ~f.Value;
        }
        error = Validate(set);
        return error is null ? set : null;
    }

    public static Fix? ByName(string name)
    {
        foreach (var i in Fixes) if (i.Name == name) return i.Fix;
        return null;
    }

    private static string UnknownFix(string n) =>
        $"unknown fix '{n}' (fixes: {string.Join(", ", Fixes.Select(f => f.Name))})";

    /// <summary>A fix set is valid when every fix's prerequisite is in it.</summary>
    public static string? Validate(Fix set)
    {
        foreach (var i in Fixes)
        {
            if ((set & i.Fix) != 0 && (set & i.Requires) != i.Requires)
                return $"fix '{i.Name}' requires '{Info(i.Requires).Name}'";
        }
        return null;
    }

    /// <summary>
    /// The fix set that isolates one defect: every fix but it (and its dependents). The 6ee5a399
    /// window (oneshot-unmount) is also closed by the project's oneshot-unmount-put, so that one
    /// is left out too.
    /// </summary>
    public static Fix ForDefect(Fix f)
    {
        var set = AllBut(f);
        if (f == Fix.OneshotUnmount) set &= ~Fix.OneshotUnmountPut;
        return set;
    }

    /// <summary>All fixes except <paramref name="f"/> and those that require it.</summary>
    public static Fix AllBut(Fix f)
    {
        var set = Fix.All & ~f;
        foreach (var i in Fixes)
        {
            if ((i.Requires & f) != 0) set &= ~i.Fix;
        }
        return set;
    }
}
