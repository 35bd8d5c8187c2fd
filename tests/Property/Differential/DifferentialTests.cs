using FsCheck.Fluent;
using InotifySim.Tests.Property.ModelBased;
using Xunit.Abstractions;

namespace InotifySim.Tests.Property.Differential;

/// <summary>
/// Differential test against the running Linux kernel: the same op sequences on a real temp
/// directory (libc inotify, IN_NONBLOCK) and on the fixed model; differences due to kernel
/// evolution are accepted only through the named <see cref="Rules"/>.
/// </summary>
public class DifferentialTests(ITestOutputHelper output)
{
    public const int Cases = 200;
    public const ulong Seed = 0xD1FF_2006_0525UL;

    [Fact]
    public void RealKernelAgreesWithTheModelUpToNamedRules()
    {
        var why = Libc.Unavailable();
        if (why != null)
        {
            output.WriteLine($"SKIPPED: inotify unavailable here ({why}); the differential test did not run.");
            return;
        }
        var fired = new Dictionary<string, int>();
        var arb = FsCheck.Fluent.Arb.From(OpGen.Ops(25, differential: true).Select(o => new OpSeq(o)), s => OpGen.ShrinkOps(s.Ops).Select(o => new OpSeq(o)));
        var prop = Prop.ForAll(arb, seq =>
        {
            var failure = new DifferentialChecker(fired).Run(seq.Ops);
            if (failure != null) throw new PropertyFailure(failure);
        });
        var o = Harness.Run(prop, Cases, Seed, endSize: 25);
        output.WriteLine($"kernel {Environment.OSVersion.Version}: " + Harness.Describe(o));
        output.WriteLine("normalisation rules applied (times):");
        foreach (var (rule, n) in fired.OrderBy(kv => kv.Key)) output.WriteLine($"  {n,5}  {rule}");
        output.WriteLine($"  (not needed: {Rules.CoalesceLast})");
        Assert.True(o.Passed, Harness.Describe(o));
    }

    /// <summary>The comparison can fail: the rfc model, run against the kernel, is caught.</summary>
    [Fact]
    public void TheRfcModelDisagreesWithTheKernel()
    {
        if (Libc.Unavailable() is { } why) { output.WriteLine($"SKIPPED: {why}"); return; }
        var ops = new Op[] { new Mkdir("/a"), new Init(), new AddWatch(0, "/", InotifySim.Model.Inotify.IN.IN_ALL_EVENTS), new Mkdir("/b"), new Read(0, 15) };
        Assert.Null(new DifferentialChecker(new()).Run(ops));
        var failure = new DifferentialChecker(new(), InotifySim.Model.Fix.None).Run(ops);
        output.WriteLine(failure ?? "(no difference)");
        Assert.NotNull(failure);
    }
}
