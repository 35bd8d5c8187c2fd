using System.Text;

namespace InotifySim.Tests.Concurrency.Traces;

/// <summary>
/// Approval files for text snapshots: traces/snapshots/&lt;name&gt;.txt holds the approved text.
/// On a mismatch the new text goes to &lt;name&gt;.received.txt and the test fails with a diff
/// summary; INOTIFY_SIM_ACCEPT=1 writes the approved file instead.
/// </summary>
public static class Approvals
{
    public static string RepoRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Simulation.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Simulation.sln) above " + AppContext.BaseDirectory);
    }

    public static string TracesDir => Path.Combine(RepoRoot, "traces");
    public static string SnapshotsDir => Path.Combine(TracesDir, "snapshots");
    public static bool Accepting => Environment.GetEnvironmentVariable("INOTIFY_SIM_ACCEPT") == "1";

    public static void Verify(string name, string actual)
    {
        Directory.CreateDirectory(SnapshotsDir);
        var approved = Path.Combine(SnapshotsDir, name + ".txt");
        var received = Path.Combine(SnapshotsDir, name + ".received.txt");
        if (Accepting)
        {
            File.WriteAllText(approved, actual);
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        if (!File.Exists(approved))
        {
            File.WriteAllText(received, actual);
            Assert.Fail($"no approved snapshot {approved}; the text is in {received} (review it, then rerun with INOTIFY_SIM_ACCEPT=1)");
        }
        var expected = File.ReadAllText(approved);
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual);
        Assert.Fail(DiffSummary(approved, received, expected, actual));
    }

    public static string DiffSummary(string approvedPath, string receivedPath, string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        int first = 0;
        while (first < e.Length && first < a.Length && e[first] == a[first]) first++;
        int differing = 0;
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
            if (i >= e.Length || i >= a.Length || e[i] != a[i]) differing++;
        var sb = new StringBuilder();
        sb.Append($"snapshot mismatch: {approvedPath}\n");
        sb.Append($"  approved {e.Length} lines, received {a.Length} lines, {differing} lines differ; first difference at line {first + 1}:\n");
        sb.Append($"  - {(first < e.Length ? e[first] : "(end of file)")}\n");
        sb.Append($"  + {(first < a.Length ? a[first] : "(end of file)")}\n");
        sb.Append($"  received text: {receivedPath} (diff it; rerun with INOTIFY_SIM_ACCEPT=1 to accept)");
        return sb.ToString();
    }
}
