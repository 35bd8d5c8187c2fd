using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Exploration;
using InotifySim.Scenarios.Scripts;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Contracts;

/// <summary>
/// docs/findings.md, "the d_name race of fsnotify_close": fsnotify_close reads dentry->d_name.name with no lock and
/// passes it down to inotify_dev_queue_event while a rename of the same dentry rewrites d_name in d_move (the race
/// class of CVE-2017-7533). The model shows it as a KCSAN data race on dentry->d_name; it cannot show the kernel's
/// use-after-free of an external name (names are values in the model, not slab objects). The defect is registered
/// as <c>name-snapshot</c> (src/Model/Defects.cs): `fixed` takes the name under d_lock (49d31c2f) and is silent.
/// </summary>
public class DNameRaceTests(ITestOutputHelper output)
{
    private const string Script =
        "setup\n  mkdir /d\n  touch /d/f\n\n" +
        "thread watcher uid 0\n  fd = inotify_init nonblock\n  add_watch $fd /d IN_CLOSE_WRITE|IN_CLOSE_NOWRITE|IN_MOVE\n  f = open /d/f\n  start\n  close $f\n\n" +
        "thread renamer uid 0\n  rename /d/f /d/a-much-longer-name-than-the-inline-buffer-of-a-dentry\n";

    [Fact]
    public void Close_racing_a_rename_of_its_dentry_is_a_data_race_on_d_name()
    {
        var sc = ScriptScenario.Parse(Script, "close-vs-rename.isim");
        var r = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All & ~Fix.NameSnapshot, Iterations = 500, Kcsan = true });
        output.WriteLine(r.Summary);
        Assert.True(r.Report != null, r.OtherBug ?? "not found");
        output.WriteLine(r.Report!.Text);
        Assert.Equal(BugClass.DataRace, r.Report.Class);
        Assert.Equal(new[] { "d_move", "fsnotify_close" }, r.Report.Functions.Where(f => f is "d_move" or "fsnotify_close").Order().ToArray());
        Assert.Contains("->d_name by task watcher/", r.Report.Text);
        Assert.Contains("locks held: none", r.Report.Text); // the reader's side
    }

    [Fact]
    public void With_the_name_snapshot_fix_the_race_is_gone()
    {
        // fixed takes the name under d_lock: every schedule up to two preemptions, the detector on, is clean
        var sc = ScriptScenario.Parse(Script, "close-vs-rename.isim");
        var v = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All, PreemptionBound = 2, Iterations = 100_000, Kcsan = true });
        output.WriteLine($"verify k=2: {v.Summary}, exhausted {v.Exhausted}");
        Assert.False(v.BugFound, v.Report?.Text ?? v.OtherBug);
        Assert.True(v.Exhausted);
    }

    [Fact]
    public void Without_the_data_race_detector_nothing_shows_it()
    {
        // a name is a value here: no freed buffer for KASAN, no wrong name in this schedule tree for the inotify(7) oracle
        var sc = ScriptScenario.Parse(Script, "close-vs-rename.isim");
        var v = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All & ~Fix.NameSnapshot, PreemptionBound = 2, Iterations = 100_000, Kcsan = false });
        output.WriteLine($"verify k=2: {v.Summary}, exhausted {v.Exhausted}");
        Assert.False(v.BugFound, v.Report?.Text ?? v.OtherBug);
        Assert.True(v.Exhausted);
    }
}
