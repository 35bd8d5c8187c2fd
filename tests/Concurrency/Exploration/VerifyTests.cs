using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// The bounded enumerator of `verify` (iterative context bounding) on programs whose schedule count is
/// known in closed form, and on the catalogue.
/// </summary>
public class VerifyTests(ITestOutputHelper output)
{
    /// <summary>Each of <c>Threads</c> threads reaches <c>Points</c> scheduling points and exits; nothing blocks.</summary>
    private sealed class Toy(int threads, int points, Action<Kernel>? atPoint = null) : Scenario
    {
        public override string Name => $"toy-{threads}x{points}";
        public override string Description => "toy: threads that only reach scheduling points";
        public override void Build(Sim s)
        {
            for (int t = 0; t < threads; t++)
            {
                var p = s.M.NewProcess("toy" + t, 0);
                s.Thread(p, () =>
                {
                    for (int i = 0; i < points; i++)
                    {
                        s.M.K.Point();
                        atPoint?.Invoke(s.M.K);
                    }
                });
            }
        }
    }

    private static HuntResult Verify(Scenario s, int bound, Coverage? cov = null, int parts = 1, int part = 0, int budget = 0) =>
        Explorer.Run(new HuntOptions { Scenario = s, Fixes = Fix.All, PreemptionBound = bound, Iterations = budget, Coverage = cov, Parts = parts, Part = part });

    private static long Binomial(int n, int k)
    {
        long r = 1;
        for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
        return r;
    }

    /// <summary>
    /// Two threads of n points each run as m = n+1 atomic segments; a schedule is an interleaving of the two
    /// segment sequences, and one with b blocks has b-2 preemptions (the last switch is the first thread's exit,
    /// which is free). So exactly c preemptions: 2·C(n, r-1)^2 schedules for b = 2r, 2·C(n, r)·C(n, r-1) for
    /// b = 2r+1: 2, 2n, 2n^2 for c = 0, 1, 2, and C(2m, m) in all.
    /// </summary>
    private static long TwoThreadsExactly(int n, int c)
    {
        int b = c + 2;
        return b % 2 == 0 ? 2 * Binomial(n, b / 2 - 1) * Binomial(n, b / 2 - 1) : 2 * Binomial(n, b / 2) * Binomial(n, b / 2 - 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void Two_threads_schedule_counts_match_the_closed_form(int n)
    {
        var cov = new Coverage();
        var r = Verify(new Toy(2, n), 2, cov);
        output.WriteLine($"n={n}: {string.Join(", ", r.SchedulesPerLevel)}");
        Assert.False(r.BugFound, r.Summary);
        Assert.True(r.Exhausted);
        Assert.Equal(new[] { 2L, 2L * n, 2L * n * n }, r.SchedulesPerLevel);
        for (int c = 0; c <= 2; c++) Assert.Equal(TwoThreadsExactly(n, c), r.SchedulesPerLevel[c]);
        // no schedule repeats
        Assert.Equal(cov.Schedules, cov.Distinct);
        Assert.Equal(2 + 2 * n + 2 * n * n, cov.Schedules);
        Assert.Equal(2, cov.MaxPreemptions);
    }

    [Fact]
    public void Unbounded_enumeration_finds_every_interleaving_once()
    {
        const int n = 3;
        var cov = new Coverage();
        var r = Verify(new Toy(2, n), 2 * n, cov);
        Assert.True(r.Exhausted);
        Assert.Equal(Binomial(2 * (n + 1), n + 1), cov.Schedules); // C(8,4) = 70
        Assert.Equal(cov.Schedules, cov.Distinct);
        for (int c = 0; c <= 2 * n; c++) Assert.Equal(TwoThreadsExactly(n, c), r.SchedulesPerLevel[c]);
    }

    [Fact]
    public void Three_threads_without_preemption_are_the_orders_of_the_threads()
    {
        // k = 0: only the free choices at the start and at each exit: 3! orders
        var r = Verify(new Toy(3, 2), 0);
        Assert.True(r.Exhausted);
        Assert.Equal(new[] { 6L }, r.SchedulesPerLevel);
    }

    [Fact]
    public void Controlled_choices_are_part_of_the_tree()
    {
        // one thread, two points, a 3-way choice at each: 9 schedules, no preemption possible
        var r = Verify(new Toy(1, 2, k => k.ChooseInt(3, "toy choice")), 1);
        Assert.True(r.Exhausted);
        Assert.Equal(new[] { 9L, 0L }, r.SchedulesPerLevel);
    }

    /// <summary>
    /// The parts' counted schedules are exactly the one-job enumeration: per preemption count the sums match,
    /// no schedule is counted twice (the merged coverage's distinct schedules equal its schedules), and the
    /// set is the same (merging the one-job coverage in adds no new schedule). Returns each part's result.
    /// </summary>
    private static List<HuntResult> AssertPartsPartition(Scenario s, int bound, int parts, Fix? fixes = null)
    {
        var wholeCov = new Coverage();
        var whole = Explorer.Run(new HuntOptions { Scenario = s, Fixes = fixes ?? Fix.All, PreemptionBound = bound, Iterations = 0, Coverage = wholeCov });
        Assert.True(whole.Exhausted, whole.Summary);
        var merged = new Coverage();
        var results = new List<HuntResult>();
        var sum = new long[bound + 1];
        for (int p = 0; p < parts; p++)
        {
            var cov = new Coverage();
            var r = Explorer.Run(new HuntOptions { Scenario = s, Fixes = fixes ?? Fix.All, PreemptionBound = bound, Iterations = 0, Coverage = cov, Parts = parts, Part = p });
            Assert.False(r.BugFound, r.Summary);
            Assert.True(r.Exhausted);
            for (int l = 0; l <= bound; l++) sum[l] += r.SchedulesPerLevel[l];
            Assert.Equal(r.SchedulesPerLevel.Sum(), cov.Schedules); // only counted runs are coverage
            merged.Merge(cov);
            results.Add(r);
        }
        Assert.Equal(whole.SchedulesPerLevel, sum);
        Assert.Equal(wholeCov.Schedules, merged.Schedules);
        Assert.Equal(merged.Schedules, merged.Distinct);
        long distinct = merged.Distinct;
        merged.Merge(wholeCov);
        Assert.Equal(distinct, merged.Distinct);
        return results;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Parts_partition_the_tree(int parts)
    {
        // level 0 has 2 schedules: all of it is the shared skeleton; the preemption items are dealt round-robin
        var rs = AssertPartsPartition(new Toy(2, 4), 2, parts);
        Assert.All(rs, r => Assert.True(r.SchedulesPerLevel[2] > 0));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Parts_split_a_level_0_made_of_choices(int parts)
    {
        // two threads of 2 points, a 3-way choice after each: level 0 has 2 * 3^4 = 162 schedules, and the
        // parts split it (the old scheme ran all of level 0 in every part)
        var toy = new Toy(2, 2, k => k.ChooseInt(3, "toy choice"));
        var whole = Verify(toy, 1);
        var rs = AssertPartsPartition(toy, 1, parts);
        foreach (var r in rs)
        {
            Assert.InRange(r.SchedulesPerLevel[0], whole.SchedulesPerLevel[0] / parts / 2, whole.SchedulesPerLevel[0] * 2 / parts);
            // the runs a part makes only to get past the skeleton are few
            Assert.True(r.Iterations - r.SchedulesPerLevel.Sum() <= 2 * BoundedEnumerator.SplitProduct * parts, $"{r.Iterations} runs, {r.SchedulesPerLevel.Sum()} counted");
        }
        Assert.True(rs.Max(r => r.Iterations) < whole.Iterations * 3 / 4, $"the largest part ran {rs.Max(r => r.Iterations)} of {whole.Iterations}");
    }

    [Fact]
    public void Parts_split_a_single_thread_of_choices()
    {
        // one thread: no preemption at all, the whole tree is level 0 (81 schedules)
        AssertPartsPartition(new Toy(1, 4, k => k.ChooseInt(3, "toy choice")), 2, 2);
    }

    [Fact]
    public void Parts_partition_a_real_scenario()
    {
        AssertPartsPartition(ScenarioCatalog.Find("rm-vs-rm")!, 2, 2);
        AssertPartsPartition(ScenarioCatalog.Find("read-vs-read")!, 2, 3);
    }

    [Fact]
    public void Parts_partition_the_workload_with_its_choices()
    {
        // the workload's operation picks are choices: level 0 is most of the tree (threads=1: all of it, 100 schedules)
        var rs = AssertPartsPartition(ScenarioCatalog.Find("workload:threads=1,ops=1")!, 1, 2);
        Assert.All(rs, r => Assert.InRange(r.SchedulesPerLevel[0], 25, 75));
    }

    [Fact]
    public void A_bug_is_found_by_the_part_that_owns_it()
    {
        // rm-vs-rm without the recheck: each part either finds the race or is exhausted clean; at least one finds it
        var s = ScenarioCatalog.Find("rm-vs-rm")!;
        var fixes = Variants.AllBut(Fix.RmWdRecheck);
        var rs = Enumerable.Range(0, 2).Select(p => Explorer.Run(new HuntOptions { Scenario = s, Fixes = fixes, PreemptionBound = 2, Parts = 2, Part = p })).ToList();
        Assert.Contains(rs, r => r.BugFound && r.Report!.Class.Name() == "null-dereference" && r.Report.Functions.Contains("inotify_rm_wd"));
        Assert.All(rs, r => Assert.True(r.BugFound || r.Exhausted));
    }

    [Fact]
    public void A_budget_that_runs_out_is_not_a_proof()
    {
        var r = Verify(new Toy(2, 5), 2, budget: 10);
        Assert.False(r.BugFound);
        Assert.False(r.Exhausted);
        Assert.Equal(10, r.Iterations);
    }

    [Fact]
    public void A_cut_schedule_is_not_a_proof()
    {
        var r = Explorer.Run(new HuntOptions { Scenario = new Toy(2, 20), Fixes = Fix.All, PreemptionBound = 1, MaxSteps = 5 });
        Assert.False(r.BugFound);
        Assert.True(r.AnyCut);
        Assert.False(r.Exhausted);
    }

    [Fact]
    public void Verify_finds_the_rm_wd_race_with_one_preemption_and_replays_it_strictly()
    {
        var s = ScenarioCatalog.Find("rm-vs-rm")!;
        var r = Explorer.Run(new HuntOptions { Scenario = s, Fixes = Variants.AllBut(Fix.RmWdRecheck), PreemptionBound = 2 });
        Assert.True(r.BugFound, r.Summary);
        Assert.Equal("null-dereference", r.Report!.Class.Name());
        Assert.Contains("inotify_rm_wd", r.Report.Functions);
        Assert.Equal(1, r.Preemptions); // ICB: fewest preemptions first
        var replay = Explorer.Run(new HuntOptions { Scenario = s, Fixes = Variants.AllBut(Fix.RmWdRecheck), Replay = r.Schedule });
        Assert.Null(replay.Diverged);
        Assert.Equal(r.Report.Title, replay.Report!.Title);
        Assert.Equal(r.Schedule, replay.Schedule);
    }

    [Fact]
    public void A_clean_verify_of_rm_vs_death_at_two_preemptions_is_exhausted()
    {
        var cov = new Coverage();
        var r = Verify(ScenarioCatalog.Find("rm-vs-death")!, 2, cov);
        output.WriteLine(string.Join(", ", r.SchedulesPerLevel) + "\n" + cov.Render(Fix.All));
        Assert.False(r.BugFound, r.Summary);
        Assert.True(r.Exhausted);
        Assert.Equal(cov.Schedules, cov.Distinct);
        Assert.True(r.SchedulesPerLevel[2] > r.SchedulesPerLevel[1]);
        Assert.Contains("inotify_rm_wd", cov.Points.Keys);
        Assert.NotEmpty(cov.Preempted);
    }
}
