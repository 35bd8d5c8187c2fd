using System.Text;

namespace InotifySim.Scenarios.Catalog;

/// <summary>
/// The scenario coverage matrix (issue 13.6), generated from the catalogue's declarations
/// (<see cref="Scenario.ThreadOps"/>): every pair of matrix operations and pin_to_kill's three-party races,
/// each with the catalogue scenarios whose threads race them, or "gap". docs/scenario-matrix.md is this
/// text (a test checks it is up to date).
/// </summary>
public static class ScenarioMatrix
{
    public static readonly IReadOnlyList<(MatrixOp Op, string Name)> Ops = new[]
    {
        (MatrixOp.Add, "add"), (MatrixOp.Rm, "rm"), (MatrixOp.Close, "close"), (MatrixOp.Umount, "umount"),
        (MatrixOp.InodeDeath, "inode death"), (MatrixOp.RenameUnlink, "rename/unlink of the watched inode or its parent"),
        (MatrixOp.Event, "event delivery"), (MatrixOp.Read, "read"),
    };

    /// <summary>pin_to_kill's three-party races: umount's final deactivate vs a removal (rm, or close's inotify_destroy) vs inode death.</summary>
    public static readonly IReadOnlyList<(MatrixOp[] Ops, string Name)> ThreeParty = new[]
    {
        (new[] { MatrixOp.Umount, MatrixOp.Rm, MatrixOp.InodeDeath }, "umount x rm x inode death"),
        (new[] { MatrixOp.Umount, MatrixOp.Close, MatrixOp.InodeDeath }, "umount x close x inode death"),
    };

    /// <summary>Do distinct threads of <paramref name="s"/> run each of <paramref name="ops"/> (a matching of ops to threads)?</summary>
    public static bool Covers(Scenario s, IReadOnlyList<MatrixOp> ops)
    {
        var threads = s.ThreadOps;
        var used = new bool[threads.Count];
        return Match(0);

        bool Match(int i)
        {
            if (i == ops.Count) return true;
            for (int t = 0; t < threads.Count; t++)
            {
                if (used[t] || (threads[t] & ops[i]) == 0) continue;
                used[t] = true;
                if (Match(i + 1)) return true;
                used[t] = false;
            }
            return false;
        }
    }

    public static List<string> Covering(IReadOnlyList<MatrixOp> ops) =>
        ScenarioCatalog.All.Where(s => Covers(s, ops)).Select(s => s.Name).ToList();

    /// <summary>The pairs (diagonal included) and three-party races that no catalogue scenario covers.</summary>
    public static List<string> Gaps()
    {
        var gaps = new List<string>();
        for (int i = 0; i < Ops.Count; i++)
            for (int j = i; j < Ops.Count; j++)
                if (Covering(new[] { Ops[i].Op, Ops[j].Op }).Count == 0) gaps.Add($"{Ops[i].Name} x {Ops[j].Name}");
        foreach (var (ops, name) in ThreeParty)
            if (Covering(ops).Count == 0) gaps.Add(name);
        return gaps;
    }

    public static string Markdown()
    {
        var sb = new StringBuilder();
        sb.Append("# Scenario coverage matrix\n\n");
        sb.Append("Generated from the catalogue (`Scenario.ThreadOps`, src/Scenarios/Catalog/ScenarioMatrix.cs); a test checks this file\n");
        sb.Append("is up to date (regenerate: `INOTIFY_SIM_WRITE_MATRIX=1 dotnet test tests/Concurrency -c Release --filter \"FullyQualifiedName~ScenarioMatrix\"`).\n\n");
        sb.Append("A pair is covered by a scenario when two different threads of the scenario run the two operations concurrently\n");
        sb.Append("(the setup does not count). Every catalogue scenario is exhausted by `verify --preemptions 1` on `fixed`.\n");
        sb.Append("The generated workload (`workload`) issues all of these operations at random but is sampled by `hunt`, not\n");
        sb.Append("bounded by `verify` (its tree is too large), so it closes no gap here.\n\n");
        sb.Append("| | ").Append(string.Join(" | ", Ops.Select(o => o.Name))).Append(" |\n");
        sb.Append("|---|").Append(string.Concat(Ops.Select(_ => "---|"))).Append('\n');
        for (int i = 0; i < Ops.Count; i++)
        {
            sb.Append("| **").Append(Ops[i].Name).Append("** |");
            for (int j = 0; j < Ops.Count; j++)
            {
                if (j < i) { sb.Append(" |"); continue; }
                var c = Covering(new[] { Ops[i].Op, Ops[j].Op });
                sb.Append(' ').Append(c.Count == 0 ? "**gap**" : string.Join(", ", c)).Append(" |");
            }
            sb.Append('\n');
        }
        sb.Append("\n## Three-party races of pin_to_kill\n\n");
        sb.Append("The umount-pin fix's comment (8f7b0ba1) reasons about umount's final deactivate_super vs a watch removal vs inode death.\n\n");
        sb.Append("| race | scenarios |\n|---|---|\n");
        foreach (var (ops, name) in ThreeParty)
        {
            var c = Covering(ops);
            sb.Append($"| {name} | {(c.Count == 0 ? "**gap**" : string.Join(", ", c))} |\n");
        }
        var gaps = Gaps();
        int pairs = Ops.Count * (Ops.Count + 1) / 2;
        int threeGaps = ThreeParty.Count(t => gaps.Contains(t.Name));
        sb.Append($"\n## Gaps\n\n{pairs - (gaps.Count - threeGaps)} of {pairs} pairs and {ThreeParty.Count - threeGaps} of {ThreeParty.Count} three-party races are covered.");
        sb.Append(gaps.Count == 0 ? " No gap.\n" : " Gaps:\n\n" + string.Concat(gaps.Select(g => $"- {g}\n")));
        return sb.ToString();
    }
}
