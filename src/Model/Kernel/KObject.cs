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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected internal void Chk([CallerMemberName] string field = "")
    {
        var a = Alloc;
        if (a != null && a.Freed) K.Slab.UseAfterFree(this, field);
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
