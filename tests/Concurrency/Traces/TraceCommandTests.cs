using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Exploration;
using System.Text.Json;
using System.Text.Json.Nodes;
using InotifySim.Scenarios.Traces;

namespace InotifySim.Tests.Concurrency.Traces;

/// <summary>
/// The CLI entry points on good and bad input: bad files exit 2 with one message naming the
/// problem (no stack trace); a schedule that no longer applies exits 1 naming the divergence.
/// </summary>
[Collection("traces")]
public class TraceCommandTests : IDisposable
{
    private const string Base = "rm-wd-recheck";
    private readonly string _dir = Directory.CreateTempSubdirectory("inotify-sim-traces-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string BaseText => File.ReadAllText(Path.Combine(Approvals.TracesDir, Base + ".json"));

    private string Write(string name, string text)
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    private static (int code, string stdout, string stderr) Replay(string path, string? html = null)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = TraceCommands.Replay(path, html != null, html, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static string Edit(Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(BaseText)!.AsObject();
        edit(node);
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static void AssertBadInput((int code, string stdout, string stderr) r, string mentions)
    {
        Assert.True(r.code == 2, $"exit {r.code}, stderr: {r.stderr}");
        Assert.StartsWith("error: ", r.stderr);
        Assert.Contains(mentions, r.stderr);
        Assert.DoesNotContain("   at ", r.stderr);
        Assert.DoesNotContain("Exception", r.stderr);
        Assert.Equal("", r.stdout);
    }

    [Fact]
    public void Replay_reproduces_and_writes_a_self_contained_html_timeline()
    {
        var html = Path.Combine(_dir, "t.html");
        var r = Replay(Path.Combine(Approvals.TracesDir, Base + ".json"), html);
        Assert.True(r.code == TraceCommands.Bug, r.stderr);
        Assert.Contains("reproduced: [null-dereference]", r.stdout);
        Assert.Contains("!!", r.stdout);
        var page = File.ReadAllText(html);
        Assert.Contains("<svg", page);
        Assert.Contains("unpin_and_kill", page);
        Assert.DoesNotContain("<script", page);
        Assert.DoesNotContain("src=", page);
        Assert.DoesNotContain("href=", page);
        Assert.DoesNotContain("url(", page);
    }

    [Fact]
    public void Missing_file_is_bad_input() =>
        AssertBadInput(Replay(Path.Combine(_dir, "nope.json")), "no such file");

    [Fact]
    public void Truncated_file_is_bad_input() =>
        AssertBadInput(Replay(Write("trunc.json", BaseText[..(BaseText.Length / 2)])), "truncated or corrupted");

    [Fact]
    public void Corrupted_file_is_bad_input() =>
        AssertBadInput(Replay(Write("corrupt.json", BaseText.Replace("\"scenario\":", "\"scenario\";"))), "not valid trace JSON");

    [Fact]
    public void Empty_file_is_bad_input() =>
        AssertBadInput(Replay(Write("empty.json", "")), "not valid trace JSON");

    [Fact]
    public void Wrong_version_is_bad_input() =>
        AssertBadInput(Replay(Write("v9.json", Edit(n => n["version"] = 9))), "format version 9 is not supported");

    [Fact]
    public void Wrong_format_is_bad_input() =>
        AssertBadInput(Replay(Write("fmt.json", Edit(n => n["format"] = "something-else"))), "\"format\" is 'something-else'");

    [Fact]
    public void Unknown_fix_is_bad_input() =>
        AssertBadInput(Replay(Write("fix.json", Edit(n => n["fixes"]!.AsArray().Add("no-such-fix")))), "unknown fix 'no-such-fix'");

    [Fact]
    public void Fix_without_its_prerequisite_is_bad_input() =>
        AssertBadInput(Replay(Write("req.json", Edit(n =>
        {
            var a = n["fixes"]!.AsArray();
            var w = a.First(x => x!.GetValue<string>() == "watch-destroy-op");
            a.Remove(w);
        }))), "requires 'watch-destroy-op'");

    [Fact]
    public void Unknown_scenario_is_bad_input() =>
        AssertBadInput(Replay(Write("sc.json", Edit(n => n["scenario"] = "no-such-scenario"))), "unknown scenario 'no-such-scenario'");

    [Fact]
    public void Unknown_strategy_is_bad_input() =>
        AssertBadInput(Replay(Write("st.json", Edit(n => n["strategy"] = "telepathy"))), "unknown strategy 'telepathy'");

    [Fact]
    public void Unknown_bug_class_is_bad_input() =>
        AssertBadInput(Replay(Write("cls.json", Edit(n => n["bug"]!["class"] = "gremlins"))), "unknown bug class 'gremlins'");

    [Fact]
    public void Missing_schedule_is_bad_input() =>
        AssertBadInput(Replay(Write("nosched.json", Edit(n => n.Remove("schedule")))), "\"schedule\" is missing");

    [Fact]
    public void Null_fixes_is_bad_input() =>
        AssertBadInput(Replay(Write("nullfix.json", Edit(n => n["fixes"] = null))), "\"fixes\" is missing or holds null");

    [Fact]
    public void A_version_1_coyote_trace_is_bad_input() =>
        AssertBadInput(Replay(Write("v1.json", Edit(n => n["version"] = 1))), "format version 1 is not supported");

    [Fact]
    public void Schedule_with_a_malformed_step_is_bad_input() =>
        AssertBadInput(Replay(Write("cstep.json", EditSteps(s => s[3] = "garbage"))), "\"schedule\" step 4 is malformed");

    [Fact]
    public void Schedule_choosing_a_thread_that_is_not_runnable_is_bad_input() =>
        AssertBadInput(Replay(Write("notrun.json", EditSteps(s => s[1] = "point 0 0,1 7 sys_inotify_rm_watch"))), "thread 7 is not among the runnable threads");

    [Fact]
    public void Preemption_count_that_disagrees_with_the_schedule_is_bad_input() =>
        AssertBadInput(Replay(Write("pre.json", Edit(n => n["preemptions"] = 9))), "\"preemptions\" is 9 but the schedule has");

    [Fact]
    public void Script_trace_that_does_not_resolve_is_bad_input() =>
        AssertBadInput(Replay(Write("script.json", Edit(n =>
        {
            n["scenario"] = "script";
            n["script"] = "%%% this is not a scenario script %%%";
        }))), "script");

    private static string EditSteps(Action<JsonArray> edit) => Edit(n => edit(n["schedule"]!.AsArray()));

    private static int Preemptions(JsonArray s) =>
        s.Select(x => TraceFile.ParseStep(x!.GetValue<string>(), 0, "t")).Count(d => d.IsPreemption);

    private static string EditSchedule(Action<JsonArray> edit) => Edit(n =>
    {
        var s = n["schedule"]!.AsArray();
        edit(s);
        n["preemptions"] = Preemptions(s);
    });

    [Fact]
    public void Hand_edited_decision_diverges_and_names_the_step()
    {
        // make the first decision that continues a thread preempt it instead: the run then reaches other decisions
        int step = 0;
        var r = Replay(Write("diverge.json", EditSchedule(s =>
        {
            for (int i = 0; i < s.Count; i++)
            {
                var d = TraceFile.ParseStep(s[i]!.GetValue<string>(), i, "t");
                if (d.Kind != DecisionKind.Point || d.IsPreemption) continue;
                int other = ThreadSet.Members(d.Options).First(t => t != d.Current);
                s[i] = TraceFile.FormatStep(d with { Chosen = other });
                step = i + 1;
                break;
            }
        })));
        Assert.True(r.code == TraceCommands.Diverged, $"exit {r.code}: {r.stderr}");
        Assert.Contains("replay diverged", r.stderr);
        Assert.Contains($"step {step + 1}", r.stderr);
        Assert.DoesNotContain("   at ", r.stderr);
    }

    [Fact]
    public void Edited_site_of_a_decision_diverges()
    {
        var r = Replay(Write("site.json", EditSteps(s => s[2] = s[2]!.GetValue<string>() + "_edited")));
        Assert.True(r.code == TraceCommands.Diverged, $"exit {r.code}: {r.stderr}");
        Assert.Contains("step 3: recorded", r.stderr);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(2)]
    public void Truncated_schedule_diverges(int divisor)
    {
        int keep = 0;
        var r = Replay(Write("short.json", EditSchedule(s => { keep = s.Count / divisor; while (s.Count > keep) s.RemoveAt(s.Count - 1); })));
        Assert.True(r.code == TraceCommands.Diverged, $"exit {r.code}: {r.stderr}");
        Assert.Contains("replay diverged", r.stderr);
        Assert.Contains($"more decisions than the {keep} recorded", r.stderr);
    }

    [Fact]
    public void Extended_schedule_diverges()
    {
        var r = Replay(Write("long.json", EditSchedule(s => s.Add(s[^1]!.GetValue<string>()))));
        Assert.True(r.code == TraceCommands.Diverged, $"exit {r.code}: {r.stderr}");
        Assert.Contains("recorded decisions", r.stderr);
    }

    [Fact]
    public void A_schedule_taken_from_another_trace_diverges()
    {
        var other = JsonNode.Parse(File.ReadAllText(Path.Combine(Approvals.TracesDir, "destroy-recheck.json")))!.AsObject();
        var r = Replay(Write("swap.json", Edit(n =>
        {
            n["schedule"] = other["schedule"]!.DeepClone();
            n["preemptions"] = other["preemptions"]!.DeepClone();
        })));
        Assert.True(r.code == TraceCommands.Diverged, $"exit {r.code}: {r.stderr}");
        Assert.Contains("replay diverged", r.stderr);
    }

    [Fact]
    public void Every_single_decision_edit_is_noticed()
    {
        // each decision changed to another runnable thread (or value) must diverge or be refused: never "reproduced"
        var steps = JsonNode.Parse(BaseText)!["schedule"]!.AsArray();
        int tried = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            var d = TraceFile.ParseStep(steps[i]!.GetValue<string>(), i, "t");
            var alts = d.Kind == DecisionKind.Choice ? Enumerable.Range(0, (int)d.Options).Where(v => v != d.Chosen) : ThreadSet.Members(d.Options).Where(t => t != d.Chosen);
            foreach (var a in alts.Take(1))
            {
                var r = Replay(Write($"e{i}.json", EditSchedule(s => s[i] = TraceFile.FormatStep(d with { Chosen = a }))));
                Assert.True(r.code is TraceCommands.Diverged or 2, $"step {i + 1} edited to {a}: exit {r.code}: {r.stdout}{r.stderr}");
                tried++;
            }
        }
        Assert.True(tried >= 5, $"only {tried} edits tried");
    }

    [Fact]
    public void Replay_against_the_fix_kills_the_bug_or_says_the_schedule_no_longer_applies()
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = TraceCommands.Replay(Path.Combine(Approvals.TracesDir, Base + ".json"), false, null, o, e, InotifySim.Model.Fix.All);
        Assert.True(code is TraceCommands.Clean or TraceCommands.Diverged, $"exit {code}: {o}{e}");
    }

    [Fact]
    public void A_script_trace_whose_setup_fails_is_bad_input_in_replay_and_shrink()
    {
        var text = File.ReadAllText(Path.Combine(Approvals.RepoRoot, "examples", "rm-vs-unlink.isim"));
        var o = new HuntOptions { Scenario = InotifySim.Scenarios.Scripts.ScriptScenario.Parse(text, "rm-vs-unlink.isim"), Fixes = InotifySim.Model.Fix.None, Iterations = 200 };
        var r = Explorer.Run(o);
        Assert.True(r.Report != null, r.Summary);
        var t = TraceFile.FromHunt(o, r, text);
        Assert.Contains("mkdir /d", t.Script);
        t.Script = t.Script!.Replace("mkdir /d", "mkdir /nonexistent/d");
        var path = Write("badsetup.json", t.ToJson());
        AssertBadInput(Replay(path), "the scenario's setup fails before its threads start");
        var e = new StringWriter();
        Assert.Equal(2, TraceCommands.Shrink(path, Path.Combine(_dir, "o.json"), new StringWriter(), e));
        Assert.DoesNotContain("   at ", e.ToString());
        Assert.Single(e.ToString().TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void A_different_recorded_bug_is_a_mismatch()
    {
        var r = Replay(Write("other.json", Edit(n => n["bug"]!["title"] = "BUG: something else")));
        Assert.True(r.code == 1, $"exit {r.code}: {r.stderr}");
        Assert.Contains("different bug", r.stderr);
        Assert.Contains("title: recorded 'BUG: something else'", r.stderr);
    }

    [Fact]
    public void Shrink_keeps_the_bug_and_does_not_grow_the_schedule()
    {
        var src = Path.Combine(Approvals.TracesDir, Base + ".json");
        var dst = Path.Combine(_dir, "shrunk.json");
        var o = new StringWriter();
        var e = new StringWriter();
        int code = TraceCommands.Shrink(src, dst, o, e, budget: 300);
        Assert.True(code == 0, e.ToString());
        var before = TraceReplayer.Replay(TraceFile.Load(src));
        var after = TraceReplayer.Replay(TraceFile.Load(dst));
        Assert.True(after.Reproduced, after.Message);
        Assert.Equal(BugKey.Of(before.Result!.Report!), BugKey.Of(after.Result!.Report!));
        Assert.True(after.Result.Preemptions <= before.Result.Preemptions, $"{after.Result.Preemptions} > {before.Result.Preemptions} preemptions");
    }

    [Fact]
    public void Shrink_of_bad_input_exits_2() 
    {
        var e = new StringWriter();
        Assert.Equal(2, TraceCommands.Shrink(Write("bad.json", "{"), Path.Combine(_dir, "o.json"), new StringWriter(), e));
        Assert.StartsWith("error: ", e.ToString());
    }

    [Fact]
    public void Explanation_is_deterministic()
    {
        var t = TraceFile.Load(Path.Combine(Approvals.TracesDir, Base + ".json"));
        var a = TraceReplayer.Replay(t).Explain()!;
        var b = TraceReplayer.Replay(t).Explain()!;
        Assert.Equal(a.RenderText(), b.RenderText());
        Assert.Equal(TraceHtml.Render(a), TraceHtml.Render(b));
    }
}
