using System.Text;

namespace InotifySim.Model.Kernel;

/// <summary>
/// atomic_t embedded in a kernel object. When used as a reference count (<see cref="IsRefcount"/>),
/// a decrement below zero is a refcount underflow and an increment of a count that already
/// dropped to zero (the object is dead) is reported as "addition on 0; use-after-free".
/// Every operation is a scheduling point and checks the container is still allocated.
/// </summary>
public sealed class Atomic
{
    private readonly KObject _container;
    private readonly string _field;
    private int _v;
    private bool _hitZero;
    /// <summary>KCSAN: what the operations on this counter released (each is acquire + release, as the brief of issue 13 treats atomic_t).</summary>
    private int[] _kcsanClock = Array.Empty<int>();

    /// <summary>The counter is a synchronisation object for the data-race detector, and never a plain access.</summary>
    private void Sync(Kernel k, bool acquire, bool release)
    {
        _container.ChkAlive(_field);
        if (k.Kcsan is { Active: true } kc) kc.Atomic(ref _kcsanClock, acquire, release);
    }

    public bool IsRefcount { get; }
    /// <summary>
    /// A count that legitimately goes 0 -> 1 again (i_count of a cached inode, d_count of a
    /// cached dentry): underflow is still checked, addition on 0 is not.
    /// </summary>
    public bool Revivable { get; }

    public Atomic(KObject container, string field, bool refcount, bool revivable = false)
    {
        _container = container;
        _field = field;
        IsRefcount = refcount;
        Revivable = revivable;
    }

    public string Name => $"{_container.Describe}->{_field}";

    /// <summary>The value without a scheduling point or check (for oracles, not for model code).</summary>
    public int Peek => _v;

    public int atomic_read()
    {
        var k = _container.K;
        k.Point();
        Sync(k, acquire: true, release: false);
        return _v;
    }

    public void atomic_set(int v)
    {
        Sync(_container.K, acquire: false, release: true);
        _v = v;
        _hitZero = false;
    }

    public void atomic_inc()
    {
        var k = _container.K;
        k.Point();
        Sync(k, acquire: true, release: true);
        if (IsRefcount && !Revivable && _hitZero && _v == 0) AdditionOnZero();
        _v++;
        if (IsRefcount && k.Tracing) k.TraceRef(TraceKind.Get, _container, _field, _v);
    }

    /// <summary>
    /// atomic_inc_not_zero(): take a reference unless the count already dropped to zero.
    /// <paramref name="point"/> false models a caller inside an RCU read-side section whose
    /// lookup and increment are one step (fget).
    /// </summary>
    public bool atomic_inc_not_zero(bool point = true)
    {
        var k = _container.K;
        if (point) k.Point();
        Sync(k, acquire: true, release: true);
        if (_v == 0) return false;
        _v++;
        if (IsRefcount && k.Tracing) k.TraceRef(TraceKind.Get, _container, _field, _v);
        return true;
    }

    public void atomic_dec() => Dec();

    /// <summary>atomic_dec_and_test(): true when the count reached zero.</summary>
    public bool atomic_dec_and_test() => Dec() == 0;

    public int atomic_inc_return()
    {
        atomic_inc();
        return _v;
    }

    private int Dec()
    {
        var k = _container.K;
        k.Point();
        Sync(k, acquire: true, release: true);
        _v--;
        if (IsRefcount && k.Tracing) k.TraceRef(TraceKind.Put, _container, _field, _v);
        if (IsRefcount && _v < 0) Underflow();
        if (_v == 0) _hitZero = true;
        return _v;
    }

    private void Underflow()
    {
        var k = _container.K;
        var t = k.current;
        var sb = new StringBuilder();
        sb.Append($"refcount_t: underflow; use-after-free.\n{Name} dropped to {_v} by {t.Describe}\nCall Trace:\n");
        sb.Append(k.SiteHere().Render());
        k.Bug(new BugReport(BugClass.RefcountUnderflow, $"refcount_t: underflow of {_container.TypeName}.{_field} in {t.CurrentFunction}")
        {
            Functions = Callers(t),
            Threads = new[] { t.Name },
            Objects = new[] { _container.Describe },
            Body = sb.ToString(),
        });
    }

    private void AdditionOnZero()
    {
        var k = _container.K;
        var t = k.current;
        var sb = new StringBuilder();
        sb.Append($"refcount_t: addition on 0; use-after-free.\n{Name} was 0 (the object was released) when {t.Describe} took a reference\nCall Trace:\n");
        sb.Append(k.SiteHere().Render());
        k.Bug(new BugReport(BugClass.RefcountUnderflow, $"refcount_t: addition on 0 of {_container.TypeName}.{_field} in {t.CurrentFunction}")
        {
            Functions = Callers(t),
            Threads = new[] { t.Name },
            Objects = new[] { _container.Describe },
            Body = sb.ToString(),
        });
    }

    private static string[] Callers(TaskStruct t)
    {
        var s = t.Stack();
        return s.Length > 3 ? s[..3] : s;
    }
}
