using InotifySim.Model.Kernel;
namespace InotifySim.Scenarios.Traces;

/// <summary>
/// The trace commands the CLI calls. Replay exit codes follow the tool's contract: 1 the replayed
/// schedule raised a bug (the recorded one, or another: the message says which), 0 it ran clean to its
/// end, 5 it diverged (the run left the recorded schedule: the model or the fix set changed, or the file
/// was edited), 2 bad input (unreadable, corrupted, wrong version, unknown scenario/fix, malformed
/// schedule). Shrink: 0 a trace was written, 1 the input does not reproduce, 2 bad input. Errors are one
/// clear message on stderr, never a stack trace.
/// </summary>
public static class TraceCommands
{
    public const int Clean = 0, Ok = 0, Bug = 1, Mismatch = 1, BadInput = 2, Diverged = 5;

    /// <summary>Loads and replays a trace, prints the explanation; writes the HTML timeline when asked.</summary>
    public static int Replay(string path, bool html, string? htmlOut, TextWriter stdout, TextWriter stderr, InotifySim.Model.Fix? fixes = null, string? junit = null,
        Mistake? planted = null, bool? kcsan = null)
    {
        TraceFile t;
        ReplayOutcome r;
        try
        {
            t = TraceFile.Load(path);
            r = TraceReplayer.Replay(t, path, fixes, planted, kcsan);
        }
        catch (TraceFormatException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        var x = r.Explain();
        var plantedNow = planted ?? t.PlantedSet(path);
        if (plantedNow != Mistake.None) stdout.WriteLine($"planted in the model: {InotifySim.Model.Mistakes.Describe(plantedNow)} (mutation testing of the detectors)");
        if (x != null) stdout.Write(x.RenderText());
        if (!r.Reproduced)
        {
            if (x != null) stdout.WriteLine();
            stderr.WriteLine($"{path}: {Status(r.Status)}: {r.Message}");
            stderr.WriteLine($"recorded: {Recorded(t)}");
        }
        else stdout.WriteLine($"\n{path}: {r.Message}");
        bool written = true;
        if ((html || htmlOut != null) && x != null)
        {
            var outPath = htmlOut ?? Path.ChangeExtension(path, ".html");
            try
            {
                File.WriteAllText(outPath, TraceHtml.Render(x));
                stdout.WriteLine($"timeline written to {outPath}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the verdict is not lost: a reproduced bug or a divergence keeps its exit code, a clean replay exits 2
                stderr.WriteLine($"inotify-sim: replay: timeline not written: cannot write {outPath}: {e.Message}");
                written = false;
            }
        }
        else if (html || htmlOut != null) stderr.WriteLine("no timeline written: the replay raised no model report");
        int code = r.Status switch
        {
            ReplayStatus.Diverged => Diverged,
            ReplayStatus.NoBug => Clean,
            _ => Bug,
        };
        if (junit != null)
        {
            var failures = new List<Cli.JUnitFailure>();
            var rep = r.Result?.Report;
            if (code == Bug)
                failures.Add(new Cli.JUnitFailure(rep?.Class.Name() ?? "harness", rep?.Title ?? r.Message,
                    $"functions: {string.Join(", ", rep?.Functions ?? Array.Empty<string>())}\ntrace: {path}\nreplay: inotify-sim replay {path}\n{r.Message}"));
            else if (code == Diverged)
                failures.Add(new Cli.JUnitFailure("diverged", "the run left the recorded schedule", r.Message));
            try { Cli.JUnitWriter.Write(junit, "inotify-sim replay", new[] { new Cli.JUnitCase("inotify-sim.replay", Path.GetFileName(path), r.Result?.Elapsed.TotalSeconds ?? 0, failures) }, r.Result?.Elapsed.TotalSeconds ?? 0); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"inotify-sim: replay: JUnit report not written: cannot write {junit}: {e.Message}");
                written = false;
            }
        }
        return !written && code == Clean ? BadInput : code;
    }

    /// <summary>
    /// Shrinks a trace: replays it (it must reproduce), re-hunts smaller workloads and
    /// low-preemption schedules for the same bug (class + first function), writes the smallest.
    /// </summary>
    public static int Shrink(string path, string outPath, TextWriter stdout, TextWriter stderr) =>
        Shrink(path, outPath, stdout, stderr, budget: 3000);

    public static int Shrink(string path, string outPath, TextWriter stdout, TextWriter stderr, int budget)
    {
        TraceFile t;
        Scenario scenario;
        ReplayOutcome r;
        try
        {
            t = TraceFile.Load(path);
            scenario = TraceReplayer.ResolveScenario(t, path);
            r = TraceReplayer.Replay(t, path);
        }
        catch (TraceFormatException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        if (!r.Reproduced || r.Result?.Report is null)
        {
            stderr.WriteLine($"{path}: cannot shrink: {Status(r.Status)}: {r.Message}");
            return Mismatch;
        }
        var key = BugKey.Of(r.Result.Report);
        var start = TraceShrinker.Measure(t, scenario, key);
        if (start is null)
        {
            stderr.WriteLine($"{path}: cannot shrink: the trace does not replay to {key}");
            return Mismatch;
        }
        stdout.WriteLine($"shrinking {path}: {key}; now {start.Value.size}");
        var best = TraceShrinker.Minimize(scenario, t.FixSet(), key, start, budget, stdout, t.Scenario == "script" ? t.Script : null, t.FaultInjection,
            t.PlantedSet(path), t.Kcsan)!.Value;
        try { best.trace.Save(outPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: cannot write {outPath}: {e.Message}");
            return BadInput;
        }
        stdout.WriteLine(ReferenceEquals(best.trace, start.Value.trace)
            ? $"no smaller schedule found; wrote the original to {outPath}"
            : $"shrunk to {best.size} ({best.trace.Scenario}, found by verify at schedule {best.trace.Iteration}); wrote {outPath}");
        return Ok;
    }

    private static string Status(ReplayStatus s) => s switch
    {
        ReplayStatus.Diverged => "replay diverged",
        ReplayStatus.DifferentBug => "different bug",
        ReplayStatus.NoBug => "bug not reproduced",
        _ => "reproduced",
    };

    private static string Recorded(TraceFile t) =>
        t.Bug != null ? $"[{t.Bug.Class}] {t.Bug.Title} (functions: {string.Join(", ", t.Bug.Functions)})" : $"[harness] {t.OtherBug}";
}
