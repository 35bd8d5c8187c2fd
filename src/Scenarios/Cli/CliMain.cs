using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using InotifySim.Scenarios.Traces;

namespace InotifySim.Scenarios.Cli;

/// <summary>
/// The <c>inotify-sim</c> command line. Exit codes: 0 clean, 1 bug found, 2 usage or input
/// error, 3 internal error. User errors never print a stack trace.
/// </summary>
public static class CliMain
{
    public const int ExitClean = 0, ExitBug = 1, ExitUsage = 2, ExitInternal = 3;

    public const string Usage = """
        usage: inotify-sim COMMAND [options]

        commands:
          list                       scenarios, variants, fixes and strategies, one line each
          hunt --scenario S          explore interleavings of scenario(s) S under Coyote
               S: a name from 'list', all, workload[:threads=N,ops=M], or FILE.isim
               [--variant rfc|fixed] [--with FIX,...] [--without FIX,...]   (default: fixed)
               [--strategy NAME (default pct)] [--bound N]   [--iterations N] [--time SECONDS]
               [--seed N] [--fault-injection] [--max-steps N]
               [--jobs N] [--shard I/N] [--traces DIR] [--json FILE]
          merge FILE... --json OUT   combine the --json summaries of the shards of one hunt
          run SCRIPT.isim            execute a single-thread script sequentially, JSON lines out
               [--variant rfc|fixed] [--with FIX,...] [--without FIX,...]   (default: fixed)
          replay TRACE [--html OUT.html]   re-run a trace file and explain the bug
          shrink TRACE --out FILE    minimise a trace file
          record-traces [--dir DIR] [--only FIX,...]   find and shrink one minimal trace per defect (maintainers)
          help                       this text

        exit codes: 0 clean, 1 bug found, 2 usage or input error, 3 internal error
        """;

    public static int Execute(string[] argv)
    {
        // Coyote 1.7 runs each controlled operation on a thread-pool thread that blocks while
        // another runs; with the default minimum (one thread per core) the pool starves and
        // injects threads slowly, so iterations wait idle. Start with enough threads.
        ThreadPool.GetMinThreads(out int worker, out int io);
        ThreadPool.SetMinThreads(Math.Max(worker, 64), io);
        return Run(argv, Console.Out, Console.Error);
    }

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            return Dispatch(argv, stdout, stderr);
        }
        catch (UsageException e)
        {
            stderr.WriteLine("inotify-sim: " + e.Message);
            return ExitUsage;
        }
        catch (Scripts.ScriptException e)
        {
            stderr.WriteLine("inotify-sim: " + e.Message);
            return ExitUsage;
        }
        catch (TraceFormatException e)
        {
            stderr.WriteLine("inotify-sim: " + e.Message);
            return ExitUsage;
        }
        catch (Exception e)
        {
            stderr.WriteLine("inotify-sim: internal error: " + e.Message);
            if (Environment.GetEnvironmentVariable("INOTIFY_SIM_DEBUG") == "1") stderr.WriteLine(e);
            return ExitInternal;
        }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
    }

    private static int Dispatch(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        if (argv.Length == 0)
        {
            stderr.Write(Usage);
            return ExitUsage;
        }
        var cmd = argv[0];
        var rest = argv.Skip(1).ToList();
        switch (cmd)
        {
            case "help" or "--help" or "-h":
                stdout.Write(Usage);
                return ExitClean;
            case "list":
            {
                var a = ParsedArgs.Parse("list", rest, Array.Empty<string>(), Array.Empty<string>());
                a.ExpectPositionals(0, 1, "inotify-sim list [scenarios|variants|fixes|strategies]");
                return List(a.Positionals.FirstOrDefault(), stdout);
            }
            case "hunt":
                return HuntCommand.Run(ParsedArgs.Parse("hunt", rest, HuntCommand.Valued, HuntCommand.Flags), stdout, stderr);
            case "verify":
                return VerifyCommand.Run(ParsedArgs.Parse("verify", rest, VerifyCommand.Valued, VerifyCommand.Flags), stdout, stderr);
            case "merge":
            {
                var a = ParsedArgs.Parse("merge", rest, new[] { "json" }, Array.Empty<string>());
                if (a.Positionals.Count == 0) throw new UsageException("merge: no summaries given; usage: inotify-sim merge FILE... --json OUT");
                var output = a.Get("json") ?? throw new UsageException("merge: --json OUT is required");
                var parts = a.Positionals.Select(p => (p, HuntSummary.Load(p))).ToList();
                var m = HuntSummary.Merge(parts, stderr);
                m.Save(output);
                stdout.WriteLine($"merge: {parts.Count} summary(ies), {m.Units.Count} unit(s), {m.Iterations} iterations, {m.Bugs.Count} bug(s){(m.Complete ? "" : " (incomplete)")} -> {output}");
                foreach (var b in m.Bugs) stdout.WriteLine($"BUG {b.Scenario} [{b.Class}] {b.Title}" + (b.Trace is null ? "" : $" (trace {b.Trace})"));
                return m.Bugs.Count > 0 ? ExitBug : ExitClean;
            }
            case "run":
            {
                var a = ParsedArgs.Parse("run", rest, new[] { "variant", "with", "without" }, Array.Empty<string>());
                a.ExpectPositionals(1, 1, "inotify-sim run SCRIPT.isim [--variant rfc|fixed] [--with FIX,...] [--without FIX,...]");
                return RunCommand.Run(a.Positionals[0], ParseFixes(a, "run"), stdout, stderr);
            }
            case "replay":
            {
                var a = ParsedArgs.Parse("replay", rest, new[] { "html" }, Array.Empty<string>());
                a.ExpectPositionals(1, 1, "inotify-sim replay TRACE [--html OUT.html]");
                var html = a.Get("html");
                return TraceCommands.Replay(a.Positionals[0], html != null, html, stdout, stderr);
            }
            case "shrink":
            {
                var a = ParsedArgs.Parse("shrink", rest, new[] { "out" }, Array.Empty<string>());
                a.ExpectPositionals(1, 1, "inotify-sim shrink TRACE --out FILE");
                var output = a.Get("out") ?? throw new UsageException("shrink: --out FILE is required");
                return TraceCommands.Shrink(a.Positionals[0], output, stdout, stderr);
            }
            case "record-traces":
            {
                // maintainers: find and shrink one minimal trace per defect into DIR (default traces/)
                var a = ParsedArgs.Parse("record-traces", rest, new[] { "dir", "only" }, Array.Empty<string>());
                a.ExpectPositionals(0, 0, "inotify-sim record-traces [--dir DIR] [--only FIX,...]");
                var only = a.GetList("only");
                foreach (var n in only)
                    if (Variants.ByName(n) is null) throw new UsageException($"record-traces: unknown fix '{n}'");
                DefectTraces.Generate(a.Get("dir") ?? "traces", stdout, only.ToList());
                return ExitClean;
            }
            default:
                throw new UsageException($"unknown command '{cmd}' (commands: list, hunt, merge, run, replay, shrink, record-traces, help)");
        }
    }

    /// <summary>--variant (default fixed), --with, --without; fix-set errors are usage errors.</summary>
    internal static Fix ParseFixes(ParsedArgs a, string cmd)
    {
        var variant = a.Get("variant") ?? "fixed";
        var f = Variants.Parse(variant, a.GetList("with"), a.GetList("without"), out var err);
        if (f is null) throw new UsageException($"{cmd}: {err}");
        return f.Value;
    }

    private static int List(string? what, TextWriter o)
    {
        string[] sections = { "scenarios", "variants", "fixes", "strategies" };
        if (what != null && !sections.Contains(what))
            throw new UsageException($"list: unknown section '{what}' (sections: {string.Join(", ", sections)})");
        bool Show(string s) => what is null || what == s;
        if (Show("scenarios"))
        {
            if (what is null) o.WriteLine("scenarios:");
            int w = ScenarioCatalog.All.Max(s => s.Name.Length);
            foreach (var s in ScenarioCatalog.All)
            {
                var targets = s.Targets == Fix.None ? "" : $" [targets: {string.Join(", ", Variants.Fixes.Where(i => (s.Targets & i.Fix) != 0).Select(i => i.Name))}]";
                o.WriteLine($"  {s.Name.PadRight(w)}  {s.Description}{targets}");
            }
        }
        if (Show("variants"))
        {
            if (what is null) o.WriteLine("variants:");
            o.WriteLine("  rfc    the code exactly as posted in the RFC: no fixes (adjust with --with FIX,...)");
            o.WriteLine("  fixed  every fix applied (adjust with --without FIX,...)");
        }
        if (Show("fixes"))
        {
            if (what is null) o.WriteLine("fixes:");
            int w = Variants.Fixes.Max(f => f.Name.Length);
            foreach (var f in Variants.Fixes)
            {
                var req = f.Requires == Fix.None ? "" : $" [requires: {Variants.Info(f.Requires).Name}]";
                o.WriteLine($"  {f.Name.PadRight(w)}  {f.Description}{req} (source: {f.Source})");
            }
        }
        if (Show("strategies"))
        {
            if (what is null) o.WriteLine("strategies:");
            int w = Strategies.All.Max(s => s.Name.Length);
            foreach (var s in Strategies.All)
                o.WriteLine($"  {s.Name.PadRight(w)}  {s.Description}{(s.TakesBound ? $" [--bound, default {s.DefaultBound}]" : "")}");
        }
        return ExitClean;
    }
}
