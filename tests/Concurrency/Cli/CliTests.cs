using System.Diagnostics;
using System.Text;
using System.Text.Json;
using InotifySim.Scenarios.Exploration;
using InotifySim.Scenarios.Traces;

namespace InotifySim.Tests.Concurrency.Cli;

/// <summary>
/// Drives the built tool as a user would: `dotnet inotify-sim.dll ...` in a child process
/// (the dll is copied next to this test assembly), checking exit codes and output.
/// One class, so the tests run one after another (each hunt uses a few worker threads).
/// </summary>
[Collection("cli")]
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "inotify-sim-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public CliTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private sealed record Result(int Code, string Out, string Err)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    private static string Tool => Path.Combine(AppContext.BaseDirectory, "inotify-sim.dll");

    private static string Example(string name)
    {
        // examples/ at the repository root, above tests/Concurrency/bin/...
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "examples", name);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("examples/" + name);
    }

    private Result Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _dir,
        };
        psi.ArgumentList.Add(Tool);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["COYOTE_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var err = new StringBuilder();
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (err) err.AppendLine(e.Data); };
        p.BeginErrorReadLine();
        var output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("inotify-sim " + string.Join(' ', args));
        }
        p.WaitForExit();
        lock (err) return new Result(p.ExitCode, output, err.ToString());
    }

    private string Write(string name, string text)
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    private static void Usage(Result r, string message)
    {
        Assert.True(r.Code == 2, r.ToString());
        Assert.Contains(message, r.Err);
        Assert.DoesNotContain("   at ", r.Err); // no stack trace
    }

    // ------------------------------------------------------------------ list, help, errors

    [Fact]
    public void List_prints_scenarios_variants_fixes_strategies()
    {
        var r = Run("list");
        Assert.True(r.Code == 0, r.ToString());
        foreach (var s in new[] { "scenarios:", "rm-vs-death", "workload", "variants:", "rfc", "fixed", "fixes:", "ev-mutex-unlock", "[requires: watch-destroy-op]", "source:", "strategies:", "pct", "probabilistic" })
            Assert.Contains(s, r.Out);
        var fixes = Run("list", "fixes");
        Assert.Equal(0, fixes.Code);
        Assert.DoesNotContain("rm-vs-death", fixes.Out);
        Usage(Run("list", "bogus"), "unknown section 'bogus'");
    }

    [Fact]
    public void Help_and_bad_commands()
    {
        var h = Run("help");
        Assert.Equal(0, h.Code);
        Assert.Contains("usage: inotify-sim", h.Out);
        Assert.Equal(2, Run().Code);
        Usage(Run("frob"), "unknown command 'frob'");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--frob"), "unknown option '--frob'");
        Usage(Run("hunt", "--scenario"), "--scenario needs a value");
        Usage(Run("hunt"), "--scenario S is required");
    }

    [Fact]
    public void Hunt_usage_errors_name_the_problem()
    {
        Usage(Run("hunt", "--scenario", "no-such"), "unknown scenario 'no-such'");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--with", "no-such-fix"), "unknown fix 'no-such-fix'");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--variant", "2006"), "unknown variant '2006'");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--without", "watch-destroy-op"), "requires 'watch-destroy-op'");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--strategy", "magic"), "unknown strategy 'magic'");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--iterations", "ten"), "bad number 'ten' for --iterations");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--iterations", "0"), "bad number '0' for --iterations");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--time", "-3"), "bad duration '-3'");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--strategy", "random", "--bound", "3"), "takes no --bound");
        Usage(Run("hunt", "--scenario", "workload:threads=x"), "bad workload");
        Usage(Run("hunt", "--scenario", "missing.isim"), "missing.isim: no such file");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--shard", "3/2", "--jobs", "1"), "bad --shard '3/2'");
        Usage(Run("hunt", "--scenario", "rm-vs-death", "--shard", "1/2"), "--shard needs an explicit --jobs");
    }

    [Fact]
    public void Replay_and_shrink_argument_errors()
    {
        Usage(Run("replay"), "missing argument");
        Usage(Run("shrink", "t.json"), "--out FILE is required");
        Usage(Run("merge"), "merge: missing argument");
        Usage(Run("merge", "nope.json", "--json", "out.json"), "nope.json: no such file");
    }

    // ------------------------------------------------------------------ hunt

    [Fact]
    public void Hunt_on_rfc_finds_a_bug_writes_traces_and_summary()
    {
        var traces = Path.Combine(_dir, "traces");
        var json = Path.Combine(_dir, "hunt.json");
        var r = Run("hunt", "--scenario", "rm-vs-death", "--variant", "rfc", "--iterations", "200", "--jobs", "2", "--seed", "3", "--traces", traces, "--json", json);
        Assert.True(r.Code == 1, r.ToString());
        Assert.Contains("BUG rm-vs-death [", r.Out);
        var files = Directory.GetFiles(traces, "*.json");
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.Matches(@"rm-vs-death-[a-z-]+-seed\d+\.json$", f));
        var t = TraceFile.Load(files[0]);
        Assert.Equal("rm-vs-death", t.Scenario);
        Assert.Equal("rfc", t.Variant);
        Assert.NotNull(t.Bug);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal("rfc", root.GetProperty("variant").GetString());
        Assert.Equal(Strategies.Default, root.GetProperty("strategy").GetString()); // the default strategy
        Assert.Equal(3u, root.GetProperty("seed").GetUInt32());
        Assert.Equal(2, root.GetProperty("jobs").GetInt32());
        Assert.True(root.GetProperty("iterations").GetInt64() >= 1);
        Assert.True(root.GetProperty("elapsed").GetDouble() >= 0);
        var bugs = root.GetProperty("bugs");
        Assert.True(bugs.GetArrayLength() >= 1);
        var b = bugs[0];
        Assert.Equal("rm-vs-death", b.GetProperty("scenario").GetString());
        Assert.False(string.IsNullOrEmpty(b.GetProperty("class").GetString()));
        Assert.True(b.GetProperty("functions").GetArrayLength() > 0);
        Assert.True(b.GetProperty("iteration").GetInt32() >= 1);
        Assert.True(File.Exists(b.GetProperty("trace").GetString()));
        // sorted by worker
        var workers = bugs.EnumerateArray().Select(x => x.GetProperty("worker").GetInt32()).ToList();
        Assert.Equal(workers.OrderBy(x => x), workers);
    }

    [Fact]
    public void Hunt_on_fixed_with_a_small_budget_is_clean_and_deterministic()
    {
        var j1 = Path.Combine(_dir, "a.json");
        var j2 = Path.Combine(_dir, "b.json");
        var r = Run("hunt", "--scenario", "rm-vs-death", "--variant", "fixed", "--iterations", "60", "--jobs", "2", "--seed", "9", "--json", j1);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("0 bug(s)", r.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(j1));
        Assert.Equal(60, doc.RootElement.GetProperty("iterations").GetInt64());
        Assert.Equal(0, doc.RootElement.GetProperty("bugs").GetArrayLength());
        var units = doc.RootElement.GetProperty("units");
        Assert.Equal(2, units.GetArrayLength());
        Assert.Equal(9u, units[0].GetProperty("seed").GetUInt32());
        Assert.NotEqual(units[0].GetProperty("seed").GetUInt32(), units[1].GetProperty("seed").GetUInt32());
        var r2 = Run("hunt", "--scenario", "rm-vs-death", "--variant", "fixed", "--iterations", "60", "--jobs", "2", "--seed", "9", "--json", j2);
        Assert.Equal(0, r2.Code);
        static string Strip(string path) => string.Join("\n", File.ReadAllLines(path).Where(l => !l.Contains("\"elapsed\"")));
        Assert.Equal(Strip(j1), Strip(j2));
    }

    [Fact]
    public void Hunt_with_a_time_budget_stops()
    {
        var sw = Stopwatch.StartNew();
        var r = Run("hunt", "--scenario", "add-vs-add", "--time", "2", "--jobs", "2");
        Assert.True(r.Code == 0, r.ToString());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), sw.Elapsed.ToString());
        Assert.Matches(@"hunt: [1-9]\d* iterations", r.Out);
    }

    [Fact]
    public void Shards_merge_into_one_summary()
    {
        var s1 = Path.Combine(_dir, "s1.json");
        var s2 = Path.Combine(_dir, "s2.json");
        var merged = Path.Combine(_dir, "merged.json");
        var common = new[] { "hunt", "--scenario", "add-vs-add", "--variant", "fixed", "--iterations", "40", "--jobs", "2", "--seed", "1" };
        var r1 = Run(common.Concat(new[] { "--shard", "1/2", "--json", s1 }).ToArray());
        var r2 = Run(common.Concat(new[] { "--shard", "2/2", "--json", s2 }).ToArray());
        Assert.True(r1.Code == 0, r1.ToString());
        Assert.True(r2.Code == 0, r2.ToString());
        var m = Run("merge", s2, s1, "--json", merged);
        Assert.True(m.Code == 0, m.ToString());
        using (var doc = JsonDocument.Parse(File.ReadAllText(merged)))
        {
            var root = doc.RootElement;
            Assert.True(root.GetProperty("complete").GetBoolean());
            Assert.Equal(40, root.GetProperty("iterations").GetInt64());
            var units = root.GetProperty("units");
            Assert.Equal(2, units.GetArrayLength());
            Assert.Equal(0, units[0].GetProperty("worker").GetInt32());
            Assert.Equal(1, units[1].GetProperty("worker").GetInt32());
        }
        // one shard only: a warning, and an incomplete summary
        var partial = Run("merge", s1, "--json", merged);
        Assert.Equal(0, partial.Code);
        Assert.Contains("missing", partial.Err);
        using (var doc = JsonDocument.Parse(File.ReadAllText(merged)))
            Assert.False(doc.RootElement.GetProperty("complete").GetBoolean());
        // the same shard twice, and shards of different hunts, are errors
        Usage(Run("merge", s1, s1, "--json", merged), "appears twice");
        var other = Path.Combine(_dir, "other.json");
        Assert.Equal(0, Run("hunt", "--scenario", "add-vs-add", "--variant", "fixed", "--iterations", "10", "--jobs", "2", "--seed", "2", "--shard", "2/2", "--json", other).Code);
        Usage(Run("merge", s1, other, "--json", merged), "seed");
    }

    // ------------------------------------------------------------------ scripts

    [Fact]
    public void Run_script_prints_json_lines_for_calls_and_events()
    {
        var r = Run("run", Example("basic-events.isim"));
        Assert.True(r.Code == 0, r.ToString());
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var calls = lines.Where(l => l.GetProperty("type").GetString() == "call").ToList();
        var events = lines.Where(l => l.GetProperty("type").GetString() == "event").ToList();
        var add = calls.First(c => c.GetProperty("op").GetString() == "add_watch");
        Assert.Equal(1, add.GetProperty("ret").GetInt32());
        Assert.Contains(calls, c => c.GetProperty("ret").ValueKind == JsonValueKind.String && c.GetProperty("ret").GetString() == "-ENOENT");
        Assert.Contains(events, e => e.GetProperty("mask").GetString() == "IN_CREATE" && e.GetProperty("name").GetString() == "f");
        var from = events.First(e => e.GetProperty("mask").GetString() == "IN_MOVED_FROM");
        var to = events.First(e => e.GetProperty("mask").GetString() == "IN_MOVED_TO");
        Assert.Equal(from.GetProperty("cookie").GetUInt32(), to.GetProperty("cookie").GetUInt32());
        Assert.Contains(events, e => e.GetProperty("mask").GetString() == "IN_IGNORED" && e.GetProperty("wd").GetInt32() == 1);
        var verdict = lines[^1];
        Assert.Equal("verdict", verdict.GetProperty("type").GetString());
        Assert.Equal("clean", verdict.GetProperty("result").GetString());
    }

    [Fact]
    public void Run_script_reports_a_detector_and_exits_1()
    {
        var leak = Run("run", Example("close-leak.isim"), "--variant", "rfc");
        Assert.True(leak.Code == 1, leak.ToString());
        Assert.Contains("\"result\":\"bug\"", leak.Out);
        Assert.Contains("inotify_watches is 1", leak.Out);
        Assert.Equal(0, Run("run", Example("close-leak.isim")).Code);
        Assert.Equal(1, Run("run", Example("close-leak.isim"), "--variant", "fixed", "--without", "destroy-leak").Code);

        // a failed expect is a report too
        var p = Write("expect.isim", "setup\n  mkdir /d\nthread t\n  fd = inotify_init\n  rm_watch $fd 7 expect 0\n");
        var e = Run("run", p);
        Assert.True(e.Code == 1, e.ToString());
        Assert.Contains("expectation failed", e.Out);
        Assert.Contains("expect.isim:5", e.Out);
    }

    [Fact]
    public void Bad_scripts_are_usage_errors_with_line_numbers()
    {
        Usage(Run("run", Write("bad.isim", "setup\n  mkdir /d\n\nthread a\n  fd = inotify_init\n  frob $fd\n")), "bad.isim:6: unknown operation 'frob'");
        Usage(Run("run", Write("var.isim", "thread a\n  rm_watch $fd 1\n")), "var.isim:2: variable '$fd' is used before it is assigned");
        Usage(Run("run", Write("mask.isim", "thread a\n  fd = inotify_init\n  add_watch $fd /d IN_BOGUS\n")), "mask.isim:3: bad mask 'IN_BOGUS'");
        Usage(Run("run", Write("num.isim", "thread a\n  read 3 lots\n")), "num.isim:2: bad number 'lots'");
        Usage(Run("run", Write("args.isim", "thread a\n  rename /a\n")), "args.isim:2: 'rename' takes 2 argument(s)");
        Usage(Run("run", Write("setupfail.isim", "setup\n  mkdir /d\n  mkdir /d\n")), "setupfail.isim:3: setup step 'mkdir /d' failed with -EEXIST");
        Usage(Run("hunt", "--scenario", Write("sysctl.isim", "setup\n  sysctl max_frobs 3\nthread a\n  mkdir /x\n")), "sysctl.isim:2: unknown sysctl 'max_frobs'");
        Usage(Run("run", Path.Combine(_dir, "absent.isim")), "absent.isim: no such file");
        Usage(Run("run", Example("rm-vs-unlink.isim")), "has 2 threads");
    }

    [Fact]
    public void Hunt_explores_a_multi_thread_script()
    {
        var traces = Path.Combine(_dir, "st");
        var rfc = Run("hunt", "--scenario", Example("rm-vs-unlink.isim"), "--variant", "rfc", "--iterations", "100", "--jobs", "1", "--traces", traces);
        Assert.True(rfc.Code == 1, rfc.ToString());
        var t = TraceFile.Load(Directory.GetFiles(traces, "rm-vs-unlink-*.json").Single());
        Assert.Equal("script", t.Scenario);
        Assert.Contains("thread unlinker", t.Script);
        var fixedRun = Run("hunt", "--scenario", Example("rm-vs-unlink.isim"), "--variant", "fixed", "--iterations", "100", "--jobs", "2");
        Assert.True(fixedRun.Code == 0, fixedRun.ToString());
    }
}
