using System.Text.Json;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Scripts;

namespace InotifySim.Scenarios.Cli;

/// <summary>
/// <c>run SCRIPT</c>: executes a single-thread script on a sequential machine and prints one
/// JSON line per call, one per event read, and the verdict of the teardown. Exit 0 clean,
/// 1 when a detector (or a failed expect) reported.
/// </summary>
public static class RunCommand
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static string J(Dictionary<string, object?> d) => JsonSerializer.Serialize(d, s_json);

    /// <summary>The verdict line: the fix set, the planted mistakes (only when some are), the result.</summary>
    private static Dictionary<string, object?> Verdict(Fix fixes, Mistake planted, string result)
    {
        var d = new Dictionary<string, object?> { ["type"] = "verdict", ["variant"] = FixLabel.Of(fixes) };
        if (planted != Mistake.None) d["planted"] = Mistakes.Names(planted);
        d["result"] = result;
        return d;
    }

    public static int Run(string path, Fix fixes, TextWriter stdout, TextWriter stderr, Mistake planted = Mistake.None)
    {
        var sc = ScriptScenario.Parse(InputFiles.ReadText(path, "script", InputFiles.MaxScriptBytes), path);
        if (sc.Script.Threads.Count > 1)
            throw new UsageException($"run: {path} has {sc.Script.Threads.Count} threads; run executes single-thread scripts sequentially (explore it with: inotify-sim hunt --scenario {path})");
        var o = new MachineOptions { Fixes = fixes, Mode = SchedMode.Sequential };
        sc.Configure(o);
        var m = new Machine(o);
        if (planted != Mistake.None) m.K.Plant(planted);
        sc.Log = r =>
        {
            var call = new Dictionary<string, object?>
            {
                ["type"] = "call",
                ["line"] = r.Step.Line,
                ["thread"] = r.Thread,
                ["op"] = r.Step.Op,
                ["args"] = r.Args,
                ["ret"] = r.Ret < 0 ? Errno.Ret(r.Ret) : r.Ret,
            };
            if (r.Step.Assign != null) call["var"] = r.Step.Assign;
            stdout.WriteLine(J(call));
            foreach (var e in r.Events)
            {
                stdout.WriteLine(J(new()
                {
                    ["type"] = "event",
                    ["line"] = r.Step.Line,
                    ["fd"] = r.Fd,
                    ["wd"] = e.Wd,
                    ["mask"] = e.MaskNames,
                    ["cookie"] = e.Cookie,
                    ["name"] = e.Name,
                }));
            }
        };
        Report? report = null;
        try
        {
            var sim = new Sim(m);
            sc.Build(sim);
            foreach (var (task, body) in sim.Threads) m.K.Spawn(task, body);
            m.Teardown();
        }
        catch (KernelBugException e)
        {
            report = e.Report;
        }
        if (report is null)
        {
            stdout.WriteLine(J(Verdict(fixes, planted, "clean")));
            return CliMain.ExitClean;
        }
        var v = Verdict(fixes, planted, "bug");
        v["class"] = report.Class.Name();
        v["title"] = report.Title;
        v["functions"] = report.Functions;
        stdout.WriteLine(J(v));
        stdout.Write(report.Text);
        return CliMain.ExitBug;
    }
}
