using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;
using KMutex = InotifySim.Model.Kernel.Mutex;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>Sequential lockdep detectors: inversion, recursion, held at return, bad unlock, sleep in atomic.</summary>
public class LockdepTests
{
    private static (Kernel k, KMutex a, KMutex b) TwoLocks()
    {
        var k = new Kernel();
        var a = new KMutex(k.Globals, "lock_a", k.Lockdep.Class("class_A"));
        var b = new KMutex(k.Globals, "lock_b", k.Lockdep.Class("class_B"));
        return (k, a, b);
    }

    // ------------------------------------------------------------ lock-order inversion

    [Fact]
    public void Inversion_AB_then_BA_reports_both_chains_without_any_deadlock()
    {
        var (k, a, b) = TwoLocks();
        var t1 = k.NewTask("worker1", 0);
        var t2 = k.NewTask("worker2", 0);
        k.Spawn(t1, () =>
        {
            using var e = k.Entry("sys_one");
            using var f = k.Fn("one_take_a");
            a.mutex_lock();
            using (k.Fn("one_take_b"))
            {
                b.mutex_lock();
                b.mutex_unlock();
            }
            a.mutex_unlock();
        });
        Assert.Equal(1, k.Lockdep.DependencyCount);
        Seq.AssertSilent(k);

        var r = Seq.ExpectBug(k, () => k.Spawn(t2, () =>
        {
            using var e = k.Entry("sys_two");
            using var f = k.Fn("two_take_b");
            b.mutex_lock();
            using (k.Fn("two_take_a"))
            {
                a.mutex_lock(); // closes A -> B -> A: reported although nobody waits
            }
        }));

        Assert.Equal(BugClass.LockOrderInversion, r.Class);
        Assert.Contains("possible circular locking dependency detected: class_B -> class_A in two_take_a", r.Title);
        Assert.Equal(new[] { "two_take_a", "two_take_b", "one_take_b", "one_take_a" }, r.Functions);
        Assert.Equal(new[] { t2.Name, t1.Name }, r.Threads);
        Assert.Equal(new[] { "class_B", "class_A" }, r.Objects);
        // both chains: the existing A -> B (taken by worker1 under sys_one) and the new B -> A
        Assert.Contains("the existing dependency chain", r.Text);
        Assert.Contains($"(class_B) taken while holding (class_A) by task {t1.Name}", r.Text);
        Assert.Contains("sys_one", r.Text);
        Assert.Contains("the new dependency: (class_B) -> (class_A)", r.Text);
        Assert.Contains("sys_two", r.Text);
        // nothing blocked: the lock was free, the report is about the order alone
        Assert.Null(t2.Held.FirstOrDefault(h => h.Lock == a));
    }

    [Fact]
    public void Inversion_is_silent_when_every_task_takes_A_then_B()
    {
        var (k, a, b) = TwoLocks();
        foreach (var name in new[] { "worker1", "worker2", "worker3" })
        {
            k.Spawn(k.NewTask(name, 0), () =>
            {
                using var e = k.Entry("sys_ok");
                a.mutex_lock();
                b.mutex_lock();
                b.mutex_unlock();
                a.mutex_unlock();
            });
        }
        Seq.AssertSilent(k);
        Assert.Equal(1, k.Lockdep.DependencyCount);
    }

    [Fact]
    public void Inversion_through_a_three_class_chain_is_found()
    {
        var k = new Kernel();
        var a = new KMutex(k.Globals, "a", k.Lockdep.Class("A"));
        var b = new KMutex(k.Globals, "b", k.Lockdep.Class("B"));
        var c = new KMutex(k.Globals, "c", k.Lockdep.Class("C"));
        void Pair(string task, KMutex x, KMutex y) => k.Spawn(k.NewTask(task, 0), () =>
        {
            using var f = k.Fn(task + "_fn");
            x.mutex_lock(); y.mutex_lock(); y.mutex_unlock(); x.mutex_unlock();
        });
        Pair("t_ab", a, b);
        Pair("t_bc", b, c);
        var r = Seq.ExpectBug(k, () => Pair("t_ca", c, a));
        Assert.Equal(BugClass.LockOrderInversion, r.Class);
        Assert.Contains("C -> A", r.Title);
        Assert.Equal(3, r.Threads.Count);
        Assert.Contains("t_ab_fn", r.Functions);
        Assert.Contains("t_bc_fn", r.Functions);
    }

    // ------------------------------------------------------------ recursive locking

    [Fact]
    public void Recursive_locking_of_the_same_mutex_is_a_deadlock_report()
    {
        var (k, a, _) = TwoLocks();
        var t = k.NewTask("rec", 0);
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var f = k.Fn("outer_lock");
            a.mutex_lock();
            using var g = k.Fn("inner_lock");
            a.mutex_lock();
        }));
        Assert.Equal(BugClass.Deadlock, r.Class);
        Assert.Contains("possible recursive locking detected: class_A in inner_lock", r.Title);
        Assert.Equal(new[] { "inner_lock", "outer_lock" }, r.Functions);
        Assert.Equal(new[] { t.Name }, r.Threads);
        Assert.Contains("recursive locking of the same lock (self-deadlock)", r.Text);
    }

    [Fact]
    public void Same_class_without_nesting_annotation_is_reported_and_nested_is_silent()
    {
        var k = new Kernel();
        var cls = k.Lockdep.Class("inode->i_mutex");
        var parent = new KMutex(k.Globals, "parent", cls);
        var child = new KMutex(k.Globals, "child", cls);

        k.Spawn(k.NewTask("nested", 0), () =>
        {
            using var f = k.Fn("lock_parent_child");
            parent.mutex_lock();
            child.mutex_lock_nested(1);
            child.mutex_unlock();
            parent.mutex_unlock();
        });
        Seq.AssertSilent(k);

        var t = k.NewTask("plain", 0);
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var f = k.Fn("lock_two_inodes");
            parent.mutex_lock();
            child.mutex_lock();
        }));
        Assert.Equal(BugClass.Deadlock, r.Class);
        Assert.Contains("possible recursive locking detected: inode->i_mutex in lock_two_inodes", r.Title);
        Assert.Contains("same class, no nesting annotation", r.Text);
        Assert.Equal(new[] { t.Name }, r.Threads);
    }

    // ------------------------------------------------------------ held at return

    [Fact]
    public void Lock_held_when_the_entry_returns_is_reported()
    {
        var (k, a, _) = TwoLocks();
        var t = k.NewTask("leaker", 0);
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var e = k.Entry("sys_leak_lock");
            using var f = k.Fn("forget_unlock");
            a.mutex_lock();
        }));
        Assert.Equal(BugClass.LockHeldAtReturn, r.Class);
        Assert.Contains("class_A acquired in forget_unlock, returning from sys_leak_lock", r.Title);
        Assert.Equal(new[] { "sys_leak_lock", "forget_unlock" }, r.Functions);
        Assert.Equal(new[] { t.Name }, r.Threads);
        Assert.Equal(new[] { a.Name }, r.Objects);
    }

    [Fact]
    public void Entry_that_releases_its_locks_is_silent()
    {
        var (k, a, b) = TwoLocks();
        var s = new Spinlock(k.Globals, "spin", k.Lockdep.Class("spin_class", spin: true));
        k.Spawn(k.NewTask("tidy", 0), () =>
        {
            using var e = k.Entry("sys_tidy");
            using var f = k.Fn("tidy_fn");
            a.mutex_lock(); b.mutex_lock(); s.spin_lock();
            s.spin_unlock(); b.mutex_unlock(); a.mutex_unlock();
        });
        Seq.AssertSilent(k);
    }

    // ------------------------------------------------------------ bad unlock

    [Fact]
    public void Unlock_by_a_non_owner_names_both_tasks()
    {
        var (k, a, _) = TwoLocks();
        var owner = k.NewTask("owner", 0);
        var thief = k.NewTask("thief", 0);
        k.Spawn(owner, () => { using var f = k.Fn("take_it"); a.mutex_lock(); });
        var r = Seq.ExpectBug(k, () => k.Spawn(thief, () => { using var f = k.Fn("steal_unlock"); a.mutex_unlock(); }));
        Assert.Equal(BugClass.BadUnlock, r.Class);
        Assert.Contains("bad unlock balance detected: class_A in steal_unlock", r.Title);
        Assert.Equal(new[] { "steal_unlock" }, r.Functions);
        Assert.Equal(new[] { thief.Name, owner.Name }, r.Threads);
        Assert.Contains("but the mutex is owned by another task", r.Text);
    }

    [Fact]
    public void Unlock_of_an_unlocked_mutex_is_reported()
    {
        var (k, a, _) = TwoLocks();
        var t = k.NewTask("dbl", 0);
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var f = k.Fn("unlock_twice");
            a.mutex_lock();
            a.mutex_unlock();
            a.mutex_unlock();
        }));
        Assert.Equal(BugClass.BadUnlock, r.Class);
        Assert.Contains("in unlock_twice", r.Title);
        Assert.Equal(new[] { t.Name }, r.Threads);
        Assert.Contains("but the mutex is not locked", r.Text);
    }

    [Fact]
    public void Spin_unlock_of_an_unlocked_spinlock_is_reported()
    {
        var k = new Kernel();
        var s = new Spinlock(k.Globals, "spin", k.Lockdep.Class("spin_class", spin: true));
        var r = Seq.ExpectBug(k, () => k.Spawn(k.NewTask("s", 0), () => { using var f = k.Fn("spin_twice"); s.spin_lock(); s.spin_unlock(); s.spin_unlock(); }));
        Assert.Equal(BugClass.BadUnlock, r.Class);
        Assert.Contains("but the spinlock is not locked", r.Text);
    }

    [Fact]
    public void Balanced_lock_unlock_by_the_owner_is_silent()
    {
        var (k, a, _) = TwoLocks();
        var t = k.NewTask("ok", 0);
        k.Spawn(t, () => { for (int i = 0; i < 3; i++) { a.mutex_lock(); a.mutex_unlock(); } });
        Seq.AssertSilent(k);
        Assert.False(a.IsLocked);
        Assert.Empty(t.Held);
    }

    // ------------------------------------------------------------ sleep in atomic

    [Fact]
    public void Mutex_lock_under_a_spinlock_is_sleep_in_atomic()
    {
        var (k, a, _) = TwoLocks();
        var s = new Spinlock(k.Globals, "spin", k.Lockdep.Class("spin_class", spin: true));
        var t = k.NewTask("atomic", 0);
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var f = k.Fn("take_spin");
            s.spin_lock();
            using var g = k.Fn("then_mutex");
            a.mutex_lock();
        }));
        Assert.Equal(BugClass.SleepInAtomic, r.Class);
        Assert.Contains("sleeping function called from invalid context in then_mutex", r.Title);
        Assert.Equal(new[] { "then_mutex", "take_spin" }, r.Functions);
        Assert.Equal(new[] { t.Name }, r.Threads);
        Assert.Contains("sleeping in mutex_lock", r.Text);
    }

    [Fact]
    public void Gfp_kernel_allocation_under_a_spinlock_is_sleep_in_atomic()
    {
        var k = new Kernel();
        var s = new Spinlock(k.Globals, "spin", k.Lockdep.Class("spin_class", spin: true));
        var t = k.NewTask("atomic", 0);
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var f = k.Fn("alloc_under_spin");
            s.spin_lock();
            k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k));
        }));
        Assert.Equal(BugClass.SleepInAtomic, r.Class);
        Assert.Contains("in alloc_under_spin", r.Title);
        Assert.Contains("kmem_cache_alloc(GFP_KERNEL)", r.Text);
        Assert.Equal(0, k.Slab.LiveCount);
    }

    [Fact]
    public void Gfp_atomic_under_a_spinlock_and_gfp_kernel_outside_are_silent()
    {
        var k = new Kernel();
        var s = new Spinlock(k.Globals, "spin", k.Lockdep.Class("spin_class", spin: true));
        k.Spawn(k.NewTask("ok", 0), () =>
        {
            using var e = k.Entry("sys_alloc");
            s.spin_lock();
            var x = k.Slab.kmalloc(Gfp.GFP_ATOMIC, () => new TestObj(k));
            s.spin_unlock();
            var y = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k));
            k.Slab.kfree(x);
            k.Slab.kfree(y);
        });
        Seq.AssertSilent(k);
    }

    // ------------------------------------------------------------ sequential contention

    [Fact]
    public void Sequential_wait_for_a_held_mutex_is_a_hang_report()
    {
        var (k, a, _) = TwoLocks();
        var holder = k.NewTask("holder", 0);
        var waiter = k.NewTask("waiter", 0);
        k.Spawn(holder, () => { using var f = k.Fn("hold"); a.mutex_lock(); });
        var r = Seq.ExpectBug(k, () => k.Spawn(waiter, () => { using var f = k.Fn("wait_for_it"); a.mutex_lock(); }));
        Assert.Equal(BugClass.HungTask, r.Class);
        Assert.Contains($"task {waiter.Name} blocked forever in wait_for_it", r.Title);
        Assert.Equal(new[] { waiter.Name }, r.Threads);
    }
}
