using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using Xunit.Abstractions;
using static InotifySim.Model.Inotify.IN;
using Seq = InotifySim.Tests.Concurrency.Infrastructure.Seq;

namespace InotifySim.Tests.Concurrency.Contracts;

/// <summary>
/// The last unchecked rule of the seed's text: "Even though inotify_watch is public, callers must use the established
/// interfaces to access inotify_watch contents" (the cover letter), made precise by the struct's comment (mask under
/// inode->inotify_mutex; ih, inode and wd never written once the watch is created). A consumer breaking it is a
/// lock-contract report naming the consumer's function; the consumers of `fixed` and `rfc` (the user layer, whose
/// 2.6.25 callback reads w->mask under inode->inotify_mutex, and the audit-like consumer) are silent.
/// </summary>
public class WatchInterfaceTests(ITestOutputHelper output)
{
    /// <summary>A kernel consumer whose callback only counts, and whose own functions touch its watch as a test asks.</summary>
    private sealed class Consumer(Inotify core) : IInotifyConsumer
    {
        public int Events;
        public bool ReadMaskInCallback;
        public uint Seen;
        public void handle_event(InotifyWatch watch, uint wd, uint mask, uint cookie, string? name, Inode? inode)
        {
            using var _ = core.K.Fn("consumer_handle_event");
            Events++;
            if (ReadMaskInCallback) Seen = watch.mask; // under inode->inotify_mutex, as 2.6.25's inotify_dev_queue_event does
        }
        public void destroy_watch(InotifyWatch watch) { }
    }

    private sealed record Setup(Machine M, TaskStruct P, Consumer C, InotifyHandle Ih, AuditWatch Aw, InotifyWatch W, Inode Dir);

    /// <summary>A consumer watching /d (IN_ATTRIB) through the kernel API, the watch embedded in an audit_watch.</summary>
    private static Setup Watched(Fix fixes = Fix.All)
    {
        var m = new Machine(new MachineOptions { Fixes = fixes });
        var p = m.NewProcess("consumer", 0);
        var c = new Consumer(m.Core);
        InotifyHandle? ih = null;
        AuditWatch? aw = null;
        Inode? dir = null;
        m.As(p, () =>
        {
            Assert.Equal(0, m.Vfs.sys_mkdir("/d"));
            ih = (InotifyHandle)m.Core.inotify_init(c);
            aw = m.K.Slab.kmem_cache_alloc("audit_watch", Gfp.GFP_KERNEL, () => new AuditWatch(m.K, "/d"))!;
            Assert.Equal(0, m.Vfs.__user_walk("/d", InotifySim.Model.Vfs.Vfs.LOOKUP_FOLLOW, out var nd));
            dir = nd.dentry.d_inode!;
            Assert.True(m.Core.inotify_add_watch(ih, aw.wdata, dir, IN_ATTRIB) > 0);
            m.Vfs.path_release(ref nd);
        });
        return new Setup(m, p, c, ih!, aw!, aw!.wdata, dir!);
    }

    private static Report Fires(Setup s, string fn, Action<InotifyWatch> touch) =>
        Seq.ExpectBug(s.M.K, () => s.M.As(s.P, () =>
        {
            using var _ = s.M.K.Fn(fn);
            touch(s.W);
        }));

    private static void AssertInterface(Report r, string fn, string what)
    {
        Assert.Equal(BugClass.LockContract, r.Class);
        Assert.Equal(fn, r.Functions[0]);
        Assert.Equal($"WARNING: lock contract violated: {fn}: {InotifySim.Model.Kernel.Contracts.WatchInterfaceRule}", r.Title);
        Assert.Contains(what, r.Text);
    }

    [Fact]
    public void A_consumer_reading_the_mask_without_the_inode_mutex_fires()
    {
        var s = Watched();
        var r = Fires(s, "consumer_peek_mask", w => _ = w.mask);
        output.WriteLine(r.Text);
        AssertInterface(r, "consumer_peek_mask", "consumer_peek_mask reads watch->mask of struct inotify_watch");
        Assert.Contains("without inode->inotify_mutex (\"i_list, mask are protected by inode->inotify_mutex of the associated inode\")", r.Text);
    }

    [Fact]
    public void A_consumer_writing_a_watch_field_fires()
    {
        var s = Watched();
        var r = Fires(s, "consumer_retarget", w => w.wd = 7);
        AssertInterface(r, "consumer_retarget", "consumer_retarget writes watch->wd of struct inotify_watch");
        var s2 = Watched();
        var r2 = Fires(s2, "consumer_update_mask", w =>
        {
            s2.Dir.inotify_mutex.mutex_lock(); // even under the lock: inotify_find_update_watch is the interface
            w.mask = IN_ALL_EVENTS;
        });
        AssertInterface(r2, "consumer_update_mask", "consumer_update_mask writes watch->mask");
    }

    [Fact]
    public void A_consumer_reading_a_watch_that_holds_no_reference_fires()
    {
        var s = Watched();
        var fresh = s.M.K.Slab.kmem_cache_alloc("audit_watch", Gfp.GFP_KERNEL, () => new AuditWatch(s.M.K, "/e"))!;
        var r = Seq.ExpectBug(s.M.K, () => s.M.As(s.P, () =>
        {
            using var fn = s.M.K.Fn("consumer_peek_wd");
            _ = fresh.wdata.wd; // never added: no reference, no wd yet
        }));
        AssertInterface(r, "consumer_peek_wd", "consumer_peek_wd reads watch->wd of struct inotify_watch");
        Assert.Contains("which holds no reference (count 0: not added by inotify_add_watch, or finally put)", r.Text);
    }

    [Fact]
    public void Reading_the_mask_in_the_callback_and_the_wd_of_a_referenced_watch_is_silent()
    {
        var s = Watched();
        s.C.ReadMaskInCallback = true;
        s.M.As(s.P, () =>
        {
            Assert.Equal(0, s.M.Vfs.sys_chmod("/d", Mode.S_IRWXU));
            using var fn = s.M.K.Fn("consumer_lookup");
            Assert.True(s.W.wd > 0); // ih, inode and wd never change once the watch is created: a referenced watch may be read
            s.Dir.inotify_mutex.mutex_lock();
            Assert.Equal(IN_ATTRIB, s.W.mask);
            s.Dir.inotify_mutex.mutex_unlock();
        });
        Assert.Equal(1, s.C.Events);
        Assert.Equal(IN_ATTRIB, s.C.Seen);
        Seq.AssertSilent(s.M.K);
    }

    [Fact]
    public void The_user_layer_and_the_audit_consumer_of_fixed_follow_it()
    {
        // the user layer's callback reads w->mask (IN_ONESHOT) in fixed (2.6.25's oneshot fix), the audit-like consumer too
        var m = new Machine(new MachineOptions { Fixes = Fix.All, Audit = true });
        var p = m.NewProcess("watcher", 0);
        m.As(p, () =>
        {
            Assert.Equal(0, m.Vfs.sys_mkdir("/d"));
            int fd = (int)m.inotify_init_nonblock();
            Assert.True(m.inotify_add_watch(fd, "/d", IN_ATTRIB | IN_ONESHOT) > 0);
        });
        Assert.True(m.Audit!.audit_add_rule("/d", IN_ATTRIB) > 0);
        m.As(p, () => Assert.Equal(0, m.Vfs.sys_chmod("/d", Mode.S_IRWXU)));
        Assert.Equal(0, m.Audit.audit_remove_rule("/d"));
        m.Teardown();
        Seq.AssertSilent(m.K);
    }
}
