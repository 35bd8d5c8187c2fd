using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;
using static InotifySim.Model.Kernel.Err;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>The list.h walking macros (ListIter) and err.h's ERR_PTR / IS_ERR / PTR_ERR.</summary>
public class ListIterAndErrPtrTests
{
    private static (Kernel k, TaskStruct t, TestHolder h, TestObj[] objs) ListOf(int n)
    {
        var k = new Kernel();
        var t = k.NewTask("lister", 0);
        TestHolder? h = null;
        var objs = new TestObj[n];
        k.Spawn(t, () =>
        {
            h = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestHolder(k));
            for (int i = 0; i < n; i++)
            {
                objs[i] = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!;
                h!.Head.list_add_tail(objs[i].Node);
            }
        });
        return (k, t, h!, objs);
    }

    [Fact]
    public void list_for_each_entry_walks_in_order_and_an_empty_list_yields_nothing()
    {
        var (k, t, h, objs) = ListOf(3);
        k.Spawn(t, () =>
        {
            Assert.Equal(objs, h.Head.list_for_each_entry<TestObj>("node").ToArray());
            foreach (var o in objs) o.Node.list_del();
            Assert.Empty(h.Head.list_for_each_entry<TestObj>("node"));
        });
        Assert.Null(k.FirstReport);
    }

    [Fact]
    public void list_for_each_entry_safe_lets_the_body_delete_pos_and_exposes_the_next_cursor()
    {
        var (k, t, h, objs) = ListOf(3);
        k.Spawn(t, () =>
        {
            var seen = new List<TestObj>();
            foreach (var (pos, n) in h.Head.list_for_each_entry_safe<TestObj>("node"))
            {
                seen.Add(pos);
                int i = Array.IndexOf(objs, pos);
                Assert.Same(i + 1 < objs.Length ? objs[i + 1].Node : h.Head, n);
                pos.Node.list_del();
            }
            Assert.Equal(objs, seen);
            Assert.True(h.Head.list_empty());
        });
        Assert.Null(k.FirstReport);
    }

    [Fact]
    public void The_unsafe_walk_through_a_deleted_entry_is_list_corruption_in_the_walker()
    {
        var (k, t, h, _) = ListOf(2);
        var r = Seq.ExpectBug(k, () => k.Spawn(t, () =>
        {
            using var f = k.Fn("walk_and_delete");
            foreach (var pos in h.Head.list_for_each_entry<TestObj>("node"))
                pos.Node.list_del(); // list_for_each_entry then reads the poisoned ->next
        }));
        Assert.Equal(BugClass.ListCorruption, r.Class);
        Assert.Equal("list_debug: walk_and_delete corruption in walk_and_delete", r.Title);
    }

    [Fact]
    public void ERR_PTR_carries_the_error_and_a_pointer_is_not_an_error()
    {
        var k = new Kernel();
        var holder = new TestHolder(k);
        ErrPtr<TestHolder> ok = holder;
        ErrPtr<TestHolder> bad = ERR_PTR(-Errno.ENOMEM);
        Assert.False(IS_ERR(ok));
        Assert.Equal(0, PTR_ERR(ok));
        Assert.Same(holder, (TestHolder)ok);
        Assert.True(IS_ERR(bad));
        Assert.Equal(-Errno.ENOMEM, PTR_ERR(bad));
        Assert.Throws<InvalidOperationException>(() => (TestHolder)bad);
        Assert.Throws<ArgumentOutOfRangeException>(() => ERR_PTR(0));
    }
}
