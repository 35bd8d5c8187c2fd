using static InotifySim.Model.Vfs.O;
using InotifySim.Model.Vfs;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Tests.Property.ModelBased;

/// <summary>An op sequence, printed one op a line.</summary>
public sealed record OpSeq(Op[] Ops)
{
    public override string ToString() => $"{Ops.Length} ops" + string.Concat(Ops.Select((o, i) => $"\n  {i + 1,2}. {o}"));
}

/// <summary>The sysctl limits of a run and its operations.</summary>
public sealed record Scenario(int MaxQueuedEvents, int MaxUserInstances, int MaxUserWatches, Op[] Ops)
{
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append($"limits: max_queued_events={MaxQueuedEvents} max_user_instances={MaxUserInstances} max_user_watches={MaxUserWatches}; {Ops.Length} ops");
        for (int i = 0; i < Ops.Length; i++) sb.Append($"\n  {i + 1,2}. {Ops[i]}");
        return sb.ToString();
    }
}

/// <summary>Generators and shrinkers of op sequences over a small tree.</summary>
public static class OpGen
{
    /// <summary>Top-level names and second-level names; "g123456789abcdef" (16 bytes) pads to 32.</summary>
    public static readonly string[] Paths =
        { "/a", "/b", "/f", "/a/a", "/a/f", "/b/f", "/a/g123456789abcdef", "/b/a" };

    public static readonly string[] WatchPaths = Paths.Prepend("/").ToArray();

    public static readonly int[] ReadSizes = { 0, 1, 15, 16, 20, 31, 32, 40, 48, 64, 100, 4096 };

    private static readonly uint[] EventBits =
    {
        IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE, IN_CLOSE_NOWRITE, IN_OPEN, IN_MOVED_FROM,
        IN_MOVED_TO, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF,
    };

    /// <summary>Random event bits (sometimes none: EINVAL) with IN_ONESHOT / IN_MASK_ADD / IN_ONLYDIR.</summary>
    public static Gen<uint> Mask(bool allowEmpty = true, bool oneshotWithoutAttrib = false) =>
        from kind in Gen.Choose(0, 9)
        from bits in Gen.ArrayOf(Gen.Elements(EventBits), 3)
        from flags in Gen.Choose(0, 15)
        let events = kind switch
        {
            0 or 1 or 2 => IN_ALL_EVENTS,
            3 => allowEmpty ? 0u : IN_CREATE,
            _ => bits.Aggregate(0u, (a, b) => a | b),
        }
        let oneshot = (flags & 1) != 0 && (flags & 8) != 0
        let m = events | (oneshot ? IN_ONESHOT : 0) | ((flags & 2) != 0 ? IN_MASK_ADD : 0) | ((flags & 4) != 0 && (flags & 8) == 0 ? IN_ONLYDIR : 0)
        select Restrict(m, oneshotWithoutAttrib);

    /// <summary>
    /// For the differential test: an IN_ONESHOT mask leaves out IN_ATTRIB, because later kernels
    /// send IN_ATTRIB on a link-count change, which would consume the one shot.
    /// </summary>
    private static uint Restrict(uint m, bool oneshotWithoutAttrib)
    {
        if (!oneshotWithoutAttrib || (m & IN_ONESHOT) == 0 || (m & IN_ALL_EVENTS) == 0) return m;
        m &= ~IN_ATTRIB;
        return (m & IN_ALL_EVENTS) == 0 ? m | IN_CREATE : m;
    }

    private static Gen<int> Inst => Gen.Frequency((8, Gen.Constant(0)), (3, Gen.Constant(1)), (1, Gen.Constant(2)));
    private static Gen<string> P => Gen.Elements(Paths);

    public static Gen<Op> OneOp(bool differential = false) => Gen.Frequency(
        (6, P.Select(p => (Op)new Mkdir(p))),
        (6, from p in P from n in Gen.Elements(0, 1, 3) select (Op)new Create(p, n)),
        (3, P.Select(p => (Op)new Unlink(p))),
        (3, P.Select(p => (Op)new Rmdir(p))),
        (4, from a in P from b in P select (Op)new Rename(a, b)),
        (4, from p in Gen.Elements("/", "/a", "/b", "/a/f") from m in Gen.Elements(Mode.S_0755, Mode.S_0644, Mode.S_0600) select (Op)new Chmod(p, m)),
        (3, Gen.Constant((Op)new Init())),
        (9, from i in Inst from p in Gen.Elements(WatchPaths) from m in Mask(!differential, differential) select (Op)new AddWatch(i, p, m)),
        (2, from i in Inst from wd in Gen.Choose(0, 6) select (Op)new RmWatch(i, wd)),
        (5, from i in Inst from s in Gen.Elements(ReadSizes) select (Op)new Read(i, s)),
        (1, Inst.Select(i => (Op)new CloseInst(i))));

    /// <summary>Sequences that start with <see cref="Prefix"/> (so most ops have an instance) and are at most <paramref name="max"/> long.</summary>
    public static Gen<Op[]> Ops(int max, bool differential = false) =>
        Gen.Sized(size =>
            from n in Gen.Choose(1, Math.Max(1, Math.Min(max, size)))
            from ops in Gen.ArrayOf(Gen.Frequency((4, OneOp(differential).Select(o => new[] { o })), (1, OneOp(differential).Select(o => new[] { o, o }))), n)
            select (differential ? DiffPrefix : Prefix).Concat(ops.SelectMany(x => x)).ToArray());

    /// <summary>Every generated sequence starts by making the two top directories and an instance (shrinking may drop them).</summary>
    private static readonly Op[] Prefix = { new Mkdir("/a"), new Mkdir("/b"), new Init(), new AddWatch(0, "/a", IN_ALL_EVENTS) };

    /// <summary>The differential test reads after every op, so it starts with more watches to see more per op.</summary>
    private static readonly Op[] DiffPrefix =
    {
        new Mkdir("/a"), new Mkdir("/b"), new Create("/a/f", 1), new Init(), new AddWatch(0, "/", IN_ALL_EVENTS),
        new AddWatch(0, "/a", IN_ALL_EVENTS), new AddWatch(0, "/a/f", IN_ALL_EVENTS), new AddWatch(0, "/b", IN_ALL_EVENTS),
    };

    public static Gen<Scenario> Scenarios(int maxOps) =>
        from q in Gen.Elements(3, 5, 16384)
        from inst in Gen.Elements(2, 128)
        from w in Gen.Elements(3, 8192)
        from ops in Ops(maxOps)
        select new Scenario(q, inst, w, ops);

    /// <summary>Shrinks: drop chunks, drop single ops, simplify single ops; limits toward the defaults.</summary>
    public static IEnumerable<Op[]> ShrinkOps(Op[] ops)
    {
        for (int chunk = ops.Length / 2; chunk >= 2; chunk /= 2)
            for (int i = 0; i + chunk <= ops.Length; i += chunk)
                yield return ops.Take(i).Concat(ops.Skip(i + chunk)).ToArray();
        for (int i = 0; i < ops.Length; i++)
            yield return ops.Take(i).Concat(ops.Skip(i + 1)).ToArray();
        for (int i = 0; i < ops.Length; i++)
        {
            var s = ops[i].Simpler();
            if (s != null)
            {
                var c = (Op[])ops.Clone();
                c[i] = s;
                yield return c;
            }
        }
    }

    public static IEnumerable<Scenario> Shrink(Scenario s)
    {
        foreach (var o in ShrinkOps(s.Ops)) yield return s with { Ops = o };
        if (s.MaxQueuedEvents != 16384) yield return s with { MaxQueuedEvents = 16384 };
        if (s.MaxUserInstances != 128) yield return s with { MaxUserInstances = 128 };
        if (s.MaxUserWatches != 8192) yield return s with { MaxUserWatches = 8192 };
    }

    public static Arbitrary<Scenario> ScenarioArb(int maxOps) => Arb.From(Scenarios(maxOps), Shrink);
}
