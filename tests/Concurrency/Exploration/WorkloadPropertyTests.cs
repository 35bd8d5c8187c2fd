using FsCheck;
using FsCheck.Fluent;
using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>A generated-workload shape: threads, operations per thread, and the Coyote seed.</summary>
public sealed record WorkloadShape(int Threads, int Ops, uint Seed)
{
    public override string ToString() => $"workload:threads={Threads},ops={Ops} (Coyote seed {Seed})";
}

/// <summary>
/// Concurrency meets properties: FsCheck generates workload shapes, Coyote explores each one,
/// and a failure shrinks to the smallest workload (fewest threads, fewest operations) that
/// still fails, with Coyote's short schedule for it.
/// </summary>
public class WorkloadPropertyTests(ITestOutputHelper output)
{
    private const int SchedulesPerShape = 1500;

    private static Gen<WorkloadShape> Shapes =>
        from t in Gen.Choose(1, 3)
        from o in Gen.Choose(1, 4)
        from s in Gen.Choose(0, 1000)
        select new WorkloadShape(t, o, (uint)s);

    private static IEnumerable<WorkloadShape> Shrink(WorkloadShape w)
    {
        if (w.Threads > 1) yield return w with { Threads = w.Threads - 1 };
        if (w.Ops > 1) yield return w with { Ops = w.Ops - 1 };
    }

    private static FsCheck.Property Property(Fix fixes, List<string> log) =>
        Prop.ForAll(Arb.From(Shapes, Shrink), shape =>
        {
            var r = Explorer.Run(new HuntOptions
            {
                Scenario = new GeneratedWorkload(shape.Threads, shape.Ops),
                Fixes = fixes,
                Iterations = SchedulesPerShape,
                Seed = shape.Seed,
            });
            if (r.BugFound)
            {
                log.Add($"{shape}: {r.Summary}");
                throw new InvalidOperationException($"{shape}: {r.Summary}");
            }
        });

    private sealed class Runner : IRunner
    {
        public TestResult? Result;
        public void OnStartFixture(Type t) { }
        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every) { }
        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink) { }
        public void OnFinished(string name, TestResult result) => Result = result;
    }

    private static TestResult Check(FsCheck.Property p, int cases)
    {
        var runner = new Runner();
        var config = Config.Quick.WithMaxTest(cases).WithRunner(runner)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(42UL, 0x9E3779B97F4A7C15UL), FSharpOption<int>.None)));
        FsCheck.Check.One(config, p);
        return runner.Result!;
    }

    [Fact]
    public void FixedWorkloadShapesRunClean()
    {
        var log = new List<string>();
        var r = Check(Property(Fix.All, log), 4);
        output.WriteLine(string.Join("\n", log));
        Assert.True(r is TestResult.Passed, $"fixed failed: {string.Join("\n", log)}");
    }

    [Fact]
    public void AFailingWorkloadShrinksToTheSmallestShape()
    {
        var log = new List<string>();
        var r = Check(Property(Variants.AllBut(Fix.GfpNofs), log), 20);
        var f = Assert.IsType<TestResult.Failed>(r);
        var shrunk = (WorkloadShape)f.Item3.Head;
        output.WriteLine($"original: {f.Item2.Head}\nshrunk:   {shrunk} after {f.Item1.NumberOfShrinks} shrinks\n{log[^1]}");
        // the reclaim cycle needs a watch on the mounted filesystem and its umount: root alone,
        // add_watch then umount, is the smallest workload that shows it
        Assert.Equal(1, shrunk.Threads);
        Assert.Equal(2, shrunk.Ops);
        Assert.Contains("lock-order-inversion", log[^1]);
    }
}
