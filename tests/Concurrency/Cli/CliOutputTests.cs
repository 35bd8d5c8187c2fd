using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace InotifySim.Tests.Concurrency.Cli;

/// <summary>
/// Outputs and their inputs, found by a review that fed every command bad destinations and bad summaries:
/// two outputs naming one file, an output naming an input, a FIFO, a file name over NAME_MAX, an output that
/// fails to write after the work (the verdict must survive), a summary that is not one ("{}", totals that do not
/// add up or overflow), a script the scheduler cannot run, and a sharded verify verdict that is not a proof.
/// </summary>
[Collection("cli")]
public sealed class CliOutputTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "inotify-sim-cli3-" + Guid.NewGuid().ToString("N")[..8]);

    public CliOutputTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string P(string name) => Path.Combine(_dir, name);

    private static CliContractTests.Result Cli(params string[] args) => CliContractTests.Cli(null, args);

    private string Trace(string name = "t.json")
    {
        var repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "Simulation.sln"))) repo = Path.GetDirectoryName(repo)!;
        File.Copy(Path.Combine(repo, "traces", "rm-wd-recheck.json"), P(name), overwrite: true);
        return P(name);
    }

    private (string s1, string s2) Shards()
    {
        Assert.Equal(0, Cli("hunt", "--scenario", "add-vs-add", "--iterations", "4", "--jobs", "2", "--shard", "1/2", "--json", P("s1.json")).Code);
        Assert.Equal(0, Cli("hunt", "--scenario", "add-vs-add", "--iterations", "4", "--jobs", "2", "--shard", "2/2", "--json", P("s2.json")).Code);
        return (P("s1.json"), P("s2.json"));
    }

    /// <summary>Two outputs naming one file, or an output naming an input: refused before any work, one line, exit 2.</summary>
    [Fact]
    public void An_output_may_not_be_another_output_or_an_input()
    {
        var (s1, s2) = Shards();
        var trace = Trace();
        var script = P("victim.isim");
        File.WriteAllText(script, "thread a\n  fd = inotify_init\n");
        string before = File.ReadAllText(script), traceBefore = File.ReadAllText(trace), s1Before = File.ReadAllText(s1);
        CliContractTests.OneLineError(Cli("merge", s1, s2, "--json", P("x.out"), "--junit", P("x.out")), "two outputs would overwrite each other");
        CliContractTests.OneLineError(Cli("merge", s1, s2, "--json", s1), "the output would destroy the input");
        CliContractTests.OneLineError(Cli("verify", "--scenario", "add-vs-add", "--preemptions", "0", "--jobs", "1", "--json", P("v.out"), "--coverage", P("v.out")), "two outputs would overwrite each other");
        CliContractTests.OneLineError(Cli("verify", "--scenario", "add-vs-add", "--preemptions", "0", "--jobs", "1", "--json", P("v.out"), "--junit", P("v.out")), "two outputs would overwrite each other");
        CliContractTests.OneLineError(Cli("hunt", "--scenario", "add-vs-add", "--iterations", "2", "--jobs", "1", "--json", P("h.out"), "--coverage", P("h.out")), "two outputs would overwrite each other");
        CliContractTests.OneLineError(Cli("hunt", "--scenario", "add-vs-add", "--iterations", "2", "--jobs", "1", "--json", P("same"), "--traces", P("same")), "two outputs would overwrite each other");
        CliContractTests.OneLineError(Cli("hunt", "--scenario", script, "--iterations", "2", "--jobs", "1", "--json", script), "the output would destroy the input");
        CliContractTests.OneLineError(Cli("replay", trace, "--html", trace), "the output would destroy the input");
        CliContractTests.OneLineError(Cli("replay", trace, "--html", P("r.out"), "--junit", P("r.out")), "two outputs would overwrite each other");
        Assert.Equal(before, File.ReadAllText(script));
        Assert.Equal(traceBefore, File.ReadAllText(trace));
        Assert.Equal(s1Before, File.ReadAllText(s1));
        Assert.False(Directory.Exists(P("same")));
        // the silent twin: distinct outputs, and /dev/null for several of them
        Assert.Equal(0, Cli("merge", s1, s2, "--json", P("m.json"), "--junit", P("m.xml")).Code);
        Assert.Equal(0, Cli("verify", "--scenario", "add-vs-add", "--preemptions", "0", "--jobs", "1", "--json", "/dev/null", "--coverage", "/dev/null").Code);
    }

    /// <summary>A FIFO as a destination is refused (opening it for writing would wait for a reader forever); /dev/null is fine.</summary>
    [Fact]
    public async Task A_fifo_is_not_a_destination()
    {
        if (!OperatingSystem.IsLinux()) return;
        var fifo = P("ff");
        using (var p = Process.Start(new ProcessStartInfo("mkfifo", fifo) { UseShellExecute = false })!) p.WaitForExit();
        Assert.True(File.Exists(fifo));
        var run = Task.Run(() => Cli("hunt", "--scenario", "add-vs-add", "--iterations", "1", "--jobs", "1", "--json", fifo));
        var r = await run.WaitAsync(TimeSpan.FromSeconds(60)); // a TimeoutException when hunt --json FIFO hangs
        CliContractTests.OneLineError(r, "not a regular file (a FIFO)");
        Assert.Equal(0, Cli("hunt", "--scenario", "add-vs-add", "--iterations", "1", "--jobs", "1", "--json", "/dev/null").Code);
    }

    /// <summary>A file name over NAME_MAX is refused before the work, not after it.</summary>
    [Fact]
    public void A_file_name_over_255_bytes_is_refused_before_the_work()
    {
        var r = Cli("hunt", "--scenario", "rm-vs-death", "--iterations", "1000000", "--json", P(new string('y', 256) + ".json"));
        CliContractTests.OneLineError(r, "longer than 255 bytes");
        Assert.DoesNotContain("iterations in", r.Out);
        Assert.Equal(0, Cli("hunt", "--scenario", "add-vs-add", "--iterations", "1", "--jobs", "1", "--json", P(new string('y', 250) + ".json")).Code);
    }

    /// <summary>
    /// An output that fails after the work: verify and replay report it in one line and keep a bug's verdict
    /// (exit 1); without a bug the exit is 2, never 3 (an internal error).
    /// </summary>
    [Fact]
    public void A_failed_write_keeps_the_verdict()
    {
        if (!File.Exists("/dev/full")) return;
        var bug = Cli("verify", "--scenario", "rm-vs-death", "--variant", "rfc", "--preemptions", "1", "--jobs", "1", "--json", "/dev/full");
        Assert.True(bug.Code == 1, bug.ToString());
        Assert.Contains("inotify-sim: verify: summary not written: cannot write /dev/full", bug.Err);
        foreach (var opt in new[] { "--json", "--coverage", "--junit" })
        {
            var clean = Cli("verify", "--scenario", "add-vs-add", "--preemptions", "0", "--jobs", "1", opt, "/dev/full");
            CliContractTests.OneLineError(clean, "not written: cannot write /dev/full");
            Assert.Contains("VERIFIED", clean.Out);
        }
        var replay = Cli("replay", Trace(), "--html", "/dev/full");
        Assert.True(replay.Code == 1, replay.ToString());
        Assert.Contains("inotify-sim: replay: timeline not written", replay.Err);
        Assert.Contains("reproduced", replay.Out);
    }

    /// <summary>merge refuses what is not a hunt summary: "{}", totals that do not add up, counts that overflow, negative workers.</summary>
    [Fact]
    public void Merge_refuses_summaries_that_do_not_add_up()
    {
        var (s1, s2) = Shards();
        string Edit(string name, Action<JsonObject> edit)
        {
            var o = JsonNode.Parse(File.ReadAllText(s1))!.AsObject();
            edit(o);
            File.WriteAllText(P(name), o.ToJsonString());
            return P(name);
        }
        File.WriteAllText(P("empty.json"), "{}");
        CliContractTests.OneLineError(Cli("merge", P("empty.json"), "--json", P("m.json")), "no \"format\"");
        CliContractTests.OneLineError(Cli("merge", Edit("novariant.json", o => o.Remove("variant")), s2, "--json", P("m.json")), "no \"variant\"");
        CliContractTests.OneLineError(Cli("merge", Edit("total.json", o => o["iterations"] = long.MaxValue), s2, "--json", P("m.json")), "\"iterations\" is 9223372036854775807 but its units ran");
        CliContractTests.OneLineError(Cli("merge", Edit("units.json", o =>
        {
            o["units"]![0]!["iterations"] = long.MaxValue;
            o["units"]!.AsArray().Add(JsonNode.Parse(o["units"]![0]!.ToJsonString()));
            o["iterations"] = 1;
        }), "--json", P("m.json")), "counts too large to add up");
        CliContractTests.OneLineError(Cli("merge", Edit("worker.json", o => o["units"]![0]!["worker"] = -1), s2, "--json", P("m.json")), "a negative count");
        var ok = Cli("merge", s1, s2, "--json", P("m.json"));
        Assert.True(ok.Code == 0, ok.ToString());
        Assert.Equal(0, Cli("merge", P("m.json"), "--json", P("m2.json")).Code); // its own output is a valid summary
    }

    /// <summary>A script with more threads than the scheduler runs (64) is refused before exploring, not reported as a bug.</summary>
    [Fact]
    public void A_script_with_more_threads_than_the_scheduler_runs_is_refused()
    {
        string Script(int threads)
        {
            var s = "setup\n  mkdir /d\n";
            for (int i = 0; i < threads; i++) s += $"thread t{i}\n  touch /d/f{i}\n";
            var path = P($"t{threads}.isim");
            File.WriteAllText(path, s);
            return path;
        }
        var big = Script(65);
        CliContractTests.OneLineError(Cli("hunt", "--scenario", big, "--iterations", "2", "--jobs", "1"), "65 thread sections; the scheduler handles at most 64");
        CliContractTests.OneLineError(Cli("verify", "--scenario", big, "--preemptions", "0", "--jobs", "1"), "65 thread sections; the scheduler handles at most 64");
        var r = Cli("hunt", "--scenario", Script(64), "--iterations", "1", "--jobs", "1");
        Assert.True(r.Code == 0, r.ToString());
    }

    /// <summary>A shard of verify explores only its parts of the tree: its clean verdict says so and never says VERIFIED.</summary>
    [Fact]
    public void A_verify_shard_is_not_a_proof()
    {
        var shard = Cli("verify", "--scenario", "rm-vs-rm", "--preemptions", "1", "--jobs", "2", "--shard", "2/2");
        Assert.True(shard.Code == 0, shard.ToString());
        Assert.DoesNotContain("VERIFIED", shard.Out);
        Assert.Contains("verify: shard 2/2 clean up to 1 preemption: this shard's parts", shard.Out);
        Assert.Contains("NOT a proof alone: the tree is verified only when all 2 shards are clean", shard.Out);
        var whole = Cli("verify", "--scenario", "rm-vs-rm", "--preemptions", "1", "--jobs", "2");
        Assert.Contains("verify: VERIFIED up to 1 preemption", whole.Out);
    }

    /// <summary>A bug title in a summary is input: merge prints it as one line, with no escape sequence and no workflow command.</summary>
    [Fact]
    public void Merge_prints_a_summarys_bug_title_sanitised()
    {
        var (s1, s2) = Shards();
        var o = JsonNode.Parse(File.ReadAllText(s2))!.AsObject();
        o["bugs"] = new JsonArray(new JsonObject
        {
            ["scenario"] = "add-vs-add", ["worker"] = 1, ["class"] = "use-after-free",
            ["title"] = "x\n::error title=FAKE::injected\u001b[2J\u001b[31mred", ["functions"] = new JsonArray(),
            ["seed"] = 0, ["iteration"] = 1, ["iterationsBefore"] = 0, ["trace"] = null,
        });
        File.WriteAllText(P("inject.json"), o.ToJsonString());
        var r = Cli("merge", s1, P("inject.json"), "--json", P("m.json"));
        Assert.True(r.Code == 1, r.ToString());
        var bugLines = r.Out.Split('\n').Where(l => l.StartsWith("BUG ", StringComparison.Ordinal)).ToList();
        Assert.Single(bugLines);
        Assert.Contains("injected", bugLines[0]);
        Assert.DoesNotContain(r.Out.Split('\n'), l => l.StartsWith("::", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', r.Out);
    }

    /// <summary>A trace records a failing schedule: one with neither a bug nor a harness condition is bad input (exit 2), not a "different bug".</summary>
    [Fact]
    public void A_trace_that_records_no_bug_is_bad_input()
    {
        var o = JsonNode.Parse(File.ReadAllText(Trace()))!.AsObject();
        o["bug"] = null;
        File.WriteAllText(P("nobug.json"), o.ToJsonString());
        var r = Cli("replay", P("nobug.json"));
        Assert.True(r.Code == 2, r.ToString());
        Assert.Contains("the trace records no bug (neither \"bug\" nor \"otherBug\")", r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(1, Cli("replay", Trace("ok.json")).Code); // the twin: the recorded bug reproduces
    }

    /// <summary>A trace whose maxSteps is below its own schedule's length was not recorded so: bad input naming both, not a divergence.</summary>
    [Fact]
    public void A_trace_whose_maxSteps_is_below_its_schedule_is_bad_input()
    {
        var o = JsonNode.Parse(File.ReadAllText(Trace()))!.AsObject();
        int n = o["schedule"]!.AsArray().Count;
        Assert.True(n > 10, $"the trace has {n} decisions");
        o["maxSteps"] = 10;
        File.WriteAllText(P("ms10.json"), o.ToJsonString());
        var r = Cli("replay", P("ms10.json"));
        Assert.True(r.Code == 2, r.ToString());
        Assert.Contains($"\"maxSteps\" is 10 but the schedule records {n} decisions", r.Err);
        o["maxSteps"] = n; // the twin: exactly as long as its limit
        File.WriteAllText(P("msn.json"), o.ToJsonString());
        Assert.Equal(1, Cli("replay", P("msn.json")).Code);
    }
}
