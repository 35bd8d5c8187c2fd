using InotifySim.Model.Kernel;
using KReport = InotifySim.Model.Kernel.Report;

namespace InotifySim.Tests.Concurrency.Infrastructure;

/// <summary>A slab object for detector tests: a checked field, a list node, a refcount, locks, an idr, a wait queue.</summary>
public sealed class TestObj : KObject
{
    private int _value;

    public TestObj(Kernel k) : base(k)
    {
        Node = new ListHead(this, "node");
        Count = new Atomic(this, "count", refcount: true);
        Ids = new Idr(this, "ids");
        Wq = new WaitQueueHead(this, "wq");
    }

    public override string TypeName => "struct test_obj";

    /// <summary>A field read and written through KObject.Chk (KASAN-checked).</summary>
    public int Value
    {
        get { Chk(); return _value; }
        set { Chk(); _value = value; }
    }

    public ListHead Node { get; }
    public Atomic Count { get; }
    public Idr Ids { get; }
    public WaitQueueHead Wq { get; }
}

/// <summary>A different container type holding a list head (so list_entry of the head is a type confusion).</summary>
public sealed class TestHolder : KObject
{
    public TestHolder(Kernel k) : base(k) => Head = new ListHead(this, "head");
    public override string TypeName => "struct test_holder";
    public ListHead Head { get; }
}

public static class Seq
{
    /// <summary>Runs <paramref name="a"/> expecting a detector to fire; returns the kernel's first report.</summary>
    public static KReport ExpectBug(Kernel k, Action a)
    {
        var ex = Assert.Throws<KernelBugException>(a);
        Assert.NotNull(k.FirstReport);
        Assert.Same(k.FirstReport, ex.Report);
        return ex.Report;
    }

    /// <summary>Asserts the kernel recorded no report.</summary>
    public static void AssertSilent(Kernel k) =>
        Assert.True(k.FirstReport is null, "unexpected kernel report:\n" + k.FirstReport?.Text);
}
