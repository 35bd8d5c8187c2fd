using Microsoft.Coyote;

namespace InotifySim.Scenarios.Exploration;

/// <summary>The Coyote exploration strategies the harness offers, by name.</summary>
public static class Strategies
{
    public sealed record StrategyInfo(string Name, string Description, bool TakesBound, uint DefaultBound);

    public static readonly IReadOnlyList<StrategyInfo> All = new[]
    {
        new StrategyInfo("random", "uniformly random scheduling decisions (Coyote's default)", false, 0),
        new StrategyInfo("pct", "probabilistic concurrency testing: priority change points (bound = number of change points)", true, 3),
        new StrategyInfo("prioritization", "random priorities with a bounded number of priority switches", true, 10),
        new StrategyInfo("fair-prioritization", "prioritization followed by a fair random tail", true, 10),
        new StrategyInfo("delay-bounding", "bounded number of delays of the scheduled operation", true, 10),
        new StrategyInfo("pos", "partial-order sampling on top of random (read/write-aware scheduling points)", false, 0),
        new StrategyInfo("qlearning", "reinforcement-learning guided scheduling (Q-learning)", false, 0),
        new StrategyInfo("dfs", "exhaustive depth-first search of the schedule tree (terminates only for small scenarios)", false, 0),
        new StrategyInfo("portfolio", "Coyote's portfolio: a mix of strategies across iterations", false, 0),
    };

    public static StrategyInfo? Find(string name)
    {
        foreach (var s in All) if (s.Name == name) return s;
        return null;
    }

    /// <summary>
    /// DFS and portfolio mode are internal in Coyote 1.7.11's Configuration (the CLI reaches
    /// them); the harness calls them by reflection and fails clearly if they are gone.
    /// </summary>
    private static Configuration Internal(Configuration c, string method, params object[] args)
    {
        var mi = typeof(Configuration).GetMethod(method, System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"this Coyote version has no Configuration.{method}");
        return (Configuration)mi.Invoke(c, args)!;
    }

    /// <summary>Applies a strategy to a configuration; the bound is used by the strategies that take one.</summary>
    public static Configuration Apply(Configuration c, string name, uint? bound)
    {
        var info = Find(name) ?? throw new ArgumentException($"unknown strategy '{name}' (strategies: {string.Join(", ", All.Select(s => s.Name))})");
        uint b = bound ?? info.DefaultBound;
        return name switch
        {
            "random" => c.WithRandomStrategy(),
            "pct" => c.WithProbabilisticStrategy(b),
            "prioritization" => c.WithPrioritizationStrategy(false, b),
            "fair-prioritization" => c.WithPrioritizationStrategy(true, b),
            "delay-bounding" => c.WithDelayBoundingStrategy(false, b),
            "pos" => c.WithRandomStrategy().WithPartialOrderSamplingEnabled(true),
            "qlearning" => c.WithQLearningStrategy(),
            "dfs" => Internal(c, "WithDFSStrategy"),
            "portfolio" => Internal(c, "WithPortfolioMode", true),
            _ => throw new ArgumentException(name),
        };
    }
}
