using System.Text.RegularExpressions;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Contracts;

/// <summary>
/// The six mistakes of issue 13 (and read-overruns-count) as a registry (src/Model/Mistakes.cs), planted inside the model: each is found by
/// the main job's exploration with the class and kernel functions its check gives, on exactly the schedule
/// `hunt --scenario all --variant fixed --iterations 2000 --plant NAME` (default strategy, seed 0, 2 jobs) found
/// it (its worker 0, replayed here from that worker's chunk seed); without the plant the same exploration is silent.
/// </summary>
public class PlantedMistakeTests(ITestOutputHelper output)
{
    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var i in Mistakes.All) d.Add(i.Name);
        return d;
    }

    private static HuntResult Explore(MistakeInfo i, Mistake planted) =>
        Explorer.Run(new HuntOptions
        {
            Scenario = ScenarioCatalog.Find(i.Scenario)!,
            Fixes = Fix.All,
            Iterations = i.TestBudget,
            Seed = i.HuntSeed,
            FaultInjection = i.FaultInjection,
            Planted = planted,
        });

    [Theory]
    [MemberData(nameof(Names))]
    public void The_main_job_finds_the_planted_mistake_with_its_check(string name)
    {
        var i = Mistakes.ByName(name)!;
        var r = Explore(i, i.Mistake);
        output.WriteLine($"{name} on {i.Scenario} (seed {i.HuntSeed}{(i.FaultInjection ? ", fault injection" : "")}): {r.Summary}");
        Assert.True(r.BugFound, $"{name}: not found in {r.Iterations} schedules of {i.Scenario}");
        Assert.True(r.Report != null, r.OtherBug);
        output.WriteLine(r.Report!.Text);
        Assert.Equal(i.Class, r.Report.Class);
        Assert.Equal(i.Functions, r.Report.Functions.Take(i.Functions.Count).ToArray());
        Assert.Equal(i.HuntIteration, r.BugIteration); // the schedule the hunt's worker 0 found it on (docs/findings.md)
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Without_the_plant_the_same_exploration_is_silent(string name)
    {
        var i = Mistakes.ByName(name)!;
        var r = Explore(i, Mistake.None);
        output.WriteLine($"{i.Scenario} on fixed: {r.Summary}");
        Assert.False(r.BugFound, r.Report?.Text ?? r.OtherBug);
        Assert.Equal(i.TestBudget, r.Iterations);
        Assert.False(r.LastMachine!.K.Planted(i.Mistake));
    }

    /// <summary>
    /// shrink carries the trace's plants: its verify search runs with them, so it finds the planted bug again (a search
    /// without them cannot: the same exploration is silent, above) and the smaller trace records them and replays.
    /// </summary>
    [Fact]
    public void Shrink_searches_with_the_traces_plants_and_keeps_them()
    {
        var i = Mistakes.ByName("destroy-early-unlock")!;
        var o = new HuntOptions { Scenario = ScenarioCatalog.Find(i.Scenario)!, Fixes = Fix.All, Iterations = i.TestBudget, Seed = i.HuntSeed, Planted = i.Mistake };
        var found = Explorer.Run(o);
        Assert.True(found.BugFound && found.Report != null, found.Summary);
        var key = InotifySim.Scenarios.Traces.BugKey.Of(found.Report!);
        var trace = InotifySim.Scenarios.Traces.TraceFile.FromHunt(o, found);
        var start = InotifySim.Scenarios.Traces.TraceShrinker.Measure(trace, o.Scenario, key);
        Assert.NotNull(start);
        var log = new StringWriter();
        var best = InotifySim.Scenarios.Traces.TraceShrinker.Minimize(o.Scenario, Fix.All, key, start, 200, log, planted: trace.PlantedSet());
        output.WriteLine(log.ToString());
        Assert.Contains("verify schedule", log.ToString()); // the search itself found the planted bug
        Assert.NotNull(best);
        Assert.Equal(new[] { i.Name }, best!.Value.trace.Planted);
        Assert.True(best.Value.size.CompareTo(start!.Value.size) <= 0);
        Assert.NotNull(InotifySim.Scenarios.Traces.TraceShrinker.Measure(best.Value.trace, o.Scenario, key)); // replays strictly, plant and all
    }

    [Fact]
    public void Every_mistake_is_declared_once_with_a_kebab_case_name()
    {
        var flags = Enum.GetValues<Mistake>().Where(m => m != Mistake.None).ToList();
        Assert.Equal(flags.OrderBy(f => f), Mistakes.All.Select(i => i.Mistake).OrderBy(f => f));
        Assert.Equal(Mistakes.All.Count, Mistakes.All.Select(i => i.Name).Distinct().Count());
        foreach (var i in Mistakes.All)
        {
            Assert.Matches("^[a-z]+(-[a-z]+)+$", i.Name);
            Assert.NotNull(ScenarioCatalog.Find(i.Scenario));
            Assert.Same(i, Mistakes.ByName(i.Name));
        }
        Assert.Equal(Mistake.DropWakeUp | Mistake.OverflowOffByOne, Mistakes.Parse(new[] { "drop-wake-up,overflow-off-by-one" }, out var err));
        Assert.Null(err);
        Assert.Null(Mistakes.Parse(new[] { "drop-wake-up", "nope" }, out err));
        Assert.StartsWith("unknown mistake 'nope' (mistakes: destroy-early-unlock, ", err);
    }

    /// <summary>
    /// Each mistake is a K.Planted(Mistake.X) branch inside the kernel function its declaration names (the exact line
    /// the mistake would change), with a comment; no variant and nothing outside src/Model/Inotify plants it.
    /// </summary>
    [Fact]
    public void Every_mistake_is_planted_inside_the_function_it_names()
    {
        var dir = Path.Combine(Traces.Approvals.RepoRoot, "src", "Model", "Inotify");
        var sources = Directory.GetFiles(dir, "*.cs").Select(File.ReadAllText).ToList();
        foreach (var i in Mistakes.All)
        {
            var site = $"K.Planted(Mistake.{i.Mistake})";
            var bodies = sources.Select(s => FunctionBody(s, i.Function)).Where(b => b != null).ToList();
            Assert.True(bodies.Count == 1, $"{i.Function}: found {bodies.Count} times in {dir}");
            var lines = bodies[0]!.Split('\n').Where(l => l.Contains(site)).ToList();
            Assert.True(lines.Count > 0, $"{i.Name}: no {site} in {i.Function}");
            Assert.All(lines, l => Assert.Contains("// ", l[l.IndexOf(site, StringComparison.Ordinal)..])); // a one-line comment beside it
            Assert.Equal(lines.Count, sources.Sum(s => Regex.Matches(s, Regex.Escape(site)).Count));
        }
        var variants = File.ReadAllText(Path.Combine(Traces.Approvals.RepoRoot, "src", "Model", "Variants.cs"));
        Assert.DoesNotContain("Mistake", variants);
    }

    /// <summary>The text of a model function: from its `K.Fn("name")` to the next `K.Fn(`.</summary>
    private static string? FunctionBody(string source, string function)
    {
        int start = source.IndexOf($"K.Fn(\"{function}\")", StringComparison.Ordinal);
        if (start < 0) return null;
        int end = source.IndexOf("K.Fn(\"", start + 10, StringComparison.Ordinal);
        return source[start..(end < 0 ? source.Length : end)];
    }

    [Fact]
    public void The_findings_table_is_the_registry()
    {
        var doc = File.ReadAllText(Path.Combine(Traces.Approvals.RepoRoot, "docs", "findings.md")).Replace("\r", "");
        var table = Mistakes.FindingsTable();
        output.WriteLine(table);
        Assert.True(doc.Contains(table), "docs/findings.md's \"Planted mistakes\" table differs from Mistakes.FindingsTable() (printed above)");
    }
}
