using InotifySim.Model;
using System.Diagnostics;
using InotifySim.Scenarios.Cli;
using InotifySim.Scenarios.Scripts;

namespace InotifySim.Tests.Property;

/// <summary>
/// The conformance suite: every script under tests/Conformance (ports of LTP's inotify01..12 and
/// of gVisor's test/syscalls/linux/inotify.cc, each citing its source) runs on the fixed variant
/// and must end clean: its expectations and event assertions hold and the teardown finds nothing.
/// A script with several threads is a race and runs under hunt (300 schedules) in a child process.
/// docs/conformance.md lists the cases, the era differences and what cannot be expressed.
/// </summary>
public class ConformanceTests
{
    private static string Root()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Simulation.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("repository root (Simulation.sln)");
    }

    private static List<string> Files()
    {
        var dir = Path.Combine(Root(), "tests", "Conformance");
        return Directory.GetFiles(dir, "*.isim", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f)).OrderBy(f => f, StringComparer.Ordinal).ToList();
    }

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var f in Files()) data.Add(f);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case(string script)
    {
        var path = Path.Combine(Root(), "tests", "Conformance", script);
        var text = File.ReadAllText(path);
        Assert.Contains("# ", text.Split('\n')[0], StringComparison.Ordinal); // the first line cites the source test
        if (ScriptScenario.Load(path).Script.Threads.Count > 1)
        {
            // a race: every interleaving hunt explores must satisfy the script
            var (hc, output) = Hunt(path, Path.GetTempPath(), 300);
            Assert.True(hc == 0, $"{script}: hunt exit {hc}\n{output}");
            return;
        }
        var o = new StringWriter();
        var e = new StringWriter();
        int code = RunCommand.Run(path, Fix.All, o, e);
        Assert.True(code == 0, $"{script}: exit {code}\n{o}\n{e}");
    }

    /// <summary>Runs the (Coyote-rewritten) tool's hunt of a script in a child process, one worker, on fixed.</summary>
    internal static (int code, string output) Hunt(string script, string workdir, int iterations)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workdir };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "inotify-sim.dll"), "hunt", "--scenario", script, "--variant", "fixed",
                     "--iterations", iterations.ToString(System.Globalization.CultureInfo.InvariantCulture), "--jobs", "1" })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["COYOTE_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(180_000)) { p.Kill(entireProcessTree: true); throw new TimeoutException("hunt " + script); }
        return (p.ExitCode, output + err.Result);
    }

    [Fact]
    public void TheSuiteHasBothSources()
    {
        var cases = Files();
        Assert.True(cases.Count(c => c.StartsWith("ltp", StringComparison.Ordinal)) >= 8, string.Join(", ", cases));
        Assert.True(cases.Count(c => c.StartsWith("gvisor", StringComparison.Ordinal)) >= 20, string.Join(", ", cases));
    }
}
