using System.Text;

namespace InotifySim.Scenarios.Cli;

public enum OptionKind
{
    /// <summary>--name, no value; at most once.</summary>
    Flag,
    /// <summary>--name VALUE, at most once.</summary>
    Single,
    /// <summary>--name A,B; repeatable, the values accumulate.</summary>
    List,
}

/// <summary>One --option: the single declaration that parsing, <c>help</c> and the README table read.</summary>
public sealed record OptionSpec(string Name, string? Arg, string Help, OptionKind Kind = OptionKind.Single, bool Required = false)
{
    /// <summary>"--name ARG", "--name", or "--name A,B" as shown in help and the README.</summary>
    public string Usage => Arg is null ? "--" + Name : $"--{Name} {Arg}";
}

/// <summary>One command: its options, positionals, help text, exit codes and handler.</summary>
public sealed record CommandSpec(
    string Name,
    string Synopsis,
    string Summary,
    IReadOnlyList<OptionSpec> Options,
    Func<ParsedArgs, CliContext, int> Handler,
    IReadOnlyList<(int code, string meaning)> ExitCodes,
    int MinPositionals = 0,
    int MaxPositionals = 0,
    bool Hidden = false);

/// <summary>What a command handler writes to and reads from (the process's by default; tests pass their own).</summary>
public sealed class CliContext
{
    public required TextWriter Out { get; init; }
    public required TextWriter Err { get; init; }
    /// <summary>Environment variables (GITHUB_ACTIONS, --shard env:NAME/N).</summary>
    public Func<string, string?> Env { get; init; } = Environment.GetEnvironmentVariable;
}

/// <summary>
/// The options shared by several commands, declared once. A new command that explores
/// (e.g. <c>verify</c>) composes these groups and adds its own options.
/// </summary>
public static class CliOptions
{
    public const int MaxBound = 100;

    public static readonly OptionSpec Scenario = new("scenario", "S",
        "a catalogue name (`list scenarios`), `all` (every catalogue scenario, workload included), `workload[:threads=N,ops=M]` (at most 8 threads and 64 ops), or a script `FILE.isim`",
        Required: true);

    public static readonly OptionSpec Variant = new("variant", "rfc|fixed", "the fix set to start from (default `fixed`)");
    public static readonly OptionSpec With = new("with", "F,G", "add fixes; a fix whose prerequisite is missing is a usage error", OptionKind.List);
    public static readonly OptionSpec Without = new("without", "F,G", "remove fixes; a fix named in both `--with` and `--without` is a usage error", OptionKind.List);
    public static readonly IReadOnlyList<OptionSpec> FixSet = new[] { Variant, With, Without };

    public static readonly OptionSpec Strategy = new("strategy", "NAME", "sampling strategy of the harness-owned scheduler: `probabilistic` (default, bound 3: the fastest to every known defect, docs/bench/results-quick.md), `pct` (real PCT), `random`; bounded-exhaustive exploration is `verify`");
    public static readonly OptionSpec Bound = new("bound", "N", $"the strategy's bound (`pct`: the bug depth d, d-1 change points, default 3; `probabilistic`: preempt with probability 1/2^N), 1 to {MaxBound}; only for the strategies that take one");
    public static readonly OptionSpec Iterations = new("iterations", "N", "schedules per scenario, split over the workers (default 1000 when `--time` is absent)");
    public static readonly OptionSpec Time = new("time", "DURATION", "wall-clock budget of the whole hunt: `90`, `2.5s`, `500ms`, `5m`, `1h` (at most 30 days); with `--iterations`, whichever comes first");
    public static readonly OptionSpec Seed = new("seed", "N", "base seed (default 0)");
    public static readonly OptionSpec FaultInjection = new("fault-injection", null, "let allocations fail (controlled choices)", OptionKind.Flag);
    public static readonly OptionSpec MaxSteps = new("max-steps", "N", "branching decisions per schedule before it is cut (default 5000, 10 to 10000000)");
    public static readonly IReadOnlyList<OptionSpec> Exploration = new[] { Strategy, Bound, Iterations, Time, Seed, FaultInjection, MaxSteps };

    public static readonly OptionSpec Plant = new("plant", "NAME",
        "mutation testing of the detectors: plants a known mistake in the model (`list mistakes`: "
        + string.Join(", ", InotifySim.Model.Mistakes.All.Select(m => $"`{m.Name}`")) + "); never part of a variant", OptionKind.List);
    public static readonly OptionSpec NoKcsan = new("no-kcsan", null, "turn the data-race detector (KCSAN) off", OptionKind.Flag);
    /// <summary>What is planted in, or switched off from, the model: hunt, verify and replay take both.</summary>
    public static readonly IReadOnlyList<OptionSpec> Checks = new[] { Plant, NoKcsan };

    public static readonly OptionSpec Jobs = new("jobs", "N", "workers per scenario, run in parallel (default: the number of processors)");
    public static readonly OptionSpec Shard = new("shard", "I/N",
        "run only this process's share of the hunt (needs an explicit `--jobs`); `I/N` counts from 1, `env:VAR/N` reads a 0-based index from the environment variable VAR (a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`)");
    public static readonly IReadOnlyList<OptionSpec> Distribution = new[] { Jobs, Shard };

    public static readonly OptionSpec Traces = new("traces", "DIR", "write one trace file per bug: `DIR/<scenario>-<bugclass>-seed<seed>.json` (checked before exploring)");
    public static readonly OptionSpec Json = new("json", "FILE",
        "write a summary: fix set, every option that changes the exploration, per script its content hash, each (scenario, worker) unit, and per bug its class, title, kernel functions, scenario, worker, seed, iteration and trace file");
    public static readonly OptionSpec JUnit = new("junit", "FILE", "write JUnit XML: one test case per scenario, a failure per bug (class, functions, trace, replay command)");
    public static readonly OptionSpec Coverage = new("coverage", "FILE", "write what the explored schedules reached (JSON; a short text block is printed too): distinct schedules, scheduling points and preemptions by kernel function, lock-class pairs interleaved, schedules that ran each fix's code path");
    public static readonly IReadOnlyList<OptionSpec> Outputs = new[] { Traces, Json, JUnit, Coverage };

    public static IReadOnlyList<OptionSpec> Of(params object[] parts)
    {
        var l = new List<OptionSpec>();
        foreach (var p in parts)
        {
            if (p is OptionSpec o) l.Add(o);
            else if (p is IEnumerable<OptionSpec> g) l.AddRange(g);
            else throw new ArgumentException("not an option or a group: " + p);
        }
        var dup = l.GroupBy(o => o.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new InvalidOperationException($"option --{dup.Key} declared twice");
        return l;
    }
}

/// <summary>Renders the declarations: the usage summary, per-command help, README tables.</summary>
public static class CommandLineHelp
{
    public static string Usage(IReadOnlyList<CommandSpec> commands)
    {
        var sb = new StringBuilder();
        sb.Append("usage: inotify-sim COMMAND [options]\n\ncommands:\n");
        var shown = commands.Where(c => !c.Hidden).ToList();
        int w = shown.Max(c => c.Name.Length);
        foreach (var c in shown) sb.Append($"  {c.Name.PadRight(w)}  {c.Summary}\n");
        sb.Append("\n'inotify-sim help COMMAND' (or COMMAND --help) lists a command's options and exit codes.\n");
        sb.Append("exit codes: 0 clean, 1 bug found, 2 usage or input error, 3 internal error\n");
        return sb.ToString();
    }

    public static string Help(CommandSpec c)
    {
        var sb = new StringBuilder();
        sb.Append($"usage: {c.Synopsis}\n\n{c.Summary}\n");
        if (c.Options.Count > 0)
        {
            sb.Append("\noptions:\n");
            int w = c.Options.Max(o => o.Usage.Length);
            foreach (var o in c.Options)
                sb.Append($"  {o.Usage.PadRight(w)}  {Plain(o.Help)}{(o.Required ? " (required)" : "")}{(o.Kind == OptionKind.List ? " (repeatable)" : "")}\n");
        }
        sb.Append("\nexit codes:\n");
        foreach (var (code, meaning) in c.ExitCodes) sb.Append($"  {code}  {meaning}\n");
        return sb.ToString();
    }

    private static string Plain(string markdown) => markdown.Replace("`", "");

    /// <summary>The README's option table of a command (a test checks README.md contains it verbatim).</summary>
    public static string MarkdownOptions(CommandSpec c)
    {
        var sb = new StringBuilder();
        sb.Append("| option | meaning |\n|---|---|\n");
        foreach (var o in c.Options)
            sb.Append($"| `{o.Usage.Replace("|", "\\|")}` | {o.Help.Replace("|", "\\|")}{(o.Required ? " (required)" : "")}{(o.Kind == OptionKind.List ? " (repeatable)" : "")} |\n");
        return sb.ToString();
    }

    /// <summary>The README's exit-code table of every command.</summary>
    public static string MarkdownExitCodes(IReadOnlyList<CommandSpec> commands)
    {
        var sb = new StringBuilder();
        sb.Append("| command | exit codes |\n|---|---|\n");
        foreach (var c in commands.Where(c => !c.Hidden))
            sb.Append($"| `{c.Name}` | {string.Join("; ", c.ExitCodes.Select(e => $"**{e.code}** {e.meaning}"))} |\n");
        return sb.ToString();
    }
}
