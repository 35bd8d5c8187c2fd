using System.Diagnostics;
using System.Reflection;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Exploration;
using Microsoft.Coyote;
using Microsoft.Coyote.Rewriting;
using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;
using KReport = InotifySim.Model.Kernel.Report;

namespace InotifySim.Tests.Concurrency.Infrastructure;

/// <summary>
/// The outcome of a <see cref="CoyoteHost"/> run: Coyote's own test report, and the first
/// kernel <see cref="KReport"/> raised in the failing iteration (null when no kernel detector fired).
/// </summary>
public sealed class CoyoteResult
{
    public required TestReport TestReport { get; init; }
    /// <summary>The first kernel report of the failing iteration, or null.</summary>
    public required KReport? KernelReport { get; init; }
    /// <summary>Iterations the test body was entered (the engine stops at the first bug).</summary>
    public required int IterationsRun { get; init; }
    public required TimeSpan Elapsed { get; init; }

    public bool BugFound => TestReport.NumOfFoundBugs > 0;
    public int ExploredPaths => TestReport.NumOfExploredFairPaths + TestReport.NumOfExploredUnfairPaths;
    /// <summary>Coyote's bug messages (ours are prefixed with <see cref="CoyoteHost.KernelBugPrefix"/>).</summary>
    public string BugText => string.Join("\n", TestReport.BugReports);
    /// <summary>Calls Coyote saw but does not control (e.g. an API the rewriter does not know).</summary>
    public IReadOnlyCollection<string> Uncontrolled => TestReport.UncontrolledInvocations;

    public override string ToString() =>
        $"iterations={IterationsRun} explored={ExploredPaths} bugs={TestReport.NumOfFoundBugs} elapsed={Elapsed.TotalMilliseconds:F0}ms" +
        (Uncontrolled.Count > 0 ? "\nuncontrolled: " + string.Join(", ", Uncontrolled) : "") +
        (BugFound ? "\n" + BugText : "") + (KernelReport is null ? "" : "\n" + KernelReport.Text);
}

/// <summary>
/// Runs a test body under Coyote's systematic <see cref="TestingEngine"/>. Each iteration gets a
/// fresh <c>new Kernel(SchedMode.Controlled)</c>; the kernel's <see cref="Kernel.OnBug"/> hook
/// captures the report and fails the iteration at once through <see cref="Specification.Assert(bool, string, object)"/>,
/// so a detector's report is what Coyote records (not a later hang or an unobserved task fault).
/// </summary>
public static class CoyoteHost
{
    public const string KernelBugPrefix = "kernel bug: ";

    private static readonly Lazy<string?> s_rewriteProblem = new(CheckRewritten);

    /// <summary>The assemblies whose code must be Coyote-rewritten for Task/Monitor operations to be controlled.</summary>
    public static IReadOnlyList<Assembly> AssembliesUnderTest { get; } = new[]
    {
        typeof(CoyoteHost).Assembly,                                   // this test assembly
    };

    /// <summary>Null when every assembly under test is rewritten; otherwise a loud explanation.</summary>
    public static string? RewriteProblem => s_rewriteProblem.Value;

    private static string? CheckRewritten()
    {
        var missing = AssembliesUnderTest.Where(a => !RewritingEngine.IsAssemblyRewritten(a)).ToList();
        if (missing.Count == 0) return null;
        return "COYOTE REWRITING MISSING: the following assemblies are not rewritten by Coyote " +
               "(RewritingEngine.IsAssemblyRewritten is false), so their tasks and waits are NOT controlled " +
               "and systematic testing explores nothing:\n" +
               string.Join("\n", missing.Select(a => $"  {a.GetName().Name} at {a.Location}")) +
               "\nKnown cause: Directory.Build.targets rewrites bin/ in place and then stamps the step as done; the next " +
               "build's incremental copy (obj/ -> bin/, skipped only when size and time match) puts the UNREWRITTEN " +
               "assembly back while the rewrite is skipped as up to date. So every build after the first one loses " +
               "the rewriting. Fix the target (copy the rewritten bin/ assembly and pdb back over obj/ after " +
               "`dotnet coyote rewrite`); until then: delete obj/**/coyote-rewrite.stamp, build once, and run " +
               "`dotnet test tests/Concurrency --no-build`.";
    }

    /// <summary>
    /// Waits for simulated threads in a way Coyote controls. Do NOT use <c>Task.WaitAll(a, b)</c>:
    /// on .NET 10 C# binds it to the <c>WaitAll(params ReadOnlySpan&lt;Task&gt;)</c> overload, which the
    /// Coyote 1.7.11 rewriter does not know, so the wait is uncontrolled and a schedule in which
    /// the main operation blocks there hangs (reported as a "potential deadlock").
    /// </summary>
    public static void Join(params Task[] tasks)
    {
        foreach (var t in tasks) t.Wait();
    }

    /// <summary>Throws (once per process, and on every later call) when rewriting is missing.</summary>
    public static void EnsureRewritten()
    {
        if (RewriteProblem is { } p) throw new InvalidOperationException(p);
    }

    /// <summary>
    /// The harness's one Coyote configuration (<see cref="Explorer.MakeConfiguration"/>: random strategy, telemetry and
    /// logging off, potential deadlocks reported) with what differs for the primitive tests: the test's seed, and a step
    /// bound. These tests run without the harness-owned scheduler, so Coyote's own scheduler decides every point and
    /// its step bound is the only one (the harness cuts its schedules itself and sets Coyote's out of the way).
    /// </summary>
    public static Configuration Config(uint iterations, uint seed, uint maxSteps = 20_000) =>
        Explorer.MakeConfiguration((int)iterations)
            .WithRandomGeneratorSeed(seed)
            .WithMaxSchedulingSteps(maxSteps);

    /// <summary>
    /// Runs <paramref name="body"/> for up to <paramref name="iterations"/> controlled iterations
    /// (fewer if a bug is found: the engine stops at the first failing iteration).
    /// </summary>
    public static CoyoteResult Run(Action<Kernel> body, uint iterations = 200, uint seed = 42,
        bool faultInjection = false, Func<Configuration, Configuration>? configure = null)
    {
        EnsureRewritten();
        Explorer.EnsureThreadPool();
        Environment.SetEnvironmentVariable("COYOTE_CLI_TELEMETRY_OPTOUT", "1");
        KReport? current = null;
        int entered = 0;
        void Test()
        {
            entered++;
            current = null; // the report of this iteration only
            var k = new Kernel(SchedMode.Controlled) { FaultInjection = faultInjection };
            k.OnBug = r =>
            {
                current = r;
                Specification.Assert(false, KernelBugPrefix + "{0}", r.Summary);
            };
            body(k);
        }

        var sw = Stopwatch.StartNew();
        using var engine = TestingEngine.Create((configure ?? (c => c))(Config(iterations, seed)), Test);
        engine.Run();
        sw.Stop();
        var report = engine.TestReport;
        return new CoyoteResult
        {
            TestReport = report,
            KernelReport = report.NumOfFoundBugs > 0 ? current : null,
            IterationsRun = entered,
            Elapsed = sw.Elapsed,
        };
    }
}
