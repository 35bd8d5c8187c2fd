using InotifySim.Scenarios.Traces;

namespace InotifySim.Tests.Concurrency.Traces;

/// <summary>
/// The regression suite of stored failing schedules: every traces/*.json must still replay to
/// its recorded bug, and its explanation must match traces/snapshots/&lt;name&gt;.txt byte for byte.
/// </summary>
[Collection("traces")]
public class TraceRegressionTests
{
    public static TheoryData<string> TraceNames()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Approvals.TracesDir, "*.json").OrderBy(f => f, StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(f));
        return data;
    }

    [Fact]
    public void There_are_stored_traces()
    {
        Assert.NotEmpty(TraceNames());
    }

    [Theory]
    [MemberData(nameof(TraceNames))]
    public void Trace_replays_to_its_bug_and_explains_as_approved(string name)
    {
        var path = Path.Combine(Approvals.TracesDir, name + ".json");
        var trace = TraceFile.Load(path);
        var r = TraceReplayer.Replay(trace, name + ".json");
        if (!r.Reproduced && r.Result?.Report != null && Approvals.Accepting)
        {
            // the schedule still applies but the model now words the bug differently:
            // with INOTIFY_SIM_ACCEPT=1 the trace's recorded bug is updated (a reviewed diff)
            trace.Bug = TraceBug.From(r.Result.Report);
            trace.Save(path);
            r = TraceReplayer.Replay(trace, name + ".json");
        }
        Assert.True(r.Reproduced, r.Message);
        var x = r.Explain();
        Assert.NotNull(x);
        Approvals.Verify(name, x!.RenderText());
    }

    [Fact]
    public void Stored_traces_are_in_canonical_form()
    {
        // A stored trace is exactly what the writer produces: diffs show only real changes.
        foreach (var f in Directory.GetFiles(Approvals.TracesDir, "*.json").OrderBy(f => f, StringComparer.Ordinal))
        {
            var text = File.ReadAllText(f);
            Assert.Equal(TraceFile.Parse(text, f).ToJson(), text);
        }
    }
}
