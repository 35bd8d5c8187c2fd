using System.Reflection;
using System.Runtime.ExceptionServices;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using InotifySim.Scenarios;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;
using static InotifySim.Model.Inotify.IN;
using KReport = InotifySim.Model.Kernel.Report;
using Seq = InotifySim.Tests.Concurrency.Infrastructure.Seq;

namespace InotifySim.Tests.Concurrency.Contracts;

/// <summary>A catalogue scenario with a mistake planted in the model (src/Model/Kernel/Contracts.cs: <see cref="Mistake"/>).</summary>
public sealed class PlantedScenario(Scenario inner, Mistake mistake) : Scenario
{
    public override string Name => inner.Name;
    public override string Description => inner.Description + $" (planted: {mistake})";
    public override bool ToleratesFaultInjection => inner.ToleratesFaultInjection;
    public override void Configure(MachineOptions o) => inner.Configure(o);
    public override void Build(Sim s)
    {
        s.M.K.Plant(mistake);
        inner.Build(s);
    }
}

/// <summary>
/// The lock contracts of the seed's comments (issue 13.1): each kind fires on a planted fault with the class
/// lock-contract and the exact function and caller, and stays silent on `fixed`.
/// </summary>
public class LockContractTests(ITestOutputHelper output)
{
    private sealed record Setup(Machine M, TaskStruct P, int Fd, int Wd, InotifyDevice Dev, InotifyHandle Ih, InotifyWatch Watch, Inode Inode);

    /// <summary>/d/f watched (IN_ALL_EVENTS) by a nonblocking instance of process "watcher" (uid 0).</summary>
    private static Setup Watched(Fix fixes = Fix.All, Action<MachineOptions>? configure = null)
    {
        var o = new MachineOptions { Fixes = fixes };
        configure?.Invoke(o);
        var m = new Machine(o);
        var p = m.NewProcess("watcher", 0);
        int fd = 0, wd = 0;
        m.As(p, () =>
        {
            Assert.Equal(0, m.Vfs.sys_mkdir("/d"));
            int f = (int)m.Vfs.sys_open("/d/f", O.O_CREAT | O.O_WRONLY);
            Assert.True(f >= 0);
            m.Vfs.sys_close(f);
            fd = (int)m.inotify_init_nonblock();
            wd = (int)m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS);
        });
        Assert.True(wd > 0);
        var dev = m.User.Devices[0];
        var ih = dev.PeekIh!;
        var watch = m.As(p, () => (InotifyWatch)ih.idr.idr_find(wd)!);
        return new Setup(m, p, fd, wd, dev, ih, watch, watch.PeekInode!);
    }

    /// <summary>Calls a private model function by reflection (the contracts of static helpers are checked where they apply).</summary>
    private static object? Call(object target, string method, params object?[] args)
    {
        var mi = target.GetType().GetMethod(method, BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance)
            ?? throw new MissingMethodException(target.GetType().Name, method);
        try { return mi.Invoke(target, args); }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <summary>Runs <paramref name="body"/> as the watcher inside a caller frame "planted_caller"; expects a report.</summary>
    private static KReport Fires(Setup s, Action body) =>
        Seq.ExpectBug(s.M.K, () => s.M.As(s.P, () =>
        {
            using var _ = s.M.K.Fn("planted_caller");
            body();
        }));

    private static void Silent(Setup s, Action body)
    {
        s.M.As(s.P, () =>
        {
            using var _ = s.M.K.Fn("planted_caller");
            body();
        });
        Seq.AssertSilent(s.M.K);
    }

    private static void AssertContract(KReport r, string function, string caller, string rule)
    {
        Assert.Equal(BugClass.LockContract, r.Class);
        Assert.Equal("lock-contract", r.Class.Name());
        Assert.Equal(new[] { function, caller }, r.Functions.Take(2).ToArray());
        Assert.Equal($"WARNING: lock contract violated: {function} called from {caller}: {rule}", r.Title);
        Assert.Contains($"the code disagrees with the comment: {caller} calls {function} against it.", r.Text);
        Assert.Contains("held by watcher/", r.Text); // the locks actually held
    }

    // ------------------------------------------------ the issue's first example: inotify_destroy releasing ih->mutex one line early

    [Fact]
    public void Destroy_releasing_ih_mutex_one_line_early_is_a_lock_contract_report()
    {
        var s = Watched();
        s.M.K.Plant(Mistake.DestroyEarlyUnlock);
        var r = Seq.ExpectBug(s.M.K, () => s.M.As(s.P, () => s.M.close(s.Fd)));
        AssertContract(r, "remove_watch_no_event", "inotify_destroy", "Callers must hold both inode->inotify_mutex and ih->mutex.");
        Assert.Contains("inotify_handle->mutex) is not held by watcher/", r.Text);
        Assert.Contains("(inode->inotify_mutex)", r.Text); // the one it does hold, listed
    }

    [Fact]
    public void Destroy_as_posted_in_fixed_is_silent()
    {
        var s = Watched();
        s.M.As(s.P, () => Assert.Equal(0, s.M.close(s.Fd)));
        s.M.Teardown();
        Seq.AssertSilent(s.M.K);
    }

    [Fact]
    public void Every_catalogue_scenario_finds_the_planted_early_unlock_on_its_first_schedule()
    {
        // 32,000 schedules of `hunt --scenario all` missed it before (issue 13): the contract fires wherever
        // inotify_destroy removes a watch, the teardown's close included, whether or not anything is corrupted
        var found = new List<string>();
        foreach (var sc in ScenarioCatalog.All)
        {
            var r = Explorer.Run(new HuntOptions { Scenario = new PlantedScenario(sc, Mistake.DestroyEarlyUnlock), Fixes = Fix.All, Iterations = 20, Seed = 7 });
            if (r.BugFound)
            {
                // nothing else fires first: the plant is the only mistake in `fixed`
                Assert.Equal(BugClass.LockContract, r.Report!.Class);
                Assert.Equal(new[] { "remove_watch_no_event", "inotify_destroy" }, r.Report.Functions.Take(2).ToArray());
                found.Add($"{sc.Name}@{r.BugIteration}");
            }
        }
        output.WriteLine($"found in {found.Count} of {ScenarioCatalog.All.Count} scenarios (scenario@schedule): " + string.Join(", ", found));
        foreach (var s in new[] { "close-vs-death", "close-vs-umount", "add-vs-add", "close-vs-close", "read-vs-queue-limit", "close-vs-event", "workload" })
            Assert.Contains(found, f => f.StartsWith(s + "@"));
        Assert.True(found.Count >= ScenarioCatalog.All.Count / 2, $"only {found.Count} of {ScenarioCatalog.All.Count} scenarios found it");
    }

    [Fact]
    public void Verify_finds_the_planted_early_unlock_with_no_preemption()
    {
        var r = Explorer.Run(new HuntOptions { Scenario = new PlantedScenario(ScenarioCatalog.Find("close-vs-death")!, Mistake.DestroyEarlyUnlock), Fixes = Fix.All, PreemptionBound = 0, Iterations = 1000 });
        Assert.True(r.BugFound);
        Assert.Equal(BugClass.LockContract, r.Report!.Class);
        Assert.Equal(new[] { "remove_watch_no_event", "inotify_destroy" }, r.Report.Functions.Take(2).ToArray());
        Assert.Equal(1, r.BugIteration);
    }

    // ------------------------------------------------ lockdep_assert_held on an rw_semaphore: every reader holds it

    private static (Setup s, RwSemaphore sem, TaskStruct q, TaskStruct r) TwoReaders()
    {
        var s = Watched();
        var sem = new RwSemaphore(s.Ih, "test_rwsem", s.M.K.Lockdep.Class("test->rwsem"));
        var q = s.M.NewProcess("reader2", 0);
        var r = s.M.NewProcess("bystander", 0);
        s.M.As(s.P, () => { using var _ = s.M.K.Fn("first_reader"); sem.down_read(); });
        s.M.As(q, () => { using var _ = s.M.K.Fn("second_reader"); sem.down_read(); });
        return (s, sem, q, r);
    }

    [Fact]
    public void Assert_held_by_the_second_reader_of_an_rw_semaphore_is_silent()
    {
        var (s, sem, q, _) = TwoReaders();
        s.M.As(q, () =>
        {
            using var _ = s.M.K.Fn("planted_caller");
            s.M.K.lockdep_assert_held(sem, "Caller must hold the test rw_semaphore.");
        });
        Seq.AssertSilent(s.M.K);
    }

    [Fact]
    public void Assert_held_by_a_task_that_is_not_a_reader_fires()
    {
        var (s, sem, _, r) = TwoReaders();
        var rep = Seq.ExpectBug(s.M.K, () => s.M.As(r, () =>
        {
            using var _ = s.M.K.Fn("planted_caller");
            s.M.K.lockdep_assert_held(sem, "Caller must hold the test rw_semaphore.");
        }));
        output.WriteLine(rep.Text);
        Assert.Equal(BugClass.LockContract, rep.Class);
        Assert.Contains("test_rwsem (test->rwsem) is not held by bystander", rep.Text);
    }

    // ------------------------------------------------ "Caller(s) must hold ..." (lockdep_assert_held), one lock

    [Fact]
    public void Inode_find_handle_without_inode_mutex_fires()
    {
        var s = Watched();
        var r = Fires(s, () => Call(s.M.Core, "inode_find_handle", s.Inode, s.Ih));
        AssertContract(r, "inode_find_handle", "planted_caller", "Callers must hold inode->inotify_mutex.");
    }

    [Fact]
    public void Inode_find_handle_with_inode_mutex_is_silent()
    {
        var s = Watched();
        Silent(s, () =>
        {
            s.Inode.inotify_mutex.mutex_lock();
            Assert.Same(s.Watch, Call(s.M.Core, "inode_find_handle", s.Inode, s.Ih));
            s.Inode.inotify_mutex.mutex_unlock();
        });
    }

    [Fact]
    public void Inotify_handle_get_wd_without_ih_mutex_fires()
    {
        var s = Watched();
        var aw = s.M.K.Slab.kmem_cache_alloc("audit_watch", Gfp.GFP_KERNEL, () => new AuditWatch(s.M.K, "/d"))!;
        var r = Fires(s, () => Call(s.M.Core, "inotify_handle_get_wd", s.Ih, aw.wdata));
        AssertContract(r, "inotify_handle_get_wd", "planted_caller", "Callers must hold ih->mutex.  This function can sleep.");
    }

    [Fact]
    public void Inotify_handle_get_wd_with_ih_mutex_is_silent()
    {
        var s = Watched();
        var aw = s.M.K.Slab.kmem_cache_alloc("audit_watch", Gfp.GFP_KERNEL, () => new AuditWatch(s.M.K, "/d"))!;
        Silent(s, () =>
        {
            s.Ih.mutex.mutex_lock();
            Assert.Equal(0, Call(s.M.Core, "inotify_handle_get_wd", s.Ih, aw.wdata));
            s.Ih.mutex.mutex_unlock();
        });
    }

    [Fact]
    public void Create_watch_without_up_mutex_fires()
    {
        var s = Watched();
        var r = Fires(s, () => Call(s.M.User, "create_watch", s.Dev, s.Inode, IN_MODIFY));
        AssertContract(r, "create_watch", "planted_caller", "Callers must hold dev->up_mutex.");
    }

    [Fact]
    public void Create_watch_with_up_mutex_is_silent()
    {
        var s = Watched();
        Silent(s, () =>
        {
            s.Dev.up_mutex.mutex_lock();
            Assert.True((int)Call(s.M.User, "create_watch", s.Dev, s.Inode, IN_MODIFY)! > 0);
            s.Dev.up_mutex.mutex_unlock();
        });
    }

    [Theory]
    [InlineData("inotify_dev_event_dequeue")]
    [InlineData("inotify_dev_get_event")]
    public void Event_queue_helpers_without_ev_mutex_fire(string fn)
    {
        var s = Watched();
        s.M.As(s.P, () => s.M.Vfs.sys_chmod("/d/f", Mode.S_IRWXU)); // one event queued
        var r = Fires(s, () => Call(s.M.User, fn, s.Dev));
        AssertContract(r, fn, "planted_caller", "Caller must hold dev->ev_mutex.");
    }

    [Fact]
    public void Remove_kevent_without_ev_mutex_fires()
    {
        var s = Watched();
        s.M.As(s.P, () => s.M.Vfs.sys_chmod("/d/f", Mode.S_IRWXU));
        var r = Fires(s, () =>
        {
            s.Dev.ev_mutex.mutex_lock();
            var kevent = Call(s.M.User, "inotify_dev_get_event", s.Dev);
            s.Dev.ev_mutex.mutex_unlock();
            Call(s.M.User, "remove_kevent", s.Dev, kevent);
        });
        AssertContract(r, "remove_kevent", "planted_caller", "Caller must hold dev->ev_mutex.");
    }

    [Fact]
    public void Event_queue_helpers_with_ev_mutex_are_silent()
    {
        var s = Watched();
        s.M.As(s.P, () => s.M.Vfs.sys_chmod("/d/f", Mode.S_IRWXU));
        Silent(s, () =>
        {
            s.Dev.ev_mutex.mutex_lock();
            var kevent = (InotifyKernelEvent)Call(s.M.User, "inotify_dev_get_event", s.Dev)!;
            Call(s.M.User, "remove_kevent", s.Dev, kevent);
            Call(s.M.User, "inotify_dev_event_dequeue", s.Dev); // empty now: nothing to do
            s.Dev.ev_mutex.mutex_unlock();
        });
    }

    // ------------------------------------------------ "Callers must hold both inode->inotify_mutex and ih->mutex."

    [Fact]
    public void Remove_watch_with_only_the_inode_mutex_fires()
    {
        var s = Watched();
        var r = Fires(s, () =>
        {
            s.Inode.inotify_mutex.mutex_lock();
            Call(s.M.Core, "remove_watch", s.Watch, s.Ih);
        });
        AssertContract(r, "remove_watch", "planted_caller", "Callers must hold both inode->inotify_mutex and ih->mutex.");
    }

    [Fact]
    public void Remove_watch_no_event_with_only_ih_mutex_fires()
    {
        var s = Watched();
        var r = Fires(s, () =>
        {
            s.Ih.mutex.mutex_lock();
            Call(s.M.Core, "remove_watch_no_event", s.Watch, s.Ih);
        });
        AssertContract(r, "remove_watch_no_event", "planted_caller", "Callers must hold both inode->inotify_mutex and ih->mutex.");
        Assert.Contains("inode->inotify_mutex) is not held by watcher/", r.Text);
    }

    [Fact]
    public void Remove_watch_with_both_locks_is_silent()
    {
        var s = Watched();
        Silent(s, () =>
        {
            s.Inode.inotify_mutex.mutex_lock();
            s.Ih.mutex.mutex_lock();
            Call(s.M.Core, "remove_watch", s.Watch, s.Ih);
            s.Ih.mutex.mutex_unlock();
            s.Inode.inotify_mutex.mutex_unlock();
        });
    }

    [Fact]
    public void Unmount_inodes_without_inode_lock_and_iprune_mutex_fires()
    {
        var s = Watched();
        var r = Fires(s, () => s.M.Core.inotify_unmount_inodes(s.Inode.i_sb.s_inodes));
        Assert.Equal(BugClass.LockContract, r.Class);
        Assert.Equal(new[] { "inotify_unmount_inodes", "planted_caller" }, r.Functions.Take(2).ToArray());
        Assert.Contains("Called with inode_lock held", r.Title);
        Assert.Contains("inode_lock (inode_lock) is not held", r.Text);
        Assert.Contains("iprune_mutex", r.Text);
    }

    [Fact]
    public void Umount_of_a_watched_filesystem_is_silent()
    {
        var m = new Machine(new MachineOptions { Fixes = Fix.All });
        var p = m.NewProcess("admin", 0);
        m.As(p, () =>
        {
            Assert.Equal(0, m.Vfs.sys_mkdir("/mnt"));
            Assert.Equal(0, m.Vfs.sys_mount("/mnt"));
            Assert.Equal(0, m.Vfs.sys_mkdir("/mnt/x"));
            int fd = (int)m.inotify_init_nonblock();
            Assert.True(m.inotify_add_watch(fd, "/mnt/x", IN_ALL_EVENTS) > 0);
            Assert.Equal(0, m.Vfs.sys_umount("/mnt"));
        });
        m.Teardown();
        Seq.AssertSilent(m.K);
    }

    // ------------------------------------------------ "can sleep" (might_sleep)

    [Fact]
    public void Rm_wd_under_a_spinlock_fires()
    {
        var s = Watched();
        var r = Fires(s, () =>
        {
            s.M.Vfs.dcache_lock.spin_lock();
            s.M.Core.inotify_rm_wd(s.Ih, (uint)s.Wd);
        });
        AssertContract(r, "inotify_rm_wd", "planted_caller", "Can sleep.");
        Assert.Contains("called in atomic context (preempt_count 1: a spinlock is held)", r.Text);
    }

    [Fact]
    public void Kernel_event_under_a_spinlock_fires()
    {
        var s = Watched();
        var r = Fires(s, () =>
        {
            s.M.Vfs.dcache_lock.spin_lock();
            Call(s.M.User, "kernel_event", 1, IN_MODIFY, 0u, null);
        });
        AssertContract(r, "kernel_event", "planted_caller", "This function can sleep.");
    }

    [Fact]
    public void Rm_wd_from_process_context_is_silent()
    {
        var s = Watched();
        Silent(s, () => Assert.Equal(0, s.M.Core.inotify_rm_wd(s.Ih, (uint)s.Wd)));
    }

    // ------------------------------------------------ "Caller must pin given inode (via nameidata)."

    [Fact]
    public void Find_watch_on_an_unpinned_inode_fires()
    {
        var s = Watched();
        Inode? gone = null;
        s.M.As(s.P, () =>
        {
            int f = (int)s.M.Vfs.sys_open("/d/g", O.O_CREAT | O.O_WRONLY);
            s.M.Vfs.sys_close(f);
            Assert.Equal(0, s.M.Vfs.__user_walk("/d/g", InotifySim.Model.Vfs.Vfs.LOOKUP_FOLLOW, out var nd));
            gone = nd.dentry.d_inode;
            s.M.Vfs.path_release(ref nd); // the pin is dropped before the call: the planted fault
            Assert.Equal(0, s.M.Vfs.sys_unlink("/d/g"));
        });
        Assert.True(gone!.IsFreed || gone.i_count.Peek == 0);
        var r = Fires(s, () => s.M.Core.inotify_find_watch(s.Ih, gone, out _));
        AssertContract(r, "inotify_find_watch", "planted_caller", "Caller must pin given inode (via nameidata).");
    }

    [Fact]
    public void Find_watch_on_a_pinned_inode_is_silent()
    {
        var s = Watched();
        Silent(s, () =>
        {
            Assert.Equal(0, s.M.Vfs.__user_walk("/d/f", InotifySim.Model.Vfs.Vfs.LOOKUP_FOLLOW, out var nd));
            Assert.Equal(s.Wd, s.M.Core.inotify_find_watch(s.Ih, nd.dentry.d_inode!, out var w));
            if ((s.M.Fixes & Fix.FindWatchRef) != 0) s.M.Core.put_inotify_watch(w);
            s.M.Vfs.path_release(ref nd);
        });
    }

    // ------------------------------------------------ the kernel API rules of the header comment

    private const string ApiRule = "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.  Thus, the caller must not hold any locks taking during callback processing while calling any of the published inotify routines";

    [Fact]
    public void A_consumer_holding_its_callback_lock_across_a_published_routine_fires()
    {
        var m = new Machine(new MachineOptions { Fixes = Fix.All, Audit = true });
        m.Audit!.ViolateContract = true; // holds audit_filter_mutex (taken by audit_handle_event) across inotify_find_update_watch
        m.As(m.NewProcess("admin", 0), () => Assert.Equal(0, m.Vfs.sys_mkdir("/d")));
        var r = Seq.ExpectBug(m.K, () => m.Audit.audit_add_rule("/d", IN_ATTRIB));
        Assert.Equal(BugClass.LockContract, r.Class);
        Assert.Equal(new[] { "inotify_find_update_watch", "audit_add_rule" }, r.Functions.Take(2).ToArray());
        Assert.Equal($"WARNING: lock contract violated: inotify_find_update_watch called from audit_add_rule: {ApiRule}", r.Title);
        Assert.Contains("audit_filter_mutex (audit_filter_mutex), taken during callback processing, is held (taken in audit_add_rule)", r.Text);
    }

    [Fact]
    public void A_consumer_following_the_api_rule_is_silent()
    {
        var m = new Machine(new MachineOptions { Fixes = Fix.All, Audit = true });
        m.As(m.NewProcess("admin", 0), () => Assert.Equal(0, m.Vfs.sys_mkdir("/d")));
        Assert.True(m.Audit!.audit_add_rule("/d", IN_ATTRIB) > 0);
        m.As(m.NewProcess("chmod", 0), () => m.Vfs.sys_chmod("/d", Mode.S_IRWXU));
        Assert.Equal(0, m.Audit.audit_remove_rule("/d"));
        m.Teardown();
        Seq.AssertSilent(m.K);
    }

    /// <summary>A consumer whose callback calls a published routine (it runs with inode->inotify_mutex held).</summary>
    private sealed class ReentrantConsumer(Inotify core) : IInotifyConsumer
    {
        public InotifyHandle? Ih;
        public bool Reenter;
        public void handle_event(InotifyWatch watch, uint wd, uint mask, uint cookie, string? name, Inode? inode)
        {
            using var _ = core.K.Fn("reentrant_handle_event");
            if (Reenter && (mask & IN_ATTRIB) != 0) core.inotify_rm_watch(Ih!, watch);
        }
        public void destroy_watch(InotifyWatch watch) { }
    }

    private static (Machine m, TaskStruct p, ReentrantConsumer c) Reentrant(bool reenter)
    {
        var m = new Machine(new MachineOptions { Fixes = Fix.All });
        var p = m.NewProcess("watcher", 0);
        var c = new ReentrantConsumer(m.Core) { Reenter = reenter };
        m.As(p, () =>
        {
            Assert.Equal(0, m.Vfs.sys_mkdir("/d"));
            c.Ih = (InotifyHandle)m.Core.inotify_init(c);
            var aw = m.K.Slab.kmem_cache_alloc("audit_watch", Gfp.GFP_KERNEL, () => new AuditWatch(m.K, "/d"))!;
            Assert.Equal(0, m.Vfs.__user_walk("/d", InotifySim.Model.Vfs.Vfs.LOOKUP_FOLLOW, out var nd));
            Assert.True(m.Core.inotify_add_watch(c.Ih, aw.wdata, nd.dentry.d_inode!, IN_ATTRIB) > 0);
            m.Vfs.path_release(ref nd);
        });
        return (m, p, c);
    }

    [Fact]
    public void A_callback_calling_a_published_routine_fires()
    {
        var (m, p, _) = Reentrant(reenter: true);
        var r = Seq.ExpectBug(m.K, () => m.As(p, () => m.Vfs.sys_chmod("/d", Mode.S_IRWXU)));
        Assert.Equal(BugClass.LockContract, r.Class);
        Assert.Equal(new[] { "inotify_rm_watch", "reentrant_handle_event" }, r.Functions.Take(2).ToArray());
        Assert.Contains("(inode->inotify_mutex), taken during callback processing, is held (taken in inotify_inode_queue_event)", r.Text);
    }

    [Fact]
    public void A_callback_that_only_records_is_silent()
    {
        var (m, p, _) = Reentrant(reenter: false);
        m.As(p, () => m.Vfs.sys_chmod("/d", Mode.S_IRWXU));
        Seq.AssertSilent(m.K);
    }

    [Fact]
    public void Adding_one_watch_twice_fires()
    {
        var (m, p, c) = Reentrant(reenter: false);
        var w = m.Core.Handles[0];
        var watch = m.As(p, () => (InotifyWatch)w.idr.idr_find(1)!);
        var r = Seq.ExpectBug(m.K, () => m.As(p, () =>
        {
            using var _ = m.K.Fn("planted_caller");
            Assert.Equal(0, m.Vfs.__user_walk("/d", InotifySim.Model.Vfs.Vfs.LOOKUP_FOLLOW, out var nd));
            m.Core.inotify_add_watch(c.Ih!, watch, nd.dentry.d_inode!, IN_ATTRIB);
        }));
        AssertContract(r, "inotify_add_watch", "planted_caller", "Caller must ensure it only calls inotify_add_watch() once per watch.");
        Assert.Contains("was already added (its ih is set)", r.Text);
    }

    // ------------------------------------------------ comments the posted code does not follow (documentation only)

    private const string CallbackRule = "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.";

    [Fact]
    public void The_callback_runs_without_ih_mutex_where_the_code_departs_from_the_header_comment()
    {
        // the seed: inotify_inode_queue_event calls the callback before taking ih->mutex (the oneshot-leak fix,
        // 2.6.18, moves it under ih->mutex); inotify_unmount_inodes sends IN_UNMOUNT before taking it in both
        var s = Watched(Variants.AllBut(Fix.OneshotLeak));
        s.M.As(s.P, () => s.M.Vfs.sys_chmod("/d/f", Mode.S_IRWXU));
        Seq.AssertSilent(s.M.K); // documentation only: never a report
        Assert.Contains($"inotify_inode_queue_event -> inotify_dev_queue_event: the callback runs without ih->mutex (the comment: \"{CallbackRule}\")",
            s.M.K.ContractState().Disagreements);

        var m = new Machine(new MachineOptions { Fixes = Fix.All });
        m.As(m.NewProcess("admin", 0), () =>
        {
            m.Vfs.sys_mkdir("/mnt");
            m.Vfs.sys_mount("/mnt");
            m.Vfs.sys_mkdir("/mnt/x");
            int fd = (int)m.inotify_init_nonblock();
            m.inotify_add_watch(fd, "/mnt/x", IN_ALL_EVENTS);
            m.Vfs.sys_chmod("/mnt/x", Mode.S_IRWXU);
            Assert.Empty(m.K.ContractState().Disagreements); // fixed delivers events under ih->mutex
            m.Vfs.sys_umount("/mnt");
        });
        Seq.AssertSilent(m.K);
        Assert.Equal(new[] { $"inotify_unmount_inodes -> inotify_dev_queue_event: the callback runs without ih->mutex (the comment: \"{CallbackRule}\")" },
            m.K.ContractState().Disagreements);
    }
}
