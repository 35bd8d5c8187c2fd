using System.Text;
using FsCheck;
using FsCheck.Fluent;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Tests.Property.ModelBased;
using Xunit.Abstractions;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Tests.Property.DataStructures;

/// <summary>Properties of the model's data structures against simple references.</summary>
public class DataStructureProperties(ITestOutputHelper output)
{
    private const ulong Seed = 0xDA7A_2006UL;

    private void Check(FsCheck.Property p, int cases, string what)
    {
        var o = Harness.Run(p, cases, Seed);
        output.WriteLine($"{what}: {Harness.Describe(o)}");
        Assert.True(o.Passed, Harness.Describe(o));
    }

    // ---------------------------------------------------------------- idr

    private sealed class Owner(Kernel k) : KObject(k) { public override string TypeName => "test owner"; }

    /// <summary>idr ops: (true, start) = idr_get_new_above(start); (false, k) = idr_remove of the k-th allocated id.</summary>
    public sealed record IdrSeq((bool get, int arg)[] Ops)
    {
        public override string ToString() => string.Join("; ", Ops.Select(o => o.get ? $"get_new_above({o.arg})" : $"remove(#{o.arg})"));
    }

    private static Arbitrary<IdrSeq> IdrArb => Arb.From(IdrOps.Select(o => new IdrSeq(o)), s => ShrinkArray(s.Ops).Select(o => new IdrSeq(o)));

    private static IEnumerable<T[]> ShrinkArray<T>(T[] a)
    {
        for (int i = 0; i < a.Length; i++) yield return a.Take(i).Concat(a.Skip(i + 1)).ToArray();
    }

    public static Gen<(bool get, int arg)[]> IdrOps =>
        Gen.ArrayOf(Gen.Frequency(
            (5, Gen.Frequency((6, Gen.Choose(0, 12)), (1, Gen.Elements(Idr.MAX_ID_MASK - 1, Idr.MAX_ID_MASK, 1000))).Select(s => (true, s))),
            (2, Gen.Choose(0, 20).Select(k => (false, k)))));

    /// <summary>Runs idr ops on the model's Idr and on a sorted set (smallest free id ≥ start); null when they agree.</summary>
    public static string? RunIdr((bool get, int arg)[] ops, Func<SortedSet<int>, int, long>? reference = null)
    {
        reference ??= (set, start) => { long c = start; while (c <= int.MaxValue && set.Contains((int)c)) c++; return c; };
        var k = new Kernel();
        var idr = new Idr(new Owner(k), "idr");
        var set = new SortedSet<int>();
        var log = new StringBuilder();
        if (idr.idr_get_new_above(new object(), 0, out _) != -Errno.EAGAIN) return "idr_get_new_above before any idr_pre_get did not return -EAGAIN";
        foreach (var (get, arg) in ops)
        {
            if (get)
            {
                idr.idr_pre_get(Gfp.GFP_KERNEL);
                int r = idr.idr_get_new_above(arg, arg, out int id);
                long want = reference(set, arg);
                bool full = want > Idr.MAX_ID_MASK;
                log.Append($"get_new_above({arg}) = {r}, id {id}; ");
                if (full) { if (r != -Errno.ENOSPC) return $"{log}: want -ENOSPC"; continue; }
                if (r != 0 || id != want) return $"{log}: want id {want}";
                set.Add(id);
            }
            else
            {
                if (set.Count == 0) continue;
                int id = set.ElementAt(arg % set.Count);
                idr.idr_remove(id);
                set.Remove(id);
                log.Append($"remove({id}); ");
            }
            var ids = idr.Entries.Select(e => e.Key).ToArray();
            if (!ids.SequenceEqual(set)) return $"{log}: ids {string.Join(",", ids)}, reference {string.Join(",", set)}";
            foreach (var i in set) if (idr.idr_find(i) is null) return $"{log}: idr_find({i}) is null";
            if (idr.idr_find(set.Count == 0 ? 0 : set.Max + 1) != null) return $"{log}: idr_find of a free id is not null";
        }
        return null;
    }

    [Fact]
    public void IdrAllocatesTheSmallestFreeIdAtOrAboveStart() =>
        Check(Prop.ForAll(IdrArb, s => { if (RunIdr(s.Ops) is { } f) throw new PropertyFailure(f); }), 300, "idr vs sorted set");

    [Fact]
    public void IdrPropertyCanFail()
    {
        // a wrong reference (the next id after the largest, not the smallest free one) is caught
        var o = Harness.Run(Prop.ForAll(IdrArb, q => RunIdr(q.Ops, (s, start) => Math.Max(start, s.Count == 0 ? 0L : s.Max + 1L)) is null), 300, Seed);
        output.WriteLine(Harness.Describe(o));
        Assert.False(o.Passed);
    }

    [Fact]
    public void IdrRemoveOfAFreeIdWarns()
    {
        var k = new Kernel();
        var idr = new Idr(new Owner(k), "idr");
        var e = Assert.Throws<KernelBugException>(() => idr.idr_remove(3));
        Assert.Equal(BugClass.KernelWarning, e.Report.Class);
    }

    // ---------------------------------------------------------------- list_head

    private sealed class Item(Kernel k, int v) : KObject(k)
    {
        public readonly int V = v;
        public readonly ListHead node = null!;
        public Item(Kernel k, int v, bool _) : this(k, v) => node = new ListHead(this, "node");
        public override string TypeName => "test item";
    }

    /// <summary>(0, v) list_add; (1, v) list_add_tail; (2, k) list_del of the k-th entry.</summary>
    public sealed record ListSeq((int op, int arg)[] Ops)
    {
        public override string ToString() => string.Join("; ", Ops.Select(o => o.op switch { 0 => $"list_add({o.arg})", 1 => $"list_add_tail({o.arg})", _ => $"list_del(#{o.arg})" }));
    }

    private static Arbitrary<ListSeq> ListArb => Arb.From(ListOps.Select(o => new ListSeq(o)), s => ShrinkArray(s.Ops).Select(o => new ListSeq(o)));

    public static Gen<(int op, int arg)[]> ListOps => Gen.ArrayOf(Gen.Frequency(
        (3, Gen.Choose(0, 99).Select(v => (0, v))), (3, Gen.Choose(0, 99).Select(v => (1, v))), (2, Gen.Choose(0, 30).Select(k => (2, k)))));

    public static string? RunList((int op, int arg)[] ops, bool tailAtFront = false)
    {
        var k = new Kernel();
        var head = new ListHead(new Owner(k), "head");
        var items = new List<Item>();
        var reference = new List<int>();
        foreach (var (op, arg) in ops)
        {
            switch (op)
            {
                case 0: { var it = new Item(k, arg, true); head.list_add(it.node); items.Insert(0, it); reference.Insert(0, arg); break; }
                case 1: { var it = new Item(k, arg, true); head.list_add_tail(it.node); items.Add(it); if (tailAtFront) reference.Insert(0, arg); else reference.Add(arg); break; }
                default:
                    if (items.Count == 0) continue;
                    int i = arg % items.Count;
                    items[i].node.list_del();
                    Assert.True(items[i].node.IsPoisoned);
                    items.RemoveAt(i);
                    reference.RemoveAt(i);
                    break;
            }
            var walked = new List<int>();
            for (var p = head.Next("test"); p != head; p = p.Next("test")) walked.Add(p.list_entry<Item>("node").V);
            if (!walked.SequenceEqual(reference)) return $"list {string.Join(",", walked)}, reference {string.Join(",", reference)}";
            if (head.list_empty() != (reference.Count == 0)) return "list_empty disagrees";
        }
        return null;
    }

    [Fact]
    public void ListHeadAddDelBehavesLikeAList() =>
        Check(Prop.ForAll(ListArb, s => { if (RunList(s.Ops) is { } f) throw new PropertyFailure(f); }), 300, "list_head vs List<int>");

    [Fact]
    public void ListHeadPropertyCanFail()
    {
        var o = Harness.Run(Prop.ForAll(ListArb, s => RunList(s.Ops, tailAtFront: true) is null), 300, Seed);
        output.WriteLine(Harness.Describe(o));
        Assert.False(o.Passed);
    }

    [Fact]
    public void DoubleListDelIsCorruption()
    {
        var k = new Kernel();
        var head = new ListHead(new Owner(k), "head");
        var it = new Item(k, 1, true);
        head.list_add(it.node);
        it.node.list_del();
        Assert.Equal(BugClass.ListCorruption, Assert.Throws<KernelBugException>(() => it.node.list_del()).Report.Class);
    }

    // ---------------------------------------------------------------- name padding

    /// <summary>Reference: the name and its terminating NUL, rounded up to a multiple of sizeof(struct inotify_event) = 16.</summary>
    public static int Padded(int n) => (n + 1 + EVENT_SIZE - 1) / EVENT_SIZE * EVENT_SIZE;

    [Fact]
    public void PaddedLenIsTheNameAndNulRoundedUpTo16() =>
        Check(Prop.ForAll(Gen.Choose(0, 4096).ToArbitrary(), n =>
            InotifyUser.PaddedLen(n) == Padded(n) && InotifyUser.PaddedLen(n) % EVENT_SIZE == 0 && InotifyUser.PaddedLen(n) > n), 500, "PaddedLen vs formula");

    [Fact]
    public void PaddingPropertyCanFail()
    {
        var o = Harness.Run(Prop.ForAll(Gen.Choose(0, 4096).ToArbitrary(), n => InotifyUser.PaddedLen(n) == (n + 1 + 7) / 8 * 8), 500, Seed);
        output.WriteLine(Harness.Describe(o));
        Assert.False(o.Passed);
    }

    // ---------------------------------------------------------------- read-buffer splitting

    /// <summary>A queue built by creating files with these names in a watched directory (each gives CREATE, OPEN, MODIFY, CLOSE_WRITE).</summary>
    public static Gen<(string[] names, int[] sizes)> ReadCase =>
        from names in Gen.ArrayOf(Gen.Choose(1, 40).SelectMany(len => Gen.Elements('a', 'b', 'x', '7').ArrayOf(len).Select(cs => new string(cs))))
        from sizes in Gen.ArrayOf(Gen.Frequency((3, Gen.Choose(0, 80)), (2, Gen.Choose(16, 200)), (1, Gen.Constant(4096))))
        select (names.Distinct().Take(8).ToArray(), sizes);

    private static List<Ev> ReadAll((string[] names, int[] sizes) c, bool split, StringBuilder log)
    {
        var runner = new ModelRunner(Fix.All, 16384, 128, 8192);
        runner.Apply(new Mkdir("/d"));
        runner.Apply(new Init());
        runner.Apply(new AddWatch(0, "/d", IN_ALL_EVENTS));
        foreach (var n in c.names) runner.Apply(new Create("/d/" + n, 1));
        var all = new List<Ev>();
        int k = 0;
        while (true)
        {
            int size = split && c.sizes.Length > 0 && k < 4 * c.sizes.Length ? c.sizes[k % c.sizes.Length] : 65536;
            k++;
            var s = runner.Apply(new Read(0, size));
            if (split) log.Append($"read({size}) = {s.Ret}; ");
            if (s.Ret == -Errno.EAGAIN) break;
            if (s.Ret < 0) throw new InvalidOperationException("read failed: " + s.Ret);
            long bytes = s.Events.Sum(e => 16 + e.Len);
            if (bytes != s.Ret || bytes > size) throw new InvalidOperationException($"read({size}) returned {s.Ret} for {bytes} bytes");
            all.AddRange(s.Events);
        }
        runner.CloseAll();
        runner.M.Teardown();
        return all;
    }

    [Fact]
    public void SplitReadsYieldTheSameEventsAsOneBigRead() =>
        Check(Prop.ForAll(ReadCase.ToArbitrary(), c =>
        {
            var log = new StringBuilder();
            var whole = ReadAll(c, split: false, log);
            var parts = ReadAll(c, split: true, log);
            if (!parts.SequenceEqual(whole)) throw new PropertyFailure($"split reads {string.Join(" ", parts)}\nwhole read {string.Join(" ", whole)}\n{log}");
            if (whole.Count != 4 * c.names.Length) throw new PropertyFailure($"{whole.Count} events for {c.names.Length} files");
        }), 150, "split reads vs one read");
}
