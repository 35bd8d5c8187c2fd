namespace InotifySim.Scenarios.Traces;

// TEMPORARY: the traces helper owns TraceCommands (replay/explain/shrink); delete this file
// when src/Scenarios/Traces/TraceCommands.cs is merged.
public static class TraceCommands
{
    public static int Replay(string path, bool html, string? htmlOut, TextWriter stdout, TextWriter stderr)
    {
        stderr.WriteLine("inotify-sim: replay: not implemented yet");
        return 2;
    }

    public static int Shrink(string path, string outPath, TextWriter stdout, TextWriter stderr)
    {
        stderr.WriteLine("inotify-sim: shrink: not implemented yet");
        return 2;
    }
}
