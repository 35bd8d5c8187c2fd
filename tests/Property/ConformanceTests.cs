using InotifySim.Model;
using InotifySim.Scenarios.Cli;

namespace InotifySim.Tests.Property;

/// <summary>
/// The conformance suite: every script under tests/Conformance (ports of LTP's inotify01..12 and
/// of gVisor's test/syscalls/linux/inotify.cc, each citing its source) runs on the fixed variant
/// and must end clean: its expectations and event assertions hold and the teardown finds nothing.
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
        var o = new StringWriter();
        var e = new StringWriter();
        int code = RunCommand.Run(path, Fix.All, o, e);
        Assert.True(code == 0, $"{script}: exit {code}\n{o}\n{e}");
    }

    [Fact]
    public void TheSuiteHasBothSources()
    {
        var cases = Files();
        Assert.True(cases.Count(c => c.StartsWith("ltp", StringComparison.Ordinal)) >= 8, string.Join(", ", cases));
        Assert.True(cases.Count(c => c.StartsWith("gvisor", StringComparison.Ordinal)) >= 20, string.Join(", ", cases));
    }
}
