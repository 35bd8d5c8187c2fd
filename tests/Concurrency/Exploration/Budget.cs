namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// The schedule budget of the "clean" runs: INOTIFY_SIM_BUDGET schedules per scenario
/// (CI: a short budget; a nightly hunt: a long one). Default 1000.
/// </summary>
public static class Budget
{
    public static int Schedules =>
        int.TryParse(Environment.GetEnvironmentVariable("INOTIFY_SIM_BUDGET"), out var n) && n > 0 ? n : 1000;
}
