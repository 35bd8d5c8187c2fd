using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Exploration;
using InotifySim.Scenarios.Scripts;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Contracts;

/// <summary>
/// docs/findings.md, "read() returns 0 when another read() drains the queue": inotify_read checks the queue under
/// dev->ev_mutex, drops it, and copies under it again; a second reader of the same fd that takes the only event in
/// between leaves the first with `buf - start` = 0. The main job found it in the generated workload; this is the
/// smallest script that shows it (two threads of one process, one queued event). Registered as the defect
/// <c>read-check-dequeue</c> (src/Model/Defects.cs): `fixed` keeps ev_mutex from the check to the dequeue and is silent.
/// </summary>
public class ReadReturnsZeroTests(ITestOutputHelper output)
{
    private const string Script =
        "setup\n  mkdir /d\n\n" +
        "thread r1 uid 0 process app\n  fd = inotify_init nonblock\n  add_watch $fd /d IN_CREATE\n  touch /d/a\n  start\n  read $fd 4096\n\n" +
        "thread r2 process app\n  read $fd 4096\n";

    [Fact]
    public void Two_readers_of_one_fd_one_gets_zero()
    {
        var sc = ScriptScenario.Parse(Script, "read-vs-read-one-event.isim");
        var r = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All & ~Fix.ReadCheckDequeue, PreemptionBound = 1, Iterations = 10_000 });
        output.WriteLine($"verify k=1: {r.Summary}");
        Assert.True(r.Report != null, r.OtherBug ?? "not found");
        output.WriteLine(r.Report!.Text);
        Assert.Equal(BugClass.SpecViolation, r.Report.Class);
        Assert.Equal(new[] { "inotify_dev_queue_event", "inotify_read" }, r.Report.Functions);
        Assert.Contains("returned 0; the specification returns -EAGAIN here", r.Report.Title);
        Assert.Equal(1, r.Preemptions); // one preemption: between the check and the copy
    }

    [Fact]
    public void With_read_check_dequeue_no_reader_gets_zero()
    {
        // the same script, fixed: every schedule up to two preemptions is clean (a read of 0 is gone, -EAGAIN instead)
        var sc = ScriptScenario.Parse(Script, "read-vs-read-one-event.isim");
        var v = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All, PreemptionBound = 2, Iterations = 100_000 });
        output.WriteLine($"verify k=2: {v.Summary}, exhausted {v.Exhausted}");
        Assert.False(v.BugFound, v.Report?.Text ?? v.OtherBug);
        Assert.True(v.Exhausted);
    }
}
