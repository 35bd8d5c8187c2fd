using System.Reflection;
using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;
using Xunit.Abstractions;
using static InotifySim.Tests.Concurrency.Primitives.DetectorTable;
using KMutex = InotifySim.Model.Kernel.Mutex;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>
/// Four places where a kernel debug tool fires and the model's detectors did not (issue 13 / 16 follow-up), one row
/// (planted fault + silent twin) per check:
/// finish_wait on a freed wait_queue_head (KASAN use-after-free, when the wait entry is still queued);
/// list_add of an entry next to itself (CONFIG_DEBUG_LIST's "list_add double add");
/// kmem_cache_free of an object from another cache (SLUB's "Wrong slab cache" WARN);
/// a syscall that returns with its stack wait entry still on a wait queue (the next wake-up writes to a dead frame).
/// The rw_semaphore wait-for check (a cycle through the second reader) is under Coyote in <see cref="RwSemWaitForGapTests"/>.
/// </summary>
public class DetectorGapTests
{
    public static readonly Branch[] Rows = BuildRows().ToArray();
    public static TheoryData<string> RowNames => Names(Rows);

    [Theory, MemberData(nameof(RowNames))]
    public void Planted_fault_fires_with_the_exact_report(string row) => AssertFires(Find(Rows, row));

    [Theory, MemberData(nameof(RowNames))]
    public void Silent_twin_stays_silent(string row) => AssertSilent(Find(Rows, row));

    /// <summary>
    /// A reader (task "reader", in sys_read -> inotify_read) prepares to wait on the device's wait queue, then
    /// <paramref name="between"/> runs (as task "closer"), then the reader calls finish_wait.
    /// </summary>
    private static void ReaderAround(Kernel k, Action<TestObj> between, bool freeAfter)
    {
        TestObj dev = null!;
        var reader = k.NewTask("reader", 0);
        var closer = k.NewTask("closer", 0);
        k.Spawn(closer, () => { using var f = k.Fn("inotify_open"); dev = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!; });
        k.Spawn(reader, () =>
        {
            using var s = k.Fn("sys_read");
            using var f = k.Fn("inotify_read");
            dev.Wq.prepare_to_wait(TaskStruct.TASK_INTERRUPTIBLE);
        });
        k.Spawn(closer, () => between(dev));
        k.Spawn(reader, () =>
        {
            using var s = k.Fn("sys_read");
            using var f = k.Fn("inotify_read");
            dev.Wq.finish_wait();
            Assert.Equal(0, dev.IsFreed ? 0 : dev.Wq.WaiterCount);
        });
        if (freeAfter) k.Spawn(closer, () => { using var f = k.Fn("put_inotify_dev"); k.Slab.kfree(dev); });
    }

    /// <summary>A reader's syscall (sys_read -> inotify_read) prepares to wait on the device's queue and returns.</summary>
    private static void WaitAndReturn(Kernel k, bool finish)
    {
        TestObj dev = null!;
        Run(k, "opener", "inotify_open", () => dev = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!);
        k.Spawn(k.NewTask("reader", 0), () =>
        {
            using var e = k.Entry("sys_read");
            using var f = k.Fn("inotify_read");
            dev.Wq.prepare_to_wait(TaskStruct.TASK_INTERRUPTIBLE);
            dev.Wq.prepare_to_wait(TaskStruct.TASK_INTERRUPTIBLE); // the read loop's next round: the same entry, not a second
            Assert.Equal(1, dev.Wq.WaiterCount);
            if (finish) dev.Wq.finish_wait();
        });
    }

    private static void Free(Kernel k, TestObj dev)
    {
        using var f = k.Fn("put_inotify_dev");
        k.Slab.kfree(dev);
    }

    private static void Wake(Kernel k, TestObj dev)
    {
        using var f = k.Fn("inotify_dev_queue_event");
        dev.Wq.wake_up_interruptible();
    }

    /// <summary>An empty list_head h and two entries a, b, allocated by task "lister".</summary>
    private static (TestHolder H, TestObj A, TestObj B) Lists(Kernel k)
    {
        (TestHolder, TestObj, TestObj) r = default;
        Run(k, "lister", "build_list", () => r = (
            k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestHolder(k))!,
            k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!,
            k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!));
        return r;
    }

    private static IEnumerable<Branch> BuildRows()
    {
        // ------------------------------------------------ finish_wait: the wait_queue_head freed under a waiter
        yield return new Branch("finish_wait/freed-wait-queue-head", BugClass.UseAfterFree, "BUG: KASAN: use-after-free in finish_wait",
            new[] { "finish_wait", "put_inotify_dev", "inotify_open", "inotify_read", "sys_read" }, new[] { "reader", "closer" },
            k => ReaderAround(k, dev => Free(k, dev), freeAfter: false),         // freed while the reader's entry is queued
            k => ReaderAround(k, dev => { }, freeAfter: true),                   // freed after finish_wait
            "Access of struct test_obj.wq by task reader/", "Freed by task closer/");
        // a woken entry was unlinked by the wake-up (autoremove_wake_function): finish_wait does not touch q,
        // so freeing the device after the wake-up and before finish_wait is not an access KASAN sees. The fault:
        // the same free with no wake-up first.
        yield return new Branch("finish_wait/woken-entry-does-not-touch-q", BugClass.UseAfterFree, "BUG: KASAN: use-after-free in finish_wait",
            new[] { "finish_wait", "put_inotify_dev", "inotify_open", "inotify_read", "sys_read" }, new[] { "reader", "closer" },
            k => ReaderAround(k, dev => Free(k, dev), freeAfter: false),
            k => ReaderAround(k, dev => { Wake(k, dev); Free(k, dev); }, freeAfter: false),
            "Access of struct test_obj.wq by task reader/");

        // ------------------------------------------------ a wait entry (DEFINE_WAIT, on the stack) left queued at return
        yield return new Branch("prepare_to_wait/entry-left-queued-at-return", BugClass.UseAfterFree,
            "BUG: wait entry left on struct test_obj #1 (kmalloc)->wq when sys_read returned",
            new[] { "inotify_read", "sys_read" }, new[] { "reader" },
            k => WaitAndReturn(k, finish: false), // returns with its stack wait entry still linked into dev->wq
            k => WaitAndReturn(k, finish: true),  // finish_wait unlinks it first
            "inotify_read called prepare_to_wait() on struct test_obj #1 (kmalloc)->wq", "dead", "stack frame");

        // ------------------------------------------------ list_add double add (__list_add_valid: new == prev || new == next)
        yield return new Branch("list_add/double-add-after-head", BugClass.ListCorruption, "list_debug: list_add double add in add_fn",
            new[] { "add_fn" }, new[] { "lister" },
            k =>
            {
                var (h, a, _) = Lists(k);
                Run(k, "lister", "add_fn", () => { h.Head.list_add(a.Node); h.Head.list_add(a.Node); });
            },
            k =>
            {
                var (h, a, b) = Lists(k);
                Run(k, "lister", "add_fn", () =>
                {
                    h.Head.list_add(a.Node);
                    h.Head.list_add(b.Node);
                    a.Node.list_del();
                    h.Head.list_add(a.Node); // re-added after list_del: fine
                    Assert.False(h.Head.list_empty());
                });
            },
            "list_debug: list_add double add: new=struct test_obj #2 (kmalloc)->node, prev=struct test_holder #1 (kmalloc)->head, next=struct test_obj #2 (kmalloc)->node.",
            "entry struct test_obj #2 (kmalloc)->node");
        yield return new Branch("list_add_tail/double-add-before-head", BugClass.ListCorruption, "list_debug: list_add double add in add_fn",
            new[] { "add_fn" }, new[] { "lister" },
            k =>
            {
                var (h, a, b) = Lists(k);
                Run(k, "lister", "add_fn", () => { h.Head.list_add_tail(b.Node); h.Head.list_add_tail(a.Node); h.Head.list_add_tail(a.Node); });
            },
            k =>
            {
                var (h, a, b) = Lists(k);
                Run(k, "lister", "add_fn", () => { h.Head.list_add_tail(b.Node); h.Head.list_add_tail(a.Node); a.Node.list_del_init(); h.Head.list_add_tail(a.Node); });
            },
            "list_debug: list_add double add: new=struct test_obj #2 (kmalloc)->node, prev=struct test_obj #2 (kmalloc)->node, next=struct test_holder #1 (kmalloc)->head.");
        yield return new Branch("list_add/entry-added-after-itself", BugClass.ListCorruption, "list_debug: list_add double add in add_fn",
            new[] { "add_fn" }, new[] { "lister" },
            k =>
            {
                var (h, a, _) = Lists(k);
                Run(k, "lister", "add_fn", () => { h.Head.list_add(a.Node); a.Node.list_add(a.Node); });
            },
            k =>
            {
                var (h, a, b) = Lists(k);
                Run(k, "lister", "add_fn", () => { h.Head.list_add(a.Node); a.Node.list_add(b.Node); });
            },
            "new=struct test_obj #2 (kmalloc)->node, prev=struct test_obj #2 (kmalloc)->node, next=struct test_holder #1 (kmalloc)->head.");

        // ------------------------------------------------ kmem_cache_free to a cache the object is not from
        yield return new Branch("kmem_cache_free/wrong-cache", BugClass.KernelWarning,
            "kmem_cache_free: Wrong slab cache. inotify_event_cache but object is from inotify_watch_cache (in free_fn)",
            new[] { "free_fn", "alloc_fn" }, new[] { "freer", "allocator" },
            k =>
            {
                TestObj o = null!;
                Run(k, "allocator", "alloc_fn", () => o = k.Slab.kmem_cache_alloc("inotify_watch_cache", Gfp.GFP_KERNEL, () => new TestObj(k))!);
                Run(k, "freer", "free_fn", () => k.Slab.kmem_cache_free("inotify_event_cache", o));
            },
            k =>
            {
                TestObj o = null!;
                Run(k, "allocator", "alloc_fn", () => o = k.Slab.kmem_cache_alloc("inotify_watch_cache", Gfp.GFP_KERNEL, () => new TestObj(k))!);
                Run(k, "freer", "free_fn", () => k.Slab.kmem_cache_free("inotify_watch_cache", o));
                Assert.Equal(0, k.Slab.LiveCount);
            },
            "kmem_cache_free: Wrong slab cache. inotify_event_cache but object is from inotify_watch_cache\n",
            "allocated from inotify_watch_cache by task allocator/");
        yield return new Branch("kmem_cache_free/kmalloc-object-to-a-cache", BugClass.KernelWarning,
            "kmem_cache_free: Wrong slab cache. audit_watch but object is from kmalloc (in free_fn)",
            new[] { "free_fn", "alloc_fn" }, new[] { "freer", "allocator" },
            k =>
            {
                TestObj o = null!;
                Run(k, "allocator", "alloc_fn", () => o = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!);
                Run(k, "freer", "free_fn", () => k.Slab.kmem_cache_free("audit_watch", o));
            },
            k =>
            {
                // kfree takes the object's own cache (virt_to_cache): any slab object may be kfree'd
                TestObj o = null!, p = null!;
                Run(k, "allocator", "alloc_fn", () =>
                {
                    o = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!;
                    p = k.Slab.kmem_cache_alloc("audit_watch", Gfp.GFP_KERNEL, () => new TestObj(k))!;
                });
                Run(k, "freer", "free_fn", () => { k.Slab.kfree(o); k.Slab.kfree(p); });
                Assert.Equal(0, k.Slab.LiveCount);
            });
    }
}

/// <summary>
/// The wait-for graph through an rw_semaphore held by several readers: the check follows every holder, so a cycle
/// through the SECOND reader is reported by the check (not by Coyote's own deadlock monitor), naming both tasks,
/// what each holds and wants; a writer waiting on two readers neither of which waits for it stays silent.
/// One lock class for the rw_semaphore and the mutex, the mutex taken as mutex_lock_nested(1), so lockdep records
/// no edge and only the wait-for graph can see the cycle. Barriers fix the order (r1 reads first, then r2; w takes
/// the mutex, then waits to write), so every schedule deadlocks in the fault and none does in the twin.
/// </summary>
public class RwSemWaitForGapTests
{
    private const uint Seed = 20062;
    private readonly ITestOutputHelper _out;

    public RwSemWaitForGapTests(ITestOutputHelper output) => _out = output;

    private static readonly FieldInfo s_waitingFor =
        typeof(TaskStruct).GetField("WaitingFor", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("TaskStruct.WaitingFor not found");

    private static bool Blocked(TaskStruct t) => s_waitingFor.GetValue(t) != null;

    /// <summary>
    /// r1 and r2 hold s_umount for reading (r1 first); w holds the mutex and waits in down_write for both readers;
    /// then r2 (the fault) takes the mutex while still reading, or (the twin) drops s_umount first. When
    /// <paramref name="cycleThroughFirst"/> the roles of r1 and r2 are swapped (the cycle runs through the first reader).
    /// </summary>
    private static (CoyoteResult res, string[] names, string[] locks) Scenario(bool fault, bool cycleThroughFirst, int iterations)
    {
        var names = new string[3];
        var locks = new string[2];
        var res = CoyoteHost.Run(k =>
        {
            var cls = k.Lockdep.Class("sb->s_umount");
            var sem = new RwSemaphore(k.Globals, "s_umount", cls);
            var m = new KMutex(k.Globals, "ih_mutex", cls);
            locks[0] = m.Name;
            locks[1] = sem.Name;
            var r1 = k.NewTask("r1", 0);
            var r2 = k.NewTask("r2", 0);
            var w = k.NewTask("w", 0);
            names[0] = r1.Name;
            names[1] = r2.Name;
            names[2] = w.Name;
            int readers = 0;
            var cyc = cycleThroughFirst ? r1 : r2;
            var other = cycleThroughFirst ? r2 : r1;
            Task Reader(TaskStruct me, int order) => k.Spawn(me, () =>
            {
                using var e = k.Entry("sys_umount");
                using (k.Fn($"{me.Comm}_read"))
                {
                    k.WaitUntil(() => readers == order, () => "the reader order");
                    sem.down_read();
                    readers++;
                }
                if (me == cyc)
                {
                    k.WaitUntil(() => Blocked(w), () => "the writer");
                    if (!fault)
                    {
                        sem.up_read();
                        using (k.Fn($"{me.Comm}_lock")) m.mutex_lock_nested(1);
                        m.mutex_unlock();
                        return;
                    }
                    using (k.Fn($"{me.Comm}_lock")) m.mutex_lock_nested(1);
                    m.mutex_unlock();
                    sem.up_read();
                }
                else
                {
                    // the other reader runs on, holding s_umount, until the cycle (if any) is closed or the writer got in
                    k.WaitUntil(() => Blocked(w) && (Blocked(cyc) || !fault), () => "the other tasks");
                    sem.up_read();
                }
            });
            var t1 = Reader(r1, 0);
            var t2 = Reader(r2, 1);
            var tw = k.Spawn(w, () =>
            {
                using var e = k.Entry("sys_umount");
                using (k.Fn("w_lock")) m.mutex_lock_nested(1);
                k.WaitUntil(() => readers == 2, () => "both readers");
                using (k.Fn("w_write")) sem.down_write();
                sem.up_write();
                m.mutex_unlock();
            });
            CoyoteHost.Join(t1, t2, tw);
        }, iterations: (uint)iterations, seed: Seed);
        return (res, names, locks);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_cycle_through_any_reader_of_an_rw_semaphore_is_reported_by_the_wait_for_check(bool cycleThroughFirst)
    {
        var (res, names, locks) = Scenario(fault: true, cycleThroughFirst, iterations: 10);
        _out.WriteLine(res.ToString());
        Assert.True(res.BugFound, "the wait-for cycle through a reader was not found");
        Assert.Equal(1, res.IterationsRun); // every schedule deadlocks
        Assert.StartsWith(CoyoteHost.KernelBugPrefix, res.BugText); // our check, not Coyote's deadlock monitor
        var r = res.KernelReport!;
        Assert.NotNull(r);
        Assert.Equal(BugClass.Deadlock, r.Class);
        var cyc = cycleThroughFirst ? names[0] : names[1];
        var cycComm = cycleThroughFirst ? "r1" : "r2";
        Assert.Equal($"INFO: deadlock: 2 tasks wait for each other ({cyc} -> {names[2]})", r.Title);
        Assert.Equal(new[] { cyc, names[2] }, r.Threads);
        Assert.Equal(locks, r.Objects);
        Assert.Equal(new[] { $"{cycComm}_lock", $"{cycComm}_read", "w_write", "w_lock" }, r.Functions);
        Assert.Contains($"task {cyc} holds (sb->s_umount) {locks[1]} [taken in {cycComm}_read]", r.Text);
        Assert.Contains($"and wants (sb->s_umount) {locks[0]} in {cycComm}_lock, owned by {names[2]}", r.Text);
        Assert.Contains($"task {names[2]} holds (sb->s_umount) {locks[0]} [taken in w_lock]", r.Text);
        Assert.Contains($"and wants (sb->s_umount) {locks[1]} in w_write, owned by {cyc}", r.Text);
    }

    [Fact]
    public void A_writer_waiting_on_two_readers_that_do_not_wait_for_it_stays_silent()
    {
        var (res, _, _) = Scenario(fault: false, cycleThroughFirst: false, iterations: 20);
        _out.WriteLine(res.ToString());
        Assert.False(res.BugFound, res.ToString());
        Assert.Equal(20, res.IterationsRun);
    }
}
