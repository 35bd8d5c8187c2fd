using FsCheck.Fluent;
using InotifySim.Model;
using Xunit.Abstractions;

namespace InotifySim.Tests.Property.ModelBased;

/// <summary>
/// Model-based property: random op sequences run on the reference specification
/// (<see cref="InotifySpec"/>) and on the model must agree step by step (return values,
/// events, cookies by pairing, the user's counters) and tear down cleanly.
/// </summary>
public class ModelBasedTests(ITestOutputHelper output)
{
    public const ulong Seed = 0x5EED_2006_0406UL;
    public const int FixedCases = 400;
    public const int MaxOps = 40;

    public static FsCheck.Property Property(Fix fixes) =>
        Prop.ForAll(OpGen.ScenarioArb(MaxOps), s =>
        {
            var failure = Checker.Run(fixes, s);
            if (failure != null) throw new PropertyFailure(failure);
        });

    [Fact]
    public void FixedVariantAgreesWithTheSpecification()
    {
        var o = Harness.Run(Property(Fix.All), FixedCases, Seed);
        output.WriteLine(Harness.Describe(o));
        Assert.True(o.Passed, Harness.Describe(o));
        Assert.Equal(FixedCases, o.Tests);
    }

    [Fact]
    public void RfcVariantFailsTheProperty()
    {
        var o = Harness.Run(Property(Fix.None), 200, Seed);
        output.WriteLine(Harness.Describe(o));
        Assert.False(o.Passed, "the rfc variant (the seed's defects) should violate the specification");
        Assert.NotNull(o.Shrunk);
    }
}

/// <summary>The property is not vacuous: the generated scenarios exercise every rule of the specification.</summary>
public class ModelBasedCoverageTests(ITestOutputHelper output)
{
    [Fact]
    public void ScenariosExerciseEveryRule()
    {
        var scenarios = OpGen.Scenarios(ModelBasedTests.MaxOps).Sample(ModelBasedTests.FixedCases, ModelBasedTests.MaxOps);
        var total = new Dictionary<string, int>();
        foreach (var s in scenarios)
        {
            var spec = new InotifySpec(s.MaxQueuedEvents, s.MaxUserInstances, s.MaxUserWatches);
            foreach (var op in s.Ops) { var st = spec.Apply(op); if (Environment.GetEnvironmentVariable("SPEC_TRACE") != null && total.Count < 3) output.WriteLine(st.ToString()); }
            foreach (var (k, v) in spec.Stats) total[k] = total.GetValueOrDefault(k) + v;
        }
        foreach (var (k, v) in total.OrderBy(kv => kv.Key)) output.WriteLine($"{k,-24} {v}");
        foreach (var rule in new[] { "coalesced", "IN_Q_OVERFLOW", "dropped after overflow", "IN_IGNORED", "IN_MOVED_TO", "IN_ONESHOT fired",
                     "EMFILE", "ENOSPC", "IN_MASK_ADD update", "read: buffer too small", "read: partial", "read: all", "close with watches" })
            Assert.True(total.GetValueOrDefault(rule) >= 5, $"rule '{rule}' applied only {total.GetValueOrDefault(rule)} times in {scenarios.Length} scenarios");
    }
}

/// <summary>Which single fixes the property notices when they are taken out of the fixed variant.</summary>
public class ModelBasedPerFixTests(ITestOutputHelper output)
{
    public static TheoryData<string> SequentiallyVisible => new()
    {
        "ev-mutex-unlock", "destroy-leak", "oneshot-leak", "coalesce-empty", "coalesce-last", "watch-destroy-op",
    };

    [Theory]
    [MemberData(nameof(SequentiallyVisible))]
    public void FixedWithoutOneFixFails(string fix)
    {
        var f = Variants.ByName(fix) ?? throw new ArgumentException(fix);
        var o = Harness.Run(ModelBasedTests.Property(Variants.AllBut(f)), 300, ModelBasedTests.Seed);
        output.WriteLine($"fixed without {fix} ({Variants.Describe(Variants.AllBut(f))}): " + Harness.Describe(o));
        Assert.False(o.Passed, $"taking out {fix} should violate the specification");
    }
}
