using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;
using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Cli;

namespace InotifySim.Tests.Concurrency.Cli;

/// <summary>
/// The command line's contract, driven in-process through <see cref="CliMain.Run"/> (fast; the
/// process-level tests are in <see cref="CliTests"/>): options declared once, CI outputs
/// (JUnit, GitHub annotations, the per-scenario table, fix-set labels, shards from the
/// environment), and bad input of every kind as one `inotify-sim:` line with exit 2.
/// In the same collection as CliTests: hunts here redirect Console.Out.
/// </summary>
[Collection("cli")]
public sealed class CliContractTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "inotify-sim-cli2-" + Guid.NewGuid().ToString("N")[..8]);

    public CliContractTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    internal sealed record Result(int Code, string Out, string Err)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    internal static Result Cli(Dictionary<string, string>? env, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliMain.Run(args, o, e, name => env != null && env.TryGetValue(name, out var v) ? v : null);
        return new Result(code, o.ToString(), e.ToString());
    }

    private static Result Cli(params string[] args) => Cli(null, args);

    /// <summary>Exit 2, exactly one stderr line starting "inotify-sim:" and containing <paramref name="message"/>.</summary>
    internal static void OneLineError(Result r, string message)
    {
        Assert.True(r.Code == 2, r.ToString());
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.ToString());
        Assert.StartsWith("inotify-sim: ", lines[0]);
        Assert.Contains(message, lines[0]);
        Assert.DoesNotContain("   at ", r.Err);
    }

    private string P(string name) => Path.Combine(_dir, name);

    private string Write(string name, string text)
    {
        File.WriteAllText(P(name), text);
        return P(name);
    }

    internal static string RepoFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, relative);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException(relative);
    }

    // ------------------------------------------------------------------ options declared once

    [Fact]
    public void A_single_valued_option_given_twice_is_an_error()
    {
        OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--seed", "1", "--seed", "2"), "--seed is given twice");
        OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--scenario", "rm-vs-rm"), "--scenario is given twice");
        OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--fault-injection", "--fault-injection"), "--fault-injection is given twice");
        OneLineError(Cli("merge", "a.json", "--json", "x.json", "--json=y.json"), "--json is given twice");
        // a list option accumulates
        var plan = HuntPlan.FromArgs(ParsedArgs.Parse(CliMain.FindCommand("hunt")!, new[] { "--scenario", "rm-vs-death", "--variant", "rfc", "--with", "coalesce-empty", "--with", "ev-mutex-unlock" }),
            new CliContext { Out = TextWriter.Null, Err = TextWriter.Null });
        Assert.Equal(Fix.CoalesceEmpty | Fix.EvMutexUnlock, plan.Fixes);
    }

    [Fact]
    public void Help_and_the_readme_tables_come_from_the_declarations()
    {
        var hunt = CliMain.FindCommand("hunt")!;
        var help = Cli("help", "hunt");
        Assert.Equal(0, help.Code);
        foreach (var o in hunt.Options) Assert.Contains(o.Usage, help.Out);
        Assert.Equal(help.Out, Cli("hunt", "--help").Out);
        // every command in the summary, every option of every command in its help
        var usage = Cli("help").Out;
        foreach (var c in CliMain.Commands)
        {
            Assert.Contains(c.Name, usage);
            var h = Cli("help", c.Name);
            Assert.True(h.Code == 0, h.ToString());
            foreach (var o in c.Options) Assert.Contains(o.Usage, h.Out);
        }
        // the README shows exactly the declared hunt and merge tables and the exit codes of every command
        var readme = File.ReadAllText(RepoFile("README.md")).Replace("\r\n", "\n");
        Assert.Contains(CommandLineHelp.MarkdownOptions(hunt), readme);
        Assert.Contains(CommandLineHelp.MarkdownOptions(CliMain.FindCommand("merge")!), readme);
        Assert.Contains(CommandLineHelp.MarkdownExitCodes(CliMain.Commands), readme);
        Assert.Equal(CommandLineHelp.MarkdownOptions(hunt), Cli("help", "hunt", "--markdown").Out);
    }

    [Fact]
    public void A_new_command_composes_the_shared_option_groups()
    {
        // how `verify` will be declared: the shared groups plus its own options
        var verify = new CommandSpec("verify", "inotify-sim verify --scenario S ...", "exhaustive check",
            CliOptions.Of(CliOptions.Scenario, CliOptions.FixSet, CliOptions.Distribution, CliOptions.Json, CliOptions.Traces, CliOptions.JUnit,
                new OptionSpec("preemptions", "K", "preemption bound"), new OptionSpec("coverage", "FILE", "coverage report")),
            (_, _) => 0, new[] { (0, "clean") });
        var a = ParsedArgs.Parse(verify, new[] { "--scenario", "rm-vs-death", "--without", "destroy-recheck", "--preemptions", "2", "--jobs", "2", "--shard", "1/2" });
        Assert.Equal(2, a.GetLong("preemptions", 0, 10));
        Assert.Equal(Variants.AllBut(Fix.DestroyRecheck), CliMain.ParseFixes(a, "verify"));
        var e = Assert.Throws<UsageException>(() => ParsedArgs.Parse(verify, new[] { "--scenario", "x", "--strategy", "pct" }));
        Assert.Contains("unknown option '--strategy'", e.Message);
        Assert.Throws<InvalidOperationException>(() => CliOptions.Of(CliOptions.Json, CliOptions.Outputs));
    }

    // ------------------------------------------------------------------ CI outputs

    [Fact]
    public void Fix_set_labels_are_the_shortest_description()
    {
        Assert.Equal("fixed", FixLabel.Of(Fix.All));
        Assert.Equal("rfc", FixLabel.Of(Fix.None));
        Assert.Equal("fixed-destroy-recheck", FixLabel.Of(Variants.AllBut(Fix.DestroyRecheck)));
        Assert.Equal("rfc+ev-mutex-unlock", FixLabel.Of(Fix.EvMutexUnlock));
        Assert.Equal("rfc+ev-mutex-unlock,coalesce-empty", FixLabel.Of(Fix.EvMutexUnlock | Fix.CoalesceEmpty));
        Assert.Equal("fixed-ev-mutex-unlock,destroy-recheck", FixLabel.Of(Fix.All & ~(Fix.EvMutexUnlock | Fix.DestroyRecheck)));
        Assert.Equal("--variant fixed --without destroy-recheck", FixLabel.Options(Variants.AllBut(Fix.DestroyRecheck)));
        // every label reads back as the same set
        foreach (var f in Variants.Fixes)
        {
            var set = Variants.AllBut(f.Fix);
            var opts = FixLabel.Options(set).Split(' ');
            var a = ParsedArgs.Parse(CliMain.FindCommand("run")!, opts.Append("x.isim").ToList());
            Assert.Equal(set, CliMain.ParseFixes(a, "run"));
        }
    }

    [Fact]
    public void Hunt_writes_junit_annotations_table_and_label_and_records_max_steps()
    {
        var traces = P("traces");
        var junit = P("hunt.xml");
        var json = P("hunt.json");
        var r = Cli(new Dictionary<string, string> { ["GITHUB_ACTIONS"] = "true" }, "hunt", "--scenario", "rm-vs-death", "--variant", "rfc", "--iterations", "200", "--jobs", "2", "--seed", "3",
            "--max-steps", "4000", "--traces", traces, "--junit", junit, "--json", json);
        Assert.True(r.Code == 1, r.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal(4000u, root.GetProperty("maxSteps").GetUInt32());
        Assert.Equal("rfc", root.GetProperty("variant").GetString());
        var bugs = root.GetProperty("bugs").EnumerateArray().ToList();
        Assert.NotEmpty(bugs);

        // JUnit: one test case for the scenario, a failure per bug with class, functions, trace and replay command
        var x = XDocument.Load(junit);
        var cases = x.Descendants("testcase").ToList();
        var tc = Assert.Single(cases);
        Assert.Equal("rm-vs-death", tc.Attribute("name")!.Value);
        var failures = tc.Elements("failure").ToList();
        Assert.Equal(bugs.Count, failures.Count);
        for (int i = 0; i < bugs.Count; i++)
        {
            Assert.Equal(bugs[i].GetProperty("class").GetString(), failures[i].Attribute("type")!.Value);
            var trace = bugs[i].GetProperty("trace").GetString()!;
            Assert.Contains("trace: " + trace, failures[i].Value);
            Assert.Contains("replay: inotify-sim replay " + trace, failures[i].Value);
            Assert.Contains("functions: " + bugs[i].GetProperty("functions")[0].GetString(), failures[i].Value);
        }
        Assert.Equal("1", x.Root!.Attribute("failures")!.Value);

        // one GitHub error annotation per bug
        var annotations = r.Out.Split('\n').Where(l => l.StartsWith("::error ", StringComparison.Ordinal)).ToList();
        Assert.Equal(bugs.Count, annotations.Count);
        Assert.All(annotations, a => Assert.Contains("title=inotify-sim%3A rm-vs-death [", a));

        // the per-scenario table and the label
        Assert.Matches(@"(?m)^scenario\s+schedules\s+bugs\s+seconds$", r.Out);
        Assert.Matches($@"(?m)^rm-vs-death\s+\d+\s+{bugs.Count}\s+\d+\.\d$", r.Out);
        Assert.Contains("fix set rfc", r.Out);

        // without GITHUB_ACTIONS, no annotation
        var quiet = Cli("hunt", "--scenario", "rm-vs-death", "--variant", "rfc", "--iterations", "20", "--jobs", "1");
        Assert.Equal(1, quiet.Code);
        Assert.DoesNotContain("::error", quiet.Out);
    }

    [Fact]
    public void Hunt_table_has_a_row_per_scenario_and_the_label_of_a_fix_set()
    {
        var json = P("all.json");
        var r = Cli("hunt", "--scenario", "all", "--variant", "fixed", "--without", "gfp-nofs", "--iterations", "1", "--jobs", "1", "--json", json);
        Assert.True(r.Code is 0 or 1, r.ToString());
        foreach (var s in ScenarioCatalog.All) Assert.Matches($@"(?m)^{System.Text.RegularExpressions.Regex.Escape(s.Name)}\s+1\s+[01]\s+\d+\.\d$", r.Out);
        Assert.Contains("fix set fixed-gfp-nofs", r.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal("fixed-gfp-nofs", doc.RootElement.GetProperty("variant").GetString());
    }

    [Fact]
    public void Shard_from_a_batch_engine_environment()
    {
        var json = P("k8s.json");
        var env = new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "1" };
        var r = Cli(env, "hunt", "--scenario", "add-vs-add", "--iterations", "4", "--jobs", "2", "--shard", "env:JOB_COMPLETION_INDEX/2", "--json", json);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("shard 2/2", r.Out);
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
        {
            Assert.Equal("2/2", doc.RootElement.GetProperty("shards")[0].GetString());
            Assert.Equal(1, Assert.Single(doc.RootElement.GetProperty("units").EnumerateArray()).GetProperty("worker").GetInt32());
        }
        OneLineError(Cli("hunt", "--scenario", "add-vs-add", "--jobs", "2", "--shard", "env:JOB_COMPLETION_INDEX/2"), "JOB_COMPLETION_INDEX is not set");
        OneLineError(Cli(new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "2" }, "hunt", "--scenario", "add-vs-add", "--jobs", "2", "--shard", "env:JOB_COMPLETION_INDEX/2"), "not a 0-based index below 2");
        OneLineError(Cli(new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "+1" }, "hunt", "--scenario", "add-vs-add", "--jobs", "2", "--shard", "env:JOB_COMPLETION_INDEX/2"), "not a 0-based index");
        OneLineError(Cli("hunt", "--scenario", "add-vs-add", "--jobs", "2", "--shard", "env:/2"), "bad --shard 'env:/2'");
        // the example manifest in docs/ uses this form
        Assert.Contains("--shard env:JOB_COMPLETION_INDEX/", File.ReadAllText(RepoFile("docs/ci.md")));
    }

    [Fact]
    public void Merge_refuses_shards_of_different_hunts()
    {
        string Shard(string name, string scenario, int i, params string[] extra)
        {
            var path = P(name);
            var r = Cli(new[] { "hunt", "--scenario", scenario, "--iterations", "2", "--jobs", "2", "--shard", $"{i}/2", "--json", path }.Concat(extra).ToArray());
            Assert.True(r.Code == 0, r.ToString());
            return path;
        }
        var a1 = Shard("a1.json", "add-vs-add", 1);
        var a2 = Shard("a2.json", "add-vs-add", 2);
        Assert.Equal(0, Cli("merge", a1, a2, "--json", P("m.json")).Code);
        // different --max-steps
        var steps = Shard("steps.json", "add-vs-add", 2, "--max-steps", "300");
        OneLineError(Cli("merge", a1, steps, "--json", P("m.json")), "max steps");
        // two different scripts with one file name
        Directory.CreateDirectory(P("x"));
        Directory.CreateDirectory(P("y"));
        var script = "setup\n  mkdir /d\nthread a\n  fd = inotify_init\n  add_watch $fd /d IN_CREATE\nthread b\n  touch /d/f\n";
        File.WriteAllText(P("x/race.isim"), script);
        File.WriteAllText(P("y/race.isim"), script.Replace("touch /d/f", "mkdir /d/e"));
        var s1 = Shard("s1.json", P("x/race.isim"), 1);
        var s2 = Shard("s2.json", P("y/race.isim"), 2);
        OneLineError(Cli("merge", s1, s2, "--json", P("m.json")), "scenario 'race' is a script");
        // a script named like a catalogue scenario
        File.WriteAllText(P("x/add-vs-add.isim"), script);
        var fake = Shard("fake.json", P("x/add-vs-add.isim"), 2);
        OneLineError(Cli("merge", a1, fake, "--json", P("m.json")), "the catalogue scenario");
        // a shard labelled twice
        OneLineError(Cli("merge", a2, a2, "--json", P("m.json")), "appears twice");
        using var doc = JsonDocument.Parse(File.ReadAllText(s1));
        Assert.StartsWith("sha256:", doc.RootElement.GetProperty("scripts").GetProperty("race").GetString());
    }

    // ------------------------------------------------------------------ bad input

    [Theory]
    [InlineData("fixes")]
    [InlineData("scenarios")]
    [InlineData("shards")]
    [InlineData("bugs")]
    [InlineData("units")]
    [InlineData("scripts")]
    [InlineData("variant")]
    public void Summaries_with_null_fields_are_input_errors(string field)
    {
        var good = P("good.json");
        Assert.Equal(0, Cli("hunt", "--scenario", "add-vs-add", "--iterations", "1", "--jobs", "1", "--json", good).Code);
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(good))!;
        node[field] = null;
        var bad = Write("bad.json", node.ToJsonString());
        OneLineError(Cli("merge", bad, "--json", P("out.json")), $"{bad}: not a valid hunt summary: \"{field}\" is null");
        // numbers JSON can carry but a summary cannot (1e400 reads as infinity)
        var inf = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(good))!.ToJsonString().Replace("\"elapsed\":", "\"elapsed\":1e400,\"x\":");
        OneLineError(Cli("merge", Write("inf.json", inf), "--json", P("out.json")), "not finite");
        // nulls inside lists, too
        var inner = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(good))!;
        inner["units"]!.AsArray().Add(null);
        OneLineError(Cli("merge", Write("inner.json", inner.ToJsonString()), "--json", P("out.json")), "units[1] is null");
    }

    [Fact]
    public void Input_files_are_capped_and_must_be_regular_files()
    {
        OneLineError(Cli("run", "/dev/zero"), "/dev/zero: not a regular file (a character device)");
        OneLineError(Cli("merge", "/dev/zero", "--json", P("o.json")), "/dev/zero: not a regular file");
        OneLineError(Cli("hunt", "--scenario", "/dev/zero"), "/dev/zero: not a regular file");
        OneLineError(Cli("replay", "/dev/zero"), "/dev/zero: not a regular file");
        OneLineError(Cli("shrink", "/dev/zero", "--out", P("s.json")), "/dev/zero: not a regular file");
        OneLineError(Cli("replay", _dir), "is a directory");
        OneLineError(Cli("run", _dir), "is a directory");
        OneLineError(Cli("merge", _dir, "--json", P("o.json")), "is a directory");
        var huge = P("huge.isim");
        using (var f = File.Create(huge)) f.SetLength(InputFiles.MaxScriptBytes + 1);
        OneLineError(Cli("run", huge), "too large for a script");
        var fifo = P("fifo.isim");
        using (var p = Process.Start(new ProcessStartInfo("mkfifo", fifo) { UseShellExecute = false })!) p.WaitForExit();
        if (File.Exists(fifo)) OneLineError(Cli("run", fifo), "not a regular file (a FIFO)");
        OneLineError(Cli("run", P("absent.isim")), "absent.isim: no such file");
    }

    [Fact]
    public void Durations_parse_units_and_refuse_the_rest()
    {
        Assert.Equal(0.005, ParsedArgs.ParseDuration("5ms"));
        Assert.Equal(300, ParsedArgs.ParseDuration("5m"));
        Assert.Equal(2.5, ParsedArgs.ParseDuration("2.5s"));
        Assert.Equal(7200, ParsedArgs.ParseDuration("2h"));
        Assert.Equal(90, ParsedArgs.ParseDuration("90"));
        foreach (var bad in new[] { "NaN", "inf", "Infinity", "-1", "0", "0ms", "1e3", "5 m", "5min", "+5", "5d", ".5", "5.", "31000000" })
            OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--time", bad), $"bad duration '{bad}'");
        // 5ms is 5 milliseconds: the hunt stops at once
        var sw = Stopwatch.StartNew();
        var r = Cli("hunt", "--scenario", "add-vs-add", "--time", "5ms", "--jobs", "1");
        Assert.True(r.Code == 0, r.ToString());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), sw.Elapsed.ToString());
    }

    [Fact]
    public void Numbers_and_values_must_be_canonical_and_in_range()
    {
        OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--strategy", "pct", "--bound", "1000000"), "bad number '1000000' for --bound (expected an integer from 1 to 100)");
        Assert.Equal(0, Cli("hunt", "--scenario", "add-vs-add", "--strategy", "probabilistic", "--bound", "100", "--iterations", "1", "--jobs", "1").Code);
        foreach (var s in new[] { "+1/2", "01/2", "1/02", " 1/2", "1/2 ", "1/-2", "0/2", "1/2/3", "1", "a/b" })
            OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--jobs", "2", "--shard", s), "bad --shard");
        foreach (var n in new[] { "+3", "03", "3.0", "0x3", " 3" })
            OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--seed", n), $"bad number");
        OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--variant", "rfc", "--with", "coalesce-empty", "--without", "coalesce-empty"),
            "fix 'coalesce-empty' is given in both --with and --without");
        OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--strategy", "dfs", "--jobs", "2"), "unknown strategy 'dfs'"); // bounded-exhaustive exploration is `verify`
        OneLineError(Cli("hunt", "--scenario", "workload:threads=9"), "threads must be from 1 to 8");
        OneLineError(Cli("hunt", "--scenario", "workload:threads=2,ops=65"), "ops must be from 1 to 64");
        OneLineError(Cli("hunt", "--scenario", "workload:threads=2,threads=3"), "threads given twice");
        OneLineError(Cli("hunt", "--scenario", "workload:threads=+2"), "bad workload");
        OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--json", ""), "--json needs a value");
        OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--json="), "--json needs a value");
        OneLineError(Cli("merge", "x.json", "--json", ""), "--json needs a value");
        OneLineError(Cli(), "no command given");
    }

    [Fact]
    public void A_file_named_like_a_catalogue_scenario_does_not_replace_it()
    {
        // the working directory is the test's bin directory; the file exists only for this test
        var stray = Path.Combine(Directory.GetCurrentDirectory(), "add-vs-add");
        File.WriteAllText(stray, "{ not a script }");
        try
        {
            var r = Cli("hunt", "--scenario", "add-vs-add", "--iterations", "1", "--jobs", "1");
            Assert.True(r.Code == 0, r.ToString());
            OneLineError(Cli("hunt", "--scenario", "./add-vs-add"), "add-vs-add:1:");
        }
        finally
        {
            File.Delete(stray);
        }
    }

    [Fact]
    public void Destinations_are_checked_before_exploring()
    {
        var file = Write("file.txt", "x");
        foreach (var args in new[]
        {
            new[] { "--json", _dir }, new[] { "--junit", _dir }, new[] { "--traces", file },
            new[] { "--json", P("no/such/dir/h.json") }, new[] { "--traces", P("no/such/dir") }, new[] { "--json", Path.Combine(file, "h.json") },
        })
        {
            var r = Cli(new[] { "hunt", "--scenario", "rm-vs-death", "--variant", "rfc", "--iterations", "100000", "--jobs", "1" }.Concat(args).ToArray());
            OneLineError(r, args[0]);
            Assert.Equal("", r.Out); // nothing explored
        }
        OneLineError(Cli("shrink", RepoFile("traces/rm-wd-recheck.json"), "--out", _dir), "--out");
        OneLineError(Cli("replay", RepoFile("traces/rm-wd-recheck.json"), "--html", _dir), "--html");
        OneLineError(Cli("merge", "x.json", "--json", _dir), "--json");
        OneLineError(Cli("hunt", "--scenario", "rm-vs-death", "--json", "a\0b"), "--json a\\0b: not a valid file name");
        OneLineError(Cli("run", "a\0b.isim"), "not a valid file name");
    }

    [Fact]
    public void A_found_bug_is_never_lost_when_an_output_cannot_be_written()
    {
        // a plan whose outputs fail at the end (a directory where the files should go): the
        // BUG lines come first, each failure is one stderr line, and the exit code stays 1
        var plan = new HuntPlan
        {
            Scenarios = new[] { ScenarioCatalog.Find("rm-vs-death")! },
            Fixes = Fix.None,
            Iterations = 50,
            Jobs = 1,
            JsonOut = _dir,
            JUnitOut = _dir,
            TracesDir = Write("not-a-dir", "x"),
        };
        var o = new StringWriter();
        var e = new StringWriter();
        int code = HuntCommand.Run(plan, new CliContext { Out = o, Err = e });
        Assert.True(code == 1, $"{code}\n{o}\n{e}");
        Assert.Contains("BUG rm-vs-death [", o.ToString());
        Assert.Contains("trace NOT written", o.ToString());
        var err = e.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, err.Length);
        Assert.All(err, l => Assert.StartsWith("inotify-sim: hunt: ", l));
        Assert.Contains(err, l => l.Contains("cannot write trace"));
        Assert.Contains(err, l => l.Contains("summary not written"));
        Assert.Contains(err, l => l.Contains("JUnit report not written"));
    }

    [Fact]
    public void Error_lines_are_sanitized()
    {
        var evil = "x\u001b[31mred\0\r\nnext\u202e" + new string('a', 100_000);
        var r = Cli("hunt", "--scenario", evil);
        OneLineError(r, "unknown scenario 'x\\x1b[31mred\\0\\r\\nnext\\u202e");
        Assert.DoesNotContain('\u001b', r.Err);
        Assert.DoesNotContain('\0', r.Err);
        Assert.Contains("…", r.Err);
        Assert.True(r.Err.Length < 3000, r.Err.Length.ToString());
        // from an input file, too
        var script = Write("evil.isim", "thread a\n  \u001b]0;pwned\u0007" + new string('b', 500) + " 1\n");
        var s = Cli("run", script);
        OneLineError(s, "evil.isim:2: unknown operation");
        Assert.DoesNotContain('\u001b', s.Err);
        Assert.DoesNotContain('\u0007', s.Err);
        Assert.Equal("abc", CliText.Sanitize("abc"));
        Assert.Equal("a\\tb", CliText.Sanitize("a\tb"));
        Assert.Equal(new string('c', CliText.MaxToken) + "… d", CliText.Sanitize(new string('c', 500) + " d"));
    }
}
