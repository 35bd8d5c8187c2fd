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
