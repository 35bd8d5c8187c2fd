using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>list_head debug checks and idr semantics, sequentially.</summary>
public class ListAndIdrTests
{
    private static (Kernel k, TaskStruct t, TestHolder h, TestObj a, TestObj b) ListOfTwo()
    {
        var k = new Kernel();
        var t = k.NewTask("lister", 0);
        TestHolder? h = null; TestObj? a = null, b = null;
        k.Spawn(t, () =>
        {
            using var f = k.Fn("build_list");
            h = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestHolder(k));
            a = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k));
            b = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k));
            h!.Head.list_add_tail(a!.Node);
            h.Head.list_add_tail(b!.Node);
        });
        return (k, t, h!, a!, b!);
    }

    // ------------------------------------------------------------ list corruption

    [Fact]
    public void Double_list_del_is_list_corruption()
    {
        var (k, t, _, a, _) = ListOfTwo();
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var f = k.Fn("remove_twice");
            a.Node.list_del();
            a.Node.list_del();
        }));
        Assert.Equal(BugClass.ListCorruption, r.Class);
        Assert.Equal("list_debug: list_del corruption in remove_twice", r.Title);
        Assert.Equal(new[] { "remove_twice" }, r.Functions);
        Assert.Equal(new[] { t.Name }, r.Threads);
        Assert.Contains("LIST_POISON1 (00100100)", r.Text);
        Assert.Equal(new[] { a.Node.Name }, r.Objects);
    }

    [Fact]
    public void Walking_through_a_deleted_entry_is_list_corruption()
    {
        var (k, t, h, a, _) = ListOfTwo();
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var f = k.Fn("walk_list");
            var pos = h.Head.Next("walk_list");        // a
            a.Node.list_del();                          // deleted under the walker's feet
            pos = pos.Next("walk_list");                // a->next is LIST_POISON1
        }));
        Assert.Equal(BugClass.ListCorruption, r.Class);
        Assert.Equal("list_debug: walk_list corruption in walk_list", r.Title);
        Assert.Contains("list walk through a deleted entry", r.Text);
    }

    [Fact]
    public void List_entry_of_an_empty_list_is_type_confusion()
    {
        var k = new Kernel();
        var t = k.NewTask("t", 0);
        var h = new TestHolder(k);
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var f = k.Fn("first_entry");
            Assert.True(h.Head.list_empty());
            h.Head.Next("first_entry").list_entry<TestObj>("node");
        }));
        Assert.Equal(BugClass.TypeConfusion, r.Class);
        Assert.Equal("BUG: list_entry() of an empty list or foreign list_head in first_entry", r.Title);
        Assert.Equal(new[] { "first_entry" }, r.Functions);
        Assert.Contains("the list is empty", r.Text);
    }

    [Fact]
    public void Correct_add_walk_delete_is_silent()
    {
        var (k, t, h, a, b) = ListOfTwo();
        k.Spawn(t, () =>
        {
            using var f = k.Fn("walk_ok");
            var seen = new List<TestObj>();
            for (var pos = h.Head.Next("walk_ok"); pos != h.Head; pos = pos.Next("walk_ok"))
                seen.Add(pos.list_entry<TestObj>("node"));
            Assert.Equal(new[] { a, b }, seen);
            a.Node.list_del();
            Assert.True(a.Node.IsPoisoned);
            b.Node.list_del_init();
            Assert.True(b.Node.list_empty());
            Assert.True(h.Head.list_empty());
        });
        Seq.AssertSilent(k);
    }

    // ------------------------------------------------------------ idr

    [Fact]
    public void Idr_get_new_above_returns_the_smallest_free_id_at_or_above_start()
    {
        var k = new Kernel();
        var t = k.NewTask("idr", 0);
        var o = new TestObj(k);
        var got = new List<int>();
        k.Spawn(t, () =>
        {
            int Get(int start)
            {
                Assert.Equal(1, o.Ids.idr_pre_get(Gfp.GFP_KERNEL));
                Assert.Equal(0, o.Ids.idr_get_new_above("p" + start, start, out var id));
                got.Add(id);
                return id;
            }
            Get(1); Get(1); Get(1);       // 1 2 3
            o.Ids.idr_remove(2);
            Get(1);                        // 2 again: smallest free >= 1
            Get(3);                        // 4: 3 is taken
            Get(10);                       // 10
            Get(0);                        // 0
            Assert.Equal("p10", o.Ids.idr_find(10));
            Assert.Null(o.Ids.idr_find(5));
        });
        Seq.AssertSilent(k);
        Assert.Equal(new[] { 1, 2, 3, 2, 4, 10, 0 }, got);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 10 }, o.Ids.Entries.Select(e => e.Key));
    }

    [Fact]
    public void Idr_get_new_above_without_pre_get_is_EAGAIN()
    {
        var k = new Kernel();
        var o = new TestObj(k);
        k.Spawn(k.NewTask("idr", 0), () =>
        {
            Assert.Equal(-Errno.EAGAIN, o.Ids.idr_get_new_above("x", 1, out var id0));
            Assert.Equal(-1, id0);
            Assert.Equal(1, o.Ids.idr_pre_get(Gfp.GFP_KERNEL));
            Assert.Equal(0, o.Ids.idr_get_new_above("x", 1, out _));
            // the preallocation is consumed: the next one needs another idr_pre_get
            Assert.Equal(-Errno.EAGAIN, o.Ids.idr_get_new_above("y", 1, out _));
        });
        Seq.AssertSilent(k);
        Assert.Equal(1, o.Ids.Count);
    }

    [Fact]
    public void Idr_remove_of_an_unallocated_id_is_a_kernel_warning()
    {
        var k = new Kernel();
        var o = new TestObj(k);
        var t = k.NewTask("idr", 0);
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var e = k.Entry("sys_rm");
            using var f = k.Fn("remove_id");
            o.Ids.idr_pre_get(Gfp.GFP_KERNEL);
            o.Ids.idr_get_new_above("x", 1, out var id);
            o.Ids.idr_remove(id);
            o.Ids.idr_remove(id);
        }));
        Assert.Equal(BugClass.KernelWarning, r.Class);
        Assert.Equal("idr_remove called for id=1 which is not allocated (in remove_id)", r.Title);
        Assert.Equal(new[] { "remove_id", "sys_rm" }, r.Functions);
        Assert.Equal(new[] { t.Name }, r.Threads);
    }
}
