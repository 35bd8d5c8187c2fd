using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using InotifySim.Tests.Concurrency.Cli;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// The generated workload with a fixed program (<c>workload:threads=N,ops=M,program=P</c>): the operations
/// and their arguments are drawn from P before the run, so only the schedule varies and `verify` can
/// exhaust a small shape; the default workload keeps every pick a controlled choice.
/// </summary>
public class WorkloadProgramTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("workload", 3, 5, null)]
    [InlineData("workload:threads=2,ops=1", 2, 1, null)]
    [InlineData("workload:threads=2,ops=2,program=7", 2, 2, 7L)]
    [InlineData("workload:program=0", 3, 5, 0L)]
    [InlineData("workload:ops=4,program=1000000000,threads=8", 8, 4, 1_000_000_000L)]
    public void Names_parse_and_round_trip(string name, int threads, int ops, long? program)
    {
        var w = GeneratedWorkload.Parse(name);
        Assert.NotNull(w);
        Assert.Equal((threads, ops, program), (w!.ThreadCount, w.OpsPerThread, w.Program));
        Assert.Null(GeneratedWorkload.ParseError(name));
        var again = ScenarioCatalog.Find(w.Name) as GeneratedWorkload;
        Assert.NotNull(again);
        Assert.Equal(w.Name, again!.Name);
        Assert.Equal((threads, ops, program), (again.ThreadCount, again.OpsPerThread, again.Program));
    }

    [Theory]
    [InlineData("workload:", "expected workload")]
    [InlineData("workload:program=-1", "expected workload")]
    [InlineData("workload:program=01", "expected workload")]
    [InlineData("workload:program=+1", "expected workload")]
    [InlineData("workload:program=", "expected workload")]
    [InlineData("workload:program=1000000001", "program must be from 0 to 1000000000")]
    [InlineData("workload:program=99999999999999999999", "expected workload")]
    [InlineData("workload:program=1,program=2", "program given twice")]
    [InlineData("workload:threads=2,,ops=1", "expected workload")]
    [InlineData("workload:seed=3", "expected workload")]
    [InlineData("workloads", "expected workload")]
    [InlineData("workload:threads=0", "threads must be from 1 to 8")]
    public void Bad_names_say_what_is_wrong(string name, string message)
    {
        Assert.Null(GeneratedWorkload.Parse(name));
        Assert.Contains(message, GeneratedWorkload.ParseError(name));
        Assert.Null(ScenarioCatalog.Find(name));
    }

    [Fact]
    public void Bad_names_are_one_line_and_exit_2_on_the_command_line()
    {
        CliContractTests.OneLineError(CliContractTests.Cli(null, "verify", "--scenario", "workload:threads=2,program=x", "--preemptions", "1"), "bad workload 'workload:threads=2,program=x'");
        CliContractTests.OneLineError(CliContractTests.Cli(null, "hunt", "--scenario", "workload:program=2000000000"), "program must be from 0 to 1000000000");
        CliContractTests.OneLineError(CliContractTests.Cli(null, "verify", "--scenario", "workload:program=1,program=1", "--preemptions", "1"), "program given twice");
    }

    [Fact]
    public void Verify_on_the_command_line_names_the_program_its_verdict_covers()
    {
        var r = CliContractTests.Cli(null, "verify", "--scenario", "workload:threads=2,ops=2,program=1", "--preemptions", "1", "--jobs", "2");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("workload:threads=2,ops=2,program=1: every schedule with at most 1 preemption explored: 50 schedules (0: 2, 1: 48)", r.Out);
        Assert.Contains("    the program: " + DocumentedProgram1 + "\n", r.Out);
    }

    [Fact]
    public void A_program_is_fixed_by_its_seed_and_listed()
    {
        var w = (GeneratedWorkload)ScenarioCatalog.Find("workload:threads=2,ops=3,program=1")!;
        string listing = w.Listing();
        output.WriteLine(listing);
        Assert.Equal(listing, ((GeneratedWorkload)ScenarioCatalog.Find("workload:threads=2,ops=3,program=1")!).Listing());
        Assert.NotEqual(listing, ((GeneratedWorkload)ScenarioCatalog.Find("workload:threads=2,ops=3,program=2")!).Listing());
        Assert.StartsWith("t0 (root): ", listing);
        Assert.Equal(2, listing.Split(" | ").Length);
        Assert.All(listing.Split(" | "), t => Assert.Equal(3, t.Split("; ").Length));
        // every thread's operation has its own stream: a smaller shape of the same program is a prefix of it
        var small = ((GeneratedWorkload)ScenarioCatalog.Find("workload:threads=2,ops=2,program=1")!).Listing().Split(" | ");
        var big = listing.Split(" | ");
        for (int t = 0; t < 2; t++) Assert.StartsWith(small[t], big[t]);
        Assert.Contains("controlled choices", new GeneratedWorkload(2, 2).Listing());
    }

    [Fact]
    public void The_shrinker_keeps_the_program_in_smaller_shapes()
    {
        var sizes = InotifySim.Scenarios.Traces.TraceShrinker.Sizes(ScenarioCatalog.Find("workload:threads=2,ops=3,program=9")!);
        Assert.Equal(6, sizes.Count);
        Assert.All(sizes, s => Assert.Equal(9L, ((GeneratedWorkload)s).Program));
        Assert.Equal("workload:threads=2,ops=3,program=9", sizes[^1].Name);
    }

    /// <summary>The listings of the programs docs/verify.md's table names (a change to the mix or the streams changes them: re-measure the table).</summary>
    [Fact]
    public void The_documented_programs_are_these()
    {
        for (int p = 1; p <= 5; p++)
            output.WriteLine($"program={p}: {((GeneratedWorkload)ScenarioCatalog.Find($"workload:threads=2,ops=2,program={p}")!).Listing()}");
        Assert.Equal(DocumentedProgram1, ((GeneratedWorkload)ScenarioCatalog.Find("workload:threads=2,ops=2,program=1")!).Listing());
    }

    private const string DocumentedProgram1 = "t0 (root): add_watch fd /d IN_MODIFY|IN_ATTRIB; rm_watch fd 1 | t1: close fd; read fd 4096";

    [Fact]
    public void A_single_thread_program_has_exactly_one_schedule()
    {
        // without the program: 100 variants per operation, 10^6 schedules for 3 operations; with it: one
        var r = Explorer.Run(new HuntOptions { Scenario = ScenarioCatalog.Find("workload:threads=1,ops=3,program=4")!, Fixes = Fix.All, PreemptionBound = 2, Iterations = 0 });
        Assert.True(r.Exhausted, r.Summary);
        Assert.Equal(new[] { 1L, 0L, 0L }, r.SchedulesPerLevel);
        Assert.DoesNotContain(r.Schedule, d => d.Kind == DecisionKind.Choice);
    }

    [Fact]
    public void Without_a_program_the_picks_are_choices()
    {
        var r = Explorer.Run(new HuntOptions { Scenario = ScenarioCatalog.Find("workload:threads=1,ops=1")!, Fixes = Fix.All, PreemptionBound = 0, Iterations = 0 });
        Assert.True(r.Exhausted, r.Summary);
        Assert.Equal(100, r.SchedulesPerLevel[0]);
    }

    [Fact]
    public void Verify_exhausts_a_two_thread_program_at_one_preemption()
    {
        var cov = new Coverage();
        var r = Explorer.Run(new HuntOptions { Scenario = ScenarioCatalog.Find("workload:threads=2,ops=2,program=1")!, Fixes = Fix.All, PreemptionBound = 1, Iterations = 0, Coverage = cov });
        output.WriteLine(string.Join(", ", r.SchedulesPerLevel));
        Assert.False(r.BugFound, r.Summary);
        Assert.True(r.Exhausted);
        Assert.Equal(2, r.SchedulesPerLevel[0]);
        Assert.True(r.SchedulesPerLevel[1] > 10);
        Assert.Equal(cov.Schedules, cov.Distinct);
    }

    [Fact]
    public void Verify_of_a_program_finds_a_defect_the_program_exercises()
    {
        // coalesce-empty shows in the workload (docs/verify.md): some small program of threads=2 must reach it
        // (which one is pinned here: if the mix changes, find another)
        var s = ScenarioCatalog.Find(CoalesceProgram)!;
        var r = Explorer.Run(new HuntOptions { Scenario = s, Fixes = Variants.AllBut(Fix.CoalesceEmpty), PreemptionBound = 1, Iterations = 0 });
        Assert.True(r.BugFound, r.Summary);
        Assert.Equal(BugClass.TypeConfusion, r.Report!.Class);
        Assert.Contains("inotify_dev_queue_event", r.Report.Functions);
        output.WriteLine($"{r.Summary}, {r.Preemptions} preemption(s)");
        var clean = Explorer.Run(new HuntOptions { Scenario = s, Fixes = Fix.All, PreemptionBound = 1, Iterations = 0 });
        Assert.True(clean.Exhausted, clean.Summary);
    }

    private const string CoalesceProgram = "workload:threads=2,ops=3,program=1";
}
