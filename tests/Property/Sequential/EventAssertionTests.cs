using InotifySim.Model;
using InotifySim.Scenarios.Cli;
using InotifySim.Scenarios.Scripts;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>
/// Event assertions in scripts: an exact <c>events</c> block after a read, <c>events oneof</c>,
/// and the stream properties <c>assert $fd no-event-after-ignored|ignored-last $wd</c>; each
/// fires (spec-violation at FILE:LINE) when broken and is silent when it holds.
/// </summary>
public sealed class EventAssertionTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "inotify-sim-ev-" + Guid.NewGuid().ToString("N")[..8]);

    public EventAssertionTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Runs a single-thread script on the fixed variant; (exit code, stdout).</summary>
    private (int code, string output) Run(string text, string name = "t.isim", Fix fixes = Fix.All)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        var o = new StringWriter();
        var e = new StringWriter();
        int code = RunCommand.Run(path, fixes, o, e);
        return (code, o + e.ToString());
    }

    private const string Prelude = "setup\n  mkdir /d\n  mkdir /e\nthread w\n  fd = inotify_init nonblock\n  wd = add_watch $fd /d IN_ALL_EVENTS\n  we = add_watch $fd /e IN_ALL_EVENTS\n";

    [Fact]
    public void ExactSequence_WithCookiePairing_Holds()
    {
        var (code, output) = Run(Prelude + "  touch /d/f\n  rename /d/f /e/g\n  read $fd 4096\n  events\n" +
                                 "    $wd IN_CREATE f\n    $wd IN_OPEN f\n    $wd IN_CLOSE_WRITE f\n    $wd IN_MOVED_FROM f cookie=a\n    $we IN_MOVED_TO g cookie=a\n  end\n" +
                                 "  read $fd 4096\n  events none\n");
        Assert.True(code == 0, output);
        Assert.Contains("\"result\":\"clean\"", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("    $wd IN_CREATE f\n    $wd IN_OPEN f\n    $wd IN_CLOSE_NOWRITE f\n", "event 3: mask IN_CLOSE_WRITE, expected IN_CLOSE_NOWRITE")]
    [InlineData("    $we IN_CREATE f\n    $wd IN_OPEN f\n    $wd IN_CLOSE_WRITE f\n", "event 1: wd 1, expected $we = 2")]
    [InlineData("    $wd IN_CREATE g\n    $wd IN_OPEN f\n    $wd IN_CLOSE_WRITE f\n", "event 1: name f, expected g")]
    [InlineData("    $wd IN_CREATE f\n    $wd IN_OPEN f\n", "3 event(s) where 2 were expected")]
    public void ExactSequence_Mismatch_IsASpecViolationAtTheBlocksLine(string lines, string why)
    {
        var (code, output) = Run(Prelude + "  touch /d/f\n  read $fd 4096\n  events\n" + lines + "  end\n");
        Assert.True(code == 1, output);
        Assert.Contains("\"class\":\"spec-violation\"", output, StringComparison.Ordinal);
        Assert.Contains("events assertion failed at " + Path.Combine(_dir, "t.isim") + ":10", output, StringComparison.Ordinal);
        Assert.Contains(why, output, StringComparison.Ordinal);
        Assert.Contains("inotify_read", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cookie=a", "cookie=b", "expected a different one")] // one rename's pair given two labels
    [InlineData("cookie=a", "", "expected 0")] // a cookie where none was written
    public void CookiePairing_Mismatch_Fires(string from, string to, string why)
    {
        var (code, output) = Run(Prelude + "  touch /e/x\n  read $fd 4096\n  rename /e/x /e/y\n  read $fd 4096\n  events\n" +
                                 $"    $we IN_MOVED_FROM x {from}\n    $we IN_MOVED_TO y {to}\n  end\n");
        Assert.True(code == 1, output);
        Assert.Contains(why, output, StringComparison.Ordinal);
    }

    [Fact]
    public void OneOf_HoldsWhenAnAlternativeMatches_FiresWhenNone()
    {
        const string body = "  touch /d/f\n  read $fd 4096\n  events oneof\n    $wd IN_CREATE f\n  or\n";
        var ok = Run(Prelude + body + "    $wd IN_CREATE f\n    $wd IN_OPEN f\n    $wd IN_CLOSE_WRITE f\n  end\n");
        Assert.True(ok.code == 0, ok.output);
        var bad = Run(Prelude + body + "    $wd IN_CREATE f\n    $wd IN_OPEN f\n  end\n");
        Assert.True(bad.code == 1, bad.output);
        Assert.Contains("match none of the alternatives", bad.output, StringComparison.Ordinal);
    }

    [Fact]
    public void IgnoredLast_HoldsAfterRmWatch_FiresWithoutIt()
    {
        const string head = "setup\n  mkdir /d\nthread w\n  fd = inotify_init nonblock\n  wd = add_watch $fd /d IN_ALL_EVENTS\n  assert $fd ignored-last $wd\n  touch /d/f\n";
        var ok = Run(head + "  rm_watch $fd $wd\n  read $fd 4096\n");
        Assert.True(ok.code == 0, ok.output);
        var bad = Run(head + "  read $fd 4096\n");
        Assert.True(bad.code == 1, bad.output);
        Assert.Contains(":6: 'assert $fd ignored-last $wd': the last event read for $wd = 1 is 1 IN_CLOSE_WRITE f, not IN_IGNORED", bad.output, StringComparison.Ordinal);
    }

    [Fact]
    public void NoEventAfterIgnored_SilentOnCorrectRuns_FiresWhenTheStreamBreaksIt()
    {
        // correct: the watch goes, later events of other watches do not count
        var ok = Run("setup\n  mkdir /d\n  mkdir /e\nthread w\n  fd = inotify_init nonblock\n  wd = add_watch $fd /d IN_ALL_EVENTS\n" +
                     "  we = add_watch $fd /e IN_ALL_EVENTS\n  assert $fd no-event-after-ignored $wd\n  rm_watch $fd $wd\n  read $fd 4096\n  touch /e/f\n  touch /d/g\n  read $fd 4096\n");
        Assert.True(ok.code == 0, ok.output);
        // planted: the variable $fd is reused for a second instance, whose first watch gets the
        // same wd number, so "$fd"'s stream shows wd 1 again after its IN_IGNORED
        var bad = Run("setup\n  mkdir /d\nthread w\n  fd = inotify_init nonblock\n  wd = add_watch $fd /d IN_ALL_EVENTS\n" +
                      "  assert $fd no-event-after-ignored $wd\n  rm_watch $fd $wd\n  read $fd 4096\n  fd = inotify_init nonblock\n  wd = add_watch $fd /d IN_CREATE\n  touch /d/f\n  read $fd 4096\n");
        Assert.True(bad.code == 1, bad.output);
        Assert.Contains(":6: 'assert $fd no-event-after-ignored $wd': 1 IN_CREATE f was read after IN_IGNORED", bad.output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("thread t\n  fd = inotify_init\n  events\n  end\n", "t.isim:3: 'events' must follow a 'read' step")]
    [InlineData("thread t\n  fd = inotify_init\n  read $fd 64\n  events\n    1 IN_CREATE f\n", "t.isim:4: 'events' block without 'end'")]
    [InlineData("thread t\n  fd = inotify_init\n  read $fd 64\n  events\n    1 IN_BOGUS f\n  end\n", "t.isim:5: bad mask 'IN_BOGUS'")]
    [InlineData("thread t\n  fd = inotify_init\n  read $fd 64\n  events\n    1 IN_CREATE f\n  or\n  end\n", "t.isim:6: 'or' is allowed only in an 'events oneof' block")]
    [InlineData("thread t\n  fd = inotify_init\n  read $fd 64\n  events\n    $nope IN_CREATE f\n  end\n", "t.isim:5: variable '$nope' is used before it is assigned")]
    [InlineData("thread t\n  fd = inotify_init\n  assert $fd ignored-first $fd\n", "t.isim:3: unknown property 'ignored-first'")]
    [InlineData("thread t\n  fd = inotify_init\n  read $fd 64\n  events\n    1 IN_CREATE f cookie=\n  end\n", "t.isim:5: bad cookie 'cookie='")]
    public void BadBlocks_AreOneLineErrorsWithFileAndLine(string text, string message)
    {
        var e = Assert.Throws<ScriptException>(() => Script.Parse(text, "t.isim"));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Examples_RunClean()
    {
        var ex = Examples();
        var r = RunCommand.Run(Path.Combine(ex, "events-sequence.isim"), Fix.All, new StringWriter(), new StringWriter());
        Assert.Equal(0, r);
    }

    [Fact]
    public void UnderHunt_EveryInterleavingSatisfiesTheProperty_AndABrokenOneIsFound()
    {
        var example = Path.Combine(Examples(), "rm-vs-unlink-events.isim");
        var clean = Hunt(example);
        Assert.True(clean.code == 0, clean.output);
        // the same race with only the rm_watch-first sequence allowed: the hunt finds the unlink-first interleaving
        var text = File.ReadAllText(example).Replace("  or\n    $wd IN_DELETE_SELF                      # unlink first: the inode dies, the watch with it\n    $wd IN_IGNORED\n", "", StringComparison.Ordinal);
        Assert.DoesNotContain("IN_DELETE_SELF", text, StringComparison.Ordinal);
        var path = Path.Combine(_dir, "narrow.isim");
        File.WriteAllText(path, text);
        var found = Hunt(path);
        Assert.True(found.code == 1, found.output);
        Assert.Contains("spec-violation", found.output, StringComparison.Ordinal);
        int line = 1 + Array.FindIndex(text.Split('\n'), l => l.Trim() == "events oneof");
        Assert.Contains($"events assertion failed at {path}:{line}", found.output, StringComparison.Ordinal);
    }

    private static string Examples()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "examples");
            if (Directory.Exists(p) && File.Exists(Path.Combine(d.FullName, "Simulation.sln"))) return p;
        }
        throw new DirectoryNotFoundException("examples/");
    }

    private (int code, string output) Hunt(string script) => ConformanceTests.Hunt(script, _dir, 300);
}
