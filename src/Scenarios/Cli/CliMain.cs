using InotifySim.Model;
using InotifySim.Model.Kernel;
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

    private static readonly (int, string)[] HuntExits =
    {
        (ExitClean, "clean"), (ExitBug, "a bug was found (even when an output could not be written: the BUG lines say what was found)"),
        (ExitUsage, "usage or input error (checked before exploring), or an output could not be written"), (ExitInternal, "internal error"),
    };
    private static readonly (int, string)[] PlainExits = { (ExitClean, "done"), (ExitUsage, "usage or input error"), (ExitInternal, "internal error") };

    /// <summary>Every command, declared once: parsing, dispatch, `help` and the README tables read this.</summary>
    public static readonly IReadOnlyList<CommandSpec> Commands = new CommandSpec[]
    {
        new("list", "inotify-sim list [scenarios|variants|fixes|strategies|mistakes]",
            "scenarios, variants, fixes, strategies and plantable mistakes, one line each",
            CliOptions.Of(), (a, c) => List(a.Positionals.FirstOrDefault(), c.Out), PlainExits, MaxPositionals: 1),
        new("hunt", "inotify-sim hunt --scenario S [--variant rfc|fixed] [--with F,...] [--without F,...] [--plant NAME] [--no-kcsan] [--strategy NAME] [--bound N] [--iterations N] [--time DURATION] [--seed N] [--fault-injection] [--max-steps N] [--jobs N] [--shard I/N] [--traces DIR] [--json FILE] [--junit FILE]",
            "explore interleavings of scenario(s) S under Coyote",
            CliOptions.Of(CliOptions.Scenario, CliOptions.FixSet, CliOptions.Checks, CliOptions.Exploration, CliOptions.Distribution, CliOptions.Outputs),
            HuntCommand.Run, HuntExits),
        new("verify", "inotify-sim verify --scenario S --preemptions K [--variant rfc|fixed] [--with F,...] [--without F,...] [--plant NAME] [--no-kcsan] [--jobs N] [--shard I/N] [--max-schedules N] [--time DURATION] [--fault-injection] [--max-steps N] [--json FILE] [--coverage FILE]",
            "explore EVERY schedule with at most K preemptions (bounded-exhaustive), fewest first",
            VerifyCommand.Options, VerifyCommand.Run, VerifyCommand.ExitCodes),
        new("merge", "inotify-sim merge FILE... --json OUT [--junit FILE]",
            "combine the --json summaries of the shards of one hunt",
            CliOptions.Of(CliOptions.Json with { Help = "the merged summary", Required = true }, CliOptions.JUnit),
            Merge,
            new[] { (ExitClean, "the merged hunt is clean"), (ExitBug, "the merged hunt found a bug"), (ExitUsage, "usage or input error (a bad summary, shards of different hunts)"), (ExitInternal, "internal error") },
            MinPositionals: 1, MaxPositionals: int.MaxValue),
        new("run", "inotify-sim run SCRIPT.isim [--variant rfc|fixed] [--with F,...] [--without F,...] [--plant NAME]",
            "execute a single-thread script sequentially, JSON lines out",
            CliOptions.Of(CliOptions.FixSet, CliOptions.Plant), RunScript,
            new[] { (ExitClean, "clean"), (ExitBug, "a detector fired or an expect failed"), (ExitUsage, "usage or input error (a bad script)"), (ExitInternal, "internal error") },
            MinPositionals: 1, MaxPositionals: 1),
        new("replay", "inotify-sim replay TRACE [--html OUT.html] [--variant rfc|fixed] [--with F,...] [--without F,...] [--plant NAME] [--no-kcsan] [--junit FILE]",
            "re-run a trace file's schedule strictly and explain the bug (against another fix set with --variant/--with/--without, other planted mistakes with --plant)",
            CliOptions.Of(new OptionSpec("html", "OUT.html", "write the explanation as an HTML timeline"), CliOptions.FixSet,
                CliOptions.Plant with { Help = CliOptions.Plant.Help + "; replaces the trace's recorded set (default: the mistakes the trace records)" },
                CliOptions.NoKcsan, CliOptions.JUnit), Replay,
            new[] { (TraceCommands.Bug, "the schedule raised a bug (the recorded one, or another: the message says which)"), (TraceCommands.Clean, "the schedule ran to its end clean (e.g. the fix killed the bug)"), (TraceCommands.BadInput, "usage or input error"), (ExitInternal, "internal error"), (TraceCommands.Diverged, "the run left the recorded schedule (the step is named)") },
            MinPositionals: 1, MaxPositionals: 1),
        new("shrink", "inotify-sim shrink TRACE --out FILE",
            "minimise a trace file",
            CliOptions.Of(new OptionSpec("out", "FILE", "where to write the smaller trace", Required: true)), Shrink,
            new[] { (TraceCommands.Ok, "a trace was written"), (TraceCommands.Mismatch, "the trace does not reproduce its bug"), (TraceCommands.BadInput, "usage or input error"), (ExitInternal, "internal error") },
            MinPositionals: 1, MaxPositionals: 1),
        new("record-traces", "inotify-sim record-traces [--dir DIR] [--only FIX,...]",
            "find and shrink one minimal trace per defect (maintainers)",
            CliOptions.Of(new OptionSpec("dir", "DIR", "where to write the traces (default traces/)"), new OptionSpec("only", "F,G", "only these defects", OptionKind.List)),
            RecordTraces, PlainExits),
        new("help", "inotify-sim help [COMMAND] [--markdown]",
            "this text; with COMMAND, its options and exit codes",
            CliOptions.Of(new OptionSpec("markdown", null, "print the command's README option table (maintainers)", OptionKind.Flag)),
            HelpCommand, PlainExits, MaxPositionals: 1),
    };

    public static CommandSpec? FindCommand(string name) => Commands.FirstOrDefault(c => c.Name == name);

    /// <summary>The usage summary (`inotify-sim help`), generated from <see cref="Commands"/>.</summary>
    public static string Usage => CommandLineHelp.Usage(Commands);

    public static int Execute(string[] argv)
    {
        // Coyote 1.7 runs each controlled operation on a thread-pool thread that blocks while
        // another runs; with the default minimum (one thread per core) the pool starves and
        // injects threads slowly, so iterations wait idle. Start with enough threads.
        ThreadPool.GetMinThreads(out int worker, out int io);
        ThreadPool.SetMinThreads(Math.Max(worker, 64), io);
        return Run(argv, Console.Out, Console.Error);
    }

    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr, Func<string, string?>? env = null)
    {
        // every line on stderr is sanitized: one line, no control characters, bounded tokens
        var err = new SanitizingWriter(stderr);
        var ctx = new CliContext { Out = stdout, Err = err, Env = env ?? Environment.GetEnvironmentVariable };
        try
        {
            return Dispatch(argv, ctx);
        }
        catch (UsageException e)
        {
            return Fail(err, e.Message, ExitUsage);
        }
        catch (Scripts.ScriptException e)
        {
            return Fail(err, e.Message, ExitUsage);
        }
        catch (TraceFormatException e)
        {
            return Fail(err, e.Message, ExitUsage);
        }
        catch (Exception e)
        {
            Fail(err, "internal error: " + e.Message, ExitInternal);
            if (Environment.GetEnvironmentVariable("INOTIFY_SIM_DEBUG") == "1") stderr.WriteLine(e);
            return ExitInternal;
        }
        finally
        {
            stdout.Flush();
            err.Flush();
        }
    }

    private static int Fail(TextWriter err, string message, int code)
    {
        err.WriteLine(CliText.Sanitize("inotify-sim: " + message));
        return code;
    }

    private static int Dispatch(string[] argv, CliContext ctx)
    {
        if (argv.Length == 0) throw new UsageException("no command given ('inotify-sim help' lists the commands)");
        var name = argv[0];
        if (name is "--help" or "-h") name = "help";
        var spec = FindCommand(name)
            ?? throw new UsageException($"unknown command '{name}' (commands: {string.Join(", ", Commands.Where(c => !c.Hidden).Select(c => c.Name))})");
        var rest = argv.Skip(1).ToList();
        if (spec.Name != "help" && rest.Count > 0 && rest.TakeWhile(x => x != "--").Any(x => x is "--help" or "-h"))
        {
            ctx.Out.Write(CommandLineHelp.Help(spec));
            return ExitClean;
        }
        var parsed = ParsedArgs.Parse(spec, rest);
        return spec.Handler(parsed, ctx);
    }

    private static int HelpCommand(ParsedArgs a, CliContext c)
    {
        var which = a.Positionals.FirstOrDefault();
        if (which is null)
        {
            if (a.Has("markdown")) { c.Out.Write(CommandLineHelp.MarkdownExitCodes(Commands)); return ExitClean; }
            c.Out.Write(Usage);
            return ExitClean;
        }
        var spec = FindCommand(which) ?? throw new UsageException($"help: unknown command '{which}' (commands: {string.Join(", ", Commands.Select(x => x.Name))})");
        c.Out.Write(a.Has("markdown") ? CommandLineHelp.MarkdownOptions(spec) : CommandLineHelp.Help(spec));
        return ExitClean;
    }

    private static int Merge(ParsedArgs a, CliContext c)
    {
        var output = a.Get("json")!;
        var junit = a.Get("junit");
        Destinations.CheckDistinct(a.Positionals.Select(p => ((string?)p, "summary", false))
            .Concat(new (string?, string, bool)[] { (output, "--json", true), (junit, "--junit", true) }));
        Destinations.CheckFile(output, "--json");
        if (junit != null) Destinations.CheckFile(junit, "--junit");
        var parts = a.Positionals.Select(p => (p, HuntSummary.Load(p))).ToList();
        var m = HuntSummary.Merge(parts, c.Err);
        // the summaries' text is input: one line each, no control characters, never a workflow command (CliText.Sanitize)
        foreach (var b in m.Bugs) c.Out.WriteLine(CliText.Sanitize($"BUG {b.Scenario} [{b.Class}] {b.Title}" + (b.Trace is null ? "" : $" (trace {b.Trace})")));
        if (GitHubAnnotations.Enabled(c.Env))
            foreach (var line in m.Annotations()) c.Out.WriteLine(line);
        m.WriteTable(c.Out);
        bool ok = HuntCommand.WriteOutputs(m, "merge", output, junit, c.Err);
        c.Out.WriteLine($"merge: {parts.Count} summary(ies), {m.Units.Count} unit(s), {m.Iterations} iterations, {m.Bugs.Count} bug(s), fix set {m.Variant}{(m.Complete ? "" : " (incomplete)")}{(ok ? "" : " (not all outputs written)")} -> {output}");
        return m.Bugs.Count > 0 ? ExitBug : ok ? ExitClean : ExitUsage;
    }

    private static int RunScript(ParsedArgs a, CliContext c) =>
        RunCommand.Run(a.Positionals[0], ParseFixes(a, "run"), c.Out, c.Err, ParsePlanted(a, "run"));

    private static int Replay(ParsedArgs a, CliContext c)
    {
        var html = a.Get("html");
        var junit = a.Get("junit");
        Destinations.CheckDistinct(new (string?, string, bool)[] { (a.Positionals[0], "trace", false), (html, "--html", true), (junit, "--junit", true) });
        InputFiles.Check(a.Positionals[0], "trace", InputFiles.MaxTraceBytes);
        if (html != null) Destinations.CheckFile(html, "--html");
        bool otherFixes = a.Has("variant") || a.Has("with") || a.Has("without");
        if (junit != null) Destinations.CheckFile(junit, "--junit");
        Mistake? planted = a.Has("plant") ? ParsePlanted(a, "replay") : null;
        return TraceCommands.Replay(a.Positionals[0], html != null, html, c.Out, c.Err, otherFixes ? ParseFixes(a, "replay") : null, junit,
            planted, a.Has("no-kcsan") ? false : null);
    }

    private static int Shrink(ParsedArgs a, CliContext c)
    {
        var output = a.Get("out")!;
        InputFiles.Check(a.Positionals[0], "trace", InputFiles.MaxTraceBytes);
        Destinations.CheckFile(output, "--out");
        return TraceCommands.Shrink(a.Positionals[0], output, c.Out, c.Err);
    }

    private static int RecordTraces(ParsedArgs a, CliContext c)
    {
        // maintainers: find and shrink one minimal trace per defect into DIR (default traces/)
        var only = a.GetList("only");
        foreach (var n in only)
            if (Variants.ByName(n) is null) throw new UsageException($"record-traces: unknown fix '{n}'");
        var dir = a.Get("dir") ?? "traces";
        Destinations.CheckDirectory(dir, "--dir");
        DefectTraces.Generate(dir, c.Out, only.ToList());
        return ExitClean;
    }

    /// <summary>--variant (default fixed), --with, --without; fix-set errors are usage errors.</summary>
    public static Fix ParseFixes(ParsedArgs a, string cmd)
    {
        var variant = a.Get("variant") ?? "fixed";
        var with = a.GetList("with");
        var without = a.GetList("without");
        var both = with.FirstOrDefault(without.Contains);
        if (both != null) throw new UsageException($"{cmd}: fix '{both}' is given in both --with and --without");
        var f = Variants.Parse(variant, with, without, out var err);
        if (f is null) throw new UsageException($"{cmd}: {err}");
        return f.Value;
    }

    /// <summary>--plant NAME (repeatable, or A,B): the mistakes of src/Model/Mistakes.cs; an unknown name is a usage error.</summary>
    public static Mistake ParsePlanted(ParsedArgs a, string cmd)
    {
        var m = Mistakes.Parse(a.GetList("plant"), out var err);
        return m ?? throw new UsageException($"{cmd}: --plant: {err}");
    }

    private static int List(string? what, TextWriter o)
    {
        string[] sections = { "scenarios", "variants", "fixes", "strategies", "mistakes" };
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
        if (Show("mistakes"))
        {
            if (what is null) o.WriteLine("mistakes (--plant NAME: mutation testing of the detectors, never part of a variant):");
            int w = Mistakes.All.Max(m => m.Name.Length);
            foreach (var m in Mistakes.All)
                o.WriteLine($"  {m.Name.PadRight(w)}  {m.Description} [in {m.Function}; found by: {m.Check}]");
        }
        return ExitClean;
    }
}
