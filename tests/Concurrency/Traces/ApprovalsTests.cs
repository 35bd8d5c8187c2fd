using Xunit.Sdk;

namespace InotifySim.Tests.Concurrency.Traces;

/// <summary>The approvals helper: a mismatch fails with a readable unified diff; a match is silent.</summary>
public class ApprovalsTests
{
    private static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "inotify-sim-approvals-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    private static string Lines(params string[] xs) => string.Join("\n", xs) + "\n";

    [Fact]
    public void MismatchFailsWithAUnifiedDiff()
    {
        var dir = TempDir();
        try
        {
            var approved = Lines(Enumerable.Range(1, 14).Select(i => i.ToString()).ToArray());
            var received = approved.Replace("\n3\n", "\nthree\n") + "15\n";
            File.WriteAllText(Path.Combine(dir, "x.txt"), approved);
            var ex = Assert.Throws<FailException>(() =>
                Approvals.Verify("x", received, dir));
            var m = ex.Message.Replace("\r", "");
            Assert.Contains("--- " + Path.Combine(dir, "x.txt") + "\n+++ " + Path.Combine(dir, "x.received.txt") + "\n", m);
            // the changed line with three lines of context either side, as diff -u prints it
            Assert.Contains("@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n@@ -12,3 +12,4 @@\n 12\n 13\n 14\n+15\n", m);
            Assert.Equal(received, File.ReadAllText(Path.Combine(dir, "x.received.txt")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void MatchIsSilentAndRemovesAStaleReceivedFile()
    {
        var dir = TempDir();
        try
        {
            File.WriteAllText(Path.Combine(dir, "x.txt"), Lines("a", "b"));
            File.WriteAllText(Path.Combine(dir, "x.received.txt"), "old");
            Approvals.Verify("x", Lines("a", "b"), dir);
            Assert.False(File.Exists(Path.Combine(dir, "x.received.txt")));
            Assert.Equal("", Approvals.UnifiedDiff("same\n", "same\n"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
