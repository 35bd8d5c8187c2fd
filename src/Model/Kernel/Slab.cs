using System.Text;

namespace InotifySim.Model.Kernel;

/// <summary>gfp_t, reduced to what the model needs: GFP_KERNEL may sleep, GFP_ATOMIC may not.</summary>
public enum Gfp
{
    /// <summary>may sleep and may enter filesystem reclaim (shrink_icache_memory takes iprune_mutex)</summary>
    GFP_KERNEL,
    /// <summary>may sleep, but reclaim does not call into filesystems</summary>
    GFP_NOFS,
    /// <summary>may not sleep</summary>
    GFP_ATOMIC,
}

/// <summary>One slab allocation: its cache, its allocation and free sites.</summary>
public sealed class Allocation
{
    public int Id { get; }
    public string Cache { get; }
    public string Type { get; }
    public Site Allocated { get; }
    public Site? FreedAt { get; internal set; }
    public bool Freed { get; internal set; }
    /// <summary>kmemleak_not_leak(): objects that legitimately outlive a run's teardown.</summary>
    public bool NotLeak { get; set; }

    internal Allocation(int id, string cache, string type, Site allocated)
    {
        Id = id;
        Cache = cache;
        Type = type;
        Allocated = allocated;
    }
}

/// <summary>
/// The simulated slab allocator (kmalloc / kfree / kmem_cache_alloc / kmem_cache_free), the
/// KASAN analogue (use-after-free, double-free: freed objects stay in quarantine forever, so
/// every later access is caught) and kmemleak (every object still allocated at teardown).
/// Allocations with GFP_KERNEL are sleep points (checked against spinlocks) and, when fault
/// injection is on for the run, can fail by a Coyote-controlled choice.
/// </summary>
public sealed class Slab
{
    private readonly Kernel _k;
    private int _next = 1;
    private readonly Dictionary<int, KObject> _live = new();

    internal Slab(Kernel k) => _k = k;

    public int LiveCount => _live.Count;
    public int TotalAllocations => _next - 1;

    /// <summary>kmem_cache_alloc(cachep, gfp) / kmalloc(size, gfp): null when the (injected) allocation fails.</summary>
    public T? kmem_cache_alloc<T>(string cache, Gfp gfp, Func<T> ctor) where T : KObject
    {
        if (gfp != Gfp.GFP_ATOMIC) _k.might_sleep($"kmem_cache_alloc({gfp})");
        if (gfp == Gfp.GFP_KERNEL) _k.Lockdep.fs_reclaim_might_enter();
        _k.FinePoint();
        if (_k.FaultInjection && _k.ChooseFault("kmem_cache_alloc:" + cache)) return null;
        var obj = ctor();
        var a = new Allocation(_next++, cache, obj.TypeName, _k.SiteHere());
        obj.OnAllocated(a);
        _live.Add(a.Id, obj);
        if (_k.Tracing) _k.TraceObj(TraceKind.Alloc, obj);
        return obj;
    }

    public T? kmalloc<T>(Gfp gfp, Func<T> ctor) where T : KObject => kmem_cache_alloc("kmalloc", gfp, ctor);

    /// <summary>
    /// An allocation the kernel cannot fail here (it would panic, or the object is set up at boot).
    /// </summary>
    public T alloc_nofail<T>(string cache, Func<T> ctor) where T : KObject
    {
        var obj = ctor();
        var a = new Allocation(_next++, cache, obj.TypeName, _k.SiteHere());
        obj.OnAllocated(a);
        _live.Add(a.Id, obj);
        if (_k.Tracing) _k.TraceObj(TraceKind.Alloc, obj);
        return obj;
    }

    /// <summary>kfree(obj): the cache is the object's own (virt_to_cache), so any slab object may be passed.</summary>
    public void kfree(KObject? obj) => Free(null, obj);

    /// <summary>
    /// kmem_cache_free(cachep, obj). The object must come from <paramref name="cache"/>: SLUB's cache_from_obj()
    /// (CONFIG_SLAB_FREELIST_HARDENED or slub_debug's consistency checks) WARNs "Wrong slab cache" otherwise,
    /// as 2.6.17's cache_free_debugcheck() (CONFIG_DEBUG_SLAB) did with "mismatch in kmem_cache_free".
    /// </summary>
    public void kmem_cache_free(string cache, KObject? obj) => Free(cache, obj);

    private void Free(string? cache, KObject? obj)
    {
        if (obj is null) return; // kfree(NULL) is a no-op
        var a = obj.Alloc ?? throw new InvalidOperationException($"kfree of static object {obj.TypeName}");
        _k.FinePoint();
        if (cache != null && cache != a.Cache) WrongCache(cache, obj);
        if (a.Freed) DoubleFree(obj);
        a.Freed = true;
        a.FreedAt = _k.SiteHere();
        _live.Remove(a.Id);
        if (_k.Tracing) _k.TraceObj(TraceKind.Free, obj);
    }

    internal void UseAfterFree(KObject obj, string field)
    {
        var a = obj.Alloc!;
        var cur = _k.current;
        var sb = new StringBuilder();
        sb.Append($"Access of {a.Type}.{field} by {cur.Describe}:\n").Append(_k.SiteHere().Render());
        sb.Append($"\nAllocated by task {a.Allocated.Task}:\n").Append(a.Allocated.Render());
        sb.Append($"\nFreed by task {a.FreedAt!.Task}:\n").Append(a.FreedAt.Render());
        sb.Append($"\nThe buggy address belongs to the object #{a.Id} of type {a.Type} (cache {a.Cache}).\n");
        _k.Bug(new BugReport(BugClass.UseAfterFree, $"BUG: KASAN: use-after-free in {cur.CurrentFunction}")
        {
            Functions = new[] { cur.CurrentFunction, a.FreedAt.Function, a.Allocated.Function }
                .Concat(Callers(cur.Stack())).Concat(Callers(a.FreedAt.Stack)),
            Threads = new[] { cur.Name, a.FreedAt.Task, a.Allocated.Task },
            Objects = new[] { $"{a.Type} #{a.Id}" },
            Body = sb.ToString(),
        });
    }

    /// <summary>The two callers above the innermost frame, for a report's function list.</summary>
    private static IEnumerable<string> Callers(string[] stack) => stack.Skip(1).Take(2);

    private void DoubleFree(KObject obj)
    {
        var a = obj.Alloc!;
        var cur = _k.current;
        var sb = new StringBuilder();
        sb.Append($"Second free of {a.Type} #{a.Id} by {cur.Describe}:\n").Append(_k.SiteHere().Render());
        sb.Append($"\nAllocated by task {a.Allocated.Task}:\n").Append(a.Allocated.Render());
        sb.Append($"\nFreed by task {a.FreedAt!.Task}:\n").Append(a.FreedAt.Render());
        _k.Bug(new BugReport(BugClass.DoubleFree, $"BUG: KASAN: double-free in {cur.CurrentFunction}")
        {
            Functions = new[] { cur.CurrentFunction, a.FreedAt.Function, a.Allocated.Function },
            Threads = new[] { cur.Name, a.FreedAt.Task },
            Objects = new[] { $"{a.Type} #{a.Id}" },
            Body = sb.ToString(),
        });
    }

    private void WrongCache(string cache, KObject obj)
    {
        var a = obj.Alloc!;
        var cur = _k.current;
        var sb = new StringBuilder();
        sb.Append($"kmem_cache_free: Wrong slab cache. {cache} but object is from {a.Cache}\n");
        sb.Append($"WARNING: at mm/slab.h cache_from_obj, called by {cur.Describe}:\n").Append(_k.SiteHere().Render());
        sb.Append($"\nThe object #{a.Id} of type {a.Type} was allocated from {a.Cache} by task {a.Allocated.Task}:\n").Append(a.Allocated.Render());
        if (a.FreedAt != null) sb.Append($"\nand already freed by task {a.FreedAt.Task}:\n").Append(a.FreedAt.Render());
        _k.Bug(new BugReport(BugClass.KernelWarning, $"kmem_cache_free: Wrong slab cache. {cache} but object is from {a.Cache} (in {cur.CurrentFunction})")
        {
            Functions = new[] { cur.CurrentFunction, a.Allocated.Function }.Concat(Callers(cur.Stack())),
            Threads = new[] { cur.Name, a.Allocated.Task },
            Objects = new[] { $"{a.Type} #{a.Id}" },
            Body = sb.ToString(),
        });
    }

    /// <summary>Live objects in allocation order (deterministic).</summary>
    public List<KObject> Live()
    {
        var ids = new List<int>(_live.Keys);
        ids.Sort();
        var res = new List<KObject>(ids.Count);
        foreach (var id in ids) res.Add(_live[id]);
        return res;
    }

    /// <summary>kmemleak scan: report every object still allocated (except those marked not-leak).</summary>
    public void kmemleak_scan()
    {
        var leaks = new List<KObject>();
        foreach (var o in Live())
        {
            if (!o.Alloc!.NotLeak) leaks.Add(o);
        }
        if (leaks.Count == 0) return;
        var sb = new StringBuilder();
        sb.Append($"kmemleak: {leaks.Count} new suspected memory leaks\n");
        var fns = new List<string>();
        var objs = new List<string>();
        var threads = new List<string>();
        foreach (var o in leaks)
        {
            var a = o.Alloc!;
            sb.Append($"\nunreferenced object #{a.Id} ({a.Type}, cache {a.Cache}):\n");
            sb.Append($"  comm \"{a.Allocated.Task}\", step {a.Allocated.Step}\n  backtrace:\n").Append(a.Allocated.Render("    "));
            fns.Add(a.Allocated.Function);
            objs.Add($"{a.Type} #{a.Id}");
            threads.Add(a.Allocated.Task);
        }
        var first = leaks[0].Alloc!;
        _k.Bug(new BugReport(BugClass.Leak, $"kmemleak: unreferenced object {first.Type} allocated in {first.Allocated.Function}")
        {
            Functions = fns,
            Threads = threads,
            Objects = objs,
            Body = sb.ToString(),
        });
    }
}
