using static InotifySim.Model.Vfs.O;
using InotifySim.Model.Vfs;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Tests.Property.Sequential.Seq;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>
/// The seed's defects, one at a time: each test runs with every fix but one (Variants.AllBut)
/// and checks the first report; plain `rfc` fails on the very first event. rm-wd-recheck,
/// destroy-recheck, find-watch-ref, child-flags-race and the limit races need interleavings
/// and are left to the Coyote tests.
/// </summary>
public class SeedDefectTests
{
    [Fact]
    public void Rfc_FailsOnTheVeryFirstEvent_WithTypeConfusion()
    {
        var m = NewMachine(Fix.None);
        var t = m.NewProcess("p", 1000);
        var r = m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Assert.Equal(1, m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Assert.Null(m.K.FirstReport); // nothing wrong until an event is queued
            return ExpectBug(m, () => m.Vfs.sys_mkdir("/d/s"));
        });
        Assert.Equal(BugClass.TypeConfusion, r.Class);
        AssertInvolves(r, "inotify_dev_get_event");
    }

    [Theory]
    // the seed's path: inotify_dev_get_event(dev) = list_entry(dev->events.next, ...)
    [InlineData(Fix.All & ~Fix.CoalesceEmpty & ~Fix.CoalesceLast, "inotify_dev_get_event")]
    // with coalesce-last alone, the newest event list_entry(dev->events.prev, ...) is read inline
    [InlineData(Fix.All & ~Fix.CoalesceEmpty, "inotify_dev_queue_event")]
    public void CoalesceEmpty_FirstEventReadsTheListHeadAsAnEvent(Fix fixes, string where)
    {
        Assert.True(fixes == Variants.AllBut(Fix.CoalesceEmpty) || fixes == (Variants.AllBut(Fix.CoalesceEmpty) & ~Fix.CoalesceLast));
        var m = NewMachine(fixes);
        var t = m.NewProcess("p", 1000);
        var r = m.As(t, () =>
        {
            Touch(m, "/f");
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/f", IN_ATTRIB));
            return ExpectBug(m, () => m.Vfs.sys_chmod("/f", Mode.S_0600));
        });
        Assert.Equal(BugClass.TypeConfusion, r.Class);
        Assert.Equal(where, r.Functions[0]);
        AssertInvolves(r, "inotify_dev_queue_event", "inotify_inode_queue_event");
    }

    [Fact]
    public void CoalesceEmpty_Fixed_FirstEventIsQueued()
    {
        var m = NewMachine(Fix.CoalesceEmpty);
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Touch(m, "/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/f", IN_ATTRIB));
            Ok(m.Vfs.sys_chmod("/f", Mode.S_0600));
            Assert.Equal(new[] { $"{wd} IN_ATTRIB" }, DrainShow(m, fd));
        });
        Assert.Null(m.K.FirstReport);
    }

    [Fact]
    public void EvMutexUnlock_CoalescedDuplicateReturnsWithEvMutexHeld()
    {
        var m = NewMachine(Variants.AllBut(Fix.EvMutexUnlock));
        var t = m.NewProcess("p", 1000);
        var r = m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_MODIFY));
            int f = Ok(m.Vfs.sys_open("/d/f", O_CREAT | O_WRONLY));
            Assert.Equal(1, m.Vfs.sys_write(f, 1)); // queued: no early return
            Assert.Null(m.K.FirstReport);
            return ExpectBug(m, () => m.Vfs.sys_write(f, 1)); // coalesced duplicate
        });
        Assert.Equal(BugClass.LockHeldAtReturn, r.Class);
        AssertInvolves(r, "inotify_dev_queue_event");
        Assert.Contains(r.Objects, o => o.Contains("ev_mutex", StringComparison.Ordinal));
    }

    [Fact]
    public void EvMutexUnlock_OverflowedQueueReturnsWithEvMutexHeld()
    {
        var m = NewMachine(Variants.AllBut(Fix.EvMutexUnlock), o => o.MaxQueuedEvents = 1);
        var t = m.NewProcess("p", 1000);
        var r = m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Ok(m.Vfs.sys_mkdir("/d/a")); // queued
            Ok(m.Vfs.sys_mkdir("/d/b")); // IN_Q_OVERFLOW queued
            return ExpectBug(m, () => m.Vfs.sys_mkdir("/d/c")); // dropped: early return
        });
        Assert.Equal(BugClass.LockHeldAtReturn, r.Class);
        AssertInvolves(r, "inotify_dev_queue_event");
    }

    public enum Removal { RmWatch, InodeDeath, Umount }

    [Theory]
    [InlineData(Removal.RmWatch)]
    [InlineData(Removal.InodeDeath)]
    [InlineData(Removal.Umount)]
    public void WatchDestroyOp_IgnoredCallbackFreesTheWatchBeforeRemoveWatchNoEvent(Removal how)
    {
        var m = NewMachine(Variants.AllBut(Fix.WatchDestroyOp));
        var t = m.NewProcess("p", 0);
        var r = m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/mnt"));
            Ok(m.Vfs.sys_mount("/mnt"));
            Touch(m, "/mnt/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/mnt/f", IN_ALL_EVENTS));
            Assert.Null(m.K.FirstReport);
            return how switch
            {
                Removal.RmWatch => ExpectBug(m, () => m.inotify_rm_watch(fd, wd)),
                Removal.InodeDeath => ExpectBug(m, () => m.Vfs.sys_unlink("/mnt/f")),
                _ => ExpectBug(m, () => m.Vfs.sys_umount("/mnt")),
            };
        });
        Assert.Equal(BugClass.UseAfterFree, r.Class);
        AssertInvolves(r, "remove_watch_no_event", "free_inotify_user_watch");
        Assert.Equal("remove_watch_no_event", r.Functions[0]);
    }

    [Fact]
    public void DestroyLeak_CloseWithAWatchLeaksIt()
    {
        var m = NewMachine(Variants.AllBut(Fix.DestroyLeak));
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Assert.Equal(0, m.close(fd));
            Assert.Equal(1, m.Vfs.CurrentProcess.User.inotify_watches.Peek); // never given back
        });
        var r = ExpectBug(m, m.Teardown);
        Assert.True(r.Class is BugClass.Accounting or BugClass.Leak, r.Summary);
        AssertInvolves(r, "inotify_destroy");
    }

    [Fact]
    public void DestroyLeak_Fixed_CloseWithAWatchFreesIt()
    {
        var m = NewMachine(Variants.AllBut(Fix.DestroyLeak) | Fix.DestroyLeak);
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Assert.Equal(0, m.close(fd));
            Assert.Equal(0, m.Vfs.CurrentProcess.User.inotify_watches.Peek);
        });
        m.Teardown();
    }

    [Fact]
    public void OneshotLeak_FiredOneshotWatchIsNeverFreed()
    {
        var m = NewMachine(Variants.AllBut(Fix.OneshotLeak));
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE | IN_ONESHOT));
            Touch(m, "/d/a");
            Touch(m, "/d/b");
            Assert.Equal(new[] { $"{wd} IN_CREATE a" }, DrainShow(m, fd)); // the events are right...
            Assert.Equal(-Errno.EINVAL, m.inotify_rm_watch(fd, wd));
            Assert.Equal(1, m.Vfs.CurrentProcess.User.inotify_watches.Peek); // ...but the watch is still charged
        });
        var r = ExpectBug(m, m.Teardown);
        Assert.True(r.Class is BugClass.Accounting or BugClass.Leak, r.Summary);
        AssertInvolves(r, "free_inotify_user_watch");
    }

    [Fact]
    public void CoalesceLast_ABA_LosesTheSecondA()
    {
        var m = NewMachine(Variants.AllBut(Fix.CoalesceLast));
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/a");
            Touch(m, "/d/b");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ATTRIB));
            Ok(m.Vfs.sys_chmod("/d/a", Mode.S_0600));
            Ok(m.Vfs.sys_chmod("/d/b", Mode.S_0600));
            Ok(m.Vfs.sys_chmod("/d/a", Mode.S_0644));
            Assert.Equal(new[] { $"{wd} IN_ATTRIB a", $"{wd} IN_ATTRIB b" }, DrainShow(m, fd));
        });
        Assert.Null(m.K.FirstReport); // a silent loss: no detector fires while it runs
        // the user-visible oracle (issue 13 item 3) finds no order that explains the reads, at teardown
        var r = ExpectBug(m, m.Teardown);
        Assert.Equal(BugClass.SpecViolation, r.Class);
        Assert.Equal(new[] { "inotify_dev_queue_event", "inotify_read" }, r.Functions);
    }

    [Fact]
    public void CoalesceLast_ComparesWithTheOldestEvent_ABB_IsNotCoalesced()
    {
        var m = NewMachine(Variants.AllBut(Fix.CoalesceLast));
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/a");
            Touch(m, "/d/b");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ATTRIB));
            Ok(m.Vfs.sys_chmod("/d/a", Mode.S_0600));
            Ok(m.Vfs.sys_chmod("/d/b", Mode.S_0600));
            Ok(m.Vfs.sys_chmod("/d/b", Mode.S_0644));
            Assert.Equal(new[] { $"{wd} IN_ATTRIB a", $"{wd} IN_ATTRIB b", $"{wd} IN_ATTRIB b" }, DrainShow(m, fd));
        });
        // inotify(7) coalesces the second b with the newest event: the user-visible oracle reports the extra one
        var r = ExpectBug(m, m.Teardown);
        Assert.Equal(BugClass.SpecViolation, r.Class);
    }

    [Theory]
    [InlineData(Fix.RmWdRecheck)]
    [InlineData(Fix.DestroyRecheck)]
    [InlineData(Fix.FindWatchRef)]
    [InlineData(Fix.ChildFlagsRace)]
    [InlineData(Fix.InstanceLimitRace)]
    [InlineData(Fix.WatchLimitRace)]
    public void RaceOnlyDefects_AreInvisibleSequentially(Fix missing)
    {
        // these need an interleaving; a sequential run of the same workload is clean
        var m = NewMachine(Variants.AllBut(missing), o => { o.Audit = true; o.MaxUserInstances = 2; o.MaxUserWatches = 2; });
        var t = m.NewProcess("p", 0);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_init());
            Assert.Equal(-Errno.EMFILE, m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Ok(m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS));
            Assert.Equal(-Errno.ENOSPC, m.inotify_add_watch(fd, "/", IN_ALL_EVENTS));
            Ok(m.Audit!.audit_add_rule("/d", IN_CREATE));
            Touch(m, "/d/g");
            Assert.Equal(0, m.Audit.audit_remove_rule("/d"));
            Assert.Equal(0, m.inotify_rm_watch(fd, wd));
            Ok(m.Vfs.sys_unlink("/d/f"));
            Drain(m, fd);
        });
        m.Teardown();
        Assert.Null(m.K.FirstReport);
    }
}
