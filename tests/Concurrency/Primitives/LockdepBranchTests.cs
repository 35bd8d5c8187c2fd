using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;
using static InotifySim.Tests.Concurrency.Primitives.DetectorTable;
using KMutex = InotifySim.Model.Kernel.Mutex;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>
/// Lockdep, one row per branch: every lock primitive and side that feeds it (mutex_lock, mutex_lock_nested,
/// spin_lock, down_read, down_write, the fs_reclaim annotation of GFP_KERNEL allocations and idr_pre_get),
/// inversion cycles of length 2, 3 and 4, recursive locking (same lock, same class), locks held when every
/// kind of entry point returns (sys_*, the audit-like module's audit_* entries), bad unlock of every
/// primitive, and might_sleep() under a spinlock for every sleeping operation.
/// </summary>
public class LockdepBranchTests
{
    public static readonly Branch[] Rows = BuildRows().ToArray();
    public static TheoryData<string> RowNames => Names(Rows);

    [Theory, MemberData(nameof(RowNames))]
    public void Planted_fault_fires_with_the_exact_report(string row) => AssertFires(Find(Rows, row));

    [Theory, MemberData(nameof(RowNames))]
    public void Silent_twin_stays_silent(string row) => AssertSilent(Find(Rows, row));

    [Fact]
    public void The_table_covers_every_lock_kind_in_every_lockdep_branch()
    {
        foreach (var kind in LockKind.All)
        {
            foreach (var prefix in new[] { "inversion-2", "recursive-same-lock", "held-at-return", "bad-unlock-not-held", "bad-unlock-other-owner" })
                Assert.Contains(Rows, r => r.Name == $"{prefix}/{kind.Name}");
        }
        foreach (var n in new[] { 3, 4 }) Assert.Contains(Rows, r => r.Name.StartsWith($"inversion-{n}/"));
    }

    private static IEnumerable<Branch> BuildRows()
    {
        // ------------------------------------------------ inversion cycles: c0 takes L0 then L1, ..., the last closes the cycle
        foreach (var kind in LockKind.All) yield return Cycle($"inversion-2/{kind.Name}", Enumerable.Repeat(kind, 2).ToArray());
        yield return Cycle("inversion-3/mutex_lock", new[] { LockKind.MutexLock, LockKind.MutexLock, LockKind.MutexLock });
        yield return Cycle("inversion-3/spin_lock", new[] { LockKind.SpinLock, LockKind.SpinLock, LockKind.SpinLock });
        yield return Cycle("inversion-3/down_read+down_write+mutex_lock_nested", new[] { LockKind.DownRead, LockKind.DownWrite, LockKind.MutexLockNested });
        yield return Cycle("inversion-4/mutex_lock", new[] { LockKind.MutexLock, LockKind.MutexLock, LockKind.MutexLock, LockKind.MutexLock });
        yield return Cycle("inversion-4/mixed-sleeping", new[] { LockKind.MutexLock, LockKind.DownRead, LockKind.DownWrite, LockKind.MutexLockNested });
        yield return Cycle("inversion-4/spin_lock", new[] { LockKind.SpinLock, LockKind.SpinLock, LockKind.SpinLock, LockKind.SpinLock });

        // ------------------------------------------------ fs_reclaim: a GFP_KERNEL allocation under a lock that reclaim takes
        yield return ReclaimAfter("fs-reclaim/kmem_cache_alloc-then-reclaim", (k, o) => k.Slab.kmem_cache_alloc("test_cache", Gfp.GFP_KERNEL, () => new TestObj(k)),
            (k, o) => k.Slab.kmem_cache_alloc("test_cache", Gfp.GFP_NOFS, () => new TestObj(k)));
        yield return ReclaimAfter("fs-reclaim/kmalloc-then-reclaim", (k, o) => k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k)),
            (k, o) => k.Slab.kmalloc(Gfp.GFP_NOFS, () => new TestObj(k)));
        yield return ReclaimAfter("fs-reclaim/idr_pre_get-then-reclaim", (k, o) => { o.Ids.idr_pre_get(Gfp.GFP_KERNEL); return null; },
            (k, o) => { o.Ids.idr_pre_get(Gfp.GFP_NOFS); return null; });
        yield return ReclaimBefore("fs-reclaim/reclaim-then-kmem_cache_alloc", (k, o) => k.Slab.kmem_cache_alloc("test_cache", Gfp.GFP_KERNEL, () => new TestObj(k)),
            (k, o) => k.Slab.kmem_cache_alloc("test_cache", Gfp.GFP_NOFS, () => new TestObj(k)));
        yield return ReclaimBefore("fs-reclaim/reclaim-then-idr_pre_get", (k, o) => { o.Ids.idr_pre_get(Gfp.GFP_KERNEL); return null; },
            (k, o) => { o.Ids.idr_pre_get(Gfp.GFP_ATOMIC); return null; });

        // ------------------------------------------------ recursive locking
        foreach (var kind in LockKind.All)
        {
            var cls = "class_" + kind.Name;
            yield return new Branch($"recursive-same-lock/{kind.Name}", BugClass.Deadlock,
                $"WARNING: possible recursive locking detected: {cls} in inner_lock",
                new[] { "inner_lock", "outer_lock" }, new[] { "rec" },
                k =>
                {
                    var l = kind.Make(k, "lock", cls);
                    Run(k, "rec", "outer_lock", () => { kind.Lock(l); In(k, "inner_lock", () => kind.Lock(l)); });
                },
                k =>
                {
                    var l = kind.Make(k, "lock", cls);
                    Run(k, "rec", "outer_lock", () => { kind.Lock(l); kind.Unlock(l); In(k, "inner_lock", () => { kind.Lock(l); kind.Unlock(l); }); });
                },
                "recursive locking of the same lock (self-deadlock)");
        }
        yield return new Branch("recursive-same-lock/other-subclass", BugClass.Deadlock,
            "WARNING: possible recursive locking detected: inode->i_mutex in inner_lock",
            new[] { "inner_lock", "outer_lock" }, new[] { "rec" },
            k =>
            {
                var m = new KMutex(k.Globals, "i_mutex", k.Lockdep.Class("inode->i_mutex"));
                Run(k, "rec", "outer_lock", () => { m.mutex_lock_nested(0); In(k, "inner_lock", () => m.mutex_lock_nested(1)); });
            },
            k =>
            {
                var cls = k.Lockdep.Class("inode->i_mutex");
                var m = new KMutex(k.Globals, "i_mutex", cls);
                var c = new KMutex(k.Globals, "child_i_mutex", cls);
                Run(k, "rec", "outer_lock", () => { m.mutex_lock_nested(0); In(k, "inner_lock", () => c.mutex_lock_nested(1)); c.mutex_unlock(); m.mutex_unlock(); });
            },
            "recursive locking of the same lock (self-deadlock)");
        foreach (var kind in new[] { LockKind.MutexLock, LockKind.SpinLock, LockKind.DownRead, LockKind.DownWrite })
        {
            var cls = "class_" + kind.Name;
            yield return new Branch($"recursive-same-class/{kind.Name}", BugClass.Deadlock,
                $"WARNING: possible recursive locking detected: {cls} in inner_lock",
                new[] { "inner_lock", "outer_lock" }, new[] { "rec" },
                k =>
                {
                    var a = kind.Make(k, "parent", cls);
                    var b = kind.Make(k, "child", cls);
                    Run(k, "rec", "outer_lock", () => { kind.Lock(a); In(k, "inner_lock", () => kind.Lock(b)); });
                },
                k =>
                {
                    // one at a time: no nesting, no report
                    var a = kind.Make(k, "parent", cls);
                    var b = kind.Make(k, "child", cls);
                    Run(k, "rec", "outer_lock", () => { kind.Lock(a); kind.Unlock(a); In(k, "inner_lock", () => { kind.Lock(b); kind.Unlock(b); }); });
                },
                "same class, no nesting annotation");
        }
        yield return new Branch("recursive-same-class/mutex_lock_nested-annotation", BugClass.Deadlock,
            "WARNING: possible recursive locking detected: inode->i_mutex in inner_lock",
            new[] { "inner_lock", "outer_lock" }, new[] { "rec" },
            k =>
            {
                var cls = k.Lockdep.Class("inode->i_mutex");
                var a = new KMutex(k.Globals, "parent", cls);
                var b = new KMutex(k.Globals, "child", cls);
                Run(k, "rec", "outer_lock", () => { a.mutex_lock_nested(1); In(k, "inner_lock", () => b.mutex_lock_nested(1)); });
            },
            k =>
            {
                var cls = k.Lockdep.Class("inode->i_mutex");
                var a = new KMutex(k.Globals, "parent", cls);
                var b = new KMutex(k.Globals, "child", cls);
                Run(k, "rec", "outer_lock", () => { a.mutex_lock(); In(k, "inner_lock", () => b.mutex_lock_nested(1)); b.mutex_unlock(); a.mutex_unlock(); });
            },
            "same class, no nesting annotation");

        // ------------------------------------------------ held at return, for every lock kind and every kind of entry point
        foreach (var kind in LockKind.All) yield return HeldAtReturn($"held-at-return/{kind.Name}", kind, "sys_held");
        foreach (var entry in new[] { "sys_inotify_add_watch", "sys_close", "audit_init", "audit_add_rule", "audit_remove_rule", "audit_exit", "inotify_kernel_entry" })
            yield return HeldAtReturn($"held-at-return/entry:{entry}", LockKind.MutexLock, entry);

        // ------------------------------------------------ bad unlock: not held, held by another task
        foreach (var kind in LockKind.All)
        {
            var cls = "class_" + kind.Name;
            string notHeld = kind.Name switch
            {
                "spin_lock" => "but the spinlock is not locked",
                "down_read" => "but the task does not hold it for reading",
                "down_write" => "but the task does not hold it for writing",
                _ => "but the mutex is not locked",
            };
            string other = kind.Name switch
            {
                "spin_lock" => "but the spinlock is owned by another task",
                "down_read" => "but the task does not hold it for reading",
                "down_write" => "but the task does not hold it for writing",
                _ => "but the mutex is owned by another task",
            };
            yield return new Branch($"bad-unlock-not-held/{kind.Name}", BugClass.BadUnlock,
                $"WARNING: bad unlock balance detected: {cls} in unlock_twice", new[] { "unlock_twice" }, new[] { "dbl" },
                k =>
                {
                    var l = kind.Make(k, "lock", cls);
                    Run(k, "dbl", "unlock_twice", () => { kind.Lock(l); kind.Unlock(l); kind.Unlock(l); });
                },
                k =>
                {
                    var l = kind.Make(k, "lock", cls);
                    Run(k, "dbl", "unlock_twice", () => { kind.Lock(l); kind.Unlock(l); kind.Lock(l); kind.Unlock(l); });
                },
                notHeld);
            yield return new Branch($"bad-unlock-other-owner/{kind.Name}", BugClass.BadUnlock,
                $"WARNING: bad unlock balance detected: {cls} in steal_unlock", new[] { "steal_unlock" }, new[] { "thief", "owner" },
                k =>
                {
                    var l = kind.Make(k, "lock", cls);
                    Run(k, "owner", "take_it", () => kind.Lock(l));
                    Run(k, "thief", "steal_unlock", () => kind.Unlock(l));
                },
                k =>
                {
                    var l = kind.Make(k, "lock", cls);
                    Run(k, "owner", "take_it", () => { kind.Lock(l); kind.Unlock(l); });
                    Run(k, "thief", "steal_unlock", () => { kind.Lock(l); kind.Unlock(l); });
                },
                other, "the lock is owned by task owner/");
        }

        // ------------------------------------------------ might_sleep() under a spinlock, for every sleeping operation
        yield return Atomic("sleep-in-atomic/mutex_lock", "sleeping in mutex_lock", k =>
        {
            var m = new KMutex(k.Globals, "m", k.Lockdep.Class("class_m"));
            return (() => m.mutex_lock(), () => m.mutex_unlock());
        });
        yield return Atomic("sleep-in-atomic/mutex_lock_nested", "sleeping in mutex_lock", k =>
        {
            var m = new KMutex(k.Globals, "m", k.Lockdep.Class("class_m"));
            return (() => m.mutex_lock_nested(1), () => m.mutex_unlock());
        });
        yield return Atomic("sleep-in-atomic/down_read", "sleeping in down_read", k =>
        {
            var s = new RwSemaphore(k.Globals, "sem", k.Lockdep.Class("class_sem"));
            return (() => s.down_read(), () => s.up_read());
        });
        yield return Atomic("sleep-in-atomic/down_write", "sleeping in down_write", k =>
        {
            var s = new RwSemaphore(k.Globals, "sem", k.Lockdep.Class("class_sem"));
            return (() => s.down_write(), () => s.up_write());
        });
        foreach (var gfp in new[] { Gfp.GFP_KERNEL, Gfp.GFP_NOFS })
        {
            yield return Atomic($"sleep-in-atomic/kmem_cache_alloc({gfp})", $"sleeping in kmem_cache_alloc({gfp})", k =>
            {
                TestObj? o = null;
                return (() => o = k.Slab.kmem_cache_alloc("test_cache", gfp, () => new TestObj(k)), () => k.Slab.kmem_cache_free("test_cache", o));
            });
            yield return Atomic($"sleep-in-atomic/idr_pre_get({gfp})", $"sleeping in idr_pre_get({gfp})", k =>
            {
                var o = new TestObj(k);
                return (() => o.Ids.idr_pre_get(gfp), () => { });
            });
        }
        yield return Atomic("sleep-in-atomic/kmalloc(GFP_KERNEL)", "sleeping in kmem_cache_alloc(GFP_KERNEL)", k =>
        {
            TestObj? o = null;
            return (() => o = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k)), () => k.Slab.kfree(o));
        });
        yield return Atomic("sleep-in-atomic/schedule", "sleeping in schedule", k =>
        {
            var o = new TestObj(k);
            return (() => o.Wq.schedule(), () => { }); // TASK_RUNNING: schedule() returns at once when not atomic
        });
    }

    /// <summary>
    /// n tasks c0..c(n-1) over classes L0..L(n-1); task ci takes L(i) in ci_outer, then L(i+1 mod n) in ci_inner.
    /// The last task closes the cycle: lockdep reports L(n-1) -> L0 with the chain L0 -> L1 -> ... -> L(n-1).
    /// The twin's last task takes L0 first (a global order: no cycle).
    /// </summary>
    private static Branch Cycle(string name, LockKind[] kinds)
    {
        int n = kinds.Length;
        string Cls(int i) => $"L{i}_{kinds[i].Name}";
        var fns = new List<string>();
        var threads = new List<string>();
        for (int i = n - 1; i >= 0; i--)
        {
            fns.Add($"c{i}_inner");
            fns.Add($"c{i}_outer");
            threads.Add($"c{i}");
        }
        ILockInstance[] Make(Kernel k) => Enumerable.Range(0, n).Select(i => kinds[i].Make(k, $"lock{i}", Cls(i))).ToArray();
        void Pair(Kernel k, ILockInstance[] ls, int task, int first, int second) => Run(k, $"c{task}", $"c{task}_outer", () =>
        {
            kinds[first].Lock(ls[first]);
            In(k, $"c{task}_inner", () => kinds[second].Lock(ls[second]));
            kinds[second].Unlock(ls[second]);
            kinds[first].Unlock(ls[first]);
        });
        return new Branch(name, BugClass.LockOrderInversion,
            $"WARNING: possible circular locking dependency detected: {Cls(n - 1)} -> {Cls(0)} in c{n - 1}_inner",
            fns.ToArray(), threads.ToArray(),
            k =>
            {
                var ls = Make(k);
                for (int i = 0; i < n - 1; i++) Pair(k, ls, i, i, i + 1);
                Assert.Equal(n - 1, k.Lockdep.DependencyCount);
                Seq.AssertSilent(k);
                Pair(k, ls, n - 1, n - 1, 0);
            },
            k =>
            {
                var ls = Make(k);
                for (int i = 0; i < n - 1; i++) Pair(k, ls, i, i, i + 1);
                Pair(k, ls, n - 1, 0, n - 1);
                Assert.Equal(n == 2 ? 1 : n, k.Lockdep.DependencyCount);
            },
            "WARNING: possible circular locking dependency detected", $"the new dependency: ({Cls(n - 1)}) -> ({Cls(0)})", "*** DEADLOCK ***");
    }

    /// <summary>A task allocates under inode_lock (inode_lock -> fs_reclaim); then reclaim takes inode_lock: fs_reclaim -> inode_lock closes the cycle.</summary>
    private static Branch ReclaimAfter(string name, Func<Kernel, TestObj, object?> alloc, Func<Kernel, TestObj, object?> safeAlloc)
    {
        Action<Kernel> Scenario(Func<Kernel, TestObj, object?> a) => k =>
        {
            var m = new KMutex(k.Globals, "inode_lock", k.Lockdep.Class("inode_lock"));
            var o = new TestObj(k);
            Run(k, "alloc", "alloc_outer", () =>
            {
                m.mutex_lock();
                In(k, "alloc_inner", () => a(k, o));
                m.mutex_unlock();
            });
            Run(k, "kswapd", "kswapd_fn", () => k.Lockdep.in_fs_reclaim(() => In(k, "prune_icache", () => { m.mutex_lock(); m.mutex_unlock(); })));
        };
        return new Branch(name, BugClass.LockOrderInversion,
            "WARNING: possible circular locking dependency detected: fs_reclaim -> inode_lock in prune_icache",
            new[] { "prune_icache", "shrink_icache_memory", "alloc_inner", "alloc_outer" }, new[] { "kswapd", "alloc" },
            Scenario(alloc), Scenario(safeAlloc), "(fs_reclaim) taken while holding (inode_lock)");
    }

    /// <summary>Reclaim takes inode_lock first (fs_reclaim -> inode_lock); then a GFP_KERNEL allocation under inode_lock closes the cycle.</summary>
    private static Branch ReclaimBefore(string name, Func<Kernel, TestObj, object?> alloc, Func<Kernel, TestObj, object?> safeAlloc)
    {
        Action<Kernel> Scenario(Func<Kernel, TestObj, object?> a) => k =>
        {
            var m = new KMutex(k.Globals, "inode_lock", k.Lockdep.Class("inode_lock"));
            var o = new TestObj(k);
            Run(k, "kswapd", "kswapd_fn", () => k.Lockdep.in_fs_reclaim(() => In(k, "prune_icache", () => { m.mutex_lock(); m.mutex_unlock(); })));
            Run(k, "alloc", "alloc_outer", () =>
            {
                m.mutex_lock();
                In(k, "alloc_inner", () => a(k, o));
                m.mutex_unlock();
            });
        };
        return new Branch(name, BugClass.LockOrderInversion,
            "WARNING: possible circular locking dependency detected: inode_lock -> fs_reclaim in alloc_inner",
            new[] { "alloc_inner", "alloc_outer", "prune_icache", "shrink_icache_memory" }, new[] { "alloc", "kswapd" },
            Scenario(alloc), Scenario(safeAlloc), "(inode_lock) taken while holding (fs_reclaim)");
    }

    private static Branch HeldAtReturn(string name, LockKind kind, string entry)
    {
        var cls = "class_" + kind.Name;
        return new Branch(name, BugClass.LockHeldAtReturn,
            $"WARNING: lock held when returning to user space: {cls} acquired in forget_unlock, returning from {entry}",
            new[] { entry, "forget_unlock" }, new[] { "leaker" },
            k =>
            {
                var l = kind.Make(k, "lock", cls);
                k.Spawn(k.NewTask("leaker", 0), () =>
                {
                    using var e = k.Entry(entry);
                    In(k, "forget_unlock", () => kind.Lock(l));
                });
            },
            k =>
            {
                var l = kind.Make(k, "lock", cls);
                k.Spawn(k.NewTask("leaker", 0), () =>
                {
                    using var e = k.Entry(entry);
                    In(k, "forget_unlock", () => kind.Lock(l));
                    kind.Unlock(l);
                });
            },
            $"is leaving the kernel from {entry} with locks still held!", $"({cls})");
    }

    /// <summary>A spinlock taken in atomic_outer, then a sleeping operation in atomic_inner; the twin runs it after spin_unlock.</summary>
    private static Branch Atomic(string name, string what, Func<Kernel, (Action op, Action undo)> make) =>
        new(name, BugClass.SleepInAtomic,
            "BUG: sleeping function called from invalid context in atomic_inner",
            new[] { "atomic_inner", "atomic_outer" }, new[] { "atomic" },
            k =>
            {
                var s = new Spinlock(k.Globals, "spin", k.Lockdep.Class("spin_class", spin: true));
                var (op, _) = make(k);
                Run(k, "atomic", "atomic_outer", () => { s.spin_lock(); In(k, "atomic_inner", op); });
            },
            k =>
            {
                var s = new Spinlock(k.Globals, "spin", k.Lockdep.Class("spin_class", spin: true));
                var (op, undo) = make(k);
                Run(k, "atomic", "atomic_outer", () => { s.spin_lock(); s.spin_unlock(); In(k, "atomic_inner", op); undo(); });
            },
            "in_atomic(): 1", what);
}
