using System.Runtime.CompilerServices;

namespace InotifySim.Model.Kernel;

/// <summary>
/// A kernel object that lives in simulated slab memory. Fields are read and written through
/// checked accessors (<see cref="Chk"/>), so a touch of a freed object is a use-after-free
/// report (KASAN), not a silent success hidden by the garbage collector. An embedded
/// structure (an inotify_watch inside inotify_user_watch, a list_head, a mutex) shares the
/// allocation of its container.
/// </summary>
public abstract class KObject
{
    public readonly Kernel K;
    /// <summary>The slab allocation backing this object; null for static (never freed) objects.</summary>
    public Allocation? Alloc { get; internal set; }

    protected KObject(Kernel k) => K = k;

    /// <summary>"struct inotify_watch" and so on.</summary>
    public abstract string TypeName { get; }

    /// <summary>Called when the slab allocation is attached; embedded objects share it.</summary>
    protected internal virtual void OnAllocated(Allocation a) => Alloc = a;

    /// <summary>The data-race detector's shadow of this object's fields (<see cref="Kernel.Kcsan"/>).</summary>
    internal Kcsan.Cell? KcsanShadow;
    /// <summary>KCSAN: what publishing this object released (<see cref="Kcsan.Publish"/>).</summary>
    internal int[] KcsanPublished = Array.Empty<int>();

    /// <summary>KASAN: a touch of a freed object is a use-after-free report.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Kasan(string field)
    {
        var a = Alloc;
        if (a != null && a.Freed) K.Slab.UseAfterFree(this, field);
    }

    /// <summary>A checked read of <paramref name="field"/>: KASAN (use-after-free) and KCSAN (data race).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected internal void Chk([CallerMemberName] string field = "")
    {
        Kasan(field);
        if (K.Kcsan is { Active: true } kc) kc.OnAccess(this, field, false, "");
    }

    /// <summary>A checked write of <paramref name="field"/> (a setter): KASAN and KCSAN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected internal void ChkW([CallerMemberName] string field = "")
    {
        Kasan(field);
        if (K.Kcsan is { Active: true } kc) kc.OnAccess(this, field, true, "");
    }

    /// <summary>KASAN only: an access the data-race detector does not check (it is synchronised some other way).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ChkAlive(string field)
    {
        Kasan(field);
    }

    /// <summary>A checked access by a data-structure operation (list_head, idr), named in a race report.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ChkOp(string field, bool write, string op)
    {
        Kasan(field);
        if (K.Kcsan is { Active: true } kc) kc.OnAccess(this, field, write, op);
    }

    public bool IsFreed => Alloc is { Freed: true };

    public string Describe => Alloc is null ? TypeName + " (static)" : $"{TypeName} #{Alloc.Id} ({Alloc.Cache})";
}

/// <summary>A static kernel object (never allocated or freed): global lists, inotify_mnt, ...</summary>
public sealed class StaticObject : KObject
{
    private readonly string _name;
    public StaticObject(Kernel k, string name) : base(k) => _name = name;
    public override string TypeName => _name;
}
