using System.Text;
using DiffPlex;

namespace InotifySim.Tests.Concurrency.Traces;

/// <summary>
/// Approval files for text snapshots: traces/snapshots/&lt;name&gt;.txt holds the approved text.
/// On a mismatch the new text goes to &lt;name&gt;.received.txt and the test fails with a unified
/// diff of approved against received; INOTIFY_SIM_ACCEPT=1 writes the approved file instead.
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

    public static void Verify(string name, string actual, string? dir = null)
    {
        dir ??= SnapshotsDir;
        Directory.CreateDirectory(dir);
        var approved = Path.Combine(dir, name + ".txt");
        var received = Path.Combine(dir, name + ".received.txt");
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
        var sb = new StringBuilder();
        sb.Append($"snapshot mismatch: {approvedPath}\n");
        sb.Append(UnifiedDiff(expected, actual, approvedPath, receivedPath));
        sb.Append($"received text: {receivedPath} (rerun with INOTIFY_SIM_ACCEPT=1 to accept)");
        return sb.ToString();
    }

    /// <summary>
    /// A unified diff (diff -u, <paramref name="context"/> lines of context) of two texts, built on
    /// DiffPlex's line differ: "--- a", "+++ b", then "@@ -l,n +l,n @@" hunks.
    /// </summary>
    public static string UnifiedDiff(string expected, string actual, string nameA = "approved", string nameB = "received", int context = 3)
    {
        // a final newline ends the last line; it does not start an empty one
        static string Body(string t) => t.EndsWith('\n') ? t[..^1] : t;
        var d = new Differ().CreateLineDiffs(Body(expected), Body(actual), ignoreWhitespace: false, ignoreCase: false);
        var a = d.PiecesOld;
        var b = d.PiecesNew;
        var sb = new StringBuilder();
        if (d.DiffBlocks.Count == 0) return sb.ToString();
        sb.Append($"--- {nameA}\n+++ {nameB}\n");
        int i = 0;
        while (i < d.DiffBlocks.Count)
        {
            // a hunk: blocks whose gaps are at most 2 * context lines
            int j = i;
            while (j + 1 < d.DiffBlocks.Count &&
                   d.DiffBlocks[j + 1].DeleteStartA - (d.DiffBlocks[j].DeleteStartA + d.DiffBlocks[j].DeleteCountA) <= 2 * context) j++;
            var first = d.DiffBlocks[i];
            var last = d.DiffBlocks[j];
            int aStart = Math.Max(0, first.DeleteStartA - context);
            int bStart = Math.Max(0, first.InsertStartB - context);
            int aEnd = Math.Min(a.Count, last.DeleteStartA + last.DeleteCountA + context);
            int bEnd = Math.Min(b.Count, last.InsertStartB + last.InsertCountB + context);
            sb.Append($"@@ -{aStart + 1},{aEnd - aStart} +{bStart + 1},{bEnd - bStart} @@\n");
            int ai = aStart;
            for (int k = i; k <= j; k++)
            {
                var blk = d.DiffBlocks[k];
                for (; ai < blk.DeleteStartA; ai++) sb.Append(' ').Append(a[ai]).Append('\n');
                for (int x = 0; x < blk.DeleteCountA; x++) sb.Append('-').Append(a[blk.DeleteStartA + x]).Append('\n');
                for (int x = 0; x < blk.InsertCountB; x++) sb.Append('+').Append(b[blk.InsertStartB + x]).Append('\n');
                ai = blk.DeleteStartA + blk.DeleteCountA;
            }
            for (; ai < aEnd; ai++) sb.Append(' ').Append(a[ai]).Append('\n');
            i = j + 1;
        }
        return sb.ToString();
    }
}
