using FsCheck;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;

namespace InotifySim.Tests.Property.ModelBased;

/// <summary>The failure a property raises: its message is the divergence with both transcripts.</summary>
public sealed class PropertyFailure(string message) : Exception(message);

/// <summary>Keeps the TestResult of a Check.One run (FsCheck 3's IRunner).</summary>
public sealed class CapturingRunner : IRunner
{
    public TestResult? Result { get; private set; }
    public int Shrinks { get; private set; }
    public void OnStartFixture(Type t) { }
    public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every) { }
    public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink) => Shrinks++;
    public void OnFinished(string name, TestResult result) => Result = result;
}

/// <summary>Runs a property deterministically (fixed Replay seed) and reports what happened.</summary>
public static class Harness
{
    public sealed record Outcome(bool Passed, int Tests, int Shrinks, string? Original, string? Shrunk, string? Message);

    public static Outcome Run(FsCheck.Property prop, int maxTest, ulong seed, ulong gamma = 0x9E3779B97F4A7C15UL, int endSize = 100)
    {
        var runner = new CapturingRunner();
        var config = Config.Quick
            .WithMaxTest(maxTest)
            .WithEndSize(endSize)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, gamma | 1), FSharpOption<int>.None)))
            .WithRunner(runner);
        Check.One(config, prop);
        var r = runner.Result ?? throw new InvalidOperationException("FsCheck reported no result");
        if (r is TestResult.Passed p) return new Outcome(true, p.Item1.NumberOfTests, 0, null, null, null);
        if (r is TestResult.Failed f)
        {
            string? msg = f.Item4 is FsCheck.Outcome.Failed of ? of.Item.Message : f.Item4.ToString();
            return new Outcome(false, f.Item1.NumberOfTests, f.Item1.NumberOfShrinks,
                string.Join("\n", f.Item2.Select(o => o?.ToString())), string.Join("\n", f.Item3.Select(o => o?.ToString())), msg);
        }
        return new Outcome(false, 0, 0, null, null, "exhausted: " + r);
    }

    public static string Describe(Outcome o) =>
        o.Passed ? $"passed {o.Tests} cases"
                 : $"FAILED after {o.Tests} cases, {o.Shrinks} shrinks.\nShrunk counterexample:\n{o.Shrunk}\n\n{o.Message}\n\nOriginal counterexample:\n{o.Original}";
}
