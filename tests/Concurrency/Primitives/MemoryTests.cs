using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>Slab/KASAN, kmemleak and refcount detectors, sequentially.</summary>
public class MemoryTests
{
    private static TestObj Alloc(Kernel k, TaskStruct t, string fn)
    {
        TestObj? o = null;
        k.Spawn(t, () => { using var f = k.Fn(fn); o = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k)); });
        return o!;
    }

    // ------------------------------------------------------------ use-after-free

    [Fact]
    public void Use_after_free_names_the_allocating_freeing_and_accessing_function_and_task()
    {
        var k = new Kernel();
        var ta = k.NewTask("allocator", 0);
        var tf = k.NewTask("freer", 0);
        var tx = k.NewTask("accessor", 0);
        var o = Alloc(k, ta, "obj_create");
        k.Spawn(tf, () => { using var f = k.Fn("obj_destroy"); k.Slab.kfree(o); });
        var r = Seq.ExpectBug(k, () => k.Spawn(tx, () =>
        {
            using var e = k.Entry("sys_poke");
            using var f = k.Fn("obj_read_value");
            _ = o.Value;
        }));
        Assert.Equal(BugClass.UseAfterFree, r.Class);
        Assert.Equal("BUG: KASAN: use-after-free in obj_read_value", r.Title);
        // accessing, freeing and allocating function first, then the accessor's callers
        Assert.Equal(new[] { "obj_read_value", "obj_destroy", "obj_create", "sys_poke" }, r.Functions);
        Assert.Equal(new[] { tx.Name, tf.Name, ta.Name }, r.Threads);
        Assert.Equal(new[] { $"struct test_obj #{o.Alloc!.Id}" }, r.Objects);
        Assert.Contains("Access of struct test_obj.Value", r.Text);
        Assert.Contains($"Freed by task {tf.Name}", r.Text);
        Assert.Contains($"Allocated by task {ta.Name}", r.Text);
    }

    [Fact]
    public void Use_after_free_through_an_embedded_primitive_is_caught()
    {
        var k = new Kernel();
        var t = k.NewTask("t", 0);
        var o = Alloc(k, t, "obj_create");
        var m = new InotifySim.Model.Kernel.Mutex(o, "lock", k.Lockdep.Class("test_obj->lock"));
        k.Spawn(t, () => { using var f = k.Fn("obj_destroy"); k.Slab.kfree(o); });
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () => { using var f = k.Fn("lock_dead_obj"); m.mutex_lock(); }));
        Assert.Equal(BugClass.UseAfterFree, r.Class);
        Assert.Contains("struct test_obj.lock", r.Text);
        Assert.Equal("lock_dead_obj", r.Functions[0]);
    }

    [Fact]
    public void Access_before_free_is_silent()
    {
        var k = new Kernel();
        var t = k.NewTask("t", 0);
        var o = Alloc(k, t, "obj_create");
        k.Spawn(t, () =>
        {
            using var f = k.Fn("obj_use");
            o.Value = 7;
            Assert.Equal(7, o.Value);
            o.Node.INIT_LIST_HEAD();
            k.Slab.kfree(o);
        });
        Seq.AssertSilent(k);
        Assert.True(o.IsFreed);
        Assert.Equal(0, k.Slab.LiveCount);
    }

    // ------------------------------------------------------------ double free

    [Fact]
    public void Double_free_names_both_frees_and_the_allocation()
    {
        var k = new Kernel();
        var t1 = k.NewTask("first", 0);
        var t2 = k.NewTask("second", 0);
        var o = Alloc(k, t1, "obj_create");
        k.Spawn(t1, () => { using var f = k.Fn("release_one"); k.Slab.kfree(o); });
        var r = Seq.ExpectBug(k, () => k.Spawn(t2, () => { using var f = k.Fn("release_two"); k.Slab.kfree(o); }));
        Assert.Equal(BugClass.DoubleFree, r.Class);
        Assert.Equal("BUG: KASAN: double-free in release_two", r.Title);
        Assert.Equal(new[] { "release_two", "release_one", "obj_create" }, r.Functions);
        Assert.Equal(new[] { t2.Name, t1.Name }, r.Threads);
    }

    [Fact]
    public void Single_free_and_kfree_null_are_silent()
    {
        var k = new Kernel();
        var t = k.NewTask("t", 0);
        var o = Alloc(k, t, "obj_create");
        k.Spawn(t, () => { k.Slab.kfree(o); k.Slab.kfree(null); });
        Seq.AssertSilent(k);
    }

    // ------------------------------------------------------------ kmemleak

    [Fact]
    public void Kmemleak_reports_the_unfreed_object_with_its_allocation_function()
    {
        var k = new Kernel();
        var t = k.NewTask("leaky", 0);
        var freed = Alloc(k, t, "freed_later");
        var leaked = Alloc(k, t, "leak_alloc");
        var kept = Alloc(k, t, "boot_alloc");
        kept.Alloc!.NotLeak = true;
        k.Spawn(t, () => k.Slab.kfree(freed));
        var r = Seq.ExpectBug(k, () => k.Slab.kmemleak_scan());
        Assert.Equal(BugClass.Leak, r.Class);
        Assert.Equal("kmemleak: unreferenced object struct test_obj allocated in leak_alloc", r.Title);
        Assert.Equal(new[] { "leak_alloc" }, r.Functions);
        Assert.Equal(new[] { t.Name }, r.Threads);
        Assert.Equal(new[] { $"struct test_obj #{leaked.Alloc!.Id}" }, r.Objects);
        Assert.Contains("1 new suspected memory leaks", r.Text);
    }

    [Fact]
    public void Kmemleak_is_silent_when_everything_was_freed()
    {
        var k = new Kernel();
        var t = k.NewTask("tidy", 0);
        var objs = Enumerable.Range(0, 4).Select(i => Alloc(k, t, "alloc" + i)).ToList();
        k.Spawn(t, () => { foreach (var o in objs) k.Slab.kfree(o); });
        k.Slab.kmemleak_scan();
        Seq.AssertSilent(k);
        Assert.Equal(4, k.Slab.TotalAllocations);
    }

    // ------------------------------------------------------------ refcounts

    [Fact]
    public void Refcount_underflow_is_reported()
    {
        var k = new Kernel();
        var t = k.NewTask("putter", 0);
        var o = Alloc(k, t, "obj_create");
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var e = k.Entry("sys_put");
            using var f = k.Fn("put_obj");
            o.Count.atomic_set(1);
            Assert.True(o.Count.atomic_dec_and_test());
            o.Count.atomic_dec_and_test(); // one put too many
        }));
        Assert.Equal(BugClass.RefcountUnderflow, r.Class);
        Assert.Equal("refcount_t: underflow of struct test_obj.count in put_obj", r.Title);
        Assert.Equal(new[] { "put_obj", "sys_put" }, r.Functions);
        Assert.Equal(new[] { t.Name }, r.Threads);
        Assert.Contains("dropped to -1", r.Text);
    }

    [Fact]
    public void Refcount_addition_on_zero_is_reported()
    {
        var k = new Kernel();
        var t = k.NewTask("getter", 0);
        var o = Alloc(k, t, "obj_create");
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var f = k.Fn("get_dead_obj");
            o.Count.atomic_set(1);
            o.Count.atomic_dec();
            o.Count.atomic_inc(); // resurrecting a released object
        }));
        Assert.Equal(BugClass.RefcountUnderflow, r.Class);
        Assert.Equal("refcount_t: addition on 0 of struct test_obj.count in get_dead_obj", r.Title);
        Assert.Equal(new[] { "get_dead_obj" }, r.Functions);
        Assert.Contains("addition on 0; use-after-free", r.Text);
    }

    [Fact]
    public void Revivable_count_may_go_0_to_1_but_still_underflows()
    {
        var k = new Kernel();
        var t = k.NewTask("t", 0);
        var o = Alloc(k, t, "obj_create");
        var icount = new Atomic(o, "i_count", refcount: true, revivable: true);
        k.Spawn(t, () =>
        {
            icount.atomic_set(1);
            Assert.True(icount.atomic_dec_and_test());
            icount.atomic_inc();            // a cached inode is found again: legitimate
            Assert.True(icount.atomic_dec_and_test());
        });
        Seq.AssertSilent(k);
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () => { using var f = k.Fn("iput_twice"); icount.atomic_dec(); }));
        Assert.Equal(BugClass.RefcountUnderflow, r.Class);
        Assert.Equal("refcount_t: underflow of struct test_obj.i_count in iput_twice", r.Title);
    }

    [Fact]
    public void Balanced_gets_and_puts_are_silent()
    {
        var k = new Kernel();
        var t = k.NewTask("t", 0);
        var o = Alloc(k, t, "obj_create");
        var plain = new Atomic(o, "plain", refcount: false);
        k.Spawn(t, () =>
        {
            o.Count.atomic_set(0);
            o.Count.atomic_inc();           // a count that starts at 0 is not "addition on 0"
            Assert.Equal(2, o.Count.atomic_inc_return());
            o.Count.atomic_dec();
            Assert.True(o.Count.atomic_dec_and_test());
            plain.atomic_dec();             // not a refcount: may go negative
            Assert.Equal(-1, plain.atomic_read());
        });
        Seq.AssertSilent(k);
    }
}
