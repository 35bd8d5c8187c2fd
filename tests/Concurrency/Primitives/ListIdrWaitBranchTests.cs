using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;
using static InotifySim.Tests.Concurrency.Primitives.DetectorTable;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>
/// List debugging, idr and wait queues, one row per branch: list_add (next->prev and prev->next checks, through
/// list_add and list_add_tail), list_del (LIST_POISON1, prev->next, next->prev), list_del_init, list_empty of a
/// deleted entry, list_entry of an empty list / a foreign list_head / a LIST_POISON pointer, a walk through a
/// deleted entry; idr_remove of an id that is not allocated; a sequential sleep nobody wakes.
/// </summary>
public class ListIdrWaitBranchTests
{
    public static readonly Branch[] Rows = BuildRows().ToArray();
    public static TheoryData<string> RowNames => Names(Rows);

    [Theory, MemberData(nameof(RowNames))]
    public void Planted_fault_fires_with_the_exact_report(string row) => AssertFires(Find(Rows, row));

    [Theory, MemberData(nameof(RowNames))]
    public void Silent_twin_stays_silent(string row) => AssertSilent(Find(Rows, row));

    /// <summary>A holder h with [a, b] on h->head, a second empty holder h2, and a spare object x, all built by task "lister".</summary>
    private sealed record Lists(TaskStruct T, TestHolder H, TestHolder H2, TestObj A, TestObj B, TestObj X);

    private static Lists Build(Kernel k)
    {
        var t = k.NewTask("lister", 0);
        Lists? l = null;
        k.Spawn(t, () =>
        {
            using var f = k.Fn("build_list");
            var h = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestHolder(k))!;
            var h2 = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestHolder(k))!;
            var a = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!;
            var b = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!;
            var x = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!;
            h.Head.list_add_tail(a.Node);
            h.Head.list_add_tail(b.Node);
            l = new Lists(t, h, h2, a, b, x);
        });
        return l!;
    }

    private static void As(Kernel k, Lists l, string fn, Action<Lists> body) =>
        k.Spawn(l.T, () =>
        {
            using var f = k.Fn(fn);
            body(l);
        });

    private static List<TestObj> Walk(ListHead head, string walker)
    {
        var seen = new List<TestObj>();
        for (var pos = head.Next(walker); pos != head; pos = pos.Next(walker)) seen.Add(pos.list_entry<TestObj>("node"));
        return seen;
    }

    private static Branch Row(string name, BugClass cls, string title, string fn, Action<Lists> fault, Action<Lists> twin, params string[] text) =>
        new(name, cls, title, new[] { fn }, new[] { "lister" },
            k => { var l = Build(k); As(k, l, fn, fault); },
            k => { var l = Build(k); As(k, l, fn, twin); },
            text);

    private static IEnumerable<Branch> BuildRows()
    {
        // ------------------------------------------------ list_add / list_add_tail
        yield return Row("list_add/next->prev-check", BugClass.ListCorruption, "list_debug: list_add corruption in add_fn", "add_fn",
            l => { l.A.Node.list_del(); l.A.Node.list_add(l.X.Node); },            // adding after a deleted entry: next is LIST_POISON1
            l =>
            {
                l.A.Node.list_add(l.X.Node);
                Assert.Equal(new[] { l.A, l.X, l.B }, Walk(l.H.Head, "add_fn"));
            },
            "next->prev should be prev");
        yield return Row("list_add_tail/prev->next-check", BugClass.ListCorruption, "list_debug: list_add corruption in add_fn", "add_fn",
            l => { l.A.Node.list_del(); l.A.Node.list_add_tail(l.X.Node); },       // adding before a deleted entry: prev is LIST_POISON2
            l =>
            {
                l.A.Node.list_add_tail(l.X.Node);
                Assert.Equal(new[] { l.X, l.A, l.B }, Walk(l.H.Head, "add_fn"));
            },
            "prev->next should be next");
        yield return Row("list_add/head-and-tail-order", BugClass.ListCorruption, "list_debug: list_add corruption in add_fn", "add_fn",
            l => { l.B.Node.list_del(); l.B.Node.list_add(l.X.Node); },
            l =>
            {
                l.H.Head.list_add(l.X.Node);
                var y = new TestObj(l.A.K);
                l.H.Head.list_add_tail(y.Node);
                Assert.Equal(new[] { l.X, l.A, l.B, y }, Walk(l.H.Head, "add_fn"));
            },
            "next->prev should be prev");

        // ------------------------------------------------ list_del / list_del_init
        yield return Row("list_del/LIST_POISON1", BugClass.ListCorruption, "list_debug: list_del corruption in del_fn", "del_fn",
            l => { l.A.Node.list_del(); l.A.Node.list_del(); },
            l =>
            {
                l.A.Node.list_del();
                Assert.True(l.A.Node.IsPoisoned);
                Assert.Equal(new[] { l.B }, Walk(l.H.Head, "del_fn"));
            },
            "LIST_POISON1 (00100100)");
        yield return Row("list_del/prev->next-check", BugClass.ListCorruption, "list_debug: list_del corruption in del_fn", "del_fn",
            l => { l.H2.Head.list_add(l.A.Node); l.B.Node.list_del(); },           // a moved to h2 without list_del: b->prev is stale
            l => { l.A.Node.list_del(); l.H2.Head.list_add(l.A.Node); l.B.Node.list_del(); Assert.True(l.H.Head.list_empty()); },
            "prev->next should be");
        yield return Row("list_del/next->prev-check", BugClass.ListCorruption, "list_debug: list_del corruption in del_fn", "del_fn",
            l => { l.H2.Head.list_add(l.B.Node); l.A.Node.list_del(); },           // b moved to h2 without list_del: a->next is stale
            l => { l.B.Node.list_del(); l.H2.Head.list_add(l.B.Node); l.A.Node.list_del(); Assert.True(l.H.Head.list_empty()); },
            "next->prev should be");
        yield return Row("list_del_init/of-a-deleted-entry", BugClass.ListCorruption, "list_debug: list_del corruption in del_fn", "del_fn",
            l => { l.A.Node.list_del(); l.A.Node.list_del_init(); },
            l =>
            {
                l.A.Node.list_del_init();
                Assert.False(l.A.Node.IsPoisoned);
                Assert.True(l.A.Node.list_empty());
                l.A.Node.list_del_init();                                          // a re-initialised entry may be deleted again
                Assert.Equal(new[] { l.B }, Walk(l.H.Head, "del_fn"));
            },
            "LIST_POISON1 (00100100)");

        // ------------------------------------------------ list_empty, list_entry, walks
        yield return Row("list_empty/of-a-deleted-entry", BugClass.ListCorruption, "list_debug: list_empty corruption in empty_fn", "empty_fn",
            l => { l.A.Node.list_del(); l.A.Node.list_empty(); },
            l => { Assert.False(l.H.Head.list_empty()); l.A.Node.list_del_init(); Assert.True(l.A.Node.list_empty()); Assert.True(l.H2.Head.list_empty()); },
            "list_empty on a deleted entry");
        yield return Row("list_entry/of-an-empty-list", BugClass.TypeConfusion, "BUG: list_entry() of an empty list or foreign list_head in entry_fn", "entry_fn",
            l => l.H2.Head.Next("entry_fn").list_entry<TestObj>("node"),
            l => Assert.Same(l.A, l.H.Head.Next("entry_fn").list_entry<TestObj>("node")),
            "the list is empty", "list_entry(struct test_holder #");
        yield return Row("list_entry/of-a-foreign-member", BugClass.TypeConfusion, "BUG: list_entry() of an empty list or foreign list_head in entry_fn", "entry_fn",
            l => l.A.Node.list_entry<TestObj>("i_list"),
            l => Assert.Same(l.A, l.A.Node.list_entry<TestObj>("node")),
            "the list_head is struct test_obj.node, not TestObj.i_list");
        yield return Row("list_entry/of-LIST_POISON1", BugClass.ListCorruption, "list_debug: list_entry corruption in entry_fn", "entry_fn",
            l => l.A.K.LIST_POISON1.list_entry<TestObj>("node"),
            l => Assert.Same(l.B, l.B.Node.list_entry<TestObj>("node")),
            "list_entry() of a LIST_POISON pointer");
        yield return Row("list_entry/of-LIST_POISON2", BugClass.ListCorruption, "list_debug: list_entry corruption in entry_fn", "entry_fn",
            l => l.A.K.LIST_POISON2.list_entry<TestObj>("node"),
            l => Assert.Same(l.B, l.B.Node.list_entry<TestObj>("node")),
            "list_entry() of a LIST_POISON pointer");
        yield return Row("list_walk/through-a-deleted-entry", BugClass.ListCorruption, "list_debug: walk_fn corruption in walk_fn", "walk_fn",
            l => { var pos = l.H.Head.Next("walk_fn"); l.A.Node.list_del(); pos.Next("walk_fn"); },
            l => Assert.Equal(new[] { l.A, l.B }, Walk(l.H.Head, "walk_fn")),
            "list walk through a deleted entry");

        // ------------------------------------------------ idr
        yield return Row("idr_remove/never-allocated", BugClass.KernelWarning, "idr_remove called for id=5 which is not allocated (in idr_fn)", "idr_fn",
            l => { l.A.Ids.idr_pre_get(Gfp.GFP_KERNEL); l.A.Ids.idr_get_new_above("x", 1, out _); l.A.Ids.idr_remove(5); },
            l =>
            {
                l.A.Ids.idr_pre_get(Gfp.GFP_KERNEL);
                Assert.Equal(0, l.A.Ids.idr_get_new_above("x", 5, out var id));
                Assert.Equal(5, id);
                l.A.Ids.idr_remove(5);
                Assert.Null(l.A.Ids.idr_find(5));
            },
            "idr_remove called for id=5 which is not allocated.");
        yield return Row("idr_remove/twice", BugClass.KernelWarning, "idr_remove called for id=1 which is not allocated (in idr_fn)", "idr_fn",
            l => { l.A.Ids.idr_pre_get(Gfp.GFP_KERNEL); l.A.Ids.idr_get_new_above("x", 1, out var id); l.A.Ids.idr_remove(id); l.A.Ids.idr_remove(id); },
            l => { l.A.Ids.idr_pre_get(Gfp.GFP_KERNEL); l.A.Ids.idr_get_new_above("x", 1, out var id); l.A.Ids.idr_remove(id); Assert.Equal(0, l.A.Ids.Count); });

        // ------------------------------------------------ wait queues (sequential: a sleep nobody can end is a hang)
        yield return new Branch("wait_queue/schedule-without-wake_up", BugClass.HungTask, "INFO: task sleeper/2 blocked forever in sleep_fn",
            new[] { "sleep_fn" }, new[] { "sleeper" },
            k =>
            {
                var o = new TestObj(k);
                var t = k.NewTask("sleeper", 0);
                k.Spawn(t, () => { using var f = k.Fn("sleep_fn"); o.Wq.prepare_to_wait(TaskStruct.TASK_INTERRUPTIBLE); o.Wq.schedule(); });
            },
            k =>
            {
                var o = new TestObj(k);
                var t = k.NewTask("sleeper", 0);
                k.Spawn(t, () => { using var f = k.Fn("sleep_fn"); o.Wq.prepare_to_wait(TaskStruct.TASK_INTERRUPTIBLE); });
                Assert.Equal(1, o.Wq.WaiterCount);
                k.Spawn(k.NewTask("waker", 0), () => { using var f = k.Fn("wake_fn"); o.Wq.wake_up_interruptible(); });
                Assert.Equal(0, o.Wq.WaiterCount);
                k.Spawn(t, () => { using var f = k.Fn("sleep_fn"); o.Wq.schedule(); o.Wq.finish_wait(); });
                // a pending signal also ends an interruptible sleep
                k.Spawn(t, () => { using var f = k.Fn("sleep_fn"); o.Wq.prepare_to_wait(TaskStruct.TASK_INTERRUPTIBLE); t.SignalPending = true; o.Wq.schedule(); o.Wq.finish_wait(); });
                Assert.Equal(0, o.Wq.WaiterCount);
            },
            "waits for a wake-up on struct test_obj (static)->wq");
    }
}
