using System.Text.Json;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Cli;
using InotifySim.Scenarios.Exploration;
using InotifySim.Scenarios.Traces;
using static InotifySim.Tests.Concurrency.Cli.CliContractTests;

namespace InotifySim.Tests.Concurrency.Cli;

/// <summary>
/// `--plant NAME` (mutation testing of the detectors: src/Model/Mistakes.cs) on hunt, verify, run and replay, the
/// trace header that records it, and `--no-kcsan`. In-process, in the CLI collection (hunts redirect Console.Out).
/// </summary>
[Collection("cli")]
public sealed class PlantCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "inotify-sim-plant-" + Guid.NewGuid().ToString("N")[..8]);

    public PlantCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string P(string name) => Path.Combine(_dir, name);

    private static Result Run(params string[] args) => CliContractTests.Cli(null, args);

    private const string Unknown = "--plant: unknown mistake 'nope' (mistakes: destroy-early-unlock, coalesce-ignores-name, overflow-off-by-one, watch-limit-off-by-one, create-watch-leak, drop-wake-up, read-overruns-count)";

    [Fact]
    public void An_unknown_mistake_is_one_line_and_exit_2_on_every_command()
    {
        OneLineError(Run("hunt", "--scenario", "close-vs-death", "--plant", "nope"), "hunt: " + Unknown);
        OneLineError(Run("hunt", "--scenario", "close-vs-death", "--plant", "drop-wake-up,nope"), "hunt: " + Unknown);
        OneLineError(Run("verify", "--scenario", "close-vs-death", "--preemptions", "0", "--plant", "nope"), "verify: " + Unknown);
        OneLineError(Run("run", RepoFile("examples/basic-events.isim"), "--plant", "nope"), "run: " + Unknown);
        OneLineError(Run("replay", RepoFile("traces/rm-wd-recheck.json"), "--plant", "nope"), "replay: " + Unknown);
        OneLineError(Run("hunt", "--scenario", "close-vs-death", "--plant"), "--plant");
        OneLineError(Run("hunt", "--scenario", "close-vs-death", "--no-kcsan", "--no-kcsan"), "--no-kcsan is given twice");
    }

    [Fact]
    public void List_mistakes_prints_the_registry()
    {
        var r = Run("list", "mistakes");
        Assert.Equal(0, r.Code);
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Mistakes.All.Select(m => m.Name), lines.Select(l => l.Trim().Split(' ')[0]));
        Assert.Contains("mistakes (--plant NAME: mutation testing of the detectors, never part of a variant):", Run("list").Out);
        Assert.Contains("mutation testing of the detectors: plants a known mistake in the model", Run("help", "hunt").Out);
    }

    [Fact]
    public void A_planted_hunt_records_the_mistake_in_its_trace_and_summary_and_the_replay_reproduces_it()
    {
        var traces = P("traces");
        var json = P("hunt.json");
        var h = Run("hunt", "--scenario", "close-vs-death", "--plant", "destroy-early-unlock", "--iterations", "5", "--jobs", "1", "--traces", traces, "--json", json);
        Assert.True(h.Code == 1, h.ToString());
        Assert.Contains("planted destroy-early-unlock", h.Out.Split('\n')[0]);
        Assert.Contains("BUG close-vs-death [lock-contract] WARNING: lock contract violated: remove_watch_no_event called from inotify_destroy", h.Out);
        var summary = HuntSummary.Load(json);
        Assert.Equal(new[] { "destroy-early-unlock" }, summary.Planted);
        Assert.Null(summary.Kcsan);
        var trace = Directory.GetFiles(traces).Single();
        var t = TraceFile.Load(trace);
        Assert.Equal(new[] { "destroy-early-unlock" }, t.Planted);
        Assert.Equal(Mistake.DestroyEarlyUnlock, t.PlantedSet());

        var r = Run("replay", trace);
        Assert.True(r.Code == 1, r.ToString());
        Assert.Contains("planted in the model: destroy-early-unlock (mutation testing of the detectors)", r.Out);
        Assert.Contains(": reproduced: [lock-contract]", r.Out);

        // --plant replaces the recorded set: without the mistake no report stops the schedule where the recorded one
        // ended, so the run needs decisions the trace does not have (exit 5): the trace needs its planted mistakes
        var other = Run("replay", trace, "--plant", "drop-wake-up");
        Assert.True(other.Code == 5, other.ToString());
        Assert.Contains("planted in the model: drop-wake-up", other.Out);
        Assert.Contains("replay diverged: the run left the recorded schedule: the run needs more decisions than the", other.Err);
    }

    [Fact]
    public void Traces_without_the_field_load_as_unplanted_and_a_bad_field_is_an_input_error()
    {
        var old = TraceFile.Load(RepoFile("traces/rm-wd-recheck.json"));
        Assert.Null(old.Planted);
        Assert.Null(old.Kcsan);
        Assert.Equal(Mistake.None, old.PlantedSet());
        Assert.DoesNotContain("\"planted\"", old.ToJson());
        Assert.DoesNotContain("\"kcsan\"", old.ToJson());

        var text = File.ReadAllText(RepoFile("traces/rm-wd-recheck.json"));
        var bad = P("bad.json");
        File.WriteAllText(bad, text.Replace("\"maxSteps\"", "\"planted\": [\"nope\"],\n  \"maxSteps\""));
        var r = Run("replay", bad);
        Assert.True(r.Code == 2, r.ToString());
        Assert.Equal($"error: {bad}: \"planted\": unknown mistake 'nope' (mistakes: destroy-early-unlock, coalesce-ignores-name, overflow-off-by-one, watch-limit-off-by-one, create-watch-leak, drop-wake-up, read-overruns-count)", r.Err.Trim());
    }

    [Fact]
    public void Run_plants_the_mistake_in_the_sequential_machine()
    {
        var script = P("two-creates.isim");
        File.WriteAllText(script, "setup\n  mkdir /d\n\nthread watcher uid 0\n  fd = inotify_init nonblock\n  add_watch $fd /d IN_CREATE\n  touch /d/a\n  touch /d/b\n  read $fd 4096\n  close $fd\n");
        var clean = Run("run", script);
        Assert.True(clean.Code == 0, clean.ToString());
        Assert.DoesNotContain("planted", clean.Out);
        var r = Run("run", script, "--plant", "coalesce-ignores-name");
        Assert.True(r.Code == 1, r.ToString());
        var verdict = JsonDocument.Parse(r.Out.Split('\n').First(l => l.Contains("\"verdict\""))).RootElement;
        Assert.Equal("coalesce-ignores-name", verdict.GetProperty("planted")[0].GetString());
        Assert.Equal("spec-violation", verdict.GetProperty("class").GetString());
        Assert.Equal(new[] { "inotify_dev_queue_event", "inotify_read" }, verdict.GetProperty("functions").EnumerateArray().Select(e => e.GetString()).ToArray());
    }

    [Fact]
    public void Verify_finds_a_planted_mistake_and_records_it()
    {
        var json = P("verify.json");
        var r = Run("verify", "--scenario", "close-vs-death", "--preemptions", "0", "--jobs", "1", "--plant", "destroy-early-unlock", "--no-kcsan", "--json", json);
        Assert.True(r.Code == 1, r.ToString());
        Assert.Contains(", planted destroy-early-unlock, kcsan off", r.Out.Split('\n')[0]);
        Assert.Contains("lock-contract", r.Out);
        var o = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal("destroy-early-unlock", o.GetProperty("planted")[0].GetString());
        Assert.False(o.GetProperty("kcsan").GetBoolean());
        var clean = Run("verify", "--scenario", "close-vs-death", "--preemptions", "0", "--jobs", "1", "--json", json);
        Assert.True(clean.Code == 0, clean.ToString());
        var c = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.False(c.TryGetProperty("planted", out _));
        Assert.False(c.TryGetProperty("kcsan", out _));
    }

    [Fact]
    public void No_kcsan_switches_the_detector_off_in_every_schedule_and_is_recorded()
    {
        var plan = HuntPlan.FromArgs(ParsedArgs.Parse(CliMain.FindCommand("hunt")!, new[] { "--scenario", "rm-vs-death", "--no-kcsan", "--plant", "drop-wake-up", "--plant", "overflow-off-by-one" }),
            new CliContext { Out = TextWriter.Null, Err = TextWriter.Null });
        Assert.False(plan.Kcsan);
        Assert.Equal(Mistake.DropWakeUp | Mistake.OverflowOffByOne, plan.Planted);
        var sc = ScenarioCatalog.Find("rm-vs-death")!;
        Assert.False(Explorer.Run(new HuntOptions { Scenario = sc, Iterations = 1, Kcsan = false }).LastMachine!.K.KcsanEnabled);
        Assert.True(Explorer.Run(new HuntOptions { Scenario = sc, Iterations = 1, Kcsan = true }).LastMachine!.K.KcsanEnabled);
        var json = P("h.json");
        var h = Run("hunt", "--scenario", "rm-vs-death", "--iterations", "2", "--jobs", "1", "--no-kcsan", "--json", json);
        Assert.True(h.Code == 0, h.ToString());
        Assert.Contains(", kcsan off", h.Out.Split('\n')[0]);
        Assert.False(HuntSummary.Load(json).Kcsan);
        Assert.Null(HuntSummary.Load(json).Planted);
    }
}
