namespace InotifySim.Model.Kernel;

/// <summary>
/// struct idr (lib/idr.c, 2.6.17 semantics): integer ids mapped to pointers.
/// idr_pre_get() preallocates (and may fail under fault injection, returning 0);
/// idr_get_new_above() returns -EAGAIN when no preallocated memory is left, otherwise the
/// smallest free id at or above the starting id; idr_find(); idr_remove() warns on an id
/// that is not allocated; idr_destroy(). Embedded in its owner (use-after-free checked).
/// </summary>
public sealed class Idr
{
    public const int MAX_ID_MASK = 0x7fffffff;

    private readonly KObject _container;
    private readonly string _field;
    private readonly SortedDictionary<int, object> _ids = new();
    private int _prealloc;

    public Idr(KObject container, string field)
    {
        _container = container;
        _field = field;
    }

    public int Count => _ids.Count;
    /// <summary>The allocated ids in order (for oracles).</summary>
    public IEnumerable<KeyValuePair<int, object>> Entries => _ids;

    /// <summary>idr_pre_get(): 1 on success, 0 when memory could not be had.</summary>
    public int idr_pre_get(Gfp gfp)
    {
        var k = _container.K;
        if (gfp != Gfp.GFP_ATOMIC) k.might_sleep($"idr_pre_get({gfp})");
        if (gfp == Gfp.GFP_KERNEL) k.Lockdep.fs_reclaim_might_enter();
        k.Point();
        _container.ChkAlive(_field); // fills the free list under the idr's own idp->lock: no plain access (KCSAN)
        if (k.FaultInjection && k.ChooseFault("idr_pre_get")) return 0;
        _prealloc = 1;
        return 1;
    }

    /// <summary>idr_get_new_above(idp, ptr, starting_id, &amp;id): 0, -EAGAIN or -ENOSPC.</summary>
    public int idr_get_new_above(object ptr, int starting_id, out int id)
    {
        var k = _container.K;
        k.FinePoint();
        _container.ChkOp(_field, true, "idr_get_new_above");
        id = -1;
        if (_prealloc == 0) return -Errno.EAGAIN;
        int cand = starting_id;
        foreach (var key in _ids.Keys)
        {
            if (key < cand) continue;
            if (key == cand) { cand++; continue; }
            break;
        }
        if (cand > MAX_ID_MASK || cand < 0) return -Errno.ENOSPC;
        _prealloc = 0;
        _ids.Add(cand, ptr);
        id = cand;
        return 0;
    }

    public object? idr_find(int id)
    {
        var k = _container.K;
        k.FinePoint();
        _container.ChkOp(_field, false, "idr_find");
        return _ids.TryGetValue(id, out var p) ? p : null;
    }

    public void idr_remove(int id)
    {
        var k = _container.K;
        k.FinePoint();
        _container.ChkOp(_field, true, "idr_remove");
        if (!_ids.Remove(id))
        {
            var t = k.current;
            k.Bug(new BugReport(BugClass.KernelWarning, $"idr_remove called for id={id} which is not allocated (in {t.CurrentFunction})")
            {
                Functions = t.Stack().Take(3),
                Threads = new[] { t.Name },
                Objects = new[] { $"{_container.Describe}->{_field}" },
                Body = $"idr_remove called for id={id} which is not allocated.\nCall Trace:\n" + k.SiteHere().Render(),
            });
        }
    }

    public void idr_destroy()
    {
        _container.ChkOp(_field, true, "idr_destroy");
        _prealloc = 0;
    }
}
