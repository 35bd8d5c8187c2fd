using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;
using static InotifySim.Tests.Concurrency.Primitives.DetectorTable;
using KMutex = InotifySim.Model.Kernel.Mutex;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>
/// KASAN-like slab, kmemleak and refcounts, one row per branch: use-after-free through every allocation and
/// free path and through every checked field kind (plain field, list_head, mutex, spinlock, rw_semaphore,
/// atomic_t, idr, wait queue), double free through every free path, the quarantine (a freed object stays
/// poisoned however much is allocated after it), kmemleak for every cache the model allocates from, refcount
/// underflow and addition on 0 for every refcount operation and counter kind.
/// </summary>
public class MemoryBranchTests
{
    private static readonly Lazy<Branch[]> s_rows = new(() => BuildRows().ToArray());
    public static Branch[] Rows => s_rows.Value;
    public static TheoryData<string> RowNames => Names(Rows);

    /// <summary>Every slab cache the model allocates from (src/Model: kmem_cache_alloc, kmalloc, alloc_nofail).</summary>
    public static readonly string[] ModelCaches =
    {
        "inode_cache", "dentry_cache", "super_block", "mnt_cache", "filp", "uid_cache",
        "inotify_watch_cache", "inotify_event_cache", "audit_watch", "kmalloc",
    };

    [Theory, MemberData(nameof(RowNames))]
    public void Planted_fault_fires_with_the_exact_report(string row) => AssertFires(Find(Rows, row));

    [Theory, MemberData(nameof(RowNames))]
    public void Silent_twin_stays_silent(string row) => AssertSilent(Find(Rows, row));

    /// <summary>An allocation path: how a test object is allocated and freed.</summary>
    private sealed record Path(string Name, Func<Kernel, TestObj> Alloc, Action<Kernel, TestObj> Free, string Cache);

    private static readonly Path[] Paths =
    {
        new("kmem_cache_alloc+kmem_cache_free", k => k.Slab.kmem_cache_alloc("test_cache", Gfp.GFP_KERNEL, () => new TestObj(k))!,
            (k, o) => k.Slab.kmem_cache_free("test_cache", o), "test_cache"),
        new("kmem_cache_alloc(GFP_ATOMIC)+kmem_cache_free", k => k.Slab.kmem_cache_alloc("test_cache", Gfp.GFP_ATOMIC, () => new TestObj(k))!,
            (k, o) => k.Slab.kmem_cache_free("test_cache", o), "test_cache"),
        new("kmalloc+kfree", k => k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!, (k, o) => k.Slab.kfree(o), "kmalloc"),
        new("alloc_nofail+kmem_cache_free", k => k.Slab.alloc_nofail("boot_cache", () => new TestObj(k)),
            (k, o) => k.Slab.kmem_cache_free("boot_cache", o), "boot_cache"),
    };

    /// <summary>A checked access to a field of the (freed) object: the field name KASAN reports, and the access.</summary>
    private sealed record Access(string Name, string Field, Action<Kernel, TestObj> Touch);

    private static readonly Access[] Accesses =
    {
        new("field-read", "Value", (k, o) => _ = o.Value),
        new("field-write", "Value", (k, o) => o.Value = 1),
        new("list_empty", "node", (k, o) => o.Node.list_empty()),
        new("list_del", "node", (k, o) => o.Node.list_del()),
        new("list_add_tail", "node", (k, o) => o.Node.list_add_tail(new TestObj(k).Node)),
        new("mutex_lock", "lock", (k, o) => new KMutex(o, "lock", k.Lockdep.Class("test_obj->lock")).mutex_lock()),
        new("spin_lock", "spin", (k, o) => new Spinlock(o, "spin", k.Lockdep.Class("test_obj->spin", spin: true)).spin_lock()),
        new("down_read", "sem", (k, o) => new RwSemaphore(o, "sem", k.Lockdep.Class("test_obj->sem")).down_read()),
        new("down_write", "sem", (k, o) => new RwSemaphore(o, "sem", k.Lockdep.Class("test_obj->sem")).down_write()),
        new("atomic_read", "count", (k, o) => o.Count.atomic_read()),
        new("atomic_set", "count", (k, o) => o.Count.atomic_set(1)),
        new("atomic_inc", "count", (k, o) => o.Count.atomic_inc()),
        new("atomic_inc_return", "count", (k, o) => o.Count.atomic_inc_return()),
        new("atomic_dec_and_test", "plain", (k, o) => new Atomic(o, "plain", refcount: false).atomic_dec_and_test()),
        new("atomic_inc_not_zero", "count", (k, o) => o.Count.atomic_inc_not_zero()),
        new("idr_pre_get", "ids", (k, o) => o.Ids.idr_pre_get(Gfp.GFP_KERNEL)),
        new("idr_get_new_above", "ids", (k, o) => o.Ids.idr_get_new_above("x", 1, out _)),
        new("idr_find", "ids", (k, o) => o.Ids.idr_find(1)),
        new("idr_destroy", "ids", (k, o) => o.Ids.idr_destroy()),
        new("prepare_to_wait", "wq", (k, o) => o.Wq.prepare_to_wait(TaskStruct.TASK_INTERRUPTIBLE)),
        new("wake_up_interruptible", "wq", (k, o) => o.Wq.wake_up_interruptible()),
    };

    private static IEnumerable<Branch> BuildRows()
    {
        // ------------------------------------------------ use-after-free: every allocation/free path, every access kind
        foreach (var p in Paths) yield return UseAfterFree($"use-after-free/{p.Name}", p, Accesses[0], 0);
        foreach (var a in Accesses) yield return UseAfterFree($"use-after-free/access:{a.Name}", Paths[2], a, 0);
        // quarantine: the freed object is still caught after many later allocations and frees
        yield return UseAfterFree("use-after-free/quarantine-after-100-allocations", Paths[0], Accesses[0], 100);

        // ------------------------------------------------ double free: every free path
        foreach (var p in Paths)
        {
            yield return new Branch($"double-free/{p.Name}", BugClass.DoubleFree, "BUG: KASAN: double-free in release_two",
                new[] { "release_two", "release_one", "obj_create" }, new[] { "second", "first" },
                k =>
                {
                    TestObj o = null!;
                    Run(k, "first", "obj_create", () => o = p.Alloc(k));
                    Run(k, "first", "release_one", () => p.Free(k, o));
                    Run(k, "second", "release_two", () => p.Free(k, o));
                },
                k =>
                {
                    TestObj o = null!;
                    Run(k, "first", "obj_create", () => o = p.Alloc(k));
                    Run(k, "first", "release_one", () => p.Free(k, o));
                    Run(k, "second", "release_two", () => k.Slab.kfree(null));
                },
                "Second free of struct test_obj", "Freed by task first/");
        }
        yield return new Branch("double-free/kfree-after-kmem_cache_free", BugClass.DoubleFree, "BUG: KASAN: double-free in release_two",
            new[] { "release_two", "release_one", "obj_create" }, new[] { "second", "first" },
            k =>
            {
                TestObj o = null!;
                Run(k, "first", "obj_create", () => o = Paths[0].Alloc(k));
                Run(k, "first", "release_one", () => k.Slab.kmem_cache_free("test_cache", o));
                Run(k, "second", "release_two", () => k.Slab.kfree(o));
            },
            k =>
            {
                TestObj o = null!;
                Run(k, "first", "obj_create", () => o = Paths[0].Alloc(k));
                Run(k, "second", "release_two", () => k.Slab.kfree(o));
            });

        // ------------------------------------------------ kmemleak: an object of every cache of the model left allocated
        foreach (var cache in ModelCaches)
        {
            yield return new Branch($"kmemleak/{cache}", BugClass.Leak,
                "kmemleak: unreferenced object struct test_obj allocated in leak_alloc", new[] { "leak_alloc" }, new[] { "leaky" },
                k =>
                {
                    TestObj? leaked = null, freed = null, kept = null;
                    Run(k, "leaky", "freed_alloc", () => freed = k.Slab.kmem_cache_alloc(cache, Gfp.GFP_KERNEL, () => new TestObj(k)));
                    Run(k, "leaky", "leak_alloc", () => leaked = k.Slab.kmem_cache_alloc(cache, Gfp.GFP_KERNEL, () => new TestObj(k)));
                    Run(k, "leaky", "boot_alloc", () => kept = k.Slab.alloc_nofail(cache, () => new TestObj(k)));
                    kept!.Alloc!.NotLeak = true;
                    Run(k, "leaky", "free_fn", () => k.Slab.kmem_cache_free(cache, freed));
                    k.Slab.kmemleak_scan();
                },
                k =>
                {
                    TestObj? freed = null, kept = null;
                    Run(k, "leaky", "freed_alloc", () => freed = k.Slab.kmem_cache_alloc(cache, Gfp.GFP_KERNEL, () => new TestObj(k)));
                    Run(k, "leaky", "boot_alloc", () => kept = k.Slab.alloc_nofail(cache, () => new TestObj(k)));
                    kept!.Alloc!.NotLeak = true;
                    Run(k, "leaky", "free_fn", () => k.Slab.kmem_cache_free(cache, freed));
                    k.Slab.kmemleak_scan();
                },
                "1 new suspected memory leaks", $"(struct test_obj, cache {cache})");
        }
        yield return new Branch("kmemleak/alloc_nofail-without-not-leak", BugClass.Leak,
            "kmemleak: unreferenced object struct test_obj allocated in leak_alloc", new[] { "leak_alloc", "second_leak" }, new[] { "leaky", "leaky" },
            k =>
            {
                Run(k, "leaky", "leak_alloc", () => k.Slab.alloc_nofail("boot_cache", () => new TestObj(k)));
                Run(k, "leaky", "second_leak", () => k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k)));
                k.Slab.kmemleak_scan();
            },
            k => k.Slab.kmemleak_scan(),
            "2 new suspected memory leaks");

        // ------------------------------------------------ refcounts: underflow and addition on 0, every operation and counter kind
        foreach (var (name, revivable, put) in new (string, bool, Action<Atomic>)[]
                 {
                     ("atomic_dec", false, a => a.atomic_dec()),
                     ("atomic_dec_and_test", false, a => a.atomic_dec_and_test()),
                     ("atomic_dec/revivable", true, a => a.atomic_dec()),
                     ("atomic_dec_and_test/revivable", true, a => a.atomic_dec_and_test()),
                 })
        {
            string field = revivable ? "i_count" : "count";
            yield return new Branch($"refcount-underflow/{name}", BugClass.RefcountUnderflow,
                $"refcount_t: underflow of struct test_obj.{field} in put_obj", new[] { "put_obj" }, new[] { "putter" },
                k =>
                {
                    var o = new TestObj(k);
                    var c = revivable ? new Atomic(o, "i_count", refcount: true, revivable: true) : o.Count;
                    Run(k, "putter", "put_obj", () => { c.atomic_set(1); put(c); put(c); });
                },
                k =>
                {
                    var o = new TestObj(k);
                    var c = revivable ? new Atomic(o, "i_count", refcount: true, revivable: true) : o.Count;
                    Run(k, "putter", "put_obj", () => { c.atomic_set(1); c.atomic_inc(); put(c); put(c); });
                },
                "refcount_t: underflow; use-after-free.", "dropped to -1");
        }
        foreach (var (name, get) in new (string, Action<Atomic>)[]
                 {
                     ("atomic_inc", a => a.atomic_inc()),
                     ("atomic_inc_return", a => a.atomic_inc_return()),
                 })
        {
            yield return new Branch($"refcount-addition-on-0/{name}", BugClass.RefcountUnderflow,
                "refcount_t: addition on 0 of struct test_obj.count in get_dead_obj", new[] { "get_dead_obj" }, new[] { "getter" },
                k =>
                {
                    var o = new TestObj(k);
                    Run(k, "getter", "get_dead_obj", () => { o.Count.atomic_set(1); o.Count.atomic_dec(); get(o.Count); });
                },
                k =>
                {
                    // inc_not_zero refuses a dead object; a count that starts at 0, or is set again, is not "on 0"
                    var o = new TestObj(k);
                    Run(k, "getter", "get_dead_obj", () =>
                    {
                        o.Count.atomic_set(0);
                        get(o.Count);
                        Assert.True(o.Count.atomic_dec_and_test());
                        Assert.False(o.Count.atomic_inc_not_zero());
                        o.Count.atomic_set(1);
                        get(o.Count);
                        o.Count.atomic_set(0);      // re-initialised to 0 after it died: a fresh count
                        get(o.Count);
                    });
                },
                "refcount_t: addition on 0; use-after-free.");
        }
    }

    private static Branch UseAfterFree(string name, Path p, Access a, int churn) =>
        new(name, BugClass.UseAfterFree, "BUG: KASAN: use-after-free in obj_access",
            new[] { "obj_access", "obj_destroy", "obj_create" }, new[] { "accessor", "freer", "allocator" },
            k =>
            {
                TestObj o = null!;
                Run(k, "allocator", "obj_create", () => o = p.Alloc(k));
                Run(k, "freer", "obj_destroy", () => p.Free(k, o));
                Run(k, "churn", "churn", () =>
                {
                    for (int i = 0; i < churn; i++) p.Free(k, p.Alloc(k));
                });
                Run(k, "accessor", "obj_access", () => a.Touch(k, o));
            },
            k =>
            {
                TestObj o = null!;
                Run(k, "allocator", "obj_create", () => o = p.Alloc(k));
                Run(k, "accessor", "obj_access", () => a.Touch(k, o));
                Run(k, "freer", "obj_destroy", () => p.Free(k, o));
            },
            $"Access of struct test_obj.{a.Field} by task accessor/", $"(cache {p.Cache})");

    [Fact]
    public void A_plain_counter_is_not_a_refcount_and_may_go_negative_or_back_from_zero()
    {
        var k = new Kernel();
        var o = new TestObj(k);
        var plain = new Atomic(o, "inotify_watches", refcount: false);
        Run(k, "t", "count_fn", () =>
        {
            plain.atomic_set(1);
            plain.atomic_dec();
            plain.atomic_inc();
            plain.atomic_dec();
            plain.atomic_dec();
            Assert.Equal(-1, plain.atomic_read());
        });
        Seq.AssertSilent(k);
    }

    [Fact]
    public void A_revivable_count_may_go_from_zero_back_to_one()
    {
        var k = new Kernel();
        var o = new TestObj(k);
        var icount = new Atomic(o, "i_count", refcount: true, revivable: true);
        Run(k, "t", "iget", () =>
        {
            icount.atomic_set(1);
            Assert.True(icount.atomic_dec_and_test());
            icount.atomic_inc();
            Assert.Equal(2, icount.atomic_inc_return());
        });
        Seq.AssertSilent(k);
    }

    [Fact]
    public void The_quarantine_never_hands_a_freed_object_back()
    {
        var k = new Kernel();
        TestObj first = null!;
        Run(k, "t", "alloc", () =>
        {
            first = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!;
            k.Slab.kfree(first);
            for (int i = 0; i < 50; i++)
            {
                var o = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!;
                Assert.NotEqual(first.Alloc!.Id, o.Alloc!.Id);
                k.Slab.kfree(o);
            }
        });
        Assert.True(first.IsFreed);
        Assert.Equal(51, k.Slab.TotalAllocations);
        Assert.Equal(0, k.Slab.LiveCount);
        Seq.AssertSilent(k);
    }
}
